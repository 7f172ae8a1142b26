package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/netip"

	"mailscan/syn/hitlist"
)

// Plan is what a resumed run does with the hits of the run it continues.
type Plan struct {
	// Pending are the hits to grab first (run), in order.
	Pending []Hit
	// Held are the hits to hand back to the scanner: found, but not in the
	// hit list. It writes (and, in run, queues) them first.
	Held []hitlist.Hit
	// Seen are the hits the scanner must never deliver again.
	Seen []netip.AddrPort
	// Listed and Done count the hit list lines and results read back.
	Listed, Done int
}

// PlanResume works out a resumed run from st and the outputs read back from
// their marks: hits, the hit list after its mark (nil when it cannot be
// read back), results, the results after theirs (nil without a results
// file, or for syn). grab says the run grabs its hits (run, not syn).
//
// A hit in the hit list after the mark was delivered after the state was
// written (or just before, and then it is held or pending there too): it is
// not delivered again, and, if it has no result yet, it is grabbed. A held
// hit that is not in the hit list is delivered again. A pending hit or a
// hit of the hit list with a result after the mark is done. ok filters out
// hits that are not targets of this scan (a hand-edited file).
func PlanResume(st *State, hits, results io.Reader, grab bool, ok func(netip.AddrPort) bool) (*Plan, error) {
	p := &Plan{}
	listed := map[netip.AddrPort]Hit{}
	var listedOrder []netip.AddrPort
	if hits != nil {
		r := hitlist.NewReader(hits, "hit list", nil)
		for {
			h, err := r.Next()
			if err == io.EOF {
				break
			}
			var le *hitlist.LineError
			if errors.As(err, &le) {
				continue // not ours to judge here; the line stays as it is
			}
			if err != nil {
				return nil, err
			}
			ap := netip.AddrPortFrom(h.Addr, h.Port)
			if h.Status != hitlist.Open || !ok(ap) {
				continue
			}
			if _, dup := listed[ap]; !dup {
				listedOrder = append(listedOrder, ap)
			}
			listed[ap] = FromHitlist(h)
		}
	}
	done := map[netip.AddrPort]bool{}
	if results != nil {
		sc := bufio.NewScanner(results)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var r struct {
				IP   netip.Addr `json:"ip"`
				Port uint16     `json:"port"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.IP.IsValid() {
				done[netip.AddrPortFrom(r.IP, r.Port)] = true
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	p.Listed, p.Done = len(listed), len(done)
	seen := map[netip.AddrPort]bool{}
	see := func(ap netip.AddrPort) {
		if !seen[ap] {
			seen[ap] = true
			p.Seen = append(p.Seen, ap)
		}
	}
	queued := map[netip.AddrPort]bool{}
	queue := func(h Hit) {
		ap := h.AddrPort()
		if grab && !done[ap] && !queued[ap] {
			queued[ap] = true
			p.Pending = append(p.Pending, h)
		}
	}
	for _, h := range st.Pending {
		see(h.AddrPort())
		queue(h)
	}
	for _, h := range st.Held {
		ap := h.AddrPort()
		if l, ok := listed[ap]; ok {
			see(ap)
			queue(l) // listed after the state: its line has the control answer
			continue
		}
		if done[ap] {
			see(ap)
			continue
		}
		p.Held = append(p.Held, h.Hitlist())
	}
	for _, ap := range listedOrder {
		see(ap)
		queue(listed[ap])
	}
	for ap := range done {
		see(ap)
	}
	return p, nil
}
