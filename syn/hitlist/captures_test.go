package hitlist_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mailscan/syn/hitlist"
)

// The files under testdata/lab are real outputs of masscan 1.3.2, nmap 7.93
// and zmap 2.1.1 scanning the lab (testdata/README.md says how each was
// made); testdata/lab/truth.txt is the lab's ground truth for the scanned
// /24: 32 open (address, port) pairs.

func labFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lab", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func labTruth(t testing.TB) []string {
	out := strings.Fields(string(labFile(t, "truth.txt")))
	slices.Sort(out)
	if len(out) != 32 {
		t.Fatalf("truth.txt has %d pairs, want 32", len(out))
	}
	return out
}

// truthOn is the truth restricted to one port.
func truthOn(t testing.TB, port string) []string {
	var out []string
	for _, k := range labTruth(t) {
		if strings.HasSuffix(k, ":"+port) {
			out = append(out, k)
		}
	}
	return out
}

// readPairs reads every hit of data and returns the sorted "ip:port" keys;
// any error but io.EOF fails the test.
func readPairs(t *testing.T, data []byte, cfg *hitlist.ReaderConfig) ([]string, *hitlist.Reader) {
	t.Helper()
	r := hitlist.NewReader(bytes.NewReader(data), "capture", cfg)
	var out []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%v", err)
		}
		if h.Status != hitlist.Open {
			t.Fatalf("hit %+v is not open", h)
		}
		out = append(out, netip.AddrPortFrom(h.Addr, h.Port).String())
	}
	slices.Sort(out)
	return out, r
}

