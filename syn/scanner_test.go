package syn

import (
	"errors"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailscan/blocklist"
	"mailscan/syn/frame"
	"mailscan/syn/hitlist"
)

// TestScanFindsExactlyTheTruth: every open pair outside the blocklist is
// found, nothing else is, and no probe goes to a blocklisted address.
func TestScanFindsExactlyTheTruth(t *testing.T) {
	truth := labTruth(1, 150)
	targets := mustSet(t, "198.18.16.0/22")
	deny := mustSet(t, "198.18.17.0/24", "198.18.18.77")
	for _, senders := range []int{1, 2, 3} {
		n := newSimNet(truth, 0, 1)
		out, sum := runSim(t, n, Config{
			Allowed: targets.Subtract(deny), Deny: deny, Ports: labPorts,
			Seed: 42, Senders: senders,
		})
		want := filterOut(truth, deny)
		if got := out.keys(hitlist.Open); !equalStrings(got, want) {
			t.Errorf("senders=%d: hits differ from truth:\n got %d %v\nwant %d %v", senders, len(got), got, len(want), want)
		}
		for k := range n.probes {
			if deny.ContainsAddr(netip.MustParseAddrPort(k).Addr()) {
				t.Errorf("probe to blocklisted %s", k)
			}
		}
		wantProbes := int(targets.Subtract(deny).Len()) * len(labPorts)
		if len(n.probes) != wantProbes || sum.Probed != uint64(wantProbes) || sum.Sent != uint64(wantProbes) {
			t.Errorf("senders=%d: %d distinct probes, summary probed %d sent %d; want %d", senders, len(n.probes), sum.Probed, sum.Sent, wantProbes)
		}
		for k, c := range n.probes {
			if c != 1 {
				t.Errorf("%s probed %d times", k, c)
			}
		}
		if sum.Open != uint64(len(want)) || sum.Blocked != 0 || sum.Invalid != 0 || !sum.Complete {
			t.Errorf("summary %+v", sum)
		}
	}
}

// TestLastMomentBlocklistCheck: even when the allowed set wrongly holds a
// denied address, no frame reaches it.
func TestLastMomentBlocklistCheck(t *testing.T) {
	n := newSimNet(nil, 0, 1)
	deny := mustSet(t, "198.18.16.8/29")
	_, sum := runSim(t, n, Config{
		Allowed: mustSet(t, "198.18.16.0/27"), // wrongly includes the denied /29
		Deny:    deny, Ports: []uint16{143}, Seed: 1,
	})
	for k := range n.probes {
		if deny.ContainsAddr(netip.MustParseAddrPort(k).Addr()) {
			t.Errorf("probe to blocklisted %s", k)
		}
	}
	if sum.Blocked != 8 || len(n.probes) != 24 {
		t.Errorf("blocked %d, probes %d; want 8 and 24", sum.Blocked, len(n.probes))
	}
}

// TestShardsUnionIsWhole: K shards with one seed are disjoint and their union
// is the unsharded scan.
func TestShardsUnionIsWhole(t *testing.T) {
	truth := labTruth(2, 100)
	targets := mustSet(t, "198.18.16.0/22")
	deny := blocklist.NewSet()
	whole, _ := runSim(t, newSimNet(truth, 0, 1), Config{Allowed: targets, Deny: deny, Ports: labPorts, Seed: 7})
	for _, k := range []uint64{2, 3} {
		seen := map[string]uint64{}
		var union []string
		for i := range k {
			n := newSimNet(truth, 0, 1)
			out, _ := runSim(t, n, Config{Allowed: targets, Deny: deny, Ports: labPorts, Seed: 7, Shard: i, Shards: k, Senders: int(i) + 1})
			for p := range n.probes {
				if j, dup := seen[p]; dup {
					t.Errorf("K=%d: %s probed by shards %d and %d", k, p, j, i)
				}
				seen[p] = i
			}
			union = append(union, out.keys(hitlist.Open)...)
		}
		sort.Strings(union)
		if !equalStrings(union, whole.keys(hitlist.Open)) || !equalStrings(union, truth) {
			t.Errorf("K=%d: union of shards has %d hits, whole scan %d, truth %d", k, len(union), len(whole.keys(hitlist.Open)), len(truth))
		}
		if len(seen) != int(targets.Len())*len(labPorts) {
			t.Errorf("K=%d: shards probed %d targets, want %d", k, len(seen), targets.Len()*4)
		}
	}
}

