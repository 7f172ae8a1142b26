package blocklist_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"mailscan/blocklist"
)

// universe6 is a small window of IPv6 addresses around base, where a set
// can be checked address by address against a []bool oracle. Bases sit on
// the carries of the 128-bit arithmetic: the 64-bit boundary and the ends.
type universe6 struct {
	base netip.Addr
	n    int
}

func (u universe6) at(i int) netip.Addr {
	a := u.base
	for range i {
		a = a.Next()
	}
	return a
}

func (u universe6) randomSet(rng *rand.Rand) (*blocklist.Set6, []bool) {
	want := make([]bool, u.n)
	var rs []blocklist.Range6
	for range rng.IntN(5) {
		i, j := rng.IntN(u.n), rng.IntN(u.n)
		if i > j && rng.IntN(4) > 0 {
			i, j = j, i // mostly well-formed; a reversed range must be ignored
		}
		rs = append(rs, blocklist.Range6{First: u.at(i), Last: u.at(j)})
		for k := i; k <= j; k++ {
			want[k] = true
		}
	}
	return blocklist.NewSet6(rs...), want
}

func (u universe6) check(t *testing.T, what string, s *blocklist.Set6, want []bool) {
	t.Helper()
	for i := range u.n {
		if got := s.Contains(u.at(i)); got != want[i] {
			t.Fatalf("%s: Contains(%v) = %v, want %v (set %v)", what, u.at(i), got, want[i], s)
		}
	}
	if below := u.base.Prev(); below.IsValid() && s.Contains(below) {
		t.Fatalf("%s: holds %v, below the window", what, below)
	}
	rs := s.Ranges()
	for i := 1; i < len(rs); i++ {
		if !rs[i-1].Last.Next().Less(rs[i].First) {
			t.Fatalf("%s: ranges %v and %v overlap or touch", what, rs[i-1], rs[i])
		}
	}
}

func TestSet6AlgebraOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, base := range []string{"2001:db8::", "2001:db8:0:0:ffff:ffff:ffff:fff0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffe0"} {
		u := universe6{base: netip.MustParseAddr(base), n: 32}
		for range 300 {
			a, wa := u.randomSet(rng)
			b, wb := u.randomSet(rng)
			u.check(t, "a", a, wa)
			union, sub, inter := make([]bool, u.n), make([]bool, u.n), make([]bool, u.n)
			for i := range u.n {
				union[i], sub[i], inter[i] = wa[i] || wb[i], wa[i] && !wb[i], wa[i] && wb[i]
			}
			u.check(t, "union", a.Union(b), union)
			u.check(t, "subtract", a.Subtract(b), sub)
			u.check(t, "intersect", a.Intersect(b), inter)
		}
	}
}

func TestSet6IgnoresIPv4(t *testing.T) {
	all := blocklist.NewSet6(blocklist.RangeFromPrefix6(netip.MustParsePrefix("::/0")))
	for _, a := range []string{"198.18.0.1", "::ffff:198.18.0.1"} {
		if all.Contains(netip.MustParseAddr(a)) {
			t.Errorf("::/0 Contains(%s): IPv4 addresses belong to Set", a)
		}
	}
	if !all.Contains(netip.MustParseAddr("2001:db8::1")) {
		t.Error("::/0 does not contain 2001:db8::1")
	}
	if got := all.Ranges()[0].String(); got != "::/0" {
		t.Errorf("String = %q, want ::/0", got)
	}
	r := blocklist.Range6{First: netip.MustParseAddr("2001:db8::1"), Last: netip.MustParseAddr("2001:db8::9")}
	if got := r.String(); got != "2001:db8::1-2001:db8::9" {
		t.Errorf("String = %q", got)
	}
}

func TestSet6ContainsAllocs(t *testing.T) {
	s := blocklist.Reserved6()
	a := netip.MustParseAddr("2a00:1450::1")
	if n := testing.AllocsPerRun(100, func() { s.Contains(a) }); n != 0 {
		t.Errorf("Contains allocates %v times", n)
	}
}

// TestSet6Rank checks At and IndexOf against the window's oracle: rank i is
// the i-th member in ascending order, across the 64-bit carry and the ends
// of the address space.
func TestSet6Rank(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	for _, base := range []string{"2001:db8::", "2001:db8:0:0:ffff:ffff:ffff:fff0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffe0"} {
		u := universe6{base: netip.MustParseAddr(base), n: 32}
		for range 200 {
			s, want := u.randomSet(rng)
			var members []netip.Addr
			for i, in := range want {
				if in {
					members = append(members, u.at(i))
				}
			}
			if s.Len() != uint64(len(members)) {
				t.Fatalf("set %v: Len %d, want %d", s, s.Len(), len(members))
			}
			for i, a := range members {
				if got := s.At(uint64(i)); got != a {
					t.Fatalf("set %v: At(%d) = %v, want %v", s, i, got, a)
				}
				if got := s.AtAddr6(uint64(i)); got.Addr() != a || got != blocklist.Addr6From(a) {
					t.Fatalf("set %v: AtAddr6(%d) = %v, want %v", s, i, got, a)
				}
				if k, ok := s.IndexOf(a); !ok || k != uint64(i) {
					t.Fatalf("set %v: IndexOf(%v) = %d, %v, want %d", s, a, k, ok, i)
				}
			}
			for i, in := range want {
				if _, ok := s.IndexOf(u.at(i)); ok != in {
					t.Fatalf("set %v: IndexOf(%v) ok = %v, want %v", s, u.at(i), ok, in)
				}
				if got := s.ContainsAddr6(blocklist.Addr6From(u.at(i))); got != in {
					t.Fatalf("set %v: ContainsAddr6(%v) = %v, want %v", s, u.at(i), got, in)
				}
			}
		}
	}
}

