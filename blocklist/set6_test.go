package blocklist_test

import (
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
