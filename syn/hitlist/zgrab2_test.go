package hitlist_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mailscan/syn/hitlist"
)

// ZGrab2 cannot be built in CI (the module proxy does not serve it), so
// these tests read our output the way ZGrab2 does, following its source at
// e8fbc9e: input.go (GetTargetsCSV, ParseCSVTarget), processing.go
// (grabTarget: a module runs on a target only if its trigger equals the
// target's tag), scanner.go (RunScanner: the target's port, else the
// module's), bin/bin.go and scanner.go (RegisterScan: section names must
// differ), and zflags' ini.go (comments '#' or ';', repeated sections,
// key=value with quoted values unquoted). The real ZGrab2 was run on the
// lab by hand (see the note).

// zgrab2Target is one ScanTarget of ZGrab2's CSV input.
type zgrab2Target struct {
	ip     net.IP
	domain string
	tag    string
	port   uint
}

// zgrab2ReadCSV is GetTargetsCSV: encoding/csv with '#' comments and any
// number of fields; lines that do not parse are logged and skipped, which
// the test counts as failures.
func zgrab2ReadCSV(t *testing.T, r io.Reader) []zgrab2Target {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	var out []zgrab2Target
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("zgrab2's CSV reader: %v", err)
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if len(fields) > 4 {
			t.Errorf("zgrab2: too many fields: %q", fields)
			continue
		}
		var tg zgrab2Target
		if tg.ip = net.ParseIP(fields[0]); tg.ip == nil {
			t.Errorf("zgrab2: can't parse %q as an IP address", fields[0])
			continue
		}
		if len(fields) > 1 {
			tg.domain = fields[1]
		}
		if len(fields) > 2 {
			tg.tag = fields[2]
		}
		if len(fields) > 3 && fields[3] != "" {
			p, err := strconv.Atoi(fields[3])
			if err != nil {
				t.Errorf("zgrab2: parse error: %v", err)
				continue
			}
			tg.port = uint(p)
		}
		out = append(out, tg)
	}
}

// zgrab2Section is one module section of a `zgrab2 multiple` ini.
type zgrab2Section struct {
	module string
	opts   map[string]string
}

// zgrab2ReadINI is zflags' readIni, for the module sections.
func zgrab2ReadINI(t *testing.T, r io.Reader) []zgrab2Section {
	var out []zgrab2Section
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if line[len(line)-1] != ']' {
				t.Fatalf("ini:%d: malformed section header", n)
			}
			out = append(out, zgrab2Section{module: strings.TrimSpace(line[1 : len(line)-1]), opts: map[string]string{}})
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || len(out) == 0 {
			t.Fatalf("ini:%d: malformed key=value (%s)", n, line)
		}
		v = strings.TrimSpace(v)
		if v != "" && v[0] == '"' {
			var err error
			if v, err = strconv.Unquote(v); err != nil {
				t.Fatalf("ini:%d: %v", n, err)
			}
		}
		out[len(out)-1].opts[strings.TrimSpace(k)] = v
	}
	return out
}

// zgrab2Flags are the long flags of ZGrab2's smtp, imap and pop3 modules
// (BaseFlags, the module's Flags, and of TLSFlags the one the ini uses):
// an option the module does not have makes zgrab2 refuse the ini.
var zgrab2Flags = map[string][]string{
	"smtp": {"port", "name", "trigger", "connect-timeout", "target-timeout", "verbose",
		"send-help", "send-quit", "send-ehlo-override", "send-helo-override", "send-starttls-override", "smtps", "no-sni"},
	"imap": {"port", "name", "trigger", "connect-timeout", "target-timeout", "verbose", "send-close", "imaps", "starttls", "no-sni"},
	"pop3": {"port", "name", "trigger", "connect-timeout", "target-timeout", "verbose", "send-help", "send-noop", "send-quit", "pop3s", "starttls", "no-sni"},
}

