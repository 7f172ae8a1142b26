package hitlist_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"runtime"
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
		// zgrab2: the closed hit is left out (the format has no status).
		{hitlist.ZGrab2, nil, "198.18.16.1,,imap,143\n"},
		{hitlist.Masscan, nil, "#masscan\nopen tcp 143 198.18.16.1 1795921445\nclosed tcp 25 198.18.31.255 1795921446\n"},
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
	for _, f := range []hitlist.Format{hitlist.CSV, hitlist.JSONL, hitlist.List, hitlist.Masscan} {
		var buf bytes.Buffer
		w, _ := hitlist.NewWriter(&buf, f, hitlist.WithAnswersAllPorts())
		in := sample()
		in[0].AnswersAllPorts = true
		for _, h := range in {
			w.Write(&h)
		}
		w.Flush()
		got := readAll(t, hitlist.NewReader(&buf, "x", &hitlist.ReaderConfig{IncludeClosed: true}))
		switch f {
		case hitlist.List:
			for i := range in {
				in[i] = hitlist.Hit{Addr: in[i].Addr, Port: in[i].Port, Status: hitlist.Open}
			}
		case hitlist.Masscan: // address, port, status and the time in seconds
			for i := range in {
				in[i] = hitlist.Hit{Addr: in[i].Addr, Port: in[i].Port, Status: in[i].Status, Time: in[i].Time.Truncate(time.Second)}
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
	for _, f := range []hitlist.Format{hitlist.CSV, hitlist.JSONL, hitlist.List, hitlist.ZGrab2, hitlist.Masscan} {
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

// hitStrings renders hits as "ip:port/status".
func hitStrings(hits []hitlist.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, netip.AddrPortFrom(h.Addr, h.Port).String()+"/"+h.Status.String())
	}
	return out
}

func TestReaderFormats(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		ports  []uint16
		closed bool
		want   []string // "ip:port/status"
		format string   // the one format Formats() must name
	}{
		{"mailscan csv", "ip,port,status,ttl,window,time\n198.18.16.7,143,open,64,65535,2026-11-29T03:04:05.678Z\n", nil, false,
			[]string{"198.18.16.7:143/open"}, "mailscan-csv"},
		{"repeated header (concatenated shards)", "ip,port,status\n198.18.16.7,143,open\nip,port,status\n198.18.16.8,110,closed\n", nil, true,
			[]string{"198.18.16.7:143/open", "198.18.16.8:110/closed"}, "mailscan-csv"},
		{"closed rows skipped by default", "ip,port,status\n198.18.16.7,143,open\n198.18.16.8,110,closed\n", nil, false,
			[]string{"198.18.16.7:143/open"}, "mailscan-csv"},
		{"zmap csv", "saddr,sport,classification,success\n198.18.16.7,993,synack,1\n198.18.16.9,993,rst,0\n", nil, true,
			[]string{"198.18.16.7:993/open", "198.18.16.9:993/closed"}, "zmap-csv"},
		{"zmap 2.1 csv: hyphenated names, repeat rows, success=0", "saddr,sport,classification,success,repeat,timestamp-str\n" +
			"198.18.16.7,993,synack,1,0,2026-12-04T16:27:08.072+0000\n198.18.16.7,993,synack,1,1,2026-12-04T16:27:08.072+0000\n" +
			"198.18.16.9,993,rst,0,0,2026-12-04T16:27:08.072+0000\n", nil, false,
			[]string{"198.18.16.7:993/open"}, "zmap-csv"},
		{"zmap json", `{"saddr":"198.18.16.7","sport":995,"classification":"synack","success":1}` + "\n" +
			`{ "saddr": "198.18.16.7", "sport": 995, "classification": "synack", "success": 1, "repeat": 1 }` + "\n" +
			`{"saddr":"198.18.16.8","sport":995,"classification":"synack","success":false}` + "\n", nil, false,
			[]string{"198.18.16.7:995/open"}, "zmap-json"},
		{"zmap saddr only, one port", `{ "saddr": "198.18.16.7" }` + "\n", []uint16{143}, false, []string{"198.18.16.7:143/open"}, "zmap-json"},
		{"mailscan jsonl", `{"ip":"198.18.16.7","port":110,"status":"open","ttl":64}` + "\n", nil, false,
			[]string{"198.18.16.7:110/open"}, "mailscan-jsonl"},
		{"masscan -oL", "#masscan\nopen tcp 143 198.18.16.7 1700000000\nclosed tcp 25 198.18.16.7 1700000000\n" +
			"open udp 53 198.18.16.7 1700000000\nbanner tcp 143 198.18.16.7 1700000000 imap * OK ready\n# end\n", nil, false,
			[]string{"198.18.16.7:143/open"}, "masscan-list"},
		{"masscan -oD", `{"ip":"198.18.16.7","timestamp":"1796401175","port":993,"proto":"tcp","rec_type":"status","data":{"status":"open","reason":"syn-ack","ttl":63}}` + "\n" +
			`{"ip":"198.18.16.8","timestamp":"1796401175","port":993,"proto":"tcp","rec_type":"status","data":{"status":"closed","reason":"rst-ack","ttl":63}}` + "\n" +
			`{"ip":"198.18.16.9","timestamp":"1796401175","port":993,"proto":"tcp","rec_type":"banner","data":{"service_name":"ssl","banner":"x"}}` + "\n", nil, false,
			[]string{"198.18.16.7:993/open"}, "masscan-ndjson"},
		{"masscan -oJ with masscan's doubled commas", "[\n" +
			`{   "ip": "198.18.16.7",   "timestamp": "1796401170", "ports": [ {"port": 25, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 63} ] }` + "\n,\n,\n" +
			`{   "ip": "198.18.16.8",   "timestamp": "1796401170", "ports": [ {"port": 25, "proto": "tcp", "status": "closed", "reason": "rst-ack", "ttl": 63}, {"port": 110, "proto": "tcp", "status": "open"} ] }` + "\n]\n", nil, false,
			[]string{"198.18.16.7:25/open", "198.18.16.8:110/open"}, "masscan-json"},
		{"masscan 1.0 -oJ: no brackets, the {finished: 1} trailer", `{ "ip": "198.18.16.7", "ports": [ {"port": 80, "proto": "tcp", "status": "open"} ] },` + "\n" +
			`{ "ip": "198.18.16.8", "ports": [ {"port": 443, "proto": "tcp", "status": "open"} ] },` + "\n{finished: 1}\n", nil, false,
			[]string{"198.18.16.7:80/open", "198.18.16.8:443/open"}, "masscan-json"},
		{"pretty-printed JSON array (jq)", "[\n  {\n    \"ip\": \"198.18.16.7\",\n    \"ports\": [\n      {\n        \"port\": 143,\n        \"status\": \"open\"\n      }\n    ]\n  }\n]\n", nil, false,
			[]string{"198.18.16.7:143/open"}, "masscan-json"},
		{"nmap -oG", "# Nmap 7.93 scan initiated\nHost: 198.18.16.7 ()\tStatus: Up\n" +
			"Host: 198.18.16.7 ()\tPorts: 25/closed/tcp//smtp///, 110/open/tcp//pop3//Dovecot pop3d, v2/, 143/filtered/tcp//imap///, 993/open/tcp//imaps///\tIgnored State: filtered (3)\n# Nmap done\n", nil, false,
			[]string{"198.18.16.7:110/open", "198.18.16.7:993/open"}, "nmap-grepable"},
		{"masscan -oG", "# Masscan 1.3.2 scan initiated\nTimestamp: 1796401185\tHost: 198.18.16.7 ()\tPorts: 587/open/tcp//submission//\n" +
			"Timestamp: 1796401185\tHost: 198.18.16.8 ()\tPorts: 25/closed/tcp//smtp//\n", nil, false,
			[]string{"198.18.16.7:587/open"}, "masscan-grepable"},
		{"nmap -oX", `<?xml version="1.0" encoding="UTF-8"?>` + "\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\">\n<host><status state=\"up\"/>\n" +
			`<address addr="198.18.16.7" addrtype="ipv4"/><address addr="02:00:00:00:00:01" addrtype="mac"/><hostnames></hostnames>` + "\n" +
			`<ports><extraports state="filtered" count="3"/><port protocol="tcp" portid="25"><state state="closed" reason="reset"/></port>` + "\n" +
			`<port protocol="tcp" portid="143"><state state="open" reason="syn-ack" reason_ttl="63"/><service name="imap"/></port>` + "\n" +
			`<port protocol="udp" portid="53"><state state="open"/></port></ports></host>` + "\n</nmaprun>\n", nil, false,
			[]string{"198.18.16.7:143/open"}, "nmap-xml"},
		{"list", "198.18.16.7:143\n\n  198.18.16.8:993  \n", nil, false, []string{"198.18.16.7:143/open", "198.18.16.8:993/open"}, "list"},
		{"plain ip with ports", "198.18.16.7\n", []uint16{110, 143}, false, []string{"198.18.16.7:110/open", "198.18.16.7:143/open"}, "addresses"},
		{"zgrab2 ip,domain,tag,port", "198.18.16.7,mail.example,imap,143\n198.18.16.8,,,\n198.18.16.9,,imaps,\n198.18.16.10,mail.example\n", []uint16{995}, false,
			[]string{"198.18.16.7:143/open", "198.18.16.8:995/open", "198.18.16.9:993/open", "198.18.16.10:995/open"}, "zgrab2-csv"},
		{"zgrab2 quoted domain", `198.18.16.7,"mail, example",smtp,25` + "\n", nil, false, []string{"198.18.16.7:25/open"}, "zgrab2-csv"},
		{"ip,port", "198.18.16.7,25\n", nil, false, []string{"198.18.16.7:25/open"}, "list"},
		{"crlf", "198.18.16.7:143\r\n", nil, false, []string{"198.18.16.7:143/open"}, "list"},
		{"byte order mark", "\ufeff198.18.16.7:143\n\ufeff{\"ip\":\"198.18.16.8\",\"port\":143}\n", nil, false, []string{"198.18.16.7:143/open", "198.18.16.8:143/open"}, ""},
		{"no final newline", "198.18.16.7:143", nil, false, []string{"198.18.16.7:143/open"}, "list"},
		{"duplicates once", "198.18.16.7:143\n198.18.16.7:143\n198.18.16.7\n", []uint16{143, 110}, false,
			[]string{"198.18.16.7:143/open", "198.18.16.7:110/open"}, ""},
		{"IPv6 list", "[2001:db8::1]:143\n2001:db8::2\n", []uint16{993}, false,
			[]string{"[2001:db8::1]:143/open", "[2001:db8::2]:993/open"}, ""},
		{"IPv6 in other formats", "open tcp 143 2001:db8::1 1700000000\n" + `{"ip":"2001:db8::2","port":110}` + "\n2001:db8::3,,pop3s,\n", nil, false,
			[]string{"[2001:db8::1]:143/open", "[2001:db8::2]:110/open", "[2001:db8::3]:995/open"}, ""},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:198.18.16.7]:143\n", nil, false, []string{"198.18.16.7:143/open"}, "list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hitlist.NewReader(strings.NewReader(tt.in), "in", &hitlist.ReaderConfig{Ports: tt.ports, IncludeClosed: tt.closed})
			got := hitStrings(readAll(t, r))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.format != "" && strings.Join(r.Formats(), " ") != tt.format {
				t.Errorf("formats %v, want %s", r.Formats(), tt.format)
			}
		})
	}
}

