package blocklist_test

import (
	"math"
	"net/netip"
	"testing"

	"mailscan/blocklist"
)

// ip parses a dotted quad into host byte order, failing the test on error.
func ip(t testing.TB, s string) uint32 {
	t.Helper()
	v, ok := blocklist.Uint32FromAddr(netip.MustParseAddr(s))
	if !ok {
		t.Fatalf("ip(%q): not IPv4", s)
	}
	return v
}

func TestRangeLenString(t *testing.T) {
	tests := []struct {
		r    blocklist.Range
		len  uint64
		str  string
		pfxs int
	}{
		{blocklist.Range{0x01020304, 0x01020304}, 1, "1.2.3.4/32", 1},
		{blocklist.Range{0x01020300, 0x010203ff}, 256, "1.2.3.0/24", 1},
		{blocklist.Range{0x01020304, 0x01020309}, 6, "1.2.3.4-1.2.3.9", 2},
		{blocklist.Range{0, math.MaxUint32}, 1 << 32, "0.0.0.0/0", 1},
		{blocklist.Range{0, math.MaxUint32 - 1}, 1<<32 - 1, "0.0.0.0-255.255.255.254", 32},
		{blocklist.Range{1, math.MaxUint32}, 1<<32 - 1, "0.0.0.1-255.255.255.255", 32},
		{blocklist.Range{1, math.MaxUint32 - 1}, 1<<32 - 2, "0.0.0.1-255.255.255.254", 62},
		{blocklist.Range{math.MaxUint32, math.MaxUint32}, 1, "255.255.255.255/32", 1},
		{blocklist.Range{0x80000000, math.MaxUint32}, 1 << 31, "128.0.0.0/1", 1},
		{blocklist.Range{5, 4}, 0, "0.0.0.5-0.0.0.4", 0}, // empty
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.r.Len(); got != tt.len {
				t.Errorf("Len() = %d, want %d", got, tt.len)
			}
			if got := tt.r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			ps := tt.r.Prefixes()
			if len(ps) != tt.pfxs {
				t.Errorf("len(Prefixes()) = %d, want %d: %v", len(ps), tt.pfxs, ps)
			}
			checkPrefixesCover(t, tt.r, ps)
			if tt.len > 0 {
				back, err := blocklist.ParseEntry(tt.str)
				if err != nil || back != tt.r {
					t.Errorf("ParseEntry(%q) = %v, %v; want %v", tt.str, back, err, tt.r)
				}
			}
		})
	}
}

// checkPrefixesCover asserts that ps are ascending, aligned, contiguous and
// cover exactly r.
func checkPrefixesCover(t *testing.T, r blocklist.Range, ps []netip.Prefix) {
	t.Helper()
	next := uint64(r.First)
	for _, p := range ps {
		if p != p.Masked() {
			t.Fatalf("prefix %v has host bits set", p)
		}
		first, _ := blocklist.Uint32FromAddr(p.Addr())
		if uint64(first) != next {
			t.Fatalf("prefix %v starts at %d, want %d", p, first, next)
		}
		next += 1 << (32 - p.Bits())
	}
	if r.Len() > 0 && next != uint64(r.Last)+1 {
		t.Fatalf("prefixes end at %d, want %d", next, uint64(r.Last)+1)
	}
}

func TestAddrConversion(t *testing.T) {
	tests := []struct {
		addr netip.Addr
		want uint32
		ok   bool
	}{
		{netip.MustParseAddr("1.2.3.4"), 0x01020304, true},
		{netip.MustParseAddr("0.0.0.0"), 0, true},
		{netip.MustParseAddr("255.255.255.255"), math.MaxUint32, true},
		{netip.MustParseAddr("::ffff:198.18.0.1"), 0xc6120001, true},
		{netip.MustParseAddr("2001:db8::1"), 0, false},
		{netip.Addr{}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.addr.String(), func(t *testing.T) {
			got, ok := blocklist.Uint32FromAddr(tt.addr)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Uint32FromAddr(%v) = %#x, %v; want %#x, %v", tt.addr, got, ok, tt.want, tt.ok)
			}
			if ok {
				if back := blocklist.AddrFromUint32(got); back != tt.addr.Unmap() {
					t.Fatalf("AddrFromUint32(%#x) = %v, want %v", got, back, tt.addr.Unmap())
				}
			}
		})
	}
}