// zgrab2Run is what one module section does with a target: its module,
// the TLS mode its flags set, and the port it dials.
func zgrab2Run(s zgrab2Section, tg zgrab2Target) string {
	tls := "plain"
	switch {
	case s.opts["smtps"] == "true", s.opts["imaps"] == "true", s.opts["pop3s"] == "true":
		tls = "implicit-tls"
	case s.opts["starttls"] == "true":
		tls = "starttls"
	case s.module == "smtp":
		tls = "starttls-if-offered" // the smtp module sends STARTTLS when EHLO offers it
	}
	port := tg.port
	if port == 0 {
		p, _ := strconv.Atoi(s.opts["port"])
		port = uint(p)
	}
	return fmt.Sprintf("%s:%d %s %s", tg.ip, port, s.module, tls)
}

// wantRun is what mailscan's banner stage does on each mail port, in the
// same words: the module that speaks the protocol and its TLS mode.
var wantRun = map[uint16]string{
	25:  "smtp starttls-if-offered",
	587: "smtp starttls-if-offered",
	465: "smtp implicit-tls",
	143: "imap starttls",
	993: "imap implicit-tls",
	110: "pop3 starttls",
	995: "pop3 implicit-tls",
}

// zgrab2Check reads a ZGrab2-format hit list and the ini as ZGrab2 would
// and returns what runs, one "ip:port module tls" per module run.
func zgrab2Check(t *testing.T, list []byte) []string {
	t.Helper()
	var ini bytes.Buffer
	if err := hitlist.WriteZGrab2INI(&ini); err != nil {
		t.Fatal(err)
	}
	sections := zgrab2ReadINI(t, &ini)
	names := map[string]bool{}
	for _, s := range sections {
		flags, ok := zgrab2Flags[s.module]
		if !ok {
			t.Fatalf("section [%s]: not a mail module of zgrab2", s.module)
		}
		for k, v := range s.opts {
			if !slices.Contains(flags, k) {
				t.Errorf("section [%s] %s: zgrab2's %s module has no flag --%s", s.module, s.opts["name"], s.module, k)
			}
			if (k != "name" && k != "trigger" && k != "port") && v != "true" {
				t.Errorf("section [%s] %s: %s=%q, want a boolean true", s.module, s.opts["name"], k, v)
			}
		}
		if names[s.opts["name"]] || s.opts["name"] == "" {
			t.Errorf("section name %q empty or used twice: zgrab2's RegisterScan exits on it", s.opts["name"])
		}
		names[s.opts["name"]] = true
	}
	var runs []string
	for _, tg := range zgrab2ReadCSV(t, bytes.NewReader(list)) {
		for _, s := range sections {
			if s.opts["trigger"] == tg.tag { // processing.go: input.Tag != trigger → skip
				runs = append(runs, zgrab2Run(s, tg))
			}
		}
	}
	slices.Sort(runs)
	return runs
}

