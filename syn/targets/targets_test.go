package targets_test

import (
	"math"
	"math/rand/v2"
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
			s, err := targets.New(tt.addrs, tt.ports)
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
		sp, err := targets.New(addrs, ports)
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
	sp, err := targets.New(all, ports)
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
	if !slices.Equal(sp.Ports(), ports) || !sp.Addrs().Equal(all) {
		t.Fatal("Ports/Addrs do not return what New got")
	}
}

func TestSpaceCopiesPorts(t *testing.T) {
	ports := []uint16{25, 110}
	sp, err := targets.New(set(t, "198.18.0.1"), ports)
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
		sp, err := targets.New(set(t, "198.18.0.0/20", "198.18.64.0/24", "203.0.113.9"), ports)
		if err != nil {
			t.Fatal(err)
		}
		var sink uint64
		if n := testing.AllocsPerRun(1000, func() {
			a, p := sp.At(4097)
			sink += uint64(a) + uint64(p)
		}); n != 0 {
			t.Fatalf("At allocates %v times per call with %d ports", n, len(ports))
		}
		_ = sink
	}
}

func BenchmarkSpaceAt(b *testing.B) {
	sp, err := targets.New(set(b, "198.18.0.0/15", "203.0.113.0/24", "192.0.2.0/24"), []uint16{25, 110, 143, 465, 587, 993, 995})
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
