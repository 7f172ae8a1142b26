package hitlist_test

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailscan/syn/hitlist"
	"mailscan/syn/hitlist/zgrab2test"
)

// ZGrab2 cannot be built in CI; zgrab2test reads our output the way ZGrab2
// does, after its source. The real ZGrab2 was run on the lab by hand (see
// the note).

// zgrab2Check reads a ZGrab2-format hit list and our ini as ZGrab2 would
// and returns what runs, one "ip:port module tls" per module run.
func zgrab2Check(t *testing.T, list []byte) []string {
	t.Helper()
	var ini bytes.Buffer
	if err := hitlist.WriteZGrab2INI(&ini); err != nil {
		t.Fatal(err)
	}
	runs, err := zgrab2test.Runs(bytes.NewReader(list), &ini)
	if err != nil {
		t.Fatalf("zgrab2 would refuse: %v", err)
	}
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
		want = append(want, k+" "+zgrab2test.MailRun[ap.Port()])
	}
	w.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.250"), Port: 143, Status: hitlist.Closed})
	w.Write(&hitlist.Hit{Addr: netip.MustParseAddr("198.18.16.251"), Port: 2525, Status: hitlist.Open})
	v6 := netip.MustParseAddr("2001:db8::1")
	w.Write(&hitlist.Hit{Addr: v6, Port: 993, Status: hitlist.Open})
	want = append(want, "[2001:db8::1]:993 imap implicit-tls")
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
	tg, errs := zgrab2test.ReadTargets(&buf)
	if len(errs) > 0 || len(tg) != 1 || tg[0].Domain != "scanner.lab.mailscan.test" || tg[0].Tag != "smtp" || tg[0].Port != 25 {
		t.Errorf("zgrab2 reads %+v, %v", tg, errs)
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