// TestClosedReportsRSTs: with ReportClosed, every other port of an up host
// is reported closed, exactly.
func TestClosedReportsRSTs(t *testing.T) {
	truth := labTruth(3, 40)
	n := newSimNet(truth, 0, 1)
	out, sum := runSim(t, n, Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 3, ReportClosed: true})
	var want []string
	open := map[string]bool{}
	for _, k := range truth {
		open[k] = true
	}
	for a := range n.up {
		for _, p := range labPorts {
			k := netip.AddrPortFrom(a, p).String()
			if !open[k] {
				want = append(want, k)
			}
		}
	}
	sort.Strings(want)
	if got := out.keys(hitlist.Closed); !equalStrings(got, want) {
		t.Errorf("closed: got %d, want %d", len(got), len(want))
	}
	if !equalStrings(out.keys(hitlist.Open), truth) || sum.Closed != uint64(len(want)) {
		t.Errorf("open %d (want %d), summary closed %d", len(out.keys(hitlist.Open)), len(truth), sum.Closed)
	}
	// Without ReportClosed the RSTs are counted, not reported.
	out, sum = runSim(t, newSimNet(truth, 0, 1), Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 3})
	if len(out.keys(hitlist.Closed)) != 0 || sum.Closed != uint64(len(want)) {
		t.Errorf("without ReportClosed: %d closed hits, %d counted", len(out.keys(hitlist.Closed)), sum.Closed)
	}
}

// TestForgedRepliesRejected: replies whose ack or port does not match the
// cookie are not reported, while a forged reply with the right cookie (the
// positive control) is.
func TestForgedRepliesRejected(t *testing.T) {
	n := newSimNet(nil, 0, 1)
	control := netip.MustParseAddrPort("198.18.16.200:143").String()
	n.inject = func(p probe) [][]byte {
		k := netip.AddrPortFrom(blocklist.AddrFromUint32(p.daddr), p.dport).String()
		if p.dport != 143 {
			return nil
		}
		if k == control {
			return [][]byte{reply(p, p.seq+1, true)}
		}
		wrongPort := p
		wrongPort.sport ^= 1
		return [][]byte{reply(p, p.seq+2, true), reply(p, p.seq, true), reply(p, p.seq+1+1<<16, false), reply(wrongPort, p.seq+1, true)}
	}
	out, sum := runSim(t, n, Config{Allowed: mustSet(t, "198.18.16.0/24"), Deny: blocklist.NewSet(), Ports: []uint16{110, 143}, Seed: 9, ReportClosed: true})
	if got := append(out.keys(hitlist.Open), out.keys(hitlist.Closed)...); len(got) != 1 || got[0] != control {
		t.Errorf("hits %v, want only the control %s", got, control)
	}
	if sum.Invalid != 255*4 {
		t.Errorf("invalid %d, want %d", sum.Invalid, 255*4)
	}
}

// TestLossWithTwoProbes: with 5% loss each way and two probes per target,
// recall stays high and precision perfect; duplicates are counted once.
func TestLossWithTwoProbes(t *testing.T) {
	truth := labTruth(4, 250)
	n := newSimNet(truth, 0.05, 11)
	out, sum := runSim(t, n, Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 5, Probes: 2})
	got := out.keys(hitlist.Open)
	truthSet := map[string]bool{}
	for _, k := range truth {
		truthSet[k] = true
	}
	for _, k := range got {
		if !truthSet[k] {
			t.Errorf("false positive %s", k)
		}
	}
	if recall := float64(len(got)) / float64(len(truth)); recall < 0.98 {
		t.Errorf("recall %.3f < 0.98", recall)
	}
	if sum.Sent != 2*sum.Probed || sum.Duplicates == 0 {
		t.Errorf("sent %d probed %d duplicates %d", sum.Sent, sum.Probed, sum.Duplicates)
	}
	for k, c := range n.probes {
		if c != 2 {
			t.Fatalf("%s probed %d times, want 2", k, c)
		}
	}
}

// TestMaxTargets caps the number of targets probed exactly, across senders.
func TestMaxTargets(t *testing.T) {
	for _, senders := range []int{1, 2} {
		n := newSimNet(nil, 0, 1)
		_, sum := runSim(t, n, Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 5, MaxTargets: 1000, Senders: senders, Batch: 7})
		if len(n.probes) != 1000 || sum.Probed != 1000 {
			t.Errorf("senders=%d: %d probes, summary %d; want 1000", senders, len(n.probes), sum.Probed)
		}
	}
}