// TestReaderLabCaptures: each real output gives exactly the lab's open
// pairs, no closed or filtered one and no pair twice, is recognised as what
// it is, and counts what it skipped.
func TestReaderLabCaptures(t *testing.T) {
	tests := []struct {
		file    string
		format  string
		notOpen bool // the capture holds closed or filtered rows
		dups    bool // the capture holds repeated pairs
	}{
		{"masscan-oL.txt", "masscan-list", true, false},
		{"masscan-oJ.json", "masscan-json", true, false},
		{"masscan-oD.ndjson", "masscan-ndjson", true, false},
		{"masscan-oX.xml", "masscan-xml", true, false},
		{"masscan-oG.txt", "masscan-grepable", true, false},
		{"masscan-oB.bin", "masscan-binary", true, false},
		{"nmap-oG.gnmap", "nmap-grepable", true, false},
		{"nmap-oX.xml", "nmap-xml", true, false},
		{"zmap-fields.csv", "zmap-csv", true, true},
		{"zmap-fields.json", "zmap-json", true, true},
	}
	want := labTruth(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, r := readPairs(t, labFile(t, tt.file), nil)
			if d := diffKeys(got, want); d != "" {
				t.Error(d)
			}
			if f := strings.Join(r.Formats(), " "); f != tt.format {
				t.Errorf("formats %q, want %q", f, tt.format)
			}
			s := r.Stats()
			if s.Hits != int64(len(want)) || s.BadLines != 0 || (s.NotOpen > 0) != tt.notOpen || (s.Duplicates > 0) != tt.dups ||
				s.Records != s.Hits+s.NotOpen+s.Duplicates {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestReaderLabConcatenated: all captures in one stream (text, JSON, XML,
// and the binary file last, as a binary file runs to the end) give the
// truth once.
func TestReaderLabConcatenated(t *testing.T) {
	var all []byte
	for _, f := range []string{"zmap-fields.csv", "masscan-oX.xml", "masscan-oL.txt", "nmap-oX.xml", "masscan-oJ.json",
		"nmap-oG.gnmap", "masscan-oD.ndjson", "zmap-fields.json", "masscan-oG.txt", "masscan-oB.bin"} {
		all = append(all, labFile(t, f)...)
	}
	got, r := readPairs(t, all, nil)
	if d := diffKeys(got, labTruth(t)); d != "" {
		t.Error(d)
	}
	if len(r.Formats()) != 10 {
		t.Errorf("formats %v, want all 10", r.Formats())
	}
	if s := r.Stats(); s.Duplicates < 9*32 {
		t.Errorf("stats %+v: want at least 9×32 duplicates", s)
	}
}

// TestReaderZMapDefault: zmap's default output names addresses only. A
// per-port file read with its port gives that port's truth; concatenated
// per-port JSON files read with several ports are refused (ErrPortUnknown)
// instead of multiplying every address by every port; a headerless
// address list is a host list and gets every -p port, as documented.
func TestReaderZMapDefault(t *testing.T) {
	for _, port := range []string{"110", "143"} {
		for _, ext := range []string{"csv", "json"} {
			got, _ := readPairs(t, labFile(t, "zmap-default-"+port+"."+ext), &hitlist.ReaderConfig{Ports: parsePorts(port)})
			if d := diffKeys(got, truthOn(t, port)); d != "" {
				t.Errorf("%s %s: %s", port, ext, d)
			}
		}
	}

	both := append(labFile(t, "zmap-default-110.json"), labFile(t, "zmap-default-143.json")...)
	r := hitlist.NewReader(bytes.NewReader(both), "z.json", &hitlist.ReaderConfig{Ports: []uint16{110, 143}})
	_, err := r.Next()
	if !errors.Is(err, hitlist.ErrPortUnknown) || !strings.Contains(err.Error(), "z.json:1:") || !strings.Contains(err.Error(), "-f saddr,sport") {
		t.Errorf("got %v, want ErrPortUnknown naming z.json:1 and the fix", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("after the end, Next returned %v", err2)
	}

	// A header line naming saddr and no port is zmap's too.
	r = hitlist.NewReader(strings.NewReader("saddr,classification\n198.18.16.7,synack\n"), "z.csv", &hitlist.ReaderConfig{Ports: []uint16{110, 143}})
	if _, err := r.Next(); !errors.Is(err, hitlist.ErrPortUnknown) {
		t.Errorf("saddr,classification with two ports: %v, want ErrPortUnknown", err)
	}

	// zmap versions that write the header of the default field: a lone
	// "saddr" line. With one port the file is that port's truth, no line
	// bad; with two it is refused like the headerless JSON above.
	headed := append([]byte("saddr\n"), labFile(t, "zmap-default-110.csv")...)
	got, rd := readPairs(t, headed, &hitlist.ReaderConfig{Ports: []uint16{110}})
	if d := diffKeys(got, truthOn(t, "110")); d != "" || rd.Stats().BadLines != 0 || !slices.Equal(rd.Formats(), []string{"zmap-csv"}) {
		t.Errorf("saddr header, -p 110: %s, %d bad lines, formats %v", d, rd.Stats().BadLines, rd.Formats())
	}
	r = hitlist.NewReader(bytes.NewReader(headed), "z.csv", &hitlist.ReaderConfig{Ports: []uint16{110, 143}})
	if _, err := r.Next(); !errors.Is(err, hitlist.ErrPortUnknown) {
		t.Errorf("saddr header with two ports: %v, want ErrPortUnknown", err)
	}

	got, _ = readPairs(t, labFile(t, "zmap-default-110.csv"), &hitlist.ReaderConfig{Ports: []uint16{110, 143}})
	if n := len(truthOn(t, "110")); len(got) != 2*n {
		t.Errorf("a plain address list with -p 110,143: %d hits, want %d (each address on both ports)", len(got), 2*n)
	}
}

func parsePorts(s string) []uint16 {
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		n, _ := strconv.Atoi(f)
		out = append(out, uint16(n))
	}
	return out
}

func diffKeys(got, want []string) string {
	g := map[string]int{}
	for _, k := range got {
		g[k]++
	}
	w := map[string]bool{}
	var missing, extra []string
	for _, k := range want {
		w[k] = true
		if g[k] == 0 {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if !w[k] || g[k] > 1 {
			extra = append(extra, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	return "got " + strconv.Itoa(len(got)) + " pairs, want " + strconv.Itoa(len(want)) + "; missing " + strings.Join(missing, " ") + "; unexpected or repeated " + strings.Join(extra, " ")
}
