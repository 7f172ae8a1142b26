package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// layout is lab.sh's.
var layout = Layout{
	TargetRange:   netip.MustParsePrefix("198.18.16.0/20"),
	PseudoRange:   netip.MustParsePrefix("198.18.32.0/28"),
	ClearAllowed:  netip.MustParsePrefix("198.18.16.0/21"),
	ClearDisabled: netip.MustParsePrefix("198.18.24.0/21"),
	DovecotPorts:  [4]uint16{110, 143, 993, 995},
	SMTPPorts:     [3]uint16{25, 465, 587},
}

// TestGenerateSeed1 compares the truth of seed 1 with the files the
// first lab.sh (a bash generator over `openssl enc -aes-128-ctr`) wrote
// for it, byte for byte: the README's figures (200 hosts, 464 open pairs,
// 380 outside the blocklist) and every test written against that lab
// still hold.
func TestGenerateSeed1(t *testing.T) {
	tr, err := Generate(layout, "ms", 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{TruthFile, UpFile, BlocklistFile, PseudoFile, CleartextFile} {
		want, err := os.ReadFile(filepath.Join("testdata", "seed1", name))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(dir, name))
		if string(got) != string(want) {
			t.Errorf("%s differs from testdata/seed1/%s:\n got %.200q\nwant %.200q", name, name, got, want)
		}
	}
	if n := len(tr.Expected()); n != 380 {
		t.Errorf("%d open pairs outside the blocklist, want 380", n)
	}
}

// TestGenerateShape checks, over many seeds, what the tests rely on the
// truth to have: 200 up hosts, each with a Dovecot port; the range's edges
// up with all seven ports; at least six up hosts in the blocklisted /24 of
// the cleartext-allowed half, three in a blocklisted /28 of the other half,
// one single blocklisted up host in each half; every blocklisted part with
// an SMTP service behind it.
func TestGenerateShape(t *testing.T) {
	for seed := uint64(0); seed < 60; seed++ {
		tr, err := Generate(layout, "ms", seed)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(tr.Up) != 200 || !slices.IsSortedFunc(tr.Up, netip.Addr.Compare) {
			t.Fatalf("seed %d: %d up hosts (sorted: %v), want 200 sorted", seed, len(tr.Up), slices.IsSortedFunc(tr.Up, netip.Addr.Compare))
		}
		ports := map[netip.Addr][]uint16{}
		for _, ap := range tr.Open {
			ports[ap.Addr()] = append(ports[ap.Addr()], ap.Port())
		}
		for _, a := range tr.Up {
			if !slices.ContainsFunc(ports[a], func(p uint16) bool { return slices.Contains(layout.DovecotPorts[:], p) }) {
				t.Errorf("seed %d: up host %s has no Dovecot port: %v", seed, a, ports[a])
			}
		}
		for _, edge := range []string{"198.18.16.0", "198.18.31.255"} {
			if got := ports[netip.MustParseAddr(edge)]; !slices.Equal(got, []uint16{25, 110, 143, 465, 587, 993, 995}) {
				t.Errorf("seed %d: edge %s has ports %v, want all seven", seed, edge, got)
			}
		}
		if len(tr.Blocklist) != 4 {
			t.Fatalf("seed %d: %d blocklist entries, want 4", seed, len(tr.Blocklist))
		}
		for i, want := range []struct {
			bits, up int
			allowed  bool
		}{{24, 6, true}, {32, 1, true}, {32, 1, false}, {28, 3, false}} {
			e := tr.Blocklist[i]
			if e.Prefix.Bits() != want.bits || layout.ClearAllowed.Overlaps(e.Prefix) != want.allowed {
				t.Errorf("seed %d: blocklist entry %d is %s, want a /%d in the %v-cleartext half", seed, i, e.Prefix, want.bits, want.allowed)
			}
			up, smtp := 0, false
			for _, a := range tr.Up {
				if e.Prefix.Contains(a) {
					up++
					smtp = smtp || slices.ContainsFunc(ports[a], func(p uint16) bool { return slices.Contains(layout.SMTPPorts[:], p) })
				}
			}
			if up < want.up || !smtp {
				t.Errorf("seed %d: %s holds %d up hosts (SMTP among them: %v), want at least %d with SMTP", seed, e.Prefix, up, smtp, want.up)
			}
		}
	}
}