// TestZGrab2Output: the lab's truth written with -O zgrab2, plus a closed
// hit and a hit on a port with no mail protocol, read with ZGrab2's rules:
// every open mail pair runs exactly one module, the one mailscan would
// speak there, on its own port; nothing else runs.
func TestZGrab2Output(t *testing.T) {
	var list bytes.Buffer
	w, err := hitlist.NewWriter(&list, hitlist.ZGrab2)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range labTruth(t) {
		ap := netip.MustParseAddrPort(k)
		w.Write(&hitlist.Hit{Addr: ap.Addr(), Port: ap.Port(), Status: hitlist.Open})
		want = append(want, fmt.Sprintf("%s %s", k, wantRun[ap.Port()]))
	}
	w.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.250"), Port: 143, Status: hitlist.Closed})
	w.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.251"), Port: 2525, Status: hitlist.Open})
	v6 := netip.MustParseAddr("2001:db8::1")
	w.Write(&hitlist.Hit{Addr: v6, Port: 993, Status: hitlist.Open})
	want = append(want, "2001:db8::1:993 imap implicit-tls")
	w.Flush()
	slices.Sort(want)
	got := zgrab2Check(t, list.Bytes())
	if !slices.Equal(got, want) {
		t.Errorf("zgrab2 would run\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(list.String(), "198.18.16.251,,,2525\n") {
		t.Errorf("the hit on 2525 is not kept (with an empty tag):\n%s", list.String())
	}
	// And mailscan reads its own ZGrab2 output back.
	back, _ := readPairs(t, list.Bytes(), nil)
	if len(back) != len(want)+1 {
		t.Errorf("read back %d pairs, want %d", len(back), len(want)+1)
	}
}

// TestPortFiles: one address file per port, exactly the open hits of each
// port; closed hits left out; more ports than files held open at once;
// resuming appends.
func TestPortFiles(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "hits")
	if _, err := hitlist.NewPortFiles("-", false); err == nil {
		t.Error("NewPortFiles(\"-\") succeeded: the nmap format cannot go to standard output")
	}
	pf, err := hitlist.NewPortFiles(prefix, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint16][]string{}
	for _, k := range labTruth(t) {
		ap := netip.MustParseAddrPort(k)
		pf.Write(&hitlist.Hit{Addr: ap.Addr(), Port: ap.Port(), Status: hitlist.Open})
		want[ap.Port()] = append(want[ap.Port()], ap.Addr().String())
	}
	pf.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.250"), Port: 143, Status: hitlist.Closed})
	// 100 more ports, twice each, past the open-file bound.
	for round := 0; round < 2; round++ {
		for p := uint16(2000); p < 2100; p++ {
			a := netip.AddrFrom4([4]byte{198, 18, 17, byte(round)})
			pf.Write(&hitlist.Hit{Addr: a, Port: p, Status: hitlist.Open})
			want[p] = append(want[p], a.String())
		}
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(pf.Ports()); got != len(want) {
		t.Errorf("%d ports written, want %d", got, len(want))
	}
	for port, addrs := range want {
		b, err := os.ReadFile(pf.Path(port))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(string(b)); !slices.Equal(got, addrs) {
			t.Errorf("%s: %v, want %v", pf.Path(port), got, addrs)
		}
	}
	if !strings.HasSuffix(pf.Path(143), "hits.143.txt") {
		t.Errorf("path %s", pf.Path(143))
	}

	// A resumed scan appends.
	pf2, _ := hitlist.NewPortFiles(prefix, true)
	pf2.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.99"), Port: 143, Status: hitlist.Open})
	pf2.Close()
	b, _ := os.ReadFile(pf.Path(143))
	if got := strings.Fields(string(b)); !slices.Equal(got, append(want[143], "198.18.16.99")) {
		t.Errorf("after resume: %v", got)
	}
}

// TestZGrab2Domain: the EHLO name goes in the domain column, where ZGrab2
// reads it; a name that could break the CSV line or the SMTP command, or
// a domain for another format, is refused.
func TestZGrab2Domain(t *testing.T) {
	var buf bytes.Buffer
	w, err := hitlist.NewWriter(&buf, hitlist.ZGrab2, hitlist.WithZGrab2Domain("scanner.lab.mailscan.test"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.7"), Port: 25, Status: hitlist.Open})
	w.Flush()
	tg := zgrab2ReadCSV(t, &buf)
	if len(tg) != 1 || tg[0].domain != "scanner.lab.mailscan.test" || tg[0].tag != "smtp" || tg[0].port != 25 {
		t.Errorf("zgrab2 reads %+v", tg)
	}
	for _, bad := range []string{"a,b", "a b", "x\r\nQUIT", `"q"`, strings.Repeat("a", 254)} {
		if _, err := hitlist.NewWriter(io.Discard, hitlist.ZGrab2, hitlist.WithZGrab2Domain(bad)); err == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
	if _, err := hitlist.NewWriter(io.Discard, hitlist.CSV, hitlist.WithZGrab2Domain("a.example")); err == nil {
		t.Error("a domain for the CSV format accepted")
	}
}
