package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// The files of the truth in the lab's directory (LAB_DIR).
const (
	TruthFile     = "truth.txt"     // open pairs, "ip:port" a line (LAB_TRUTH)
	UpFile        = "up.txt"        // up hosts, an address a line (LAB_UP)
	BlocklistFile = "blocklist.txt" // ZMap format (LAB_BLOCKLIST)
	PseudoFile    = "pseudo.txt"    // pseudo-service addresses (LAB_PSEUDO)
	CleartextFile = "cleartext.txt" // "CIDR allowed|disabled" lines
	NFTFile       = "nft/truth.nft" // nftables defines lab_up and lab_open, for the target's ruleset
)

// WriteFiles writes the truth into dir as the lab serves it.
func (t *Truth) WriteFiles(dir string) error {
	var truth, up, bl, pseudo, clear, nft bytes.Buffer
	for _, ap := range t.Open {
		fmt.Fprintf(&truth, "%s\n", ap)
	}
	for _, a := range t.Up {
		fmt.Fprintf(&up, "%s\n", a)
	}
	bl.WriteString(t.header)
	bl.WriteString("\n")
	for _, e := range t.Blocklist {
		fmt.Fprintf(&bl, "%s  # %s\n", e.Text, e.Comment)
	}
	for _, a := range t.Pseudo {
		fmt.Fprintf(&pseudo, "%s\n", a)
	}
	for _, p := range t.Cleartext {
		word := "disabled"
		if p.Allowed {
			word = "allowed"
		}
		fmt.Fprintf(&clear, "%s %s\n", p.Prefix, word)
	}
	// The sets the target namespace's ruleset (scripts/lab/target.nft.tmpl)
	// answers by: which addresses are up, which pairs are open.
	nft.WriteString("# The lab's ground truth as nftables sets, written by labctl gen (scripts/lab).\ndefine lab_up = {")
	for i, a := range t.Up {
		sep(&nft, i)
		nft.WriteString(a.String())
	}
	nft.WriteString(" }\ndefine lab_open = {")
	for i, ap := range t.Open {
		sep(&nft, i)
		fmt.Fprintf(&nft, "%s . %d", ap.Addr(), ap.Port())
	}
	nft.WriteString(" }\n")
	for name, b := range map[string]*bytes.Buffer{TruthFile: &truth, UpFile: &up, BlocklistFile: &bl,
		PseudoFile: &pseudo, CleartextFile: &clear, NFTFile: &nft} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

func sep(b *bytes.Buffer, i int) {
	if i > 0 {
		b.WriteString(",")
	}
	b.WriteString(" ")
}

// Load reads the truth the lab in dir serves.
func Load(dir string) (*Truth, error) {
	t := &Truth{}
	err := eachLine(filepath.Join(dir, TruthFile), func(line string) error {
		ap, err := netip.ParseAddrPort(line)
		t.Open = append(t.Open, ap)
		return err
	})
	if err == nil {
		err = eachLine(filepath.Join(dir, UpFile), func(line string) error {
			a, err := netip.ParseAddr(line)
			t.Up = append(t.Up, a)
			return err
		})
	}
	if err == nil {
		err = eachLine(filepath.Join(dir, PseudoFile), func(line string) error {
			a, err := netip.ParseAddr(line)
			t.Pseudo = append(t.Pseudo, a)
			return err
		})
	}
	if err == nil {
		err = eachLine(filepath.Join(dir, CleartextFile), func(line string) error {
			cidr, word, _ := strings.Cut(line, " ")
			p, err := netip.ParsePrefix(cidr)
			if err == nil && word != "allowed" && word != "disabled" {
				err = fmt.Errorf("policy %q, want allowed or disabled", word)
			}
			t.Cleartext = append(t.Cleartext, Policy{p, word == "allowed"})
			return err
		})
	}
	if err == nil {
		t.Blocklist, err = ReadBlocklist(filepath.Join(dir, BlocklistFile))
	}
	if err != nil {
		return nil, err
	}
	if len(t.Open) == 0 || len(t.Up) == 0 || len(t.Blocklist) == 0 {
		return nil, fmt.Errorf("lab: %s: the truth is empty (%d open pairs, %d up hosts, %d blocklist entries)", dir, len(t.Open), len(t.Up), len(t.Blocklist))
	}
	return t, nil
}

// ReadBlocklist reads a blocklist in ZMap's format (an address or a CIDR a
// line, "#" comments), with net/netip rather than package blocklist: the
// checker must not trust the code it checks.
func ReadBlocklist(path string) ([]BlockEntry, error) {
	var out []BlockEntry
	err := eachLine(path, func(line string) error {
		text, comment, _ := strings.Cut(line, "#")
		text = strings.TrimSpace(text)
		if text == "" {
			return nil
		}
		e := BlockEntry{Text: text, Comment: strings.TrimSpace(comment)}
		var err error
		if strings.Contains(text, "/") {
			e.Prefix, err = netip.ParsePrefix(text)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(text); err == nil {
				e.Prefix = netip.PrefixFrom(a, a.BitLen())
			}
		}
		out = append(out, e)
		return err
	})
	return out, err
}

// eachLine calls fn for every non-empty line of a file, trimmed; the
// error names the file and line.
func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("lab: %s:%d: %q: %w", path, n, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("lab: %s: %w", path, err)
	}
	return nil
}
