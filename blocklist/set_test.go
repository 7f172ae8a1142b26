package blocklist_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"mailscan/blocklist"
)

// checkInvariants asserts what every Set promises: ranges sorted, disjoint,
// non-adjacent, non-empty, and Len their total.
func checkInvariants(t testing.TB, s *blocklist.Set) {
	t.Helper()
	var n uint64
	rs := s.Ranges()
	for i, r := range rs {
		if r.First > r.Last {
			t.Fatalf("range %d %v is empty", i, r)
		}
		if i > 0 && uint64(r.First) <= uint64(rs[i-1].Last)+1 {
			t.Fatalf("ranges %d %v and %d %v overlap or touch", i-1, rs[i-1], i, r)
		}
		n += r.Len()
	}
	if s.Len() != n {
		t.Fatalf("Len() = %d, ranges hold %d", s.Len(), n)
	}
}

// universe is a small window of the address space for brute-force oracles.
type universe struct {
	base uint32
	size int
}

// randomSet draws a few random ranges inside u and returns the set built by
// NewSet and the oracle bitmap.
func (u universe) randomSet(rng *rand.Rand) (*blocklist.Set, []bool) {
	in := make([]bool, u.size)
	var rs []blocklist.Range
	for range rng.IntN(9) {
		first := rng.IntN(u.size)
		var n int
		switch rng.IntN(4) {
		case 0:
			n = 1
		case 1:
			n = 1 + rng.IntN(8)
		case 2:
			n = 1 + rng.IntN(u.size/4)
		default:
			n = 1 + rng.IntN(u.size)
		}
		last := min(first+n-1, u.size-1)
		rs = append(rs, blocklist.Range{First: u.base + uint32(first), Last: u.base + uint32(last)})
		for i := first; i <= last; i++ {
			in[i] = true
		}
	}
	if rng.IntN(4) == 0 {
		rs = append(rs, blocklist.Range{First: u.base + 9, Last: u.base + 3}) // empty, ignored
	}
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	return blocklist.NewSet(rs...), in
}

// checkAgainst compares s with the oracle over the whole universe: Len,
// Contains, At and IndexOf, plus the addresses just outside it.
func (u universe) checkAgainst(t *testing.T, what string, s *blocklist.Set, want []bool) {
	t.Helper()
	checkInvariants(t, s)
	var rank uint64
	for i, in := range want {
		a := u.base + uint32(i)
		if got := s.Contains(a); got != in {
			t.Fatalf("%s: Contains(%v) = %v, want %v (set %v)", what, blocklist.AddrFromUint32(a), got, in, s)
		}
		idx, ok := s.IndexOf(a)
		if ok != in || (in && idx != rank) {
			t.Fatalf("%s: IndexOf(%v) = %d, %v; want %d, %v (set %v)", what, blocklist.AddrFromUint32(a), idx, ok, rank, in, s)
		}
		if in {
			if got := s.At(rank); got != a {
				t.Fatalf("%s: At(%d) = %v, want %v (set %v)", what, rank, blocklist.AddrFromUint32(got), blocklist.AddrFromUint32(a), s)
			}
			rank++
		}
	}
	if s.Len() != rank {
		t.Fatalf("%s: Len() = %d, want %d (set %v)", what, s.Len(), rank, s)
	}
	if u.base > 0 && s.Contains(u.base-1) {
		t.Fatalf("%s: contains %v below the universe", what, blocklist.AddrFromUint32(u.base-1))
	}
	if end := uint64(u.base) + uint64(u.size); end <= math.MaxUint32 && s.Contains(uint32(end)) {
		t.Fatalf("%s: contains %v above the universe", what, blocklist.AddrFromUint32(uint32(end)))
	}
}

func TestSetAlgebraOracle(t *testing.T) {
	universes := []universe{
		{base: 0, size: 1024},                     // touches 0.0.0.0
		{base: 0xc6121000, size: 1024},            // 198.18.16.0/22
		{base: math.MaxUint32 - 1023, size: 1024}, // touches 255.255.255.255
	}
	cases := 1500
	if testing.Short() {
		cases = 300
	}
	for _, u := range universes {
		t.Run(blocklist.AddrFromUint32(u.base).String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(u.base), 1))
			for c := range cases {
				a, inA := u.randomSet(rng)
				b, inB := u.randomSet(rng)
				union := make([]bool, u.size)
				inter := make([]bool, u.size)
				diff := make([]bool, u.size)
				for i := range u.size {
					union[i] = inA[i] || inB[i]
					inter[i] = inA[i] && inB[i]
					diff[i] = inA[i] && !inB[i]
				}
				u.checkAgainst(t, fmt.Sprintf("case %d: A", c), a, inA)
				u.checkAgainst(t, fmt.Sprintf("case %d: A∪B", c), a.Union(b), union)
				u.checkAgainst(t, fmt.Sprintf("case %d: A∩B", c), a.Intersect(b), inter)
				u.checkAgainst(t, fmt.Sprintf("case %d: A−B", c), a.Subtract(b), diff)
				if !a.Union(b).Equal(b.Union(a)) || !a.Intersect(b).Equal(b.Intersect(a)) {
					t.Fatalf("case %d: union or intersection not commutative: A=%v B=%v", c, a, b)
				}
			}
		})
	}
}