// TestLoad reads back what WriteFiles wrote: the truth every consumer
// sees is the generator's.
func TestLoad(t *testing.T) {
	tr, err := Generate(layout, "ms", 7)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Up, tr.Up) || !slices.Equal(got.Open, tr.Open) || !slices.Equal(got.Pseudo, tr.Pseudo) ||
		!slices.Equal(got.Cleartext, tr.Cleartext) {
		t.Errorf("Load differs from the truth written")
	}
	for i, e := range got.Blocklist {
		if e.Prefix != tr.Blocklist[i].Prefix || e.Comment != tr.Blocklist[i].Comment {
			t.Errorf("blocklist entry %d: %+v, want %+v", i, e, tr.Blocklist[i])
		}
	}
	if !slices.Equal(Keys(got.Expected(143)), Keys(tr.Expected(143))) {
		t.Error("Expected(143) differs after Load")
	}
	nft, _ := os.ReadFile(filepath.Join(dir, NFTFile))
	if !strings.Contains(string(nft), "define lab_up = { 198.18.16.0, ") ||
		strings.Count(string(nft), " . ") != len(tr.Open) {
		t.Errorf("nft/truth.nft: %d pairs in lab_open, want %d:\n%.300s", strings.Count(string(nft), " . "), len(tr.Open), nft)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"bad pair":      {TruthFile: "198.18.16.0:99999\n"},
		"bad blocklist": {BlocklistFile: "198.18.16.0/33\n"},
		"bad policy":    {CleartextFile: "198.18.16.0/21 maybe\n"},
		"empty truth":   {TruthFile: "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			base := map[string]string{TruthFile: "198.18.16.1:143\n", UpFile: "198.18.16.1\n", BlocklistFile: "198.18.20.0/24\n",
				PseudoFile: "198.18.32.0\n", CleartextFile: "198.18.16.0/21 allowed\n"}
			for k, v := range files {
				base[k] = v
			}
			for k, v := range base {
				os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644)
			}
			if _, err := Load(dir); err == nil {
				t.Error("Load accepted it")
			}
		})
	}
}

func TestExpected(t *testing.T) {
	tr := &Truth{
		Open: []netip.AddrPort{netip.MustParseAddrPort("198.18.16.1:25"), netip.MustParseAddrPort("198.18.16.1:143"),
			netip.MustParseAddrPort("198.18.20.9:143"), netip.MustParseAddrPort("198.18.21.7:110")},
		Blocklist: []BlockEntry{{Prefix: netip.MustParsePrefix("198.18.20.0/24")}, {Prefix: netip.MustParsePrefix("198.18.21.7/32")}},
	}
	if got := Keys(tr.Expected()); !slices.Equal(got, []string{"198.18.16.1:25", "198.18.16.1:143"}) {
		t.Errorf("Expected() = %v", got)
	}
	if got := Keys(tr.Expected(143, 110)); !slices.Equal(got, []string{"198.18.16.1:143"}) {
		t.Errorf("Expected(143, 110) = %v", got)
	}
}

func TestCompare(t *testing.T) {
	d := Compare([]string{"a", "b", "b", "x"}, []string{"a", "b", "c"})
	if d.OK() || d.Want != 3 || d.Got != 3 || !slices.Equal(d.Missing, []string{"c"}) || !slices.Equal(d.Extra, []string{"x"}) ||
		!slices.Equal(d.Repeated, []string{"b"}) {
		t.Errorf("Compare = %+v", d)
	}
	if d.Summary() != "ground truth (open pairs outside the blocklist): 3; found: 3; missed: 1; false: 1" {
		t.Errorf("Summary = %q", d.Summary())
	}
	if d := Compare([]string{"b", "a"}, []string{"a", "b"}); !d.OK() || d.String() != "" {
		t.Errorf("Compare of equal sets = %+v", d)
	}
}

func TestReadHits(t *testing.T) {
	in := "ip,port,status,ttl,window,time\n198.18.16.1,143,open,64,64240,x\n198.18.16.2,110,closed,64,0,x\n\n" +
		"ip,port,status,ttl,window,time,answers_all_ports\n198.18.32.1,25,open,64,64240,x,true\n"
	got, err := ReadHits(strings.NewReader(in), "open")
	if err != nil || !slices.Equal(got, []string{"198.18.16.1:143", "198.18.32.1:25"}) {
		t.Errorf("ReadHits(open) = %v, %v", got, err)
	}
	got, err = ReadHits(strings.NewReader(in), "closed")
	if err != nil || !slices.Equal(got, []string{"198.18.16.2:110"}) {
		t.Errorf("ReadHits(closed) = %v, %v", got, err)
	}
	for _, bad := range []string{
		"198.18.16.1,143,open\n",                   // no header
		"ip,port\n198.18.16.1,143\n",               // no status column
		"ip,port,status\n198.18.16.1,143\n",        // short row
		"ip,port,status\n198.18.16.1,70000,open\n", // bad port
		"ip,port,status\n198.18.16.300,143,open\n", // bad address
	} {
		if got, err := ReadHits(strings.NewReader(bad), "open"); err == nil {
			t.Errorf("ReadHits(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzReadHits(f *testing.F) {
	f.Add("ip,port,status,ttl,window,time\n198.18.16.1,143,open,64,64240,x\n")
	f.Add("ip,port,status\n[2001:db8::1],25,open\n")
	f.Fuzz(func(t *testing.T, in string) {
		keys, err := ReadHits(strings.NewReader(in), "open")
		if err != nil {
			return
		}
		for _, k := range keys {
			if _, err := netip.ParseAddrPort(k); err != nil {
				t.Fatalf("key %q is no address and port: %v", k, err)
			}
		}
	})
}
