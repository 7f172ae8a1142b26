package afpacket_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"

	"mailscan/syn/afpacket"
)

var (
	ourA6  = net.ParseIP("2001:db8::2")
	ourU6  = netip.MustParseAddr("2001:db8::2")
	ourU4  = netip.MustParseAddr("198.18.250.2")
	other6 = net.ParseIP("2001:db8::3")
)

// vmReplies loads FilterReplies(local4, local6) into x/net/bpf's
// interpreter.
func vmReplies(tb testing.TB, local4, local6 netip.Addr) *bpf.VM {
	tb.Helper()
	raw, err := afpacket.FilterReplies(local4, local6)
	if err != nil {
		tb.Fatal(err)
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		tb.Fatalf("filter does not disassemble: %v", raw)
	}
	v, err := bpf.NewVM(ins)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestFilterReplies(t *testing.T) {
	dual := vmReplies(t, ourU4, ourU6)
	only6 := vmReplies(t, netip.Addr{}, ourU6)
	only4 := vmReplies(t, ourU4, netip.Addr{})
	// One word of the address off at each of its four 32-bit words.
	near := func(word int) net.IP {
		a := ourU6.As16()
		a[4*word+3] ^= 1
		return net.IP(a[:])
	}
	tests := []struct {
		spec               frameSpec
		dual, only6, only4 bool
	}{
		{frameSpec{name: "IPv6 SYN-ACK to addr", dst: ourA6, flags: "SA"}, true, true, false},
		{frameSpec{name: "IPv6 RST to addr", dst: ourA6, flags: "R"}, true, true, false},
		{frameSpec{name: "IPv6 RST-ACK to addr", dst: ourA6, flags: "RA"}, true, true, false},
		{frameSpec{name: "IPv6 VLAN SYN-ACK", dst: ourA6, flags: "SA", vlan: true}, true, true, false},
		{frameSpec{name: "IPv6 VLAN RST", dst: ourA6, flags: "R", vlan: true}, true, true, false},
		{frameSpec{name: "IPv4 SYN-ACK to addr", dst: ourA, flags: "SA"}, true, false, true},
		{frameSpec{name: "IPv4 VLAN RST to addr", dst: ourA, flags: "R", vlan: true}, true, false, true},
		{frameSpec{name: "IPv6 SYN-ACK to other", dst: other6, flags: "SA"}, false, false, false},
		{frameSpec{name: "IPv6 off in word 0", dst: near(0), flags: "SA"}, false, false, false},
		{frameSpec{name: "IPv6 off in word 1", dst: near(1), flags: "SA"}, false, false, false},
		{frameSpec{name: "IPv6 off in word 2", dst: near(2), flags: "SA"}, false, false, false},
		{frameSpec{name: "IPv6 off in word 3", dst: near(3), flags: "SA", vlan: true}, false, false, false},
		{frameSpec{name: "IPv6 SYN to addr", dst: ourA6, flags: "S"}, false, false, false},
		{frameSpec{name: "IPv6 ACK to addr", dst: ourA6, flags: "A"}, false, false, false},
		{frameSpec{name: "IPv6 FIN-ACK to addr", dst: ourA6, flags: "FA"}, false, false, false},
		{frameSpec{name: "IPv6 UDP to addr", dst: ourA6, proto: "udp"}, false, false, false},
		{frameSpec{name: "IPv6 hop-by-hop then SYN-ACK", dst: ourA6, flags: "SA", options: true}, false, false, false},
		{frameSpec{name: "IPv6 VLAN hop-by-hop then RST", dst: ourA6, flags: "R", options: true, vlan: true}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec.name, func(t *testing.T) {
			frame := buildFrame(t, macA, macB, tt.spec)
			for _, f := range []struct {
				name string
				v    *bpf.VM
				want bool
			}{{"dual", dual, tt.dual}, {"IPv6 only", only6, tt.only6}, {"IPv4 only", only4, tt.only4}} {
				got, err := f.v.Run(frame)
				if err != nil {
					t.Fatal(err)
				}
				if want := acceptLen(f.want); got != want {
					t.Errorf("%s filter returned %d, want %d", f.name, got, want)
				}
			}
		})
	}
}

// TestFilterRepliesMapped: an IPv6 frame to the IPv4-mapped form of our
// IPv4 address is neither family's reply.
func TestFilterRepliesMapped(t *testing.T) {
	frame := buildFrame(t, macA, macB, frameSpec{dst: ourA6, flags: "SA"})
	copy(frame[14+24:], net.ParseIP("::ffff:198.18.250.2").To16())
	if got, _ := vmReplies(t, ourU4, ourU6).Run(frame); got != 0 {
		t.Errorf("filter returned %d for an IPv6 frame to ::ffff:198.18.250.2", got)
	}
}

func TestFilterRepliesErrors(t *testing.T) {
	for _, tc := range []struct{ a4, a6 netip.Addr }{
		{netip.Addr{}, netip.Addr{}},
		{ourU6, ourU6},
		{ourU4, ourU4},
		{ourU4, netip.MustParseAddr("::ffff:198.18.250.2")},
	} {
		if _, err := afpacket.FilterReplies(tc.a4, tc.a6); err == nil {
			t.Errorf("FilterReplies(%v, %v) accepted", tc.a4, tc.a6)
		}
	}
}

// refAccept6 is FilterReplies' contract in plain Go.
func refAccept6(b []byte, local4, local6 netip.Addr) bool {
	if local4.IsValid() && refAccept(b, binary.BigEndian.Uint32(local4.AsSlice())) {
		return true
	}
	if !local6.IsValid() || len(b) < 14 {
		return false
	}
	l3 := 14
	switch binary.BigEndian.Uint16(b[12:]) {
	case 0x86dd:
	case 0x8100:
		if len(b) < 18 || binary.BigEndian.Uint16(b[16:]) != 0x86dd {
			return false
		}
		l3 = 18
	default:
		return false
	}
	a := local6.As16()
	if len(b) < l3+40+14 || b[l3+6] != 6 || !bytes.Equal(b[l3+24:l3+40], a[:]) {
		return false
	}
	f := b[l3+40+13]
	return f&0x04 != 0 || f&0x12 == 0x12
}

// TestFilterRepliesMatchesReference mutates real frames of both families
// at random and checks the dual-stack program against refAccept6.
func TestFilterRepliesMatchesReference(t *testing.T) {
	v := vmReplies(t, ourU4, ourU6)
	seeds := [][]byte{
		buildFrame(t, macA, macB, frameSpec{dst: ourA6, flags: "SA"}),
		buildFrame(t, macA, macB, frameSpec{dst: ourA6, flags: "R", vlan: true}),
		buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "SA"}),
		buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "SA", options: true, vlan: true}),
	}
	rng := rand.New(rand.NewPCG(3, 4))
	accepted := [2]int{}
	for i := range 200000 {
		f := append([]byte(nil), seeds[i%len(seeds)]...)
		for range 1 + rng.IntN(3) {
			pos := rng.IntN(len(f))
			if rng.IntN(4) > 0 {
				// The bytes either family's checks read.
				pos = []int{12, 13, 16, 17, 14, 18, 20, 23, 24, 27, 30, 33, 34, 47, 51, 38, 41, 45, 49, 53, 57, 67, 71}[rng.IntN(23)] % len(f)
			}
			f[pos] = byte(rng.Uint32())
		}
		if rng.IntN(8) == 0 {
			f = f[:rng.IntN(len(f)+1)]
		}
		got, err := v.Run(f)
		if err != nil {
			t.Fatal(err)
		}
		want := refAccept6(f, ourU4, ourU6)
		if (got != 0) != want {
			t.Fatalf("frame % x: filter returned %d, reference says accept=%v", f, got, want)
		}
		if want {
			accepted[i%len(seeds)/2]++
		}
	}
	if accepted[0] == 0 || accepted[1] == 0 {
		t.Fatalf("accepted %v (IPv6, IPv4 seeds): the comparison is vacuous for a family", accepted)
	}
}

