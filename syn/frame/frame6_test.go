package frame_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/frame"
)

// IPv6 addresses of the tests, in the documentation prefix (RFC 3849).
var (
	scanAddr6   = netip.MustParseAddr("2001:db8::2")
	targetAddr6 = netip.MustParseAddr("2001:db8:16::5")
)

// target6Hi and target6Lo are targetAddr6 as the two integers Write takes.
var target6Hi, target6Lo = func() (uint64, uint64) {
	b := targetAddr6.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}()

// serialize6 is serialize for IPv6 frames: gopacket computes the TCP
// checksum over the IPv6 pseudo-header.
func serialize6(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		if tcp, ok := l.(*layers.TCP); ok {
			for _, l2 := range ls {
				if ip, ok := l2.(*layers.IPv6); ok {
					if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	return serialize(t, ls...)
}

// gopacketOptions6 is gopacketOptions with the IPv6 MSS.
func gopacketOptions6(o frame.TCPOptions) []layers.TCPOption {
	opts := gopacketOptions(o)
	if len(opts) > 0 {
		opts[0].OptionData = []byte{0x05, 0xa0} // 1440
	}
	return opts
}

func TestPseudoHeaderChecksum6(t *testing.T) {
	rng := rand.New(rand.NewSource(86))
	for range 10_000 {
		var src, dst [16]byte
		rng.Read(src[:])
		rng.Read(dst[:])
		length := rng.Uint32()
		if rng.Intn(4) == 0 {
			length &= 0xffff
		}
		proto := uint8(rng.Intn(256))
		// RFC 8200 section 8.1's pseudo-header, summed word by word.
		ph := make([]byte, 0, 40)
		ph = append(ph, src[:]...)
		ph = append(ph, dst[:]...)
		ph = binary.BigEndian.AppendUint32(ph, length)
		ph = append(ph, 0, 0, 0, proto)
		if got, want := frame.PseudoHeaderChecksum6(proto, src, dst, length), rfc1071(ph, 0); got != want {
			t.Fatalf("PseudoHeaderChecksum6 = %#04x, RFC 1071 loop over the pseudo-header = %#04x", got, want)
		}
	}
}

func TestNewTemplate6Errors(t *testing.T) {
	good := func() *frame.Template6Config {
		return &frame.Template6Config{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr6, Options: frame.OptionsLinux}
	}
	tests := []struct {
		name    string
		mutate  func(*frame.Template6Config) *frame.Template6Config
		wantErr string
	}{
		{"nil config", func(*frame.Template6Config) *frame.Template6Config { return nil }, "frame: nil Template6Config"},
		{"short source MAC", func(c *frame.Template6Config) *frame.Template6Config { c.SrcMAC = scanMAC[:5]; return c },
			`frame: source MAC "02:00:5e:10:00" is 5 bytes, want 6`},
		{"missing destination MAC", func(c *frame.Template6Config) *frame.Template6Config { c.DstMAC = nil; return c },
			`frame: destination MAC "" is 0 bytes, want 6`},
		{"IPv4 source", func(c *frame.Template6Config) *frame.Template6Config {
			c.SrcAddr = netip.MustParseAddr("198.18.0.2")
			return c
		}, "frame: source address 198.18.0.2 is not an IPv6 address"},
		{"IPv4-mapped source", func(c *frame.Template6Config) *frame.Template6Config {
			c.SrcAddr = netip.MustParseAddr("::ffff:198.18.0.2")
			return c
		}, "frame: source address ::ffff:198.18.0.2 is not an IPv6 address"},
		{"no source", func(c *frame.Template6Config) *frame.Template6Config { c.SrcAddr = netip.Addr{}; return c },
			"frame: source address invalid IP is not an IPv6 address"},
		{"unspecified source", func(c *frame.Template6Config) *frame.Template6Config { c.SrcAddr = netip.IPv6Unspecified(); return c },
			"frame: source address :: cannot receive replies"},
		{"multicast source", func(c *frame.Template6Config) *frame.Template6Config {
			c.SrcAddr = netip.MustParseAddr("ff02::1")
			return c
		}, "frame: source address ff02::1 cannot receive replies"},
		{"zoned source", func(c *frame.Template6Config) *frame.Template6Config {
			c.SrcAddr = netip.MustParseAddr("fe80::1%eth0")
			return c
		}, "frame: source address fe80::1%eth0 has a zone"},
		{"zero options", func(c *frame.Template6Config) *frame.Template6Config { c.Options = 0; return c },
			"frame: invalid TCP options layout TCPOptions(0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := frame.NewTemplate6(tt.mutate(good()))
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("NewTemplate6 = %v, %v; want error %q", tmpl, err, tt.wantErr)
			}
		})
	}
}

// TestTemplate6WriteMatchesGopacket builds thousands of IPv6 probes for
// every layout: gopacket must decode each to exactly the expected fields,
// and each must be byte-identical to gopacket's serialization of those
// fields, the TCP checksum over the IPv6 pseudo-header included.
func TestTemplate6WriteMatchesGopacket(t *testing.T) {
	rng := rand.New(rand.NewSource(8200))
	for _, layout := range allLayouts {
		for _, hdr := range []struct {
			hop, wantHop       uint8
			window, wantWindow uint16
		}{
			{0, 64, 0, 65535},
			{255, 255, 1024, 1024},
		} {
			var src [16]byte
			rng.Read(src[:])
			src[0] = 0x20
			cfg := &frame.Template6Config{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: netip.AddrFrom16(src),
				HopLimit: hdr.hop, Window: hdr.window, Options: layout}
			t.Run(fmt.Sprintf("%v/hop=%d/window=%d", layout, hdr.hop, hdr.window), func(t *testing.T) {
				tmpl, err := frame.NewTemplate6(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if want := 14 + 40 + 20 + layout.Len(); tmpl.Len() != want {
					t.Fatalf("Len() = %d, want %d", tmpl.Len(), want)
				}
				buf := make([]byte, 160)
				for i := range 2000 {
					var daddr [16]byte
					rng.Read(daddr[:])
					dport, sport := uint16(rng.Uint32()), uint16(rng.Uint32())
					seq, flow := rng.Uint32(), rng.Uint32()
					switch i {
					case 0:
						daddr, dport, sport, seq, flow = [16]byte{}, 0, 0, 0, 0
					case 1:
						daddr = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
						dport, sport, seq, flow = 0xffff, 0xffff, ^uint32(0), ^uint32(0)
					}
					for j := range buf {
						buf[j] = 0xa5
					}
					n := tmpl.Write(buf, binary.BigEndian.Uint64(daddr[:8]), binary.BigEndian.Uint64(daddr[8:]), dport, sport, seq, flow)
					if n != tmpl.Len() {
						t.Fatalf("Write = %d, want %d", n, tmpl.Len())
					}
					if buf[n] != 0xa5 {
						t.Fatal("Write wrote beyond its length")
					}
					got := buf[:n]
					pkt := gopacket.NewPacket(got, layers.LayerTypeEthernet, gopacket.Default)
					if el := pkt.ErrorLayer(); el != nil {
						t.Fatalf("gopacket cannot decode % x: %v", got, el.Error())
					}
					ip, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
					tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
					if ip == nil || tcp == nil {
						t.Fatalf("gopacket found layers %v in % x", pkt.Layers(), got)
					}
					checks := []struct {
						name      string
						got, want any
					}{
						{"ip version", ip.Version, uint8(6)},
						{"ip traffic class", ip.TrafficClass, uint8(0)},
						{"ip flow label", ip.FlowLabel, flow & 0xfffff},
						{"ip payload length", int(ip.Length), 20 + layout.Len()},
						{"ip next header", ip.NextHeader, layers.IPProtocolTCP},
						{"ip hop limit", ip.HopLimit, hdr.wantHop},
						{"ip src", ip.SrcIP.String(), cfg.SrcAddr.String()},
						{"ip dst", ip.DstIP.String(), netip.AddrFrom16(daddr).String()},
						{"tcp sport", tcp.SrcPort, layers.TCPPort(sport)},
						{"tcp dport", tcp.DstPort, layers.TCPPort(dport)},
						{"tcp seq", tcp.Seq, seq},
						{"tcp flags", [9]bool{tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR, tcp.NS}, [9]bool{1: true}},
						{"tcp window", tcp.Window, hdr.wantWindow},
						{"tcp checksum", tcp.Checksum, frame.TCP(tcp.Contents).CalculateChecksum6(cfg.SrcAddr.As16(), daddr)},
					}
					for _, c := range checks {
						if c.got != c.want {
							t.Fatalf("probe %d: %s = %v, want %v", i, c.name, c.got, c.want)
						}
					}
					want := serialize6(t,
						&layers.Ethernet{SrcMAC: scanMAC, DstMAC: gatewayMAC, EthernetType: layers.EthernetTypeIPv6},
						&layers.IPv6{Version: 6, FlowLabel: flow & 0xfffff, NextHeader: layers.IPProtocolTCP, HopLimit: hdr.wantHop,
							SrcIP: cfg.SrcAddr.AsSlice(), DstIP: daddr[:]},
						&layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq,
							SYN: true, Window: hdr.wantWindow, Options: gopacketOptions6(layout)},
					)
					if !bytes.Equal(want, got) {
						t.Fatalf("probe %d differs from gopacket's:\n got % x\nwant % x", i, got, want)
					}
				}
			})
		}
	}
}

func TestTemplate6WriteShortBuffer(t *testing.T) {
	tmpl, err := frame.NewTemplate6(&frame.Template6Config{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr6, Options: frame.OptionsWindows})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 73, 74, tmpl.Len() - 1} {
		buf := make([]byte, size)
		if n := tmpl.Write(buf, target6Hi, target6Lo, 993, 40000, 1, 2); n != 0 || nonZero(buf) {
			t.Errorf("Write into %d bytes = %d, wrote % x; want 0 and nothing", size, n, buf)
		}
	}
	buf := make([]byte, 2048)
	if n := tmpl.Write(buf, target6Hi, target6Lo, 993, 40000, 1, 2); n != tmpl.Len() || nonZero(buf[n:]) {
		t.Errorf("Write into 2048 bytes = %d, want %d and nothing beyond", n, tmpl.Len())
	}
}

