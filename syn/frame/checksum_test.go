package frame_test

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/gopacket/layers"

	"mailscan/syn/frame"
)

// rfc1071 is the plain loop of RFC 1071 section 4.1, one 16-bit word at a
// time: the oracle for the fast Checksum.
func rfc1071(b []byte, initial uint16) uint16 {
	sum := uint64(initial)
	for len(b) >= 2 {
		sum += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

func TestChecksumMatchesRFC1071(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	storage := make([]byte, 4096+8)
	for i := range 100_000 {
		rng.Read(storage)
		off := i % 8
		var n int
		switch {
		case i%10 == 0:
			n = rng.Intn(4096 - 8) // long buffers
		default:
			n = rng.Intn(100) // header-sized ones, every short length
		}
		b := storage[off : off+n]
		initial := uint16(rng.Intn(0x10000))
		if got, want := frame.Checksum(b, initial), rfc1071(b, initial); got != want {
			t.Fatalf("buffer %d (offset %d, length %d, initial %#04x): Checksum = %#04x, RFC 1071 loop = %#04x", i, off, n, initial, got, want)
		}
	}
}

func TestChecksumEdgeCases(t *testing.T) {
	ones := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 0xff
		}
		return b
	}
	tests := []struct {
		name    string
		b       []byte
		initial uint16
		want    uint16
	}{
		{name: "empty", b: nil, initial: 0, want: 0},
		{name: "empty keeps initial", b: nil, initial: 0xbeef, want: 0xbeef},
		{name: "initial 0xffff kept", b: []byte{0, 0}, initial: 0xffff, want: 0xffff},
		{name: "odd byte padded right", b: []byte{0xab}, want: 0xab00},
		{name: "end-around carry", b: []byte{0x00, 0x01}, initial: 0xffff, want: 0x0001},
		// RFC 1071 section 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
		{name: "RFC 1071 example", b: []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, want: 0xddf2},
		// Every 64-bit addition carries out with all-ones data.
		{name: "all ones 8", b: ones(8), want: 0xffff},
		{name: "all ones 4097", b: ones(4097), want: rfc1071(ones(4097), 0)},
		{name: "all ones 70001", b: ones(70001), initial: 0xfffe, want: rfc1071(ones(70001), 0xfffe)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := frame.Checksum(tt.b, tt.initial); got != tt.want {
				t.Errorf("Checksum = %#04x, want %#04x", got, tt.want)
			}
			if got := rfc1071(tt.b, tt.initial); got != tt.want {
				t.Errorf("oracle = %#04x, want %#04x (bad test)", got, tt.want)
			}
		})
	}
}

func TestChecksumSplitAndCombine(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	b := make([]byte, 301)
	for range 1000 {
		rng.Read(b)
		split := 2 * rng.Intn(len(b)/2+1) // on a 16-bit boundary
		whole := frame.Checksum(b, 0)
		chained := frame.Checksum(b[split:], frame.Checksum(b[:split], 0))
		combined := frame.Combine(frame.Checksum(b[:split], 0), frame.Checksum(b[split:], 0))
		if chained != whole || combined != whole {
			t.Fatalf("split at %d: whole %#04x, chained %#04x, combined %#04x", split, whole, chained, combined)
		}
	}
}

func TestPseudoHeaderChecksum(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for range 10_000 {
		src, dst := rng.Uint32(), rng.Uint32()
		proto := uint8(rng.Intn(256))
		length := uint16(rng.Intn(0x10000))
		var ph [12]byte
		binary.BigEndian.PutUint32(ph[0:], src)
		binary.BigEndian.PutUint32(ph[4:], dst)
		ph[9] = proto
		binary.BigEndian.PutUint16(ph[10:], length)
		if got, want := frame.PseudoHeaderChecksum(proto, src, dst, length), rfc1071(ph[:], 0); got != want {
			t.Fatalf("PseudoHeaderChecksum(%d, %#x, %#x, %d) = %#04x, want %#04x", proto, src, dst, length, got, want)
		}
	}
}

func TestUpdateChecksumRFC1624Example(t *testing.T) {
	// RFC 1624 section 4: the other header words sum to 0xCD7A and a field
	// changes from 0x5555 to 0x3285. Recomputing gives ~0xFFFF = 0x0000;
	// equation 3 must agree (equation 2 would give 0xFFFF).
	hc := ^frame.Combine(0xcd7a, 0x5555)
	if hc != 0xdd2f {
		t.Fatalf("HC = %#04x, want 0xdd2f (bad test)", hc)
	}
	if got := frame.UpdateChecksum(hc, 0x5555, 0x3285); got != 0x0000 {
		t.Errorf("UpdateChecksum(0xdd2f, 0x5555, 0x3285) = %#04x, want 0x0000", got)
	}
}

