package cookie_test

import (
	"encoding/binary"
	"math/rand"
	"net"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/cookie"
	"mailscan/syn/frame"
)

// Addresses in 198.18.0.0/15 (RFC 2544); nothing is sent.
const (
	scanAddr   = 0xc6120001 // 198.18.0.1
	targetAddr = 0xc6121005 // 198.18.16.5
)

func mustNew(t testing.TB, key cookie.Key, first, last uint16) *cookie.Cookie {
	t.Helper()
	c, err := cookie.New(key, first, last)
	if err != nil {
		t.Fatalf("New(%d, %d): %v", first, last, err)
	}
	return c
}

func randomKey(rng *rand.Rand) (k cookie.Key) {
	rng.Read(k[:])
	return k
}

func TestNew(t *testing.T) {
	tests := []struct {
		first, last uint16
		wantErr     string
	}{
		{1, 1, ""},
		{1, 65535, ""},
		{65535, 65535, ""},
		{32768, 60999, ""},
		{0, 0, "cookie: source port range 0-0 includes port 0"},
		{0, 100, "cookie: source port range 0-100 includes port 0"},
		{40001, 40000, "cookie: source port range 40001-40000 is empty"},
		{65535, 1, "cookie: source port range 65535-1 is empty"},
	}
	for _, tt := range tests {
		c, err := cookie.New(cookie.Key{}, tt.first, tt.last)
		switch {
		case tt.wantErr == "" && (err != nil || c == nil):
			t.Errorf("New(%d, %d) = %v, %v; want a Cookie", tt.first, tt.last, c, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("New(%d, %d) = %v, %v; want error %q", tt.first, tt.last, c, err, tt.wantErr)
		}
	}
}

func TestNewKey(t *testing.T) {
	a, err := cookie.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := cookie.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a == (cookie.Key{}) {
		t.Errorf("NewKey returned %x and %x", a, b)
	}
}

// TestKnownAnswer pins the hash input layout (key, then saddr, daddr and
// dport big-endian) and the derivation of seq and sport from it, with
// xxhash as the oracle.
func TestKnownAnswer(t *testing.T) {
	key := cookie.Key{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	in := append(key[:],
		198, 18, 0, 1, // saddr
		198, 18, 16, 5, // daddr
		0x03, 0xe1, // dport 993
	)
	h := xxhash.Sum64(in)
	c := mustNew(t, key, 32768, 60999)
	sport, seq := c.Probe(scanAddr, targetAddr, 993)
	if wantSeq, wantSport := uint32(h), uint16(32768+(h>>32)%28232); seq != wantSeq || sport != wantSport {
		t.Errorf("Probe = %d, %#x; want %d, %#x", sport, seq, wantSport, wantSeq)
	}
}

type tuple struct {
	saddr, daddr uint32
	dport        uint16
}

func randomTuples(rng *rand.Rand, n int) []tuple {
	ts := make([]tuple, n)
	for i := range ts {
		ts[i] = tuple{0xc6120000 | rng.Uint32()&0x1ffff, rng.Uint32(), uint16(rng.Uint32())}
	}
	return ts
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, r := range []struct{ first, last uint16 }{{1, 1}, {1, 65535}, {32768, 60999}, {40000, 40007}} {
		c := mustNew(t, randomKey(rng), r.first, r.last)
		for _, tu := range randomTuples(rng, 20_000) {
			sport, seq := c.Probe(tu.saddr, tu.daddr, tu.dport)
			if !c.Check(tu.saddr, tu.daddr, tu.dport, sport, seq+1) {
				t.Fatalf("range %d-%d: reply to probe %+v (sport %d, seq %#x) rejected", r.first, r.last, tu, sport, seq)
			}
			if s2, q2 := c.Probe(tu.saddr, tu.daddr, tu.dport); s2 != sport || q2 != seq {
				t.Fatalf("Probe is not deterministic for %+v", tu)
			}
		}
	}
}

// TestTamperedRepliesReject changes each field of a valid reply, one at a
// time, and requires Check to reject every result. A random forgery passes
// with probability about 2^-35 here, so with seeded tuples a failure is a
// bug, not bad luck.
func TestTamperedRepliesReject(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	const first, last = 40000, 40007
	key := randomKey(rng)
	c := mustNew(t, key, first, last)
	otherKey := key
	otherKey[rng.Intn(len(otherKey))] ^= 1 << rng.Intn(8)
	other := mustNew(t, otherKey, first, last)
	nonzero := func() uint32 {
		for {
			if v := rng.Uint32(); v != 0 {
				return v
			}
		}
	}
	for i, tu := range randomTuples(rng, 20_000) {
		sport, seq := c.Probe(tu.saddr, tu.daddr, tu.dport)
		ack := seq + 1
		otherPort := first + (sport-first+1+uint16(rng.Intn(last-first)))%(last-first+1)
		tampered := []struct {
			name         string
			laddr, raddr uint32
			rport, lport uint16
			ack          uint32
			c            *cookie.Cookie
		}{
			{"laddr+1", tu.saddr + 1, tu.daddr, tu.dport, sport, ack, c},
			{"laddr^x", tu.saddr ^ nonzero(), tu.daddr, tu.dport, sport, ack, c},
			{"raddr+1", tu.saddr, tu.daddr + 1, tu.dport, sport, ack, c},
			{"raddr^x", tu.saddr, tu.daddr ^ nonzero(), tu.dport, sport, ack, c},
			{"rport+1", tu.saddr, tu.daddr, tu.dport + 1, sport, ack, c},
			{"rport^x", tu.saddr, tu.daddr, tu.dport ^ uint16(1+rng.Intn(0xffff)), sport, ack, c},
			{"lport other in range", tu.saddr, tu.daddr, tu.dport, otherPort, ack, c},
			{"lport out of range", tu.saddr, tu.daddr, tu.dport, sport + (last - first + 1), ack, c},
			{"ack+1", tu.saddr, tu.daddr, tu.dport, sport, ack + 1, c},
			{"ack-1 (= seq)", tu.saddr, tu.daddr, tu.dport, sport, ack - 1, c},
			{"ack^x", tu.saddr, tu.daddr, tu.dport, sport, ack ^ nonzero(), c},
			{"swapped addresses", tu.daddr, tu.saddr, tu.dport, sport, ack, c},
			{"other key", tu.saddr, tu.daddr, tu.dport, sport, ack, other},
		}
		for _, tt := range tampered {
			if tt.laddr == tu.saddr && tt.raddr == tu.daddr && tt.rport == tu.dport &&
				tt.lport == sport && tt.ack == ack && tt.c == c {
				t.Fatalf("tuple %d, %s: nothing was tampered with (bad test)", i, tt.name)
			}
			if tt.c.Check(tt.laddr, tt.raddr, tt.rport, tt.lport, tt.ack) {
				t.Fatalf("tuple %d %+v, %s: tampered reply accepted", i, tu, tt.name)
			}
		}
	}
}

func TestSourcePortRange(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, r := range []struct{ first, last uint16 }{{1, 1}, {65535, 65535}, {1, 65535}, {1, 2}, {65534, 65535}, {32768, 60999}} {
		c := mustNew(t, randomKey(rng), r.first, r.last)
		seen := map[uint16]bool{}
		for _, tu := range randomTuples(rng, 50_000) {
			sport, _ := c.Probe(tu.saddr, tu.daddr, tu.dport)
			if sport < r.first || sport > r.last {
				t.Fatalf("range %d-%d: Probe(%+v) source port %d", r.first, r.last, tu, sport)
			}
			seen[sport] = true
		}
		// Small ranges must be covered completely.
		if size := int(r.last-r.first) + 1; size <= 2 && len(seen) != size {
			t.Errorf("range %d-%d: only %d distinct ports seen", r.first, r.last, len(seen))
		}
	}
}

// TestSourcePortDistribution checks that ports spread evenly over a small
// range: Pearson's chi-square statistic over 16 ports (15 degrees of
// freedom, 99.9th percentile 37.7) must stay below a loose 50.
func TestSourcePortDistribution(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	const first, last, n = 50000, 50015, 160_000
	c := mustNew(t, randomKey(rng), first, last)
	var counts [last - first + 1]int
	// Sequential targets, as a scan of a /16 on one port produces.
	for i := range uint32(n) {
		sport, _ := c.Probe(scanAddr, 0xc6120000+i, 25)
		counts[sport-first]++
	}
	expected := float64(n) / float64(len(counts))
	var chi2 float64
	for _, got := range counts {
		d := float64(got) - expected
		chi2 += d * d / expected
	}
	if chi2 > 50 {
		t.Errorf("chi-square = %.1f over 15 degrees of freedom, want < 50; counts %v", chi2, counts)
	}
}

func TestAllocs(t *testing.T) {
	c := mustNew(t, cookie.Key{7}, 32768, 60999)
	var daddr uint32 = targetAddr
	var sport uint16
	var seq uint32
	if n := testing.AllocsPerRun(1000, func() {
		daddr++
		sport, seq = c.Probe(scanAddr, daddr, 993)
	}); n != 0 {
		t.Errorf("Probe allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if !c.Check(scanAddr, daddr, 993, sport, seq+1) {
			t.Fatal("Check = false")
		}
	}); n != 0 {
		t.Errorf("Check allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	c := mustNew(b, cookie.Key{7}, 32768, 60999)
	b.ReportAllocs()
	var i uint32
	var sink uint32
	for b.Loop() {
		i++
		sport, seq := c.Probe(scanAddr, targetAddr+i, 993)
		sink += uint32(sport) + seq
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "probes/s")
	_ = sink
}

func BenchmarkCheck(b *testing.B) {
	c := mustNew(b, cookie.Key{7}, 32768, 60999)
	const n = 1024
	var replies [n]struct {
		daddr uint32
		sport uint16
		ack   uint32
	}
	for i := range replies {
		r := &replies[i]
		r.daddr = targetAddr + uint32(i)
		var seq uint32
		r.sport, seq = c.Probe(scanAddr, r.daddr, 993)
		r.ack = seq + 1
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := &replies[i%n]
		if !c.Check(scanAddr, r.daddr, 993, r.sport, r.ack) {
			b.Fatal("Check = false")
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}

// BenchmarkHash compares the two ways of computing the cookie hash with
// xxhash: Sum64 over a stack array holding key and tuple (what the package
// does), and a Digest that has absorbed the key once, copied and fed the
// 10-byte tuple per probe.
func BenchmarkHash(b *testing.B) {
	key := cookie.Key{7}
	b.Run("Sum64", func(b *testing.B) {
		b.ReportAllocs()
		var sink uint64
		var i uint32
		for b.Loop() {
			i++
			var in [26]byte
			copy(in[:], key[:])
			binary.BigEndian.PutUint32(in[16:], scanAddr)
			binary.BigEndian.PutUint32(in[20:], targetAddr+i)
			binary.BigEndian.PutUint16(in[24:], 993)
			sink += xxhash.Sum64(in[:])
		}
		_ = sink
	})
	b.Run("Digest", func(b *testing.B) {
		base := xxhash.New()
		base.Write(key[:])
		b.ReportAllocs()
		var sink uint64
		var i uint32
		for b.Loop() {
			i++
			var tu [10]byte
			binary.BigEndian.PutUint32(tu[0:], scanAddr)
			binary.BigEndian.PutUint32(tu[4:], targetAddr+i)
			binary.BigEndian.PutUint16(tu[8:], 993)
			d := *base
			d.Write(tu[:])
			sink += d.Sum64()
		}
		_ = sink
	})
}

// BenchmarkValidateReply is the receiver's per-frame work: parse a captured
// SYN-ACK and check its cookie.
func BenchmarkValidateReply(b *testing.B) {
	c := mustNew(b, cookie.Key{7}, 32768, 60999)
	sport, seq := c.Probe(scanAddr, targetAddr, 993)
	ip := &layers.IPv4{Version: 4, TTL: 52, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IPv4(198, 18, 16, 5), DstIP: net.IPv4(198, 18, 0, 1)}
	tcp := &layers.TCP{SrcPort: 993, DstPort: layers.TCPPort(sport), Seq: 0x8a3e41d2, Ack: seq + 1,
		SYN: true, ACK: true, Window: 65160}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		b.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1},
			EthernetType: layers.EthernetTypeIPv4}, ip, tcp)
	if err != nil {
		b.Fatal(err)
	}
	fr := buf.Bytes()
	var r frame.Reply
	b.ReportAllocs()
	for b.Loop() {
		if !frame.ParseReply(fr, &r) || !c.Check(r.DstAddr, r.SrcAddr, r.SrcPort, r.DstPort, r.Ack) {
			b.Fatal("reply rejected")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