func TestTemplate6WriteAllocs(t *testing.T) {
	for _, layout := range allLayouts {
		tmpl, err := frame.NewTemplate6(&frame.Template6Config{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr6, Options: layout})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, tmpl.Len())
		lo := target6Lo
		if n := testing.AllocsPerRun(1000, func() {
			lo++
			tmpl.Write(buf, target6Hi, lo, 993, 40000, uint32(lo)*2654435761, uint32(lo))
		}); n != 0 {
			t.Errorf("%v: Write allocates %v times per probe", layout, n)
		}
	}
}

func BenchmarkWrite6(b *testing.B) {
	for _, layout := range allLayouts {
		b.Run(layout.String(), func(b *testing.B) {
			tmpl, err := frame.NewTemplate6(&frame.Template6Config{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr6, Options: layout})
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, tmpl.Len())
			b.SetBytes(int64(tmpl.Len()))
			b.ReportAllocs()
			var i uint32
			for b.Loop() {
				i++
				tmpl.Write(buf, target6Hi, target6Lo+uint64(i&0xfff), 993, 32768+uint16(i), i*2654435761, i)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// replySpec6 describes an IPv6 reply frame to build with gopacket.
type replySpec6 struct {
	vlan       bool
	hopByHop   bool // a hop-by-hop options header before TCP
	tcpOptions []layers.TCPOption
	src, dst   netip.Addr
	sport      uint16
	dport      uint16
	seq, ack   uint32
	synFlag    bool
	ackFlag    bool
	rstFlag    bool
	hop        uint8
	window     uint16
	flow       uint32
	payload    []byte
}

func (s replySpec6) build(t testing.TB) []byte {
	t.Helper()
	if s.hopByHop {
		// gopacket does not serialize an extension header's next header
		// on its own: build it by hand.
		return hopByHopFrame(t, s)
	}
	eth := &layers.Ethernet{SrcMAC: gatewayMAC, DstMAC: scanMAC, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, HopLimit: s.hop, FlowLabel: s.flow, NextHeader: layers.IPProtocolTCP,
		SrcIP: s.src.AsSlice(), DstIP: s.dst.AsSlice()}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.sport), DstPort: layers.TCPPort(s.dport),
		Seq: s.seq, Ack: s.ack, SYN: s.synFlag, ACK: s.ackFlag, RST: s.rstFlag,
		Window: s.window, Options: s.tcpOptions,
	}
	ls := []gopacket.SerializableLayer{eth}
	if s.vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv6})
	}
	ls = append(ls, ip, tcp)
	if s.payload != nil {
		ls = append(ls, gopacket.Payload(s.payload))
	}
	return serialize6(t, ls...)
}

