package cookie

import (
	"math/rand"
	"testing"
)

// TestMatchesWraparound checks the acknowledgment arithmetic at the edges
// of the sequence space, which random tuples almost never reach: a probe
// with sequence number 0xFFFFFFFF is answered with ack 0.
func TestMatchesWraparound(t *testing.T) {
	c, err := New(Key{1}, 40000, 40009)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		seq  uint32
		ack  uint32
		want bool
	}{
		{"seq max, ack 0", 0xffffffff, 0, true},
		{"seq max, ack max", 0xffffffff, 0xffffffff, false},
		{"seq max, ack 1", 0xffffffff, 1, false},
		{"seq 0, ack 1", 0, 1, true},
		{"seq 0, ack 0", 0, 0, false},
		{"seq 0, ack max", 0, 0xffffffff, false},
		{"seq max-1, ack max", 0xfffffffe, 0xffffffff, true},
		{"seq max-1, ack 0", 0xfffffffe, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := uint64(0x89abcdef)<<32 | uint64(tt.seq)
			sport := c.sport(h)
			if got := c.matches(h, sport, tt.ack); got != tt.want {
				t.Errorf("matches(seq %#x, ack %#x) = %v, want %v", tt.seq, tt.ack, got, tt.want)
			}
			if c.matches(h, sport+1, tt.ack) {
				t.Errorf("matches(seq %#x, ack %#x) with the wrong port = true", tt.seq, tt.ack)
			}
		})
	}
}

// TestSportEdges checks the port mapping at the extremes of h's high half.
func TestSportEdges(t *testing.T) {
	tests := []struct {
		first, last uint16
		hi          uint32
		want        uint16
	}{
		{1, 65535, 0, 1},
		{1, 65535, 0xffffffff, 1 + uint16(0xffffffff%65535)},
		{1, 65535, 65534, 65535},
		{1, 65535, 65535, 1},
		{65535, 65535, 0xffffffff, 65535},
		{40000, 40009, 19, 40009},
		{40000, 40009, 20, 40000},
	}
	for _, tt := range tests {
		c, err := New(Key{}, tt.first, tt.last)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.sport(uint64(tt.hi) << 32); got != tt.want {
			t.Errorf("range %d-%d, high half %#x: sport = %d, want %d", tt.first, tt.last, tt.hi, got, tt.want)
		}
	}
}

// TestFastmod checks fastmod against the % operator: every divisor a source
// port range can have, with the edge dividends and seeded random ones.
func TestFastmod(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for d := uint32(1); d <= 65535; d++ {
		inv := ^uint64(0)/uint64(d) + 1
		as := []uint32{0, 1, d - 1, d, d + 1, 0xffffffff, 0xfffffffe, 0x80000000, rng.Uint32(), rng.Uint32(), rng.Uint32()}
		for _, a := range as {
			if got, want := fastmod(a, inv, d), a%d; got != want {
				t.Fatalf("fastmod(%d, %d) = %d, want %d", a, d, got, want)
			}
		}
	}
}