// TestResumeProbesEachTargetOnce: a scan stopped half way and resumed from
// its state probes every target exactly once over both runs.
func TestResumeProbesEachTargetOnce(t *testing.T) {
	truth := labTruth(5, 120)
	targets := mustSet(t, "198.18.16.0/22")
	deny := mustSet(t, "198.18.19.0/25")
	cfg := Config{Allowed: targets.Subtract(deny), Deny: deny, Ports: labPorts, Seed: 99, Senders: 2, Batch: 16}

	n1 := newSimNet(truth, 0, 1)
	var s1 *Scanner
	var flushes atomic.Int64
	n1.onFlush = func() {
		if flushes.Add(1) == 100 {
			s1.Stop()
		}
	}
	out1 := &collect{}
	c1 := cfg
	c1.Output, c1.link, c1.Cooldown = out1, n1, 20*time.Millisecond
	var err error
	if s1, err = New(&c1); err != nil {
		t.Fatal(err)
	}
	sum1, err := s1.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !sum1.Interrupted || sum1.Complete {
		t.Fatalf("first run: interrupted %v complete %v", sum1.Interrupted, sum1.Complete)
	}
	state := s1.ResumeState()

	n2 := newSimNet(truth, 0, 1)
	c2 := cfg
	c2.Senders = 5 // ignored: a resumed scan keeps the original's senders
	c2.Resume = state
	out2, sum2 := runSim(t, n2, c2)
	if !sum2.Complete || sum2.Interrupted {
		t.Errorf("second run: complete %v interrupted %v", sum2.Complete, sum2.Interrupted)
	}
	all := map[string]int{}
	for k, c := range n1.probes {
		all[k] += c
	}
	for k, c := range n2.probes {
		all[k] += c
	}
	if want := int(cfg.Allowed.Len()) * 4; len(all) != want {
		t.Errorf("%d targets probed over both runs, want %d", len(all), want)
	}
	for k, c := range all {
		if c != 1 {
			t.Errorf("%s probed %d times over both runs", k, c)
		}
	}
	hits := append(out1.keys(hitlist.Open), out2.keys(hitlist.Open)...)
	sort.Strings(hits)
	if want := filterOut(truth, deny); !equalStrings(hits, want) {
		t.Errorf("hits over both runs: %d, want %d", len(hits), len(want))
	}
	// A resume state does not fit another scan.
	c3 := cfg
	c3.Seed = 100
	c3.Resume = state
	c3.Output, c3.link = &collect{}, newSimNet(nil, 0, 1)
	if _, err := New(&c3); err == nil {
		t.Error("resume state accepted for a scan with another seed")
	}
}

func TestDedup(t *testing.T) {
	d := newDedup()
	// Check every key seen so far at several points of the growth, while
	// entries are half moved.
	for i := range uint32(100000) {
		if i%9973 == 0 {
			for j := range i {
				if d.add(0xC6120000+j/4, uint16(j%4)) {
					t.Fatalf("after %d inserts, %d was lost", i, j)
				}
			}
		}
		if !d.add(0xC6120000+i/4, uint16(i%4)) {
			t.Fatalf("%d reported as duplicate", i)
		}
	}
	for i := range uint32(100000) {
		if d.add(0xC6120000+i/4, uint16(i%4)) {
			t.Fatalf("%d not found", i)
		}
	}
	if d.len() != 100000 {
		t.Errorf("len %d", d.len())
	}
}

func BenchmarkDedupAdd(b *testing.B) {
	d := newDedup()
	b.ReportAllocs()
	var i uint32
	for b.Loop() {
		d.add(i*2654435761, 143) // the set grows; allocation is amortised per doubling
		i++
	}
}