func TestUpdateChecksumMatchesRecompute(t *testing.T) {
	rng := rand.New(rand.NewSource(1624))
	for i := range 100_000 {
		b := make([]byte, 2*(2+rng.Intn(40)))
		rng.Read(b)
		if i%4 == 0 {
			// Mostly-zero data drives sums towards the 0x0000/0xffff edge.
			clear(b[2:])
		}
		hc := ^frame.Checksum(b, 0)
		if i%2 == 0 {
			at := 2 * rng.Intn(len(b)/2)
			m := binary.BigEndian.Uint16(b[at:])
			m2 := uint16(rng.Intn(0x10000))
			binary.BigEndian.PutUint16(b[at:], m2)
			if allZero(b) {
				continue // the documented exception: ~0 is 0xffff, equation 3 gives 0
			}
			if got, want := frame.UpdateChecksum(hc, m, m2), ^frame.Checksum(b, 0); got != want {
				t.Fatalf("case %d: UpdateChecksum(%#04x, %#04x, %#04x) = %#04x, recomputed %#04x", i, hc, m, m2, got, want)
			}
		} else {
			at := 2 * rng.Intn(len(b)/2-1)
			m := binary.BigEndian.Uint32(b[at:])
			m2 := rng.Uint32()
			binary.BigEndian.PutUint32(b[at:], m2)
			if allZero(b) {
				continue
			}
			if got, want := frame.UpdateChecksum32(hc, m, m2), ^frame.Checksum(b, 0); got != want {
				t.Fatalf("case %d: UpdateChecksum32(%#04x, %#08x, %#08x) = %#04x, recomputed %#04x", i, hc, m, m2, got, want)
			}
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// TestChecksumsMatchGopacket checks IPv4.CalculateChecksum and
// TCP.CalculateChecksum against gopacket's serializer on whole frames with
// IPv4 options, TCP options and payloads of odd and even lengths.
func TestChecksumsMatchGopacket(t *testing.T) {
	rng := rand.New(rand.NewSource(99))
	for i := range 2000 {
		payload := make([]byte, rng.Intn(64))
		rng.Read(payload)
		var ipOpts []layers.IPv4Option
		if n := rng.Intn(4); n > 0 {
			data := make([]byte, 4*n-2)
			rng.Read(data)
			ipOpts = []layers.IPv4Option{{OptionType: 0x94, OptionLength: uint8(4 * n), OptionData: data}}
		}
		var tcpOpts []layers.TCPOption
		if rng.Intn(2) == 0 {
			tcpOpts = linuxSynAckOptions(rng.Uint32(), rng.Uint32())
		}
		spec := replySpec{
			ipOptions: ipOpts, tcpOptions: tcpOpts,
			src: rng.Uint32(), dst: rng.Uint32(),
			sport: uint16(rng.Uint32()), dport: uint16(rng.Uint32()),
			seq: rng.Uint32(), ack: rng.Uint32(),
			synFlag: rng.Intn(2) == 0, ackFlag: rng.Intn(2) == 0, rstFlag: rng.Intn(2) == 0,
			ttl: uint8(rng.Uint32()), window: uint16(rng.Uint32()), id: uint16(rng.Uint32()),
			payload: payload,
		}
		b := spec.build(t)
		ip := frame.IPv4(b[frame.EthernetMinimumSize:])
		if !ip.IsValid() {
			t.Fatalf("frame %d: gopacket built an invalid IPv4 header % x", i, b)
		}
		if got, want := ip.CalculateChecksum(), ip.Checksum(); got != want {
			t.Fatalf("frame %d: IPv4 CalculateChecksum = %#04x, gopacket wrote %#04x", i, got, want)
		}
		tcp := frame.TCP(ip.Payload())
		if got, want := tcp.CalculateChecksum(spec.src, spec.dst), tcp.Checksum(); got != want {
			t.Fatalf("frame %d: TCP CalculateChecksum = %#04x, gopacket wrote %#04x", i, got, want)
		}
	}
}

func BenchmarkChecksum(b *testing.B) {
	for _, size := range []int{20, 40, 64, 1500, 9000} {
		buf := make([]byte, size)
		rand.New(rand.NewSource(1)).Read(buf)
		b.Run(fmt.Sprintf("fast/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				frame.Checksum(buf, 0)
			}
		})
		b.Run(fmt.Sprintf("rfc1071/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				rfc1071(buf, 0)
			}
		})
	}
}
