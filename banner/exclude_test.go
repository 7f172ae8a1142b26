package banner

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"mailscan/blocklist"
)

// TestExcludedNeverDialled: whatever reaches the pool or Scan, an address
// the policy denies gets StatusExcluded with the reason, and the dialer is
// never called for it, while allowed targets in the same stream are grabbed.
func TestExcludedNeverDialled(t *testing.T) {
	var mu sync.Mutex
	dialled := map[string]bool{}
	m := &memNet{serve: greeter(nil)}
	cfg := testConfig(m)
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialled[addr] = true
		mu.Unlock()
		return m.Dial(ctx, network, addr)
	}
	user, err := blocklist.ParseList(strings.NewReader("198.18.64.128/25\n2001:db8:bad::/48\n"), "optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	allow, _ := blocklist.ParseAllowReserved([]string{"198.18.0.0/15", "2001:db8::/32"})
	cfg.Policy = blocklist.NewPolicy([]*blocklist.List{user}, allow)
	s, err := NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{
		"198.18.64.5:143":            StatusSuccess,
		"198.18.64.200:143":          StatusExcluded, // the user's list
		"[::ffff:198.18.64.201]:110": StatusExcluded, // the same, IPv4-mapped
		"10.0.0.1:25":                StatusExcluded, // reserved, not opened
		"127.0.0.1:143":              StatusExcluded,
		"[::1]:143":                  StatusExcluded,
		"[2001:db8:bad::1]:143":      StatusExcluded,
		"[2001:db8:1::1]:143":        StatusSuccess,
	}
	in := make(chan Target, len(want))
	for ap := range want {
		a := netip.MustParseAddrPort(ap)
		in <- Target{Addr: a.Addr(), Port: a.Port()}
	}
	close(in)
	var stats Stats
	got := map[string]*Result{}
	if err := Run(context.Background(), s, PoolConfig{Concurrency: 4, Stats: &stats}, in, func(r *Result) {
		got[netip.AddrPortFrom(r.IP, r.Port).String()] = r
	}); err != nil {
		t.Fatal(err)
	}
	m.wait()
	for ap, st := range want {
		r := got[ap]
		if r == nil {
			t.Errorf("%s: no result", ap)
			continue
		}
		if r.Status != st {
			t.Errorf("%s: status %q, want %q (%s)", ap, r.Status, st, r.Error)
		}
		if st == StatusExcluded {
			if dialled[ap] {
				t.Errorf("%s: excluded, yet dialled", ap)
			}
			if !strings.Contains(r.Error, "not contacted: ") {
				t.Errorf("%s: error %q does not say why", ap, r.Error)
			}
		}
	}
	if r := got["198.18.64.200:143"]; r != nil && !strings.HasSuffix(r.Error, "blocklist optout.txt") {
		t.Errorf("reason %q does not name the blocklist", r.Error)
	}
	if n := stats.Snapshot().ByStatus[StatusExcluded]; n != 6 {
		t.Errorf("stats count %d excluded, want 6", n)
	}
	// Scan itself checks too, with the default policy when none is given.
	cfg.Policy = nil
	s, _ = NewScanner(cfg)
	if r := s.Scan(context.Background(), Target{Addr: testAddr, Port: 143}); r.Status != StatusExcluded || dialled[netip.AddrPortFrom(testAddr, 143).String()] {
		t.Errorf("default policy: %s status %q (%s)", testAddr, r.Status, r.Error)
	}
}
