package cookie_test

import (
	"encoding/binary"
	"math/rand"
	"net"
	"net/netip"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/cookie"
	"mailscan/syn/frame"
)

// IPv6 addresses of the tests, in the documentation prefix; nothing is sent.
var (
	scan6   = netip.MustParseAddr("2001:db8::2")
	target6 = netip.MustParseAddr("2001:db8:16::5")
)

func split(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// TestKnownAnswer6 pins the IPv6 hash input: key, 16-byte saddr, 16-byte
// daddr, dport, all big-endian.
func TestKnownAnswer6(t *testing.T) {
	key := cookie.Key{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	s, d := scan6.As16(), target6.As16()
	in := append(append(append(key[:], s[:]...), d[:]...), 0x03, 0xe1)
	h := xxhash.Sum64(in)
	c := mustNew(t, key, 32768, 60999)
	sHi, sLo := split(scan6)
	dHi, dLo := split(target6)
	sport, seq := c.Probe6(sHi, sLo, dHi, dLo, 993)
	if wantSeq, wantSport := uint32(h), uint16(32768+(h>>32)%28232); seq != wantSeq || sport != wantSport {
		t.Errorf("Probe6 = %d, %#x; want %d, %#x", sport, seq, wantSport, wantSeq)
	}
	// The IPv4-mapped form of an IPv4 probe is another input: the families
	// never share a cookie.
	m4, m6 := netip.MustParseAddr("::ffff:198.18.0.1"), netip.MustParseAddr("::ffff:198.18.16.5")
	h4, l4 := split(m4)
	h6, l6 := split(m6)
	s6, q6 := c.Probe6(h4, l4, h6, l6, 993)
	s4, q4 := c.Probe(scanAddr, targetAddr, 993)
	if s6 == s4 && q6 == q4 {
		t.Error("an IPv4 probe and its IPv4-mapped IPv6 form share a cookie")
	}
}

type tuple6 struct {
	sHi, sLo, dHi, dLo uint64
	dport              uint16
}

func randomTuples6(rng *rand.Rand, n int) []tuple6 {
	ts := make([]tuple6, n)
	for i := range ts {
		ts[i] = tuple6{0x20010db8 << 32, rng.Uint64(), 0x2a00<<48 | rng.Uint64()>>16, rng.Uint64(), uint16(rng.Uint32())}
	}
	return ts
}

func TestRoundTrip6(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, r := range []struct{ first, last uint16 }{{1, 1}, {1, 65535}, {61000, 65535}} {
		c := mustNew(t, randomKey(rng), r.first, r.last)
		for _, tu := range randomTuples6(rng, 20_000) {
			sport, seq := c.Probe6(tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport)
			if sport < r.first || sport > r.last {
				t.Fatalf("source port %d outside %d-%d", sport, r.first, r.last)
			}
			if !c.Check6(tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport, sport, seq+1) {
				t.Fatalf("range %d-%d: reply to probe %+v rejected", r.first, r.last, tu)
			}
		}
	}
}

// TestTamperedRepliesReject6 changes each part of a valid IPv6 reply, every
// 64-bit half of both addresses included, and requires Check6 to reject it.
func TestTamperedRepliesReject6(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	const first, last = 40000, 40007
	key := randomKey(rng)
	c := mustNew(t, key, first, last)
	otherKey := key
	otherKey[rng.Intn(len(otherKey))] ^= 1 << rng.Intn(8)
	other := mustNew(t, otherKey, first, last)
	bit := func() uint64 { return 1 << rng.Intn(64) }
	for i, tu := range randomTuples6(rng, 20_000) {
		sport, seq := c.Probe6(tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport)
		ack := seq + 1
		for _, tt := range []struct {
			name               string
			lHi, lLo, rHi, rLo uint64
			rport, lport       uint16
			ack                uint32
			c                  *cookie.Cookie
		}{
			{"laddr high bit", tu.sHi ^ bit(), tu.sLo, tu.dHi, tu.dLo, tu.dport, sport, ack, c},
			{"laddr low bit", tu.sHi, tu.sLo ^ bit(), tu.dHi, tu.dLo, tu.dport, sport, ack, c},
			{"raddr high bit", tu.sHi, tu.sLo, tu.dHi ^ bit(), tu.dLo, tu.dport, sport, ack, c},
			{"raddr low bit", tu.sHi, tu.sLo, tu.dHi, tu.dLo ^ bit(), tu.dport, sport, ack, c},
			{"halves swapped", tu.sHi, tu.sLo, tu.dLo, tu.dHi, tu.dport, sport, ack, c},
			{"addresses swapped", tu.dHi, tu.dLo, tu.sHi, tu.sLo, tu.dport, sport, ack, c},
			{"rport+1", tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport + 1, sport, ack, c},
			{"lport out of range", tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport, sport + 8, ack, c},
			{"ack+1", tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport, sport, ack + 1, c},
			{"ack-1 (= seq)", tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport, sport, ack - 1, c},
			{"other key", tu.sHi, tu.sLo, tu.dHi, tu.dLo, tu.dport, sport, ack, other},
		} {
			if tt.c.Check6(tt.lHi, tt.lLo, tt.rHi, tt.rLo, tt.rport, tt.lport, tt.ack) {
				t.Fatalf("tuple %d %+v, %s: tampered reply accepted", i, tu, tt.name)
			}
		}
	}
}

func TestAllocs6(t *testing.T) {
	c := mustNew(t, cookie.Key{7}, 32768, 60999)
	sHi, sLo := split(scan6)
	dHi, dLo := split(target6)
	var sport uint16
	var seq uint32
	if n := testing.AllocsPerRun(1000, func() {
		dLo++
		sport, seq = c.Probe6(sHi, sLo, dHi, dLo, 993)
	}); n != 0 {
		t.Errorf("Probe6 allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if !c.Check6(sHi, sLo, dHi, dLo, 993, sport, seq+1) {
			t.Fatal("Check6 = false")
		}
	}); n != 0 {
		t.Errorf("Check6 allocates %v times", n)
	}
}

func BenchmarkProbe6(b *testing.B) {
	c := mustNew(b, cookie.Key{7}, 32768, 60999)
	sHi, sLo := split(scan6)
	dHi, dLo := split(target6)
	b.ReportAllocs()
	var sink uint32
	for b.Loop() {
		dLo++
		sport, seq := c.Probe6(sHi, sLo, dHi, dLo, 993)
		sink += uint32(sport) + seq
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "probes/s")
	_ = sink
}

// BenchmarkValidateReply6 is the receiver's per-frame work for an IPv6
// SYN-ACK: parse it and check its cookie.
func BenchmarkValidateReply6(b *testing.B) {
	c := mustNew(b, cookie.Key{7}, 32768, 60999)
	sHi, sLo := split(scan6)
	dHi, dLo := split(target6)
	sport, seq := c.Probe6(sHi, sLo, dHi, dLo, 993)
	ip := &layers.IPv6{Version: 6, HopLimit: 52, NextHeader: layers.IPProtocolTCP, SrcIP: target6.AsSlice(), DstIP: scan6.AsSlice()}
	tcp := &layers.TCP{SrcPort: 993, DstPort: layers.TCPPort(sport), Seq: 0x8a3e41d2, Ack: seq + 1, SYN: true, ACK: true, Window: 64800}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		b.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1},
			EthernetType: layers.EthernetTypeIPv6}, ip, tcp)
	if err != nil {
		b.Fatal(err)
	}
	fr := buf.Bytes()
	var r frame.Reply
	b.ReportAllocs()
	for b.Loop() {
		if !frame.ParseReply(fr, &r) {
			b.Fatal("reply rejected")
		}
		lHi, lLo := binary.BigEndian.Uint64(r.DstAddr6[:8]), binary.BigEndian.Uint64(r.DstAddr6[8:])
		rHi, rLo := binary.BigEndian.Uint64(r.SrcAddr6[:8]), binary.BigEndian.Uint64(r.SrcAddr6[8:])
		if !c.Check6(lHi, lLo, rHi, rLo, r.SrcPort, r.DstPort, r.Ack) {
			b.Fatal("reply rejected")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