// TestSet6LenSaturates: a /64 and larger hold 2^64 addresses or more, which
// Len reports as math.MaxUint64 (and nothing is ranked); a /65 is exact.
func TestSet6LenSaturates(t *testing.T) {
	for _, tc := range []struct {
		prefixes []string
		want     uint64
	}{
		{[]string{"2001:db8::/65"}, 1 << 63},
		{[]string{"2001:db8::/65", "2001:db8:1::/65"}, math.MaxUint64}, // 2^64 exactly
		{[]string{"2001:db8::/64"}, math.MaxUint64},
		{[]string{"::/0"}, math.MaxUint64},
		{[]string{"2001:db8::/112", "2001:db8::1:0/112"}, 1 << 17},
		{[]string{"2001:db8::1/128"}, 1},
	} {
		var rs []blocklist.Range6
		for _, p := range tc.prefixes {
			rs = append(rs, blocklist.RangeFromPrefix6(netip.MustParsePrefix(p)))
		}
		s := blocklist.NewSet6(rs...)
		if got := s.Len(); got != tc.want {
			t.Errorf("%v: Len %d, want %d", tc.prefixes, got, tc.want)
		}
		if tc.want == math.MaxUint64 {
			if _, ok := s.IndexOf(rs[0].First); ok {
				t.Errorf("%v: IndexOf ranks a set too large to rank", tc.prefixes)
			}
		}
	}
	// Rank across two /65s that fit: the first of the second half.
	s := blocklist.NewSet6(blocklist.RangeFromPrefix6(netip.MustParsePrefix("2001:db8::/66")),
		blocklist.RangeFromPrefix6(netip.MustParsePrefix("2001:db8:1::/66")))
	if got, want := s.At(1<<62), netip.MustParseAddr("2001:db8:1::"); got != want {
		t.Errorf("At(2^62) = %v, want %v", got, want)
	}
	if got, want := s.At(1<<62-1), netip.MustParseAddr("2001:db8::3fff:ffff:ffff:ffff"); got != want {
		t.Errorf("At(2^62-1) = %v, want %v", got, want)
	}
}

func TestSet6RankAllocs(t *testing.T) {
	s := blocklist.NewSet6(blocklist.RangeFromPrefix6(netip.MustParsePrefix("2001:db8::/112")),
		blocklist.RangeFromPrefix6(netip.MustParsePrefix("2001:db8:1::/120")))
	a := netip.MustParseAddr("2001:db8:1::7")
	if n := testing.AllocsPerRun(100, func() { s.At(65540); s.AtAddr6(65541); s.IndexOf(a); s.ContainsAddr6(blocklist.Addr6{Hi: 1}) }); n != 0 {
		t.Errorf("At and IndexOf allocate %v times", n)
	}
}

func TestSet6Equal(t *testing.T) {
	a := blocklist.NewSet6(blocklist.RangeFromPrefix6(netip.MustParsePrefix("2001:db8::/127")))
	b := blocklist.NewSet6(blocklist.Range6{First: netip.MustParseAddr("2001:db8::"), Last: netip.MustParseAddr("2001:db8::")},
		blocklist.Range6{First: netip.MustParseAddr("2001:db8::1"), Last: netip.MustParseAddr("2001:db8::1")})
	if !a.Equal(b) || a.Equal(nil) || !(*blocklist.Set6)(nil).Equal(blocklist.NewSet6()) {
		t.Error("Equal disagrees with the sets' contents")
	}
}

// BenchmarkContains6 is the scanner's last-moment check of an IPv6
// destination against the effective IPv6 blocklist (the reserved registry
// and a user list of n prefixes), half of them hits.
func BenchmarkContains6(b *testing.B) {
	for _, n := range []int{16, 600} {
		rng := rand.New(rand.NewPCG(5, uint64(n)))
		rs := []blocklist.Range6{}
		for range n {
			var a [16]byte
			a[0], a[1] = 0x2a, byte(rng.IntN(256))
			for i := 2; i < 8; i++ {
				a[i] = byte(rng.IntN(256))
			}
			rs = append(rs, blocklist.RangeFromPrefix6(netip.PrefixFrom(netip.AddrFrom16(a), 48)))
		}
		s := blocklist.Reserved6().Union(blocklist.NewSet6(rs...))
		addrs := make([]blocklist.Addr6, 4096)
		for i := range addrs {
			if i%2 == 0 {
				r := rs[rng.IntN(len(rs))]
				addrs[i] = blocklist.Addr6From(r.First.Next())
			} else {
				addrs[i] = blocklist.Addr6{Hi: 0x2a<<56 | rng.Uint64()>>8, Lo: rng.Uint64()}
			}
		}
		b.Run(fmt.Sprintf("ranges=%d", len(s.Ranges())), func(b *testing.B) {
			b.ReportAllocs()
			var hit bool
			for i := 0; b.Loop(); i++ {
				hit = s.ContainsAddr6(addrs[i&4095]) != hit
			}
			sinkBool6 = hit
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}

var sinkBool6 bool

func BenchmarkAt6(b *testing.B) {
	var rs []blocklist.Range6
	for i := range 600 {
		var a [16]byte
		a[0], a[1], a[2], a[3], a[4], a[5] = 0x20, 0x01, 0x0d, 0xb8, byte(i>>8), byte(i)
		rs = append(rs, blocklist.RangeFromPrefix6(netip.PrefixFrom(netip.AddrFrom16(a), 116)))
	}
	s := blocklist.NewSet6(rs...)
	b.ReportAllocs()
	var last blocklist.Addr6
	for i := uint64(0); b.Loop(); i++ {
		last = s.AtAddr6((i * 0x9e3779b97f4a7c15) % s.Len())
	}
	sinkBool6 = last.Lo == 0
}