// hopByHopFrame builds s with an 8-byte hop-by-hop header (PadN) before
// the TCP header.
func hopByHopFrame(t testing.TB, s replySpec6) []byte {
	t.Helper()
	s.hopByHop = false
	b := s.build(t)
	off := 14
	if s.vlan {
		off = 18
	}
	ext := []byte{byte(layers.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}
	out := append(append(bytes.Clone(b[:off+40]), ext...), b[off+40:]...)
	out[off+6] = 0 // next header: hop-by-hop
	binary.BigEndian.PutUint16(out[off+4:], binary.BigEndian.Uint16(out[off+4:])+8)
	return out
}

func synAck6Spec() replySpec6 {
	return replySpec6{
		src: targetAddr6, dst: scanAddr6, sport: 993, dport: 40000,
		seq: 0x8a3e41d2, ack: 0x12345679, synFlag: true, ackFlag: true,
		hop: 64, window: 64800, flow: 0x5a5a5, tcpOptions: linuxSynAckOptions(0x9c2d4e11, 1),
	}
}

func synAck6(t testing.TB) []byte { return synAck6Spec().build(t) }

func TestParseReply6(t *testing.T) {
	want := frame.Reply{
		SrcPort: 993, DstPort: 40000, Seq: 0x8a3e41d2, Ack: 0x12345679,
		Flags: frame.TCPFlagSYN | frame.TCPFlagACK, TTL: 64, Window: 64800,
		V6: true, SrcAddr6: targetAddr6.As16(), DstAddr6: scanAddr6.As16(),
	}
	rstWant := want
	rstWant.Flags, rstWant.Seq, rstWant.Window, rstWant.Ack = frame.TCPFlagRST|frame.TCPFlagACK, 0, 0, 0x0badf00e
	with := func(f func(*replySpec6)) []byte {
		s := synAck6Spec()
		f(&s)
		return s.build(t)
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  frame.Reply
	}{
		{"Linux SYN-ACK", synAck6(t), want},
		{"VLAN SYN-ACK", with(func(s *replySpec6) { s.vlan = true }), want},
		{"SYN-ACK with payload", with(func(s *replySpec6) { s.payload = []byte("data") }), want},
		{"SYN-ACK with padding", append(synAck6(t), 0, 0, 0, 0, 0, 0), want},
		{"RST-ACK", with(func(s *replySpec6) {
			s.synFlag, s.rstFlag, s.seq, s.window, s.ack, s.tcpOptions = false, true, 0, 0, 0x0badf00e, nil
		}), rstWant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r frame.Reply
			r.SrcAddr, r.IPID = 7, 9 // stale fields of an earlier IPv4 reply
			if !frame.ParseReply(tc.frame, &r) {
				t.Fatalf("ParseReply rejected % x", tc.frame)
			}
			if r != tc.want {
				t.Fatalf("ParseReply = %+v\nwant %+v", r, tc.want)
			}
			checkAgainstGopacket(t, tc.frame, &r)
		})
	}
	// An IPv4 reply after an IPv6 one clears V6.
	var r frame.Reply
	frame.ParseReply(synAck6(t), &r)
	if !frame.ParseReply(synAckLinux(t), &r) || r.V6 || r.SrcAddr != targetAddr {
		t.Fatalf("IPv4 reply after IPv6: %+v", r)
	}
}