// TestControlProbes: hosts that answer on every port are marked, real
// services are not, every responsive host gets exactly one control probe, and
// no hit is lost while held for its control answer.
func TestControlProbes(t *testing.T) {
	truth := labTruth(6, 60)
	n := newSimNet(truth, 0, 1)
	pseudo := mustSet(t, "198.18.19.0/28")
	for _, r := range pseudo.Ranges() {
		for a := r.First; a <= r.Last; a++ {
			n.all[blocklist.AddrFromUint32(a)] = true
		}
	}
	out, sum := runSim(t, n, Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 8,
		ControlProbes: true, Cooldown: 10 * time.Millisecond})
	var flagged, plain []string
	for _, h := range out.hits {
		k := netip.AddrPortFrom(h.Addr, h.Port).String()
		if h.AnswersAllPorts {
			flagged = append(flagged, k)
		} else {
			plain = append(plain, k)
		}
		if h.AnswersAllPorts != pseudo.ContainsAddr(h.Addr) {
			t.Errorf("%s: answers_all_ports %v", k, h.AnswersAllPorts)
		}
	}
	sort.Strings(plain)
	if !equalStrings(plain, truth) {
		t.Errorf("unflagged hits: %d, want the %d of the truth", len(plain), len(truth))
	}
	if len(flagged) != 16*4 {
		t.Errorf("%d flagged hits, want 64", len(flagged))
	}
	hosts := map[netip.Addr]bool{}
	for a := range n.up {
		hosts[a] = true
	}
	for a := range n.all {
		hosts[a] = true
	}
	if sum.ControlProbes != uint64(len(hosts)) || sum.AnswersAllPorts != 16 {
		t.Errorf("control probes %d (want %d), answers all ports %d (want 16)", sum.ControlProbes, len(hosts), sum.AnswersAllPorts)
	}
	// Control ports are never scanned ports, and each host got one probe there.
	for k, c := range n.probes {
		ap := netip.MustParseAddrPort(k)
		if ap.Port() >= controlPortFirst && c != 1 {
			t.Errorf("control port %s probed %d times", k, c)
		}
	}
	if _, err := newController([16]byte{}, func() []uint16 {
		var all []uint16
		for p := controlPortFirst; p < 65536; p++ {
			all = append(all, uint16(p))
		}
		return all
	}()); err == nil {
		t.Error("a scan of every dynamic port left no control port, and no error said so")
	}
}

// BenchmarkProbePath is everything a sender does in user space per probe:
// next index of the cycle, index → (address, port), the last-moment
// blocklist check, the cookie and the frame. The rest of a probe's cost is
// the kernel's (scripts/bench.sh measures it).
func BenchmarkProbePath(b *testing.B) {
	n := newSimNet(nil, 0, 1)
	deny := mustSet(b, "198.18.20.0/24", "10.0.0.0/8", "192.168.0.0/16", "224.0.0.0/3")
	s, err := New(&Config{Allowed: mustSet(b, "198.18.16.0/20").Subtract(deny), Deny: deny, Ports: labPorts,
		Output: &collect{}, link: n})
	if err != nil {
		b.Fatal(err)
	}
	it := s.iters[0]
	var buf [128]byte
	b.ReportAllocs()
	for b.Loop() {
		idx, ok := it.Next()
		if !ok {
			it.Seek(0)
			continue
		}
		daddr, dport := s.space.At(idx)
		if s.cfg.Deny.Contains(daddr) {
			continue
		}
		sport, seq := s.cookie.Probe(s.src, daddr, dport)
		s.tmpl.Write(buf[:], daddr, dport, sport, seq, 1)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkReplyPath is everything the receiver does in user space per
// reply: parse, cookie check, dedup (here of a reply seen before).
func BenchmarkReplyPath(b *testing.B) {
	n := newSimNet(nil, 0, 1)
	s, err := New(&Config{Allowed: mustSet(b, "198.18.16.0/20"), Deny: blocklist.NewSet(), Ports: labPorts, Output: &collect{}, link: n})
	if err != nil {
		b.Fatal(err)
	}
	daddr := uint32(0xC6121005)
	sport, seq := s.cookie.Probe(s.src, daddr, 143)
	frameBytes := reply(probe{daddr: daddr, saddr: s.src, dport: 143, sport: sport, seq: seq}, seq+1, true)
	d := newDedup()
	var r frame.Reply
	b.ReportAllocs()
	for b.Loop() {
		if !frame.ParseReply(frameBytes, &r) || !s.cookie.Check(s.src, r.SrcAddr, r.SrcPort, r.DstPort, r.Ack) {
			b.Fatal("reply rejected")
		}
		d.add(r.SrcAddr, r.SrcPort)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}

// failAfter is an Output whose Flush fails once n hits were written.
type failAfter struct {
	collect
	n int
}

func (f *failAfter) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hits) >= f.n {
		return errors.New("no space left on device")
	}
	return nil
}

// TestOutputFailureStopsAndKeepsHits: when the Output fails, the scan stops
// sending, Run returns the error, and every hit found is either delivered
// (flushed before the failure) or held for the resume state: none lost.
func TestOutputFailureStopsAndKeepsHits(t *testing.T) {
	truth := labTruth(4, 200)
	n := newSimNet(truth, 0, 1)
	out := &failAfter{n: 20}
	cfg := Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 3, Batch: 8,
		Output: out, Cooldown: 20 * time.Millisecond}
	cfg.link = n
	s, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("Run error %v, want the Output's", err)
	}
	if !sum.Interrupted || sum.Probed >= cfg.Allowed.Len()*4 {
		t.Fatalf("interrupted %v, probed %d of %d: the scan went on after the failure", sum.Interrupted, sum.Probed, cfg.Allowed.Len()*4)
	}
	// Delivered: the hits of successful flushes. The Output failed on the
	// flush after its 20th hit: everything of that batch on is held.
	var held []hitlist.Hit
	s.Checkpoint(func(h []hitlist.Hit) { held = h })
	found := map[string]bool{}
	for k, c := range n.probes {
		if c > 0 && slices.Contains(truth, k) {
			found[k] = true
		}
	}
	got := map[string]int{}
	for _, h := range out.hits[:min(len(out.hits), 20)] {
		got[netip.AddrPortFrom(h.Addr, h.Port).String()]++
	}
	for _, h := range held {
		got[netip.AddrPortFrom(h.Addr, h.Port).String()]++
	}
	for k := range found {
		if got[k] == 0 {
			t.Errorf("%s found, neither delivered nor held", k)
		}
	}
	if len(got) != len(found) {
		t.Errorf("delivered+held %d distinct, found %d", len(got), len(found))
	}
}