func TestSetEdges(t *testing.T) {
	full := blocklist.NewSet(blocklist.Range{First: 0, Last: math.MaxUint32})
	tests := []struct {
		name   string
		set    *blocklist.Set
		ranges []blocklist.Range
		len    uint64
		str    string
	}{
		{"nil", nil, nil, 0, ""},
		{"no ranges", blocklist.NewSet(), nil, 0, ""},
		{"only empty ranges", blocklist.NewSet(blocklist.Range{First: 2, Last: 1}), nil, 0, ""},
		{"full", full, []blocklist.Range{{First: 0, Last: math.MaxUint32}}, 1 << 32, "0.0.0.0/0"},
		{"full from halves", blocklist.NewSet(
			blocklist.Range{First: 0x80000000, Last: math.MaxUint32},
			blocklist.Range{First: 0, Last: 0x7fffffff},
		), []blocklist.Range{{First: 0, Last: math.MaxUint32}}, 1 << 32, "0.0.0.0/0"},
		{"adjacent merge", blocklist.NewSet(
			blocklist.Range{First: 6, Last: 9}, blocklist.Range{First: 1, Last: 5},
		), []blocklist.Range{{First: 1, Last: 9}}, 9, "0.0.0.1-0.0.0.9"},
		{"overlap and duplicate merge", blocklist.NewSet(
			blocklist.Range{First: 10, Last: 20}, blocklist.Range{First: 15, Last: 30},
			blocklist.Range{First: 10, Last: 20}, blocklist.Range{First: 12, Last: 13},
		), []blocklist.Range{{First: 10, Last: 30}}, 21, "0.0.0.10-0.0.0.30"},
		{"gap of one stays apart", blocklist.NewSet(
			blocklist.Range{First: 1, Last: 5}, blocklist.Range{First: 7, Last: 9},
		), []blocklist.Range{{First: 1, Last: 5}, {First: 7, Last: 9}}, 8, "0.0.0.1-0.0.0.5, 0.0.0.7-0.0.0.9"},
		{"ends of the space do not wrap", blocklist.NewSet(
			blocklist.Range{First: math.MaxUint32, Last: math.MaxUint32}, blocklist.Range{First: 0, Last: 0},
		), []blocklist.Range{{First: 0, Last: 0}, {First: math.MaxUint32, Last: math.MaxUint32}}, 2, "0.0.0.0/32, 255.255.255.255/32"},
		{"top two merge", blocklist.NewSet(
			blocklist.Range{First: math.MaxUint32, Last: math.MaxUint32}, blocklist.Range{First: math.MaxUint32 - 1, Last: math.MaxUint32 - 1},
		), []blocklist.Range{{First: math.MaxUint32 - 1, Last: math.MaxUint32}}, 2, "255.255.255.254/31"},
		{"full minus full", full.Subtract(full), nil, 0, ""},
		{"full minus nil", full.Subtract(nil), []blocklist.Range{{First: 0, Last: math.MaxUint32}}, 1 << 32, "0.0.0.0/0"},
		{"nil union full", (*blocklist.Set)(nil).Union(full), []blocklist.Range{{First: 0, Last: math.MaxUint32}}, 1 << 32, "0.0.0.0/0"},
		{"full minus ends", full.Subtract(blocklist.NewSet(
			blocklist.Range{First: 0, Last: 0}, blocklist.Range{First: math.MaxUint32, Last: math.MaxUint32},
		)), []blocklist.Range{{First: 1, Last: math.MaxUint32 - 1}}, 1<<32 - 2, "0.0.0.1-255.255.255.254"},
		{"full minus middle", full.Subtract(blocklist.NewSet(blocklist.Range{First: 5, Last: math.MaxUint32 - 5})),
			[]blocklist.Range{{First: 0, Last: 4}, {First: math.MaxUint32 - 4, Last: math.MaxUint32}}, 10,
			"0.0.0.0-0.0.0.4, 255.255.255.251-255.255.255.255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvariants(t, tt.set)
			if got := tt.set.Ranges(); !slices.Equal(got, tt.ranges) {
				t.Errorf("Ranges() = %v, want %v", got, tt.ranges)
			}
			if got := tt.set.Len(); got != tt.len {
				t.Errorf("Len() = %d, want %d", got, tt.len)
			}
			if got := tt.set.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if tt.len > 0 {
				first, last := tt.ranges[0].First, tt.ranges[len(tt.ranges)-1].Last
				if got := tt.set.At(0); got != first {
					t.Errorf("At(0) = %d, want %d", got, first)
				}
				if got := tt.set.At(tt.len - 1); got != last {
					t.Errorf("At(Len-1) = %d, want %d", got, last)
				}
				if i, ok := tt.set.IndexOf(last); !ok || i != tt.len-1 {
					t.Errorf("IndexOf(last) = %d, %v; want %d, true", i, ok, tt.len-1)
				}
			}
			assertAtPanics(t, tt.set, tt.len)
			assertAtPanics(t, tt.set, math.MaxUint64)
		})
	}
}