// TestParseReply6Rejects mutates a valid IPv6 SYN-ACK into each kind of
// frame ParseReply must refuse.
func TestParseReply6Rejects(t *testing.T) {
	base := synAck6(t)
	const ip, tcp = 14, 14 + 40
	put16 := func(b []byte, at int, v uint16) { binary.BigEndian.PutUint16(b[at:], v) }
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   bool
	}{
		{"unchanged", func(b []byte) []byte { return b }, true},
		{"traffic class set", func(b []byte) []byte { b[ip] |= 0x0f; return b }, true},
		{"bad checksum is not checked", func(b []byte) []byte { b[tcp+16] ^= 0xff; return b }, true},

		{"version 4", func(b []byte) []byte { b[ip] = 0x40 | b[ip]&0x0f; return b }, false},
		{"version 0", func(b []byte) []byte { b[ip] &= 0x0f; return b }, false},
		{"header cut short", func(b []byte) []byte { return b[:ip+39] }, false},
		{"payload length beyond frame", func(b []byte) []byte { put16(b, ip+4, uint16(len(b)-ip-40+1)); return b }, false},
		{"payload length 65535", func(b []byte) []byte { put16(b, ip+4, 0xffff); return b }, false},
		{"payload length 0 (jumbogram)", func(b []byte) []byte { put16(b, ip+4, 0); return b }, false},
		{"payload length leaves 19 TCP bytes", func(b []byte) []byte { put16(b, ip+4, 19); return b }, false},
		{"payload shorter than the TCP options", func(b []byte) []byte { put16(b, ip+4, 20); return b }, false},
		{"UDP", func(b []byte) []byte { b[ip+6] = 17; return b }, false},
		{"ICMPv6", func(b []byte) []byte { b[ip+6] = 58; return b }, false},
		{"fragment header", func(b []byte) []byte { b[ip+6] = 44; return b }, false},
		{"hop-by-hop header", func(b []byte) []byte { return with6(t, func(s *replySpec6) { s.hopByHop = true }) }, false},
		{"data offset 4", func(b []byte) []byte { b[tcp+12] = 0x40; return b }, false},
		{"data offset beyond packet", func(b []byte) []byte { b[tcp+12] = 0xf0; return b }, false},
		{"IPv4 EtherType", func(b []byte) []byte { put16(b, 12, 0x0800); return b }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.mutate(bytes.Clone(base))
			var r frame.Reply
			if got := frame.ParseReply(b, &r); got != tt.want {
				t.Fatalf("ParseReply = %v, want %v for % x", got, tt.want, b)
			}
			if r != (frame.Reply{}) && !tt.want {
				t.Fatalf("a rejected frame changed the reply: %+v", r)
			}
		})
	}
}