// TestStopDuringSlowRate: at one packet every ten minutes, Stop ends the
// scan at once (the test would hang otherwise), after the first packet.
func TestStopDuringSlowRate(t *testing.T) {
	n := newSimNet(nil, 0, 1)
	cfg := Config{Allowed: mustSet(t, "198.18.16.0/24"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 1,
		Rate: 1.0 / 600, Output: &collect{}, Cooldown: time.Millisecond}
	cfg.link = n
	s, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.onFlush = func() { go s.Stop() }
	sum, err := s.Run(t.Context())
	if err != nil || !sum.Interrupted || sum.Sent != 1 {
		t.Fatalf("err %v interrupted %v sent %d; want a stop after the first packet", err, sum.Interrupted, sum.Sent)
	}
}

// TestMaxResultsAndResumeSeeds: MaxResults stops the scan once enough hits
// are in; a resumed scan delivers its Held hits first and never one of Seen.
func TestMaxResultsAndResumeSeeds(t *testing.T) {
	truth := labTruth(6, 200)
	cfg := Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 8, MaxResults: 30, Batch: 4}
	out, sum := runSim(t, newSimNet(truth, 0, 1), cfg)
	if !sum.Interrupted || sum.Open < 30 || sum.Probed == cfg.Allowed.Len()*4 {
		t.Fatalf("MaxResults 30: interrupted %v open %d probed %d", sum.Interrupted, sum.Open, sum.Probed)
	}
	_ = out
	seen := netip.MustParseAddrPort(truth[0])
	held := hitlist.Hit{Addr: netip.MustParseAddr("198.18.99.1"), Port: 143, Status: hitlist.Open}
	cfg2 := Config{Allowed: mustSet(t, "198.18.16.0/22"), Deny: blocklist.NewSet(), Ports: labPorts, Seed: 8,
		Held: []hitlist.Hit{held}, Seen: []netip.AddrPort{seen}}
	out2, _ := runSim(t, newSimNet(truth, 0, 1), cfg2)
	if len(out2.hits) == 0 || out2.hits[0].Addr != held.Addr {
		t.Fatalf("first hit %v, want the held one", out2.hits[:min(1, len(out2.hits))])
	}
	keys := out2.keys(hitlist.Open)
	if slices.Contains(keys, seen.String()) || len(keys) != len(truth) {
		t.Errorf("%d hits, want the %d of the truth without %s plus the held one", len(keys), len(truth)-1, seen)
	}
}
