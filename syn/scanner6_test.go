package syn

import (
	"math/rand/v2"
	"net/netip"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"mailscan/blocklist"
	"mailscan/syn/frame"
	"mailscan/syn/hitlist"
)

// labTruth6 is labTruth for IPv6: random open pairs in 2001:db8:16::/118
// on the four ports, from seed.
func labTruth6(seed uint64, hosts int) []string {
	rng := rand.New(rand.NewPCG(seed, 6))
	base := blocklist.Addr6From(netip.MustParseAddr("2001:db8:16::"))
	seen := map[netip.Addr]bool{}
	var out []string
	for len(seen) < hosts {
		a := blocklist.Addr6{Hi: base.Hi, Lo: base.Lo + uint64(rng.IntN(1024))}.Addr()
		if seen[a] {
			continue
		}
		seen[a] = true
		mask := 1 + rng.IntN(15)
		for i, p := range labPorts {
			if mask&(1<<i) != 0 {
				out = append(out, netip.AddrPortFrom(a, p).String())
			}
		}
	}
	sort.Strings(out)
	return out
}

func mustSet6(t testing.TB, entries ...string) *blocklist.Set6 {
	t.Helper()
	var rs []blocklist.Range6
	for _, e := range entries {
		r, err := blocklist.ParseEntry6(e)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return blocklist.NewSet6(rs...)
}

// filterOut6 removes the pairs whose address either blocklist holds.
func filterOut6(keys []string, deny *blocklist.Set, deny6 *blocklist.Set6) []string {
	var out []string
	for _, k := range keys {
		a := netip.MustParseAddrPort(k).Addr()
		if !deny.ContainsAddr(a) && !deny6.Contains(a) {
			out = append(out, k)
		}
	}
	return out
}

func sorted(a ...[]string) []string {
	var out []string
	for _, s := range a {
		out = append(out, s...)
	}
	sort.Strings(out)
	return out
}

// mixedConfig is a scan of 198.18.16.0/22 and of 2001:db8:16::/118 plus a
// list of single IPv6 hosts elsewhere, minus an IPv4 and an IPv6 blocklist.
func mixedConfig(t testing.TB) (cfg Config, listed []string) {
	deny := mustSet(t, "198.18.17.0/24", "198.18.18.77")
	deny6 := mustSet6(t, "2001:db8:16::100/120", "2001:db8:16::3a7")
	listed = []string{"2001:db8:25::1", "2001:db8:25::7", "2001:db8:ffff::2525"}
	allowed6 := mustSet6(t, append([]string{"2001:db8:16::/118"}, listed...)...).Subtract(deny6)
	return Config{Allowed: mustSet(t, "198.18.16.0/22").Subtract(deny), Allowed6: allowed6, Deny: deny, Deny6: deny6, Ports: labPorts}, listed
}

// mixedTruth is the open pairs of both families, the listed hosts each with
// 143 and 993 open.
func mixedTruth(seed uint64, listed []string) []string {
	truth := sorted(labTruth(seed, 150), labTruth6(seed, 150))
	for _, a := range listed {
		truth = append(truth, "["+a+"]:143", "["+a+"]:993")
	}
	sort.Strings(truth)
	return truth
}

// TestScanMixedFindsExactlyTheTruth: a scan of IPv4 ranges and an IPv6
// list finds every open pair of both families outside the blocklists and
// nothing else, probes every allowed target exactly once and none that is
// denied, whatever the number of senders.
func TestScanMixedFindsExactlyTheTruth(t *testing.T) {
	base, listed := mixedConfig(t)
	truth := mixedTruth(1, listed)
	for _, senders := range []int{1, 2, 3} {
		n := newSimNet(truth, 0, 1)
		cfg := base
		cfg.Seed, cfg.Senders = 42, senders
		out, sum := runSim(t, n, cfg)
		want := filterOut6(truth, cfg.Deny, cfg.Deny6)
		if got := out.keys(hitlist.Open); !equalStrings(got, want) {
			t.Errorf("senders=%d: hits differ from truth:\n got %d\nwant %d", senders, len(got), len(want))
		}
		var v6 int
		for k, c := range n.probes {
			a := netip.MustParseAddrPort(k).Addr()
			if cfg.Deny.ContainsAddr(a) || cfg.Deny6.Contains(a) {
				t.Errorf("probe to blocklisted %s", k)
			}
			if c != 1 {
				t.Errorf("%s probed %d times", k, c)
			}
			if a.Is6() {
				v6++
			}
		}
		want4, want6 := int(cfg.Allowed.Len())*len(labPorts), int(cfg.Allowed6.Len())*len(labPorts)
		if v6 != want6 || len(n.probes)-v6 != want4 || sum.Probed != uint64(want4+want6) || sum.Targets != uint64(want4+want6) {
			t.Errorf("senders=%d: %d IPv4 and %d IPv6 targets probed, summary %d; want %d and %d", senders, len(n.probes)-v6, v6, sum.Probed, want4, want6)
		}
		if sum.Open != uint64(len(want)) || sum.Blocked != 0 || sum.Invalid != 0 || !sum.Complete {
			t.Errorf("summary %+v", sum)
		}
	}
}

// TestScanIPv6Only: without an IPv4 target the scan needs no IPv4 source,
// and its receiver listens for IPv6 only.
func TestScanIPv6Only(t *testing.T) {
	truth := labTruth6(3, 40)
	n := newSimNet(truth, 0, 1)
	out, sum := runSim(t, n, Config{Allowed6: mustSet6(t, "2001:db8:16::/118"), Deny: blocklist.NewSet(), Deny6: blocklist.NewSet6(),
		Ports: labPorts, Seed: 3, ReportClosed: true})
	if !equalStrings(out.keys(hitlist.Open), truth) || sum.Probed != 1024*4 {
		t.Errorf("open %d (want %d), probed %d", len(out.keys(hitlist.Open)), len(truth), sum.Probed)
	}
	var want []string
	open := map[string]bool{}
	for _, k := range truth {
		open[k] = true
	}
	for a := range n.up {
		for _, p := range labPorts {
			if k := netip.AddrPortFrom(a, p).String(); !open[k] {
				want = append(want, k)
			}
		}
	}
	sort.Strings(want)
	if got := out.keys(hitlist.Closed); !equalStrings(got, want) {
		t.Errorf("closed: got %d, want %d", len(got), len(want))
	}
	if _, err := New(&Config{Allowed6: mustSet6(t, "2001:db8:16::/118"), Deny: blocklist.NewSet(), Ports: labPorts, Output: &collect{}, link: n}); err == nil {
		t.Error("IPv6 targets without Deny6 were accepted")
	}
}

// TestLastMomentBlocklistCheck6: even when the allowed IPv6 set wrongly
// holds denied addresses, no frame reaches them.
func TestLastMomentBlocklistCheck6(t *testing.T) {
	n := newSimNet(nil, 0, 1)
	deny6 := mustSet6(t, "2001:db8:16::8/125")
	_, sum := runSim(t, n, Config{
		Allowed: mustSet(t, "198.18.16.0/30"), Allowed6: mustSet6(t, "2001:db8:16::/123"), // wrongly holds the /125
		Deny: blocklist.NewSet(), Deny6: deny6, Ports: []uint16{143}, Seed: 1,
	})
	for k := range n.probes {
		if deny6.Contains(netip.MustParseAddrPort(k).Addr()) {
			t.Errorf("probe to blocklisted %s", k)
		}
	}
	if sum.Blocked != 8 || len(n.probes) != 4+24 {
		t.Errorf("blocked %d, probes %d; want 8 and 28", sum.Blocked, len(n.probes))
	}
}

// TestShardsUnionIsWholeMixed: shards of a mixed scan are disjoint and add
// up to the whole scan, in both families.
func TestShardsUnionIsWholeMixed(t *testing.T) {
	base, listed := mixedConfig(t)
	truth := mixedTruth(2, listed)
	cfg := base
	cfg.Seed = 7
	whole, _ := runSim(t, newSimNet(truth, 0, 1), cfg)
	all := int(cfg.Allowed.Len()+cfg.Allowed6.Len()) * len(labPorts)
	for _, k := range []uint64{2, 3} {
		seen := map[string]uint64{}
		var union []string
		for i := range k {
			n := newSimNet(truth, 0, 1)
			c := cfg
			c.Shard, c.Shards, c.Senders = i, k, int(i)+1
			out, _ := runSim(t, n, c)
			for p := range n.probes {
				if j, dup := seen[p]; dup {
					t.Errorf("K=%d: %s probed by shards %d and %d", k, p, j, i)
				}
				seen[p] = i
			}
			union = append(union, out.keys(hitlist.Open)...)
		}
		sort.Strings(union)
		if !equalStrings(union, whole.keys(hitlist.Open)) || !equalStrings(union, filterOut6(truth, cfg.Deny, cfg.Deny6)) {
			t.Errorf("K=%d: union of shards has %d hits, whole scan %d", k, len(union), len(whole.keys(hitlist.Open)))
		}
		if len(seen) != all {
			t.Errorf("K=%d: shards probed %d targets, want %d", k, len(seen), all)
		}
	}
}

// TestForgedRepliesRejected6: IPv6 replies with a wrong acknowledgment, a
// wrong port, from another address or to another of our addresses are
// invalid; a correctly forged reply (the positive control) is taken.
func TestForgedRepliesRejected6(t *testing.T) {
	n := newSimNet(nil, 0, 1)
	control := netip.MustParseAddrPort("[2001:db8:16::c8]:143").String()
	n.inject = func(p probe) [][]byte {
		if !p.v6 || p.dport != 143 {
			return nil
		}
		if netip.AddrPortFrom(p.daddr6, p.dport).String() == control {
			return [][]byte{reply(p, p.seq+1, true)}
		}
		wrongPort, otherSrc, otherDst := p, p, p
		wrongPort.sport ^= 1
		otherSrc.daddr6 = p.daddr6.Next() // a neighbour answering for it
		otherDst.saddr6 = simSrc6.Next()  // to an address not ours
		return [][]byte{
			reply(p, p.seq+2, true), reply(p, p.seq, true), reply(p, p.seq+1+1<<16, false),
			reply(wrongPort, p.seq+1, true), reply(otherSrc, p.seq+1, true), reply(otherDst, p.seq+1, true),
		}
	}
	out, sum := runSim(t, n, Config{Allowed6: mustSet6(t, "2001:db8:16::/120"), Deny: blocklist.NewSet(), Deny6: blocklist.NewSet6(),
		Ports: []uint16{110, 143}, Seed: 9, ReportClosed: true})
	if got := append(out.keys(hitlist.Open), out.keys(hitlist.Closed)...); len(got) != 1 || got[0] != control {
		t.Errorf("hits %v, want only the control %s", got, control)
	}
	if sum.Invalid != 255*6 {
		t.Errorf("invalid %d, want %d", sum.Invalid, 255*6)
	}
}

// TestControlProbes6: IPv6 hosts that answer on every port are marked, with
// one control probe per responsive host of either family.
func TestControlProbes6(t *testing.T) {
	truth := sorted(labTruth(6, 30), labTruth6(6, 30))
	n := newSimNet(truth, 0, 1)
	// 2001:db8:16::3f0-3f7 answer on every port.
	first := blocklist.Addr6From(netip.MustParseAddr("2001:db8:16::3f0"))
	for i := range uint64(8) {
		n.all[blocklist.Addr6{Hi: first.Hi, Lo: first.Lo + i}.Addr()] = true
	}
	out, sum := runSim(t, n, Config{Allowed: mustSet(t, "198.18.16.0/22"), Allowed6: mustSet6(t, "2001:db8:16::/118"),
		Deny: blocklist.NewSet(), Deny6: blocklist.NewSet6(), Ports: labPorts, Seed: 8, ControlProbes: true, Cooldown: 10 * time.Millisecond})
	var plain []string
	flagged := 0
	for _, h := range out.hits {
		if h.AnswersAllPorts != n.all[h.Addr] {
			t.Errorf("%v:%d: answers_all_ports %v", h.Addr, h.Port, h.AnswersAllPorts)
		}
		if h.AnswersAllPorts {
			flagged++
		} else {
			plain = append(plain, netip.AddrPortFrom(h.Addr, h.Port).String())
		}
	}
	sort.Strings(plain)
	if !equalStrings(plain, truth) || flagged != len(n.all)*4 {
		t.Errorf("unflagged hits %d (want %d), flagged %d (want %d)", len(plain), len(truth), flagged, len(n.all)*4)
	}
	hosts := map[netip.Addr]bool{}
	for a := range n.up {
		hosts[a] = true
	}
	for a := range n.all {
		hosts[a] = true
	}
	if sum.ControlProbes != uint64(len(hosts)) || sum.AnswersAllPorts != uint64(len(n.all)) {
		t.Errorf("control probes %d (want %d), answers all ports %d (want %d)", sum.ControlProbes, len(hosts), sum.AnswersAllPorts, len(n.all))
	}
	for k, c := range n.probes {
		if ap := netip.MustParseAddrPort(k); ap.Port() >= controlPortFirst && c != 1 {
			t.Errorf("control port %s probed %d times", k, c)
		}
	}
}

// TestResumeMixed: a mixed scan stopped half way and resumed probes every
// target of both families exactly once over both runs.
func TestResumeMixed(t *testing.T) {
	base, listed := mixedConfig(t)
	truth := mixedTruth(5, listed)
	cfg := base
	cfg.Seed, cfg.Senders, cfg.Batch = 99, 2, 16
	n1 := newSimNet(truth, 0, 1)
	var s1 *Scanner
	var flushes atomic.Int64
	n1.onFlush = func() {
		if flushes.Add(1) == 150 {
			s1.Stop()
		}
	}
	c1 := cfg
	out1 := &collect{}
	c1.Output, c1.link, c1.Cooldown = out1, n1, 20*time.Millisecond
	var err error
	if s1, err = New(&c1); err != nil {
		t.Fatal(err)
	}
	if sum, err := s1.Run(t.Context()); err != nil || !sum.Interrupted || sum.Complete {
		t.Fatalf("first run: %v, %+v", err, sum)
	}
	c2 := cfg
	c2.Resume = s1.ResumeState()
	n2 := newSimNet(truth, 0, 1)
	out2, sum2 := runSim(t, n2, c2)
	if !sum2.Complete {
		t.Error("second run incomplete")
	}
	all := map[string]int{}
	for k, c := range n1.probes {
		all[k] += c
	}
	for k, c := range n2.probes {
		all[k] += c
	}
	if want := int(cfg.Allowed.Len()+cfg.Allowed6.Len()) * 4; len(all) != want {
		t.Errorf("%d targets probed over both runs, want %d", len(all), want)
	}
	for k, c := range all {
		if c != 1 {
			t.Errorf("%s probed %d times over both runs", k, c)
		}
	}
	if hits := sorted(out1.keys(hitlist.Open), out2.keys(hitlist.Open)); !equalStrings(hits, filterOut6(truth, cfg.Deny, cfg.Deny6)) {
		t.Errorf("hits over both runs: %d", len(hits))
	}
	// The IPv6 targets are part of what a resume state must fit.
	c3 := cfg
	c3.Allowed6 = c3.Allowed6.Subtract(mustSet6(t, "2001:db8:25::1"))
	c3.Resume, c3.Output, c3.link = c2.Resume, &collect{}, newSimNet(nil, 0, 1)
	if _, err := New(&c3); err == nil {
		t.Error("resume state accepted for a scan with other IPv6 targets")
	}
}

// TestConfigHashIPv4Unchanged pins the hash of an IPv4 scan, as the code
// before IPv6 targets computed it (checked against that code): resume
// files written then still fit.
func TestConfigHashIPv4Unchanged(t *testing.T) {
	cfg := Config{Allowed: mustSet(t, "198.18.16.0/22"), Ports: labPorts, Seed: 5}
	if got, want := ConfigHash(&cfg), "2efe14bae8881bb13957c895751713d9"; got != want {
		t.Errorf("ConfigHash = %s, want %s", got, want)
	}
	cfg.Allowed6 = blocklist.NewSet6()
	if got, want := ConfigHash(&cfg), "2efe14bae8881bb13957c895751713d9"; got != want {
		t.Errorf("with an empty IPv6 set: ConfigHash = %s, want %s", got, want)
	}
}

// BenchmarkProbePath6 is BenchmarkProbePath over IPv6 targets: index →
// address, the last-moment IPv6 blocklist check (the reserved registry and
// a user list), the cookie over 16-byte addresses and the 74-byte frame.
func BenchmarkProbePath6(b *testing.B) {
	n := newSimNet(nil, 0, 1)
	deny6 := blocklist.Reserved6().Subtract(mustSet6(b, "2001:db8::/32")).Union(mustSet6(b, "2001:db8:16::400/120", "2a00::/16"))
	s, err := New(&Config{Allowed6: mustSet6(b, "2001:db8:16::/116").Subtract(deny6), Deny: blocklist.NewSet(), Deny6: deny6,
		Ports: labPorts, Output: &collect{}, link: n})
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
		daddr, dport := s.space.At6(idx)
		if s.cfg.Deny6.ContainsAddr6(daddr) {
			continue
		}
		sport, seq := s.cookie.Probe6(s.src6.Hi, s.src6.Lo, daddr.Hi, daddr.Lo, dport)
		s.tmpl6.Write(buf[:], daddr.Hi, daddr.Lo, dport, sport, seq, seq)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkReplyPath6 is BenchmarkReplyPath for an IPv6 SYN-ACK.
func BenchmarkReplyPath6(b *testing.B) {
	n := newSimNet(nil, 0, 1)
	s, err := New(&Config{Allowed6: mustSet6(b, "2001:db8:16::/116"), Deny: blocklist.NewSet(), Deny6: blocklist.NewSet6(),
		Ports: labPorts, Output: &collect{}, link: n})
	if err != nil {
		b.Fatal(err)
	}
	daddr := netip.MustParseAddr("2001:db8:16::5")
	d := blocklist.Addr6From(daddr)
	sport, seq := s.cookie.Probe6(s.src6.Hi, s.src6.Lo, d.Hi, d.Lo, 143)
	frameBytes := reply(probe{v6: true, daddr6: daddr, saddr6: simSrc6, dport: 143, sport: sport, seq: seq}, seq+1, true)
	dd := newDedup6()
	var r frame.Reply
	b.ReportAllocs()
	for b.Loop() {
		if !frame.ParseReply(frameBytes, &r) || blocklist.Addr6FromBytes(r.DstAddr6) != s.src6 {
			b.Fatal("reply rejected")
		}
		peer := blocklist.Addr6FromBytes(r.SrcAddr6)
		if !s.cookie.Check6(s.src6.Hi, s.src6.Lo, peer.Hi, peer.Lo, r.SrcPort, r.DstPort, r.Ack) {
			b.Fatal("reply rejected")
		}
		dd.add(peer, r.SrcPort)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}