func with6(t testing.TB, f func(*replySpec6)) []byte {
	s := synAck6Spec()
	f(&s)
	return s.build(t)
}

// TestParseReply6Garbage is TestParseReplyGarbage for frames shaped like
// IPv6/TCP.
func TestParseReply6Garbage(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	accepted := 0
	for i := range 50_000 {
		b := make([]byte, 14+40+rng.Intn(100))
		rng.Read(b)
		put := 14
		if i%8 == 1 {
			binary.BigEndian.PutUint16(b[12:], 0x8100)
			put = 18
		}
		binary.BigEndian.PutUint16(b[put-2:], 0x86dd)
		if len(b) >= put+40 && i%4 != 0 {
			b[put] = 0x60 | b[put]&0x0f
			binary.BigEndian.PutUint16(b[put+4:], uint16(len(b)-put-40-rng.Intn(8)))
			b[put+6] = 6
			if th := put + 40; len(b) >= th+13 {
				b[th+12] = byte(5+rng.Intn(4)) << 4
			}
		}
		var r frame.Reply
		if frame.ParseReply(b, &r) {
			accepted++
			checkAgainstGopacket(t, b, &r)
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d of 50000 shaped frames were accepted (bad test)", accepted)
	}
}

func TestParseReply6Allocs(t *testing.T) {
	b := synAck6(t)
	var r frame.Reply
	if n := testing.AllocsPerRun(1000, func() {
		if !frame.ParseReply(b, &r) {
			t.Fatal("ParseReply = false")
		}
	}); n != 0 {
		t.Errorf("ParseReply allocates %v times per IPv6 frame", n)
	}
}

// TestProbe6ReplyRoundTrip: a probe's own header fields, swapped as a
// reply swaps them, parse back to the probe's addresses and ports.
func TestProbe6ReplyRoundTrip(t *testing.T) {
	tmpl, err := frame.NewTemplate6(&frame.Template6Config{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr6, Options: frame.OptionsMSS})
	if err != nil {
		t.Fatal(err)
	}
	probe := make([]byte, tmpl.Len())
	tmpl.Write(probe, target6Hi, target6Lo, 143, 61234, 0xdeadbeef, 7)
	reply := replySpec6{src: targetAddr6, dst: scanAddr6, sport: 143, dport: 61234, ack: 0xdeadbeef + 1,
		synFlag: true, ackFlag: true, hop: 63, window: 1}.build(t)
	var r frame.Reply
	if !frame.ParseReply(reply, &r) || r.SrcAddr6 != frame.IPv6(probe[14:]).DestinationAddress() ||
		r.DstAddr6 != frame.IPv6(probe[14:]).SourceAddress() || r.Ack-1 != frame.TCP(probe[54:]).SequenceNumber() {
		t.Fatalf("reply %+v does not answer probe % x", r, probe)
	}
}
