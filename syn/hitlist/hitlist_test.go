package hitlist_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mailscan/syn/hitlist"
)

var t0 = time.Date(2026, 11, 29, 3, 4, 5, 678_000_000, time.UTC)

func sample() []hitlist.Hit {
	return []hitlist.Hit{
		{Addr: netip.MustParseAddr("198.18.16.1"), Port: 143, Status: hitlist.Open, TTL: 63, Window: 64240, Time: t0},
		{Addr: netip.MustParseAddr("198.18.31.255"), Port: 25, Status: hitlist.Closed, TTL: 62, Window: 0, Time: t0.Add(time.Second)},
	}
}

func TestWriterFormats(t *testing.T) {
	tests := []struct {
		format hitlist.Format
		opts   []hitlist.WriterOption
		want   string
	}{
		{hitlist.CSV, nil, "ip,port,status,ttl,window,time\n" +
			"198.18.16.1,143,open,63,64240,2026-11-29T03:04:05.678Z\n" +
			"198.18.31.255,25,closed,62,0,2026-11-29T03:04:06.678Z\n"},
		{hitlist.JSONL, nil, `{"ip":"198.18.16.1","port":143,"status":"open","ttl":63,"window":64240,"time":"2026-11-29T03:04:05.678Z"}` + "\n" +
			`{"ip":"198.18.31.255","port":25,"status":"closed","ttl":62,"window":0,"time":"2026-11-29T03:04:06.678Z"}` + "\n"},
		{hitlist.List, nil, "198.18.16.1:143\n198.18.31.255:25\n"},
		{hitlist.CSV, []hitlist.WriterOption{hitlist.WithAnswersAllPorts()}, "ip,port,status,ttl,window,time,answers_all_ports\n" +
			"198.18.16.1,143,open,63,64240,2026-11-29T03:04:05.678Z,false\n" +
			"198.18.31.255,25,closed,62,0,2026-11-29T03:04:06.678Z,false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := hitlist.NewWriter(&buf, tt.format, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range sample() {
				if err := w.Write(&h); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestRoundTrip: what the Writer writes, the Reader reads back unchanged, in
// every format (the list format keeps only address and port).
func TestRoundTrip(t *testing.T) {
	for _, f := range []hitlist.Format{hitlist.CSV, hitlist.JSONL, hitlist.List} {
		var buf bytes.Buffer
		w, _ := hitlist.NewWriter(&buf, f, hitlist.WithAnswersAllPorts())
		in := sample()
		in[0].AnswersAllPorts = true
		for _, h := range in {
			w.Write(&h)
		}
		w.Flush()
		got := readAll(t, hitlist.NewReader(&buf, "x", nil))
		if f == hitlist.List {
			for i := range in {
				in[i] = hitlist.Hit{Addr: in[i].Addr, Port: in[i].Port, Status: hitlist.Open}
			}
		}
		if !equalHits(got, in) {
			t.Errorf("%v: got %+v, want %+v", f, got, in)
		}
	}
}

func TestWriterAllocs(t *testing.T) {
	w, _ := hitlist.NewWriter(io.Discard, hitlist.CSV)
	h := sample()[0]
	for _, f := range []hitlist.Format{hitlist.CSV, hitlist.JSONL, hitlist.List} {
		w, _ = hitlist.NewWriter(io.Discard, f)
		if n := testing.AllocsPerRun(1000, func() { w.Write(&h) }); n != 0 {
			t.Errorf("%v: %v allocs per hit, want 0", f, n)
		}
	}
}

func readAll(t *testing.T, r *hitlist.Reader) []hitlist.Hit {
	t.Helper()
	var hits []hitlist.Hit
	for {
		h, err := r.Next()
		if err == io.EOF {
			return hits
		}
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		hits = append(hits, h)
	}
}

func equalHits(a, b []hitlist.Hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Addr != b[i].Addr || a[i].Port != b[i].Port || a[i].Status != b[i].Status ||
			a[i].TTL != b[i].TTL || a[i].Window != b[i].Window || !a[i].Time.Equal(b[i].Time) ||
			a[i].AnswersAllPorts != b[i].AnswersAllPorts {
			return false
		}
	}
	return true
}

func TestReaderFormats(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		ports []uint16
		want  []string // "ip:port/status"
	}{
		{"mailscan csv", "ip,port,status,ttl,window,time\n198.18.16.7,143,open,64,65535,2026-11-29T03:04:05.678Z\n", nil, []string{"198.18.16.7:143/open"}},
		{"repeated header (concatenated shards)", "ip,port,status\n198.18.16.7,143,open\nip,port,status\n198.18.16.8,110,closed\n", nil,
			[]string{"198.18.16.7:143/open", "198.18.16.8:110/closed"}},
		{"zmap csv", "saddr,sport,classification,success\n198.18.16.7,993,synack,1\n198.18.16.9,993,rst,0\n", nil,
			[]string{"198.18.16.7:993/open", "198.18.16.9:993/closed"}},
		{"zmap json", `{"saddr":"198.18.16.7","sport":995,"classification":"synack","success":1}` + "\n", nil, []string{"198.18.16.7:995/open"}},
		{"mailscan jsonl", `{"ip":"198.18.16.7","port":110,"status":"open","ttl":64}` + "\n", nil, []string{"198.18.16.7:110/open"}},
		{"masscan -oL", "#masscan\nopen tcp 143 198.18.16.7 1700000000\n# end\n", nil, []string{"198.18.16.7:143/open"}},
		{"list", "198.18.16.7:143\n\n  198.18.16.8:993  \n", nil, []string{"198.18.16.7:143/open", "198.18.16.8:993/open"}},
		{"plain ip with ports", "198.18.16.7\n", []uint16{110, 143}, []string{"198.18.16.7:110/open", "198.18.16.7:143/open"}},
		{"zgrab2 ip,domain,tag,port", "198.18.16.7,mail.example,imap,143\n198.18.16.8,,,\n", []uint16{993},
			[]string{"198.18.16.7:143/open", "198.18.16.8:993/open"}},
		{"ip,port", "198.18.16.7,25\n", nil, []string{"198.18.16.7:25/open"}},
		{"crlf", "198.18.16.7:143\r\n", nil, []string{"198.18.16.7:143/open"}},
		{"no final newline", "198.18.16.7:143", nil, []string{"198.18.16.7:143/open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hitlist.NewReader(strings.NewReader(tt.in), "in", &hitlist.ReaderConfig{Ports: tt.ports})
			var got []string
			for _, h := range readAll(t, r) {
				got = append(got, netip.AddrPortFrom(h.Addr, h.Port).String()+"/"+h.Status.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReaderBadLines: every bad line is reported with file, line and value,
// and the good lines around it are all still read.
func TestReaderBadLines(t *testing.T) {
	in := "198.18.16.1:143\n" +
		"198.18.16:143\n" + // line 2: bad address
		"198.18.16.2:0\n" + // line 3: port 0
		"198.18.16.3,99999\n" + // line 4: bad port
		"{\"ip\":\n" + // line 5: bad JSON
		"2001:db8::1\n" + // line 6: IPv6
		"198.18.16.4\n" + // line 7: no port, none given
		strings.Repeat("x", hitlist.MaxLineBytes+10) + "\n" + // line 8: too long
		"open udp 53 198.18.16.5 1\n" + // line 9: not tcp
		"198.18.16.9:993\n"
	r := hitlist.NewReader(strings.NewReader(in), "hits.txt", nil)
	var good []string
	var bad []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *hitlist.LineError
		if errors.As(err, &le) {
			if le.File != "hits.txt" {
				t.Errorf("file = %q", le.File)
			}
			bad = append(bad, le.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, netip.AddrPortFrom(h.Addr, h.Port).String())
	}
	if got, want := strings.Join(good, " "), "198.18.16.1:143 198.18.16.9:993"; got != want {
		t.Errorf("good = %q, want %q", got, want)
	}
	want := []string{
		`hitlist: hits.txt:2: "198.18.16:143": bad IPv4 address "198.18.16:143"`,
		`hitlist: hits.txt:3: "198.18.16.2:0": port 0`,
		`hitlist: hits.txt:4: "198.18.16.3,99999": bad port "99999"`,
		`hitlist: hits.txt:5: "{\"ip\":": bad JSON: unexpected end of JSON input`,
		`hitlist: hits.txt:6: "2001:db8::1": "2001:db8::1" is not an IPv4 address`,
		`hitlist: hits.txt:7: "198.18.16.4": no port on the line and no default port given (use -p)`,
		`hitlist: hits.txt:8: "": line longer than 65536 bytes`,
		`hitlist: hits.txt:9: "open udp 53 198.18.16.5 1": protocol "udp" is not tcp`,
	}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
}

func BenchmarkWriteCSV(b *testing.B) {
	w, _ := hitlist.NewWriter(io.Discard, hitlist.CSV)
	h := sample()[0]
	b.ReportAllocs()
	for b.Loop() {
		w.Write(&h)
	}
}
