package hitlist_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"mailscan/syn/hitlist"
)

// checkReader is every reader fuzz target's oracle: no input makes the
// Reader panic or loop; every hit has a valid address without a zone, a
// non-zero port and the open status; no pair comes twice; every error but
// the end is a *LineError until one error ends the input for good; the
// counters agree with what was returned; and the hits, written back as
// JSON lines, read back the same.
func checkReader(t *testing.T, data []byte) {
	r := hitlist.NewReader(bytes.NewReader(data), "fuzz", &hitlist.ReaderConfig{Ports: []uint16{143}})
	var hits []hitlist.Hit
	seen := map[netip.AddrPort]bool{}
	var lineErrs int64
	for i := 0; ; i++ {
		if i > 2*len(data)+10 {
			t.Fatal("reader does not end")
		}
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var le *hitlist.LineError
			if errors.As(err, &le) {
				lineErrs++
				continue
			}
			if _, again := r.Next(); again != err {
				t.Fatalf("after the error %v ended the input, Next returned %v", err, again)
			}
			break
		}
		if !h.Addr.IsValid() || h.Addr.Zone() != "" || h.Addr.Is4In6() || h.Port == 0 || h.Status != hitlist.Open {
			t.Fatalf("bad hit %+v", h)
		}
		ap := netip.AddrPortFrom(h.Addr, h.Port)
		if seen[ap] {
			t.Fatalf("%v returned twice", ap)
		}
		seen[ap] = true
		hits = append(hits, h)
	}
	s := r.Stats()
	if s.Hits != int64(len(hits)) || s.BadLines != lineErrs || s.Records < s.Hits+s.NotOpen+s.Duplicates || s.NotOpen < 0 {
		t.Fatalf("stats %+v for %d hits and %d bad lines", s, len(hits), lineErrs)
	}

	var buf bytes.Buffer
	w, _ := hitlist.NewWriter(&buf, hitlist.JSONL, hitlist.WithAnswersAllPorts())
	for i := range hits {
		hits[i].Time = hits[i].Time.Truncate(1e6) // the text form keeps milliseconds
		w.Write(&hits[i])
	}
	w.Flush()
	back := hitlist.NewReader(&buf, "back", nil)
	for i := 0; ; i++ {
		h, err := back.Next()
		if err == io.EOF {
			if i != len(hits) {
				t.Fatalf("read back %d hits, wrote %d", i, len(hits))
			}
			break
		}
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if h.Addr != hits[i].Addr || h.Port != hits[i].Port || h.Status != hits[i].Status || !h.Time.Equal(hits[i].Time) {
			t.Fatalf("hit %d: read back %+v, wrote %+v", i, h, hits[i])
		}
	}
}

func addLabSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", "lab", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzReader: the line formats (mailscan CSV and list, zmap CSV, masscan
// -oL and -oG, nmap -oG, zgrab2 CSV, addresses).
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"ip,port,status,ttl,window,time\n198.18.16.7,143,open,64,65535,2026-11-29T03:04:05.678Z\n",
		"open tcp 143 198.18.16.7 1700000000\n",
		"198.18.16.7:143\n198.18.16.8\n198.18.16.9,mail,tag,25\n[2001:db8::1]:993\n",
		"saddr,sport\n,\n",
		"saddr\n198.18.16.7\n198.18.16.8:143\nsaddr\n",
		"Host: 198.18.16.7 ()\tPorts: 110/open/tcp//pop3//v, 2/, 143/closed/tcp//imap///\n",
	} {
		f.Add([]byte(s))
	}
	addLabSeeds(f, "masscan-oL.txt", "masscan-oG.txt", "nmap-oG.gnmap", "zmap-fields.csv", "zmap-default-110.csv")
	f.Fuzz(func(t *testing.T, data []byte) { checkReader(t, data) })
}

// FuzzReaderJSON: JSON lines and arrays (mailscan, zmap, masscan -oJ, -oD).
func FuzzReaderJSON(f *testing.F) {
	for _, s := range []string{
		`{"ip":"198.18.16.7","port":110,"status":"open","ttl":64}` + "\n",
		`{"saddr":"198.18.16.7","sport":995,"classification":"synack","success":1,"repeat":1}`,
		"[\n  {\n    \"ip\": \"198.18.16.7\",\n    \"ports\": [ { \"port\": 143, \"status\": \"open\" } ]\n  }\n]\n",
		`{"ip":"198.18.16.7","port":1` + "\n" + `{"ip":"198.18.16.8","port":2}`,
		`{ "ip": "198.18.16.7", "ports": [ {"port": 80, "proto": "tcp", "status": "open"} ] },` + "\n{finished: 1}\n",
	} {
		f.Add([]byte(s))
	}
	addLabSeeds(f, "masscan-oJ.json", "masscan-oD.ndjson", "zmap-fields.json", "zmap-default-143.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkReader(t, data) })
}

// FuzzReaderXML: nmap's and masscan's -oX.
func FuzzReaderXML(f *testing.F) {
	f.Add([]byte(`<nmaprun><host><address addr="198.18.16.7" addrtype="ipv4"/><ports><port protocol="tcp" portid="143"><state state="open"/></port></ports></host></nmaprun>`))
	addLabSeeds(f, "nmap-oX.xml", "masscan-oX.xml")
	f.Fuzz(func(t *testing.T, data []byte) { checkReader(t, data) })
}

// FuzzReaderMasscanBinary: masscan's -oB. The input always starts with the
// header, so every mutation reaches the record parser.
func FuzzReaderMasscanBinary(f *testing.F) {
	f.Add([]byte{6, 13, 0x6b, 0x12, 0xe8, 0x26, 198, 18, 16, 7, 6, 0, 143, 0x12, 63})
	f.Add([]byte{1, 12, 0x6b, 0x12, 0xe8, 0x26, 198, 18, 16, 7, 0, 143, 0x12, 63, 9, 0x81, 0x00})
	b, err := os.ReadFile(filepath.Join("testdata", "lab", "masscan-oB.bin"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[99:])
	f.Fuzz(func(t *testing.T, data []byte) {
		hdr := make([]byte, 99, 99+len(data))
		copy(hdr, "masscan/1.1\ns:1796401190\n")
		checkReader(t, append(hdr, data...))
	})
}