// TestReaderStats: every record is counted once, in exactly one of hits,
// not-open, duplicates (or bad lines).
func TestReaderStats(t *testing.T) {
	in := "ip,port,status\n" +
		"198.18.16.7,143,open\n" + // hit
		"198.18.16.7,143,open\n" + // duplicate
		"198.18.16.8,110,closed\n" + // not open
		"198.18.16.9,110,bogus\n" + // bad
		"198.18.16.9,110,filtered\n" // not open
	r := hitlist.NewReader(strings.NewReader(in), "in", nil)
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		}
	}
	want := hitlist.Stats{Lines: 6, Records: 4, Hits: 1, BadLines: 1, NotOpen: 2, Duplicates: 1}
	if got := r.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

// TestReaderBadLines: every bad line is reported with file, line and value,
// and the good lines around it are all still read.
func TestReaderBadLines(t *testing.T) {
	in := "198.18.16.1:143\n" +
		"198.18.16:143\n" + // line 2: bad address
		"198.18.16.2:0\n" + // line 3: port 0
		"198.18.16.3,99999\n" + // line 4: bad port
		"{\"ip\":\n" + // line 5: truncated JSON
		"fe80::1%eth0\n" + // line 6: a zone
		"198.18.16.4\n" + // line 7: no port, none given
		strings.Repeat("x", hitlist.MaxLineBytes+10) + "\n" + // line 8: too long
		"open tcp 53 198.18.16.5 1 2 3\n" + // line 9: good (extra fields are ignored)
		"198.18.16.0/24,,imap,143\n" + // line 10: a network
		`{"ip":"198.18.16.6","port":143,"status":"success"}` + "\n" + // line 11: a banner result, not a hit
		"{\"ip\":\"198.18.16.7\",\"port\":143,\"sta\n" + // line 12: cut inside a string
		"{\"ip\":\"198.18.16.7\",\"port\":\n" + // line 13: cut after a colon
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
	if got, want := strings.Join(good, " "), "198.18.16.1:143 198.18.16.5:53 198.18.16.9:993"; got != want {
		t.Errorf("good = %q, want %q", got, want)
	}
	want := []string{
		`hitlist: hits.txt:2: "198.18.16:143": bad IP address "198.18.16:143"`,
		`hitlist: hits.txt:3: "198.18.16.2:0": port 0`,
		`hitlist: hits.txt:4: "198.18.16.3,99999": bad port "99999"`,
		`hitlist: hits.txt:5: "{\"ip\":": unterminated JSON object (a truncated line?)`,
		`hitlist: hits.txt:6: "fe80::1%eth0": address "fe80::1%eth0" has a zone`,
		`hitlist: hits.txt:7: "198.18.16.4": no port on the line and no default port given`,
		`hitlist: hits.txt:8: "": line longer than 65536 bytes`,
		`hitlist: hits.txt:10: "198.18.16.0/24,,imap,143": "198.18.16.0/24" is a network, not a hit: give addresses`,
		`hitlist: hits.txt:11: "{\"ip\":\"198.18.16.6\",\"port\":143,\"status\":\"success\"}": unknown port state "success"`,
		`hitlist: hits.txt:12: "{\"ip\":\"198.18.16.7\",\"port\":143,\"sta": line break inside a JSON string (a truncated line?)`,
		`hitlist: hits.txt:13: "{\"ip\":\"198.18.16.7\",\"port\":": unterminated JSON object (a truncated line?)`,
	}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	if s := r.Stats(); s.BadLines != int64(len(want)) || s.Hits != 3 || s.Lines != 14 {
		t.Errorf("stats %+v", s)
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

// benchInput is n hits in a format, distinct pairs.
func benchInput(format string, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		switch format {
		case "list":
			b.WriteString(a.String() + ":143\n")
		case "masscan-list":
			b.WriteString("open tcp 143 " + a.String() + " 1796401165\n")
		case "zmap-csv":
			if i == 0 {
				b.WriteString("saddr,sport,classification,success,repeat\n")
			}
			b.WriteString(a.String() + ",143,synack,1,0\n")
		case "masscan-ndjson":
			b.WriteString(`{"ip":"` + a.String() + `","timestamp":"1796401175","port":143,"proto":"tcp","rec_type":"status","data":{"status":"open","reason":"syn-ack","ttl":63}}` + "\n")
		}
	}
	return b.Bytes()
}

// BenchmarkReader measures reading 100,000 distinct hits: time per hit,
// and the memory the duplicate set keeps per pair (B/pair, from the heap
// in use after reading, with the input's own size taken out).
func BenchmarkReader(b *testing.B) {
	const n = 100_000
	for _, format := range []string{"list", "masscan-list", "zmap-csv", "masscan-ndjson"} {
		in := benchInput(format, n)
		b.Run(format, func(b *testing.B) {
			var perPair float64
			for b.Loop() {
				var before, after runtime.MemStats
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				r := hitlist.NewReader(bytes.NewReader(in), "bench", nil)
				for {
					if _, err := r.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.StartTimer()
				perPair = float64(after.HeapAlloc-before.HeapAlloc-hitlist.MaxLineBytes) / n
				runtime.KeepAlive(r)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/hit")
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(perPair, "B/pair")
		})
	}
}

// TestReaderNotABOM: a line starting with 0xEF that is no byte order mark
// is a bad line, whole, and the next line is read.
func TestReaderNotABOM(t *testing.T) {
	r := hitlist.NewReader(strings.NewReader("\xefA\n198.18.16.7:143\n"), "in", nil)
	_, err := r.Next()
	var le *hitlist.LineError
	if !errors.As(err, &le) || le.Line != 1 || le.Value != "\xefA" {
		t.Fatalf("got %v, want a LineError for line 1", err)
	}
	if h, err := r.Next(); err != nil || h.Port != 143 {
		t.Fatalf("then %+v, %v", h, err)
	}
}
