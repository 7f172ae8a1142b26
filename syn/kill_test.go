package syn_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailscan/blocklist"
	"mailscan/syn"
	"mailscan/syn/hitlist"
	"mailscan/syn/state"
)

// killRun is one run of a scan with a resume state, as `mailscan syn
// --resume` runs it, on the simulated network. At the killAt-th batch the
// senders flush, it copies the state file and then the hit list, as they
// stand on disk at that moment, and abandons the scan: what a kill -9
// leaves behind. The clock advances 1 ms per batch; the state's lag is 5 ms.
func killRun(t *testing.T, dir string, cfg syn.Config, truth []string, killAt int64) (killed bool) {
	t.Helper()
	hitsPath, statePath := filepath.Join(dir, "hits.csv"), filepath.Join(dir, "scan.state")
	var prior *state.State
	if st, err := state.ReadFile(statePath); err == nil {
		prior = st
	}
	if prior != nil {
		m, _ := prior.Mark(state.RoleHits)
		rc, err := state.ReadBack(hitsPath, m.Offset, true)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := state.PlanResume(prior, rc, nil, false, func(netip.AddrPort) bool { return true })
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Resume, cfg.Held, cfg.Seen = &prior.Scan, plan.Held, plan.Seen
	}
	var out *state.Output
	var err error
	if prior != nil {
		m, _ := prior.Mark(state.RoleHits)
		out, err = state.AppendOutput(hitsPath, state.RoleHits, m.Offset)
	} else {
		out, err = state.CreateOutput(hitsPath, state.RoleHits)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var opts []hitlist.WriterOption
	if out.Offset() > 0 {
		opts = append(opts, hitlist.WithoutHeader())
	}
	w, _ := hitlist.NewWriter(out, hitlist.CSV, opts...)
	var abandoned atomic.Bool
	cfg.Output = &gate{w: w, closed: &abandoned}
	n := syn.NewSimNet(truth, 1)
	syn.UseSim(&cfg, n)
	s, err := syn.New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	initial := []int64{out.Offset()}
	if prior != nil {
		m, _ := prior.Mark(state.RoleHits)
		initial[0] = m.Offset
	}
	ck := state.NewCheckpointer(state.CheckpointConfig{
		Path: statePath, Base: state.State{Command: "syn", Outputs: []state.Mark{{Role: state.RoleHits, Path: hitsPath}}},
		Files: []*state.Output{out}, Initial: initial, Resumed: prior != nil, Source: s, Lag: 5 * time.Millisecond, Now: now,
	})
	if err := ck.Write(false); err != nil {
		t.Fatal(err)
	}
	var flushes atomic.Int64
	var mu sync.Mutex
	n.OnFlush(func() {
		mu.Lock()
		defer mu.Unlock()
		if abandoned.Load() {
			return
		}
		k := flushes.Add(1)
		n.Settle() // the fake clock must not outrun the receiver
		clock.Add(int64(time.Millisecond))
		ck.Sample()
		if k%7 == 0 {
			if err := ck.Write(false); err != nil {
				t.Error(err)
			}
		}
		if k == killAt {
			copyFile(t, statePath, statePath+".killed")
			copyFile(t, hitsPath, hitsPath+".killed")
			abandoned.Store(true)
			s.Stop()
		}
	})
	if _, err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if abandoned.Load() {
		os.Rename(statePath+".killed", statePath)
		os.Rename(hitsPath+".killed", hitsPath)
		return true
	}
	if err := ck.Write(true); err != nil {
		t.Fatal(err)
	}
	return false
}

// gate is the hit list until the scan is abandoned; after, nothing more
// reaches the file (the process is dead).
type gate struct {
	w      *hitlist.Writer
	closed *atomic.Bool
}

func (g *gate) Write(h *hitlist.Hit) error {
	if g.closed.Load() {
		return nil
	}
	return g.w.Write(h)
}

func (g *gate) Flush() error {
	if g.closed.Load() {
		return nil
	}
	return g.w.Flush()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKillAndResume kills a scan at many moments, over several crashes in
// a row, and resumes it until it completes: the hit list then holds every
// open target exactly once, the CSV header once.
func TestKillAndResume(t *testing.T) {
	truth := syn.LabTruth(11, 150)
	targets, _ := blocklist.ParseEntry("198.18.16.0/22")
	cfg := syn.Config{Allowed: blocklist.NewSet(targets), Deny: blocklist.NewSet(), Ports: []uint16{110, 143, 993, 995},
		Seed: 5, Senders: 2, Batch: 16, Cooldown: time.Millisecond}
	for _, tc := range []struct {
		kills   []int64
		control bool
	}{
		{kills: []int64{1}}, {kills: []int64{2}}, {kills: []int64{7}}, {kills: []int64{8}}, {kills: []int64{30, 3}},
		{kills: []int64{60, 60, 60}}, {kills: []int64{100, 5, 1, 40}}, {kills: []int64{250}},
		// With control probes, hits wait in the holder: held in the state.
		{kills: []int64{45, 90}, control: true},
	} {
		kills := tc.kills
		cfg := cfg
		cfg.ControlProbes = tc.control
		t.Run(fmt.Sprint(kills, tc.control), func(t *testing.T) {
			dir := t.TempDir()
			for _, k := range kills {
				if !killRun(t, dir, cfg, truth, k) {
					t.Fatalf("the scan ended before the kill at batch %d", k)
				}
			}
			if killRun(t, dir, cfg, truth, 1<<40) {
				t.Fatal("the last run was killed")
			}
			b, err := os.ReadFile(filepath.Join(dir, "hits.csv"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if lines[0] != "ip,port,status,ttl,window,time" {
				t.Fatalf("first line %q", lines[0])
			}
			var got []string
			for _, l := range lines[1:] {
				f := strings.Split(l, ",")
				if len(f) != 6 || f[2] != "open" {
					t.Fatalf("bad line %q", l)
				}
				got = append(got, f[0]+":"+f[1])
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(truth))
			if !slices.Equal(got, want) {
				t.Errorf("hit list: %d lines for %d open targets (%s)", len(got), len(want), diffKeys(got, want))
			}
		})
	}
}

// TestKillAndResumeMixed is TestKillAndResume for a scan of IPv4 ranges
// and an IPv6 prefix with a list of single IPv6 hosts: held and pending
// IPv6 hits and the marks survive the crashes, and the hit list ends with
// every open target of both families exactly once.
func TestKillAndResumeMixed(t *testing.T) {
	listed := []string{"2001:db8:25::1", "2001:db8:25::7"}
	truth := append(syn.LabTruth(12, 100), syn.LabTruth6(12, 100)...)
	var rs6 []blocklist.Range6
	for _, e := range append([]string{"2001:db8:16::/118"}, listed...) {
		r, err := blocklist.ParseEntry6(e)
		if err != nil {
			t.Fatal(err)
		}
		rs6 = append(rs6, r)
	}
	for _, a := range listed {
		truth = append(truth, "["+a+"]:143", "["+a+"]:993")
	}
	targets, _ := blocklist.ParseEntry("198.18.16.0/22")
	cfg := syn.Config{Allowed: blocklist.NewSet(targets), Allowed6: blocklist.NewSet6(rs6...), Deny: blocklist.NewSet(), Deny6: blocklist.NewSet6(),
		Ports: []uint16{110, 143, 993, 995}, Seed: 6, Senders: 2, Batch: 16, Cooldown: time.Millisecond}
	for _, tc := range []struct {
		kills   []int64
		control bool
	}{
		{kills: []int64{3}}, {kills: []int64{60, 7, 120}}, {kills: []int64{200, 200}},
		{kills: []int64{45, 150}, control: true},
	} {
		cfg := cfg
		cfg.ControlProbes = tc.control
		t.Run(fmt.Sprint(tc.kills, tc.control), func(t *testing.T) {
			dir := t.TempDir()
			for _, k := range tc.kills {
				if !killRun(t, dir, cfg, truth, k) {
					t.Fatalf("the scan ended before the kill at batch %d", k)
				}
			}
			if killRun(t, dir, cfg, truth, 1<<40) {
				t.Fatal("the last run was killed")
			}
			b, err := os.ReadFile(filepath.Join(dir, "hits.csv"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if lines[0] != "ip,port,status,ttl,window,time" {
				t.Fatalf("first line %q", lines[0])
			}
			var got []string
			v6 := 0
			for _, l := range lines[1:] {
				f := strings.Split(l, ",")
				if len(f) != 6 || f[2] != "open" {
					t.Fatalf("bad line %q", l)
				}
				a := netip.MustParseAddr(f[0])
				got = append(got, netip.AddrPortFrom(a, uint16(mustAtoi(t, f[1]))).String())
				if a.Is6() {
					v6++
				}
			}
			slices.Sort(got)
			want := make([]string, len(truth))
			for i, k := range truth {
				want[i] = netip.MustParseAddrPort(k).String()
			}
			slices.Sort(want)
			if !slices.Equal(got, want) || v6 == 0 {
				t.Errorf("hit list: %d lines (%d IPv6) for %d open targets (%s)", len(got), v6, len(want), diffKeys(got, want))
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func diffKeys(got, want []string) string {
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	var dup, missing []string
	for k, n := range count {
		if n > 1 {
			dup = append(dup, k)
		}
	}
	for _, k := range want {
		if count[k] == 0 {
			missing = append(missing, k)
		}
	}
	return fmt.Sprintf("duplicated %v, missing %v", dup, missing)
}
