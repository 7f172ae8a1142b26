package hitlist_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"mailscan/syn/hitlist"
)

// FuzzReader: no input makes the Reader panic or loop; every hit it returns
// has an IPv4 address and a non-zero port; every error but the end is a
// *LineError; and a hit list it read, written back, reads the same.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"ip,port,status,ttl,window,time\n198.18.16.7,143,open,64,65535,2026-11-29T03:04:05.678Z\n",
		`{"ip":"198.18.16.7","port":110,"status":"open","ttl":64}` + "\n",
		`{"saddr":"198.18.16.7","sport":995,"classification":"synack","success":1}`,
		"open tcp 143 198.18.16.7 1700000000\n",
		"198.18.16.7:143\n198.18.16.8\n198.18.16.9,mail,tag,25\n",
		"saddr,sport\n,\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := hitlist.NewReader(bytes.NewReader(data), "fuzz", &hitlist.ReaderConfig{Ports: []uint16{143}})
		var hits []hitlist.Hit
		for i := 0; ; i++ {
			if i > len(data)+10 {
				t.Fatal("reader does not end")
			}
			h, err := r.Next()
			if err == io.EOF {
				break
			}
			var le *hitlist.LineError
			if err != nil {
				if !errors.As(err, &le) {
					t.Fatalf("error %v is not a *LineError", err)
				}
				continue
			}
			if !h.Addr.Is4() || h.Port == 0 || (h.Status != hitlist.Open && h.Status != hitlist.Closed) {
				t.Fatalf("bad hit %+v", h)
			}
			hits = append(hits, h)
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
	})
}