func assertAtPanics(t *testing.T, s *blocklist.Set, i uint64) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("At(%d) on a set of %d did not panic", i, s.Len())
		}
	}()
	s.At(i)
}

func TestNewSetDoesNotModifyInput(t *testing.T) {
	in := []blocklist.Range{{First: 9, Last: 10}, {First: 1, Last: 2}, {First: 2, Last: 3}}
	want := slices.Clone(in)
	s := blocklist.NewSet(in...)
	if !slices.Equal(in, want) {
		t.Fatalf("NewSet modified its input: %v, want %v", in, want)
	}
	if got := s.String(); got != "0.0.0.1-0.0.0.3, 0.0.0.9-0.0.0.10" {
		t.Fatalf("String() = %q", got)
	}
}

func TestContainsAddr(t *testing.T) {
	s := blocklist.NewSet(blocklist.Range{First: ip(t, "198.18.0.0"), Last: ip(t, "198.19.255.255")})
	tests := []struct {
		addr string
		want bool
	}{
		{"198.18.0.0", true},
		{"198.19.255.255", true},
		{"198.17.255.255", false},
		{"198.20.0.0", false},
		{"::ffff:198.18.3.4", true},
		{"2001:db8::c612:1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := s.ContainsAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Fatalf("ContainsAddr(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if s.ContainsAddr(netip.Addr{}) {
		t.Fatal("ContainsAddr(zero Addr) = true")
	}
}

func TestWriteToRoundTrip(t *testing.T) {
	s := blocklist.NewSet(
		blocklist.Range{First: ip(t, "192.0.2.5"), Last: ip(t, "192.0.2.9")},
		blocklist.Range{First: ip(t, "198.51.100.0"), Last: ip(t, "198.51.100.255")},
	)
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := "192.0.2.5/32\n192.0.2.6/31\n192.0.2.8/31\n198.51.100.0/24\n"
	if buf.String() != want || n != int64(len(want)) {
		t.Fatalf("WriteTo wrote %d bytes %q, want %q", n, buf.String(), want)
	}
	back, err := blocklist.Parse(&buf, "roundtrip")
	if err != nil || !back.Equal(s) {
		t.Fatalf("Parse(WriteTo) = %v, %v; want %v", back, err, s)
	}
}

// randomExclusionList returns n disjoint random ranges spread over the
// address space, shaped like a real exclusion list (mostly /24 to /16).
func randomExclusionList(n int, seed uint64) *blocklist.Set {
	rng := rand.New(rand.NewPCG(seed, 2))
	var rs []blocklist.Range
	for len(rs) < n {
		bits := 16 + rng.IntN(17)
		first := rng.Uint32() &^ (math.MaxUint32 >> bits)
		rs = append(rs, blocklist.Range{First: first, Last: first | math.MaxUint32>>bits})
		if s := blocklist.NewSet(rs...); len(s.Ranges()) < len(rs) {
			rs = rs[:len(rs)-1] // overlapped or touched another: draw again
		}
	}
	return blocklist.NewSet(rs...)
}

func TestHotPathAllocs(t *testing.T) {
	s := randomExclusionList(600, 1)
	if got := len(s.Ranges()); got != 600 {
		t.Fatalf("exclusion list has %d ranges, want 600", got)
	}
	addr := netip.MustParseAddr("198.18.0.1")
	var sink uint64
	tests := []struct {
		name string
		fn   func()
	}{
		{"Contains", func() {
			if s.Contains(0x01020304) {
				sink++
			}
		}},
		{"ContainsAddr", func() {
			if s.ContainsAddr(addr) {
				sink++
			}
		}},
		{"IndexOf", func() {
			i, _ := s.IndexOf(0xc6120001)
			sink += i
		}},
		{"At", func() { sink += uint64(s.At(12345)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
				t.Fatalf("%s allocates %v times per call, want 0", tt.name, n)
			}
		})
	}
	_ = sink
}

var sinkBool bool

func BenchmarkContains(b *testing.B) {
	for _, n := range []int{16, 600} {
		s := randomExclusionList(n, uint64(n))
		rng := rand.New(rand.NewPCG(3, 4))
		addrs := make([]uint32, 4096)
		for i := range addrs {
			if i%2 == 0 {
				addrs[i] = s.At(rng.Uint64N(s.Len())) // half hits
			} else {
				addrs[i] = rng.Uint32()
			}
		}
		b.Run(fmt.Sprintf("ranges=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var hit bool
			for i := 0; b.Loop(); i++ {
				hit = s.Contains(addrs[i&4095]) != hit
			}
			sinkBool = hit
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}

func BenchmarkAt(b *testing.B) {
	s := randomExclusionList(600, 600)
	b.ReportAllocs()
	var sum uint32
	for i := uint64(0); b.Loop(); i++ {
		sum += s.At((i * 0x9e3779b97f4a7c15) % s.Len())
	}
	sinkBool = sum == 0
}
