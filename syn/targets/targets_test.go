package targets_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"mailscan/blocklist"
	"mailscan/syn/targets"
)

func TestParsePorts(t *testing.T) {
	good := []struct {
		in   string
		want []uint16
	}{
		{"25", []uint16{25}},
		{"25,110,143", []uint16{25, 110, 143}},
		{"143,110,25", []uint16{25, 110, 143}},
		{"110,143,990-995", []uint16{110, 143, 990, 991, 992, 993, 994, 995}},
		{"25,25,20-26", []uint16{20, 21, 22, 23, 24, 25, 26}},
		{" 25 , 110 ", []uint16{25, 110}},
		{"65535", []uint16{65535}},
		{"1-1", []uint16{1}},
		{targets.DefaultPorts, []uint16{25, 110, 143, 465, 587, 993, 995}},
	}
	for _, tt := range good {
		t.Run(tt.in, func(t *testing.T) {
			got, err := targets.ParsePorts(tt.in)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("ParsePorts(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	t.Run("1-1024", func(t *testing.T) {
		got, err := targets.ParsePorts("1-1024")
		if err != nil || len(got) != 1024 || got[0] != 1 || got[1023] != 1024 {
			t.Fatalf("ParsePorts(1-1024) = %d ports, %v", len(got), err)
		}
	})
	t.Run("1-65535", func(t *testing.T) {
		got, err := targets.ParsePorts("1-65535,80")
		if err != nil || len(got) != 65535 || got[65534] != 65535 {
			t.Fatalf("ParsePorts(1-65535) = %d ports, %v", len(got), err)
		}
	})

	bad := []struct {
		in, want string
	}{
		{"", `targets: port list "": empty item`},
		{"25,,110", `targets: port list "25,,110": empty item`},
		{"25,", `targets: port list "25,": empty item`},
		{"0", `targets: invalid port "0" (want 1 to 65535)`},
		{"65536", `targets: invalid port "65536" (want 1 to 65535)`},
		{"99999999999", `targets: invalid port "99999999999" (want 1 to 65535)`},
		{"-5", `targets: invalid port "" in "-5" (want 1 to 65535)`},
		{"+25", `targets: invalid port "+25" (want 1 to 65535)`},
		{"smtp", `targets: invalid port "smtp" (want 1 to 65535)`},
		{"995-990", `targets: port range "995-990" is reversed`},
		{"0-10", `targets: invalid port "0" in "0-10" (want 1 to 65535)`},
		{"10-70000", `targets: invalid port "70000" in "10-70000" (want 1 to 65535)`},
		{"1-2-3", `targets: invalid port "2-3" in "1-2-3" (want 1 to 65535)`},
		{"*", `targets: invalid port "*" (want 1 to 65535)`},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.in, func(t *testing.T) {
			got, err := targets.ParsePorts(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParsePorts(%q) = %v, %v; want error %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatPorts(t *testing.T) {
	for _, s := range []string{"25", "25,110,143", "110,143,990-995", "1-65535", targets.DefaultPorts, "1-2,4-5,7"} {
		ports, err := targets.ParsePorts(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := targets.FormatPorts(ports); got != s {
			t.Errorf("FormatPorts(ParsePorts(%q)) = %q", s, got)
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{targets.DefaultPorts, "1-1024", "110,143,990-995", "0", "", ",", "5-1", " 25 ", "1-65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := targets.ParsePorts(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "targets: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if len(ports) == 0 || ports[0] == 0 {
			t.Fatalf("ParsePorts(%q) = %v", s, ports)
		}
		for i := 1; i < len(ports); i++ {
			if ports[i] <= ports[i-1] {
				t.Fatalf("ParsePorts(%q) not strictly ascending at %d", s, i)
			}
		}
		back, err := targets.ParsePorts(targets.FormatPorts(ports))
		if err != nil || !slices.Equal(back, ports) {
			t.Fatalf("round trip of %q failed: %v", s, err)
		}
	})
}

func set(t testing.TB, entries ...string) *blocklist.Set {
	t.Helper()
	var rs []blocklist.Range
	for _, e := range entries {
		r, err := blocklist.ParseEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return blocklist.NewSet(rs...)
}

func TestNewErrors(t *testing.T) {
	addrs := set(t, "198.18.16.0/30")
	tests := []struct {
		name  string
		addrs *blocklist.Set
		ports []uint16
		want  string
	}{
		{"nil addrs", nil, []uint16{25}, "targets: no addresses left to scan"},
		{"empty addrs", blocklist.NewSet(), []uint16{25}, "targets: no addresses left to scan"},
		{"no ports", addrs, nil, "targets: no ports to scan"},
		{"port 0", addrs, []uint16{25, 0}, "targets: port 0 cannot be scanned"},
		{"duplicate port", addrs, []uint16{993, 25, 993}, "targets: port 993 listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := targets.New(targets.Addrs{V4: tt.addrs}, tt.ports)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New = %v, %v; want error %q", s, err, tt.want)
			}
		})
	}
}

func TestSpaceAtBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for c := range 200 {
		// A few random ranges near the top of the space, so wrap-around
		// bugs would show, and a random port list.
		var rs []blocklist.Range
		for range 1 + rng.IntN(5) {
			first := math.MaxUint32 - uint32(rng.IntN(300))
			rs = append(rs, blocklist.Range{First: first, Last: first + uint32(rng.IntN(int(math.MaxUint32-first)+1))})
		}
		addrs := blocklist.NewSet(rs...)
		ports := []uint16{25}
		for range rng.IntN(8) {
			p := uint16(1 + rng.IntN(65535))
			if !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
		sp, err := targets.New(targets.Addrs{V4: addrs}, ports)
		if err != nil {
			t.Fatal(err)
		}
		// The brute-force enumeration: every address ascending, every port
		// in the order given.
		var i uint64
		for a := uint64(0); a <= math.MaxUint32; a++ {
			if !addrs.Contains(uint32(a)) {
				if a < math.MaxUint32-400 {
					a = math.MaxUint32 - 400
				}
				continue
			}
			for _, p := range ports {
				ga, gp := sp.At(i)
				if ga != uint32(a) || gp != p {
					t.Fatalf("case %d: At(%d) = %d:%d, want %d:%d", c, i, ga, gp, a, p)
				}
				if j, ok := sp.IndexOf(uint32(a), p); !ok || j != i {
					t.Fatalf("case %d: IndexOf(%d, %d) = %d, %v; want %d", c, a, p, j, ok, i)
				}
				i++
			}
		}
		if sp.Len() != i {
			t.Fatalf("case %d: Len() = %d, enumerated %d", c, sp.Len(), i)
		}
		if _, ok := sp.IndexOf(0, 25); ok {
			t.Fatalf("case %d: IndexOf(0.0.0.0) found", c)
		}
		if _, ok := sp.IndexOf(addrs.At(0), 0); ok {
			t.Fatalf("case %d: IndexOf(port 0) found", c)
		}
	}
}

func TestSpaceFullSize(t *testing.T) {
	all := set(t, "0.0.0.0/0")
	ports, _ := targets.ParsePorts("1-65535")
	sp, err := targets.New(targets.Addrs{V4: all}, ports)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(1<<32) * 65535; sp.Len() != want {
		t.Fatalf("Len() = %d, want %d", sp.Len(), want)
	}
	if a, p := sp.At(sp.Len() - 1); a != math.MaxUint32 || p != 65535 {
		t.Fatalf("At(last) = %d:%d", a, p)
	}
	if a, p := sp.At(65535); a != 1 || p != 1 {
		t.Fatalf("At(65535) = %d:%d, want 1:1", a, p)
	}
	if !slices.Equal(sp.Ports(), ports) || !sp.Addrs().V4.Equal(all) {
		t.Fatal("Ports/Addrs do not return what New got")
	}
}

func TestSpaceCopiesPorts(t *testing.T) {
	ports := []uint16{25, 110}
	sp, err := targets.New(targets.Addrs{V4: set(t, "198.18.0.1")}, ports)
	if err != nil {
		t.Fatal(err)
	}
	ports[0] = 9
	if _, p := sp.At(0); p != 25 {
		t.Fatalf("At(0) port = %d after the caller changed its slice, want 25", p)
	}
}

func TestSpaceAtAllocs(t *testing.T) {
	for _, ports := range [][]uint16{{25}, {25, 110, 143, 465, 587, 993, 995}} {
		sp, err := targets.New(targets.Addrs{V4: set(t, "198.18.0.0/20", "198.18.64.0/24", "203.0.113.9"),
			V6: set6(t, "2001:db8::/116", "2001:db8:1::9")}, ports)
		if err != nil {
			t.Fatal(err)
		}
		var sink uint64
		if n := testing.AllocsPerRun(1000, func() {
			a, p := sp.At(4097)
			a6, p6 := sp.At6(sp.Len4() + 4096)
			sink += uint64(a) + uint64(p) + uint64(p6) + a6.Lo
		}); n != 0 {
			t.Fatalf("At and At6 allocate %v times per call with %d ports", n, len(ports))
		}
		_ = sink
	}
}

func BenchmarkSpaceAt(b *testing.B) {
	sp, err := targets.New(targets.Addrs{V4: set(b, "198.18.0.0/15", "203.0.113.0/24", "192.0.2.0/24")}, []uint16{25, 110, 143, 465, 587, 993, 995})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var sum uint32
	for i := uint64(0); b.Loop(); i++ {
		a, p := sp.At((i * 0x9e3779b97f4a7c15) % sp.Len())
		sum += a + uint32(p)
	}
	_ = sum
}

func set6(t testing.TB, entries ...string) *blocklist.Set6 {
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

// TestSpaceMixedBruteForce enumerates mixed spaces target by target: every
// IPv4 address ascending, then every IPv6 address ascending (across the
// 64-bit carry of the 128-bit rank arithmetic), each with every port in
// the order given; At, At6, Len4, IndexOf and IndexOfAddr must agree with
// that order exactly.
func TestSpaceMixedBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	base6 := netip.MustParseAddr("2001:db8:0:0:ffff:ffff:ffff:ff00")
	for c := range 200 {
		var rs []blocklist.Range
		for range rng.IntN(4) {
			first := uint32(0xC6120000 + rng.IntN(300))
			rs = append(rs, blocklist.Range{First: first, Last: first + uint32(rng.IntN(20))})
		}
		var rs6 []blocklist.Range6
		for range rng.IntN(4) {
			first := base6
			for range rng.IntN(400) {
				first = first.Next()
			}
			last := first
			for range rng.IntN(20) {
				last = last.Next()
			}
			rs6 = append(rs6, blocklist.Range6{First: first, Last: last})
		}
		addrs := targets.Addrs{V4: blocklist.NewSet(rs...), V6: blocklist.NewSet6(rs6...)}
		ports := []uint16{143}
		for range rng.IntN(4) {
			if p := uint16(1 + rng.IntN(65535)); !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
		sp, err := targets.New(addrs, ports)
		if addrs.Empty() {
			if err == nil {
				t.Fatalf("case %d: New of an empty set succeeded", c)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var want []netip.AddrPort
		for _, r := range addrs.V4.Ranges() {
			for a := uint64(r.First); a <= uint64(r.Last); a++ {
				for _, p := range ports {
					want = append(want, netip.AddrPortFrom(blocklist.AddrFromUint32(uint32(a)), p))
				}
			}
		}
		n4 := uint64(len(want))
		for _, r := range addrs.V6.Ranges() {
			for a := r.First; ; a = a.Next() {
				for _, p := range ports {
					want = append(want, netip.AddrPortFrom(a, p))
				}
				if a == r.Last {
					break
				}
			}
		}
		if sp.Len() != uint64(len(want)) || sp.Len4() != n4 {
			t.Fatalf("case %d: Len %d, Len4 %d; want %d, %d", c, sp.Len(), sp.Len4(), len(want), n4)
		}
		for i, ap := range want {
			var got netip.AddrPort
			if uint64(i) < sp.Len4() {
				a, p := sp.At(uint64(i))
				got = netip.AddrPortFrom(blocklist.AddrFromUint32(a), p)
			} else {
				a, p := sp.At6(uint64(i))
				got = netip.AddrPortFrom(a.Addr(), p)
			}
			if got != ap {
				t.Fatalf("case %d: target %d is %v, want %v", c, i, got, ap)
			}
			if j, ok := sp.IndexOfAddr(ap.Addr(), ap.Port()); !ok || j != uint64(i) {
				t.Fatalf("case %d: IndexOfAddr(%v) = %d, %v; want %d", c, ap, j, ok, i)
			}
		}
		if _, ok := sp.IndexOfAddr(base6.Prev(), 143); ok {
			t.Fatalf("case %d: IndexOfAddr found an address outside the space", c)
		}
		if _, ok := sp.IndexOfAddr(netip.MustParseAddr("::ffff:198.18.0.0").Prev(), 143); ok {
			t.Fatalf("case %d: IndexOfAddr found an address outside the space", c)
		}
	}
}

// TestSpaceMappedIsIPv4: an IPv4-mapped address names the IPv4 target.
func TestSpaceMappedIsIPv4(t *testing.T) {
	sp, err := targets.New(targets.Addrs{V4: set(t, "198.18.16.0/30"), V6: set6(t, "2001:db8::/126")}, []uint16{25, 110})
	if err != nil {
		t.Fatal(err)
	}
	i, ok := sp.IndexOfAddr(netip.MustParseAddr("::ffff:198.18.16.2"), 110)
	if !ok || i != 5 {
		t.Errorf("IndexOfAddr(::ffff:198.18.16.2, 110) = %d, %v; want 5", i, ok)
	}
	if i, ok := sp.IndexOfAddr(netip.MustParseAddr("2001:db8::3"), 110); !ok || i != 15 {
		t.Errorf("IndexOfAddr(2001:db8::3, 110) = %d, %v; want 15", i, ok)
	}
}

// TestSpaceLimits: the permutation orders at most MaxTargets targets, and
// the IPv6 part of a scan needs force past MaxIPv6Targets.
func TestSpaceLimits(t *testing.T) {
	ports2 := []uint16{25, 110}
	// 2^63 addresses × 2 ports: too many to order at all.
	if _, err := targets.New(targets.Addrs{V6: set6(t, "2001:db8::/65")}, ports2); err == nil {
		t.Error("New accepted 2^64 targets")
	}
	// 2^63 addresses × 1 port is exactly MaxTargets.
	sp, err := targets.New(targets.Addrs{V6: set6(t, "2001:db8::/65")}, ports2[:1])
	if err != nil || sp.Len() != targets.MaxTargets {
		t.Fatalf("New(/65 × 1 port) = %v, %v; want %d targets", sp, err, uint64(targets.MaxTargets))
	}
	if a, _ := sp.At6(sp.Len() - 1); a.Addr() != netip.MustParseAddr("2001:db8::7fff:ffff:ffff:ffff") {
		t.Errorf("last target %v", a)
	}
	for _, tc := range []struct {
		prefix string
		ports  []uint16
		force  bool
		ok     bool
	}{
		{"2001:db8::/96", ports2[:1], false, true}, // 2^32 × 1: the limit itself
		{"2001:db8::/96", ports2, false, false},    // 2^33
		{"2001:db8::/96", ports2, true, true},
		{"2001:db8::/65", ports2[:1], false, false},
		{"2001:db8::/112", []uint16{1, 2, 3, 4, 5, 6, 7}, false, true},
	} {
		err := targets.Addrs{V4: set(t, "0.0.0.0/0"), V6: set6(t, tc.prefix)}.CheckSize(len(tc.ports), tc.force)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, targets.ErrTooLarge)) {
			t.Errorf("CheckSize(%s × %d ports, force %v) = %v, want ok %v", tc.prefix, len(tc.ports), tc.force, err, tc.ok)
		}
	}
}

func BenchmarkSpaceAt6(b *testing.B) {
	sp, err := targets.New(targets.Addrs{V4: set(b, "198.18.0.0/15"), V6: set6(b, "2001:db8::/112", "2001:db8:1::/116", "2001:db8:2::1")},
		[]uint16{25, 110, 143, 465, 587, 993, 995})
	if err != nil {
		b.Fatal(err)
	}
	n6 := sp.Len() - sp.Len4()
	b.ReportAllocs()
	var sum uint16
	for i := uint64(0); b.Loop(); i++ {
		a, p := sp.At6(sp.Len4() + (i*0x9e3779b97f4a7c15)%n6)
		sum += uint16(a.Lo) + p
	}
	_ = sum
}