// FuzzFilterReplies checks the program against refAccept6 for arbitrary
// frames and addresses, with either family left out.
func FuzzFilterReplies(f *testing.F) {
	for _, s := range []frameSpec{
		{dst: ourA6, flags: "SA"}, {dst: ourA6, flags: "R", vlan: true}, {dst: ourA6, flags: "SA", options: true},
		{dst: ourA6, proto: "udp"}, {dst: ourA, flags: "SA"}, {dst: ourA, proto: "arp"},
	} {
		f.Add(buildFrame(f, macA, macB, s), ourU4.AsSlice(), ourU6.AsSlice(), uint8(3))
	}
	f.Fuzz(func(t *testing.T, frame, a4, a6 []byte, which uint8) {
		var l4, l6 netip.Addr
		if len(a4) == 4 && which&1 != 0 {
			l4 = netip.AddrFrom4([4]byte(a4))
		}
		if len(a6) == 16 && which&2 != 0 {
			l6 = netip.AddrFrom16([16]byte(a6))
			if l6.Is4In6() {
				l6 = netip.Addr{}
			}
		}
		if !l4.IsValid() && !l6.IsValid() {
			return
		}
		got, err := vmReplies(t, l4, l6).Run(frame)
		if err != nil {
			t.Fatal(err)
		}
		if want := refAccept6(frame, l4, l6); (got != 0) != want {
			t.Fatalf("filter(%v, %v) returned %d, reference says accept=%v", l4, l6, got, want)
		}
	})
}
