package state

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"mailscan/syn/hitlist"
)

func hit(s string) Hit {
	ap := netip.MustParseAddrPort(s)
	return Hit{IP: ap.Addr(), Port: ap.Port()}
}

func keys(hs []Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.AddrPort().String())
	}
	return out
}

// TestPlanResume walks each fate a hit can have had at the moment of a
// crash, for run (grab) and syn.
func TestPlanResume(t *testing.T) {
	st := &State{
		Pending: []Hit{hit("198.18.16.1:143"), hit("198.18.16.2:143")}, // 2 was grabbed after the state
		Held: []Hit{
			hit("198.18.16.3:143"), // listed after the state, not grabbed
			hit("198.18.16.4:143"), // listed and grabbed after the state
			hit("198.18.16.5:143"), // never listed
		},
	}
	hits := strings.Join([]string{
		"ip,port,status,ttl,window,time,answers_all_ports",
		"198.18.16.3,143,open,64,1,2026-01-01T00:00:00.000Z,true",
		"198.18.16.4,143,open,64,1,2026-01-01T00:00:00.000Z,false",
		"198.18.16.6,143,open,64,1,2026-01-01T00:00:00.000Z,false", // found after the state, not grabbed
		"198.18.16.7,143,open,64,1,2026-01-01T00:00:00.000Z,false", // found after the state, grabbed
		"198.18.16.8,143,closed,64,1,2026-01-01T00:00:00.000Z,false",
		"10.0.0.1,143,open,64,1,2026-01-01T00:00:00.000Z,false", // not a target of this scan
	}, "\n") + "\n"
	results := `{"ip":"198.18.16.2","port":143,"status":"success"}
{"ip":"198.18.16.4","port":143,"status":"success"}
{"ip":"198.18.16.7","port":143,"status":"success"}
`
	inScan := func(ap netip.AddrPort) bool { return ap.Addr() != netip.MustParseAddr("10.0.0.1") }
	p, err := PlanResume(st, strings.NewReader(hits), strings.NewReader(results), true, inScan)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(p.Pending), []string{"198.18.16.1:143", "198.18.16.3:143", "198.18.16.6:143"}; !slices.Equal(got, want) {
		t.Errorf("pending %v, want %v", got, want)
	}
	if len(p.Pending) > 1 && !p.Pending[1].AnswersAllPorts {
		t.Error("a held hit listed after the state lost the control answer its line holds")
	}
	if len(p.Held) != 1 || p.Held[0].Addr != netip.MustParseAddr("198.18.16.5") || p.Held[0].Status != hitlist.Open {
		t.Errorf("held %+v, want 198.18.16.5:143 only", p.Held)
	}
	seen := map[string]bool{}
	for _, ap := range p.Seen {
		seen[ap.String()] = true
	}
	for _, k := range []string{"198.18.16.1:143", "198.18.16.2:143", "198.18.16.3:143", "198.18.16.4:143", "198.18.16.6:143", "198.18.16.7:143"} {
		if !seen[k] {
			t.Errorf("%s not in Seen: the scanner would deliver it again", k)
		}
	}
	if seen["198.18.16.5:143"] {
		t.Error("the held hit is in Seen: the scanner would not deliver it")
	}
	// syn: no grabs, and the held hits not in the hit list come back.
	p, err = PlanResume(st, strings.NewReader(hits), nil, false, inScan)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pending) != 0 || len(p.Held) != 1 || p.Held[0].Addr != netip.MustParseAddr("198.18.16.5") {
		t.Errorf("syn: pending %v held %+v", keys(p.Pending), p.Held)
	}
}
