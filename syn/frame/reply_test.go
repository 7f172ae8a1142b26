package frame_test

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/frame"
)

func ipOpt(kind byte, length int) layers.IPv4Option {
	if kind <= 1 { // EOL, NOP
		return layers.IPv4Option{OptionType: kind, OptionLength: 1}
	}
	data := make([]byte, length-2)
	for i := range data {
		data[i] = byte(i + 1)
	}
	return layers.IPv4Option{OptionType: kind, OptionLength: uint8(length), OptionData: data}
}

func windowsSynAckOptions() []layers.TCPOption {
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{8}},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
	}
}

// replyCases are valid replies and what ParseReply must make of them.
func replyCases(t testing.TB) []struct {
	name  string
	frame []byte
	want  frame.Reply
} {
	synAck := frame.Reply{
		SrcAddr: targetAddr, DstAddr: scanAddr, SrcPort: 993, DstPort: 40000,
		Seq: 0x8a3e41d2, Ack: 0x12345679, Flags: frame.TCPFlagSYN | frame.TCPFlagACK,
		TTL: 64, Window: 65160, IPID: 0,
	}
	synAckSpec := replySpec{
		src: targetAddr, dst: scanAddr, sport: 993, dport: 40000,
		seq: 0x8a3e41d2, ack: 0x12345679, synFlag: true, ackFlag: true,
		ttl: 64, window: 65160, tcpOptions: linuxSynAckOptions(0x9c2d4e11, 1),
	}
	with := func(f func(*replySpec)) []byte {
		s := synAckSpec
		f(&s)
		return s.build(t)
	}
	type tc = struct {
		name  string
		frame []byte
		want  frame.Reply
	}
	return []tc{
		{"Linux SYN-ACK", synAckLinux(t), synAck},
		{"RST-ACK", rstAck(t), frame.Reply{
			SrcAddr: targetAddr, DstAddr: scanAddr, SrcPort: 143, DstPort: 40001,
			Seq: 0, Ack: 0x0badf00e, Flags: frame.TCPFlagRST | frame.TCPFlagACK, TTL: 64,
		}},
		{"RST", rst(t), frame.Reply{
			SrcAddr: targetAddr, DstAddr: scanAddr, SrcPort: 110, DstPort: 40002,
			Seq: 0x0badf00e, Flags: frame.TCPFlagRST, TTL: 255, IPID: 0x1234,
		}},
		{"Windows SYN-ACK", replySpec{
			src: targetAddr + 1, dst: scanAddr, sport: 587, dport: 65535,
			seq: 0xffffffff, ack: 0, synFlag: true, ackFlag: true,
			ttl: 128, window: 8192, id: 0x4d2, tcpOptions: windowsSynAckOptions(),
		}.build(t), frame.Reply{
			SrcAddr: targetAddr + 1, DstAddr: scanAddr, SrcPort: 587, DstPort: 65535,
			Seq: 0xffffffff, Ack: 0, Flags: frame.TCPFlagSYN | frame.TCPFlagACK,
			TTL: 128, Window: 8192, IPID: 0x4d2,
		}},
		{"IPv4 options 4 bytes", with(func(s *replySpec) {
			s.ipOptions = []layers.IPv4Option{ipOpt(0x94, 4)} // router alert
		}), synAck},
		{"IPv4 options 8 bytes", with(func(s *replySpec) {
			s.ipOptions = []layers.IPv4Option{ipOpt(7, 7), ipOpt(1, 1)} // record route, NOP
		}), synAck},
		{"IPv4 options 12 bytes", with(func(s *replySpec) {
			s.ipOptions = []layers.IPv4Option{ipOpt(1, 1), ipOpt(0x44, 11)} // NOP, timestamp
		}), synAck},
		{"IPv4 options 40 bytes", with(func(s *replySpec) {
			s.ipOptions = []layers.IPv4Option{ipOpt(7, 39), ipOpt(0, 1)} // record route, EOL
		}), synAck},
		{"802.1Q tag", with(func(s *replySpec) { s.vlan = true }), synAck},
		{"802.1Q tag and IPv4 options", with(func(s *replySpec) {
			s.vlan = true
			s.ipOptions = []layers.IPv4Option{ipOpt(0x94, 4), ipOpt(1, 1), ipOpt(1, 1), ipOpt(1, 1), ipOpt(0, 1)}
		}), synAck},
		{"SYN-ACK without options", with(func(s *replySpec) { s.tcpOptions = nil }), synAck},
		{"RST with payload", with(func(s *replySpec) {
			s.synFlag, s.rstFlag, s.tcpOptions = false, true, nil
			s.payload = []byte("connection refused\n")
		}), func() frame.Reply {
			r := synAck
			r.Flags = frame.TCPFlagRST | frame.TCPFlagACK
			return r
		}()},
	}
}

func TestParseReply(t *testing.T) {
	for _, tt := range replyCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			var got frame.Reply
			if !frame.ParseReply(tt.frame, &got) {
				t.Fatalf("ParseReply(% x) = false", tt.frame)
			}
			if got != tt.want {
				t.Errorf("ParseReply = %+v\nwant %+v", got, tt.want)
			}
			checkAgainstGopacket(t, tt.frame, &got)
		})
	}
}

// ipEnd returns where the IPv4 packet in a valid test frame ends.
func ipEnd(frame []byte) int {
	off := 14
	if binary.BigEndian.Uint16(frame[12:]) == 0x8100 {
		off = 18
	}
	return off + int(binary.BigEndian.Uint16(frame[off+2:]))
}

func TestParseReplyTruncated(t *testing.T) {
	for _, tt := range replyCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			end := ipEnd(tt.frame)
			for n := range len(tt.frame) + 1 {
				// A fresh slice of exactly n bytes, so nothing beyond it is
				// even addressable.
				b := bytes.Clone(tt.frame[:n])
				sentinel := frame.Reply{SrcAddr: 1, DstAddr: 2, SrcPort: 3, DstPort: 4, Seq: 5, Ack: 6, Flags: 7, TTL: 8, Window: 9, IPID: 10}
				r := sentinel
				// Ethernet padding beyond the IPv4 total length may go.
				got, want := frame.ParseReply(b, &r), n >= end
				if got != want {
					t.Errorf("ParseReply of the first %d of %d bytes = %v, want %v", n, len(tt.frame), got, want)
				}
				if !got && r != sentinel {
					t.Errorf("ParseReply of the first %d bytes returned false but changed r to %+v", n, r)
				}
				if got && r != tt.want {
					t.Errorf("ParseReply of the first %d bytes = %+v, want %+v", n, r, tt.want)
				}
			}
		})
	}
}

// TestParseReplyRejects mutates a valid SYN-ACK (with IPv4 options, so
// that IHL errors are distinguishable) into each kind of frame ParseReply
// must refuse, and into a few it must still accept.
func TestParseReplyRejects(t *testing.T) {
	base := replySpec{
		src: targetAddr, dst: scanAddr, sport: 993, dport: 40000,
		seq: 1, ack: 2, synFlag: true, ackFlag: true, ttl: 64, window: 1000,
		ipOptions:  []layers.IPv4Option{ipOpt(0x94, 4)},
		tcpOptions: linuxSynAckOptions(3, 4),
	}.build(t)
	const ip, tcp = 14, 14 + 24 // offsets of the headers in base
	if len(base) != ip+24+40 {
		t.Fatalf("base frame is %d bytes (bad test)", len(base))
	}
	put16 := func(b []byte, at int, v uint16) { binary.BigEndian.PutUint16(b[at:], v) }
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   bool
	}{
		{"unchanged", func(b []byte) []byte { return b }, true},
		{"DF cleared", func(b []byte) []byte { b[ip+6] &^= 0x40; return b }, true},
		{"reserved IP flag", func(b []byte) []byte { b[ip+6] |= 0x80; return b }, true},
		{"nonzero padding after packet", func(b []byte) []byte { return append(b, 0xde, 0xad, 0xbe, 0xef) }, true},
		{"bad checksums are not checked", func(b []byte) []byte { b[ip+10] ^= 0xff; b[tcp+16] ^= 0xff; return b }, true},

		{"ARP", func(b []byte) []byte { put16(b, 12, 0x0806); return b }, false},
		{"IPv6 EtherType", func(b []byte) []byte { put16(b, 12, 0x86dd); return b }, false},
		{"802.3 length field", func(b []byte) []byte { put16(b, 12, 64); return b }, false},
		{"two VLAN tags", func(b []byte) []byte {
			return append(append(bytes.Clone(b[:12]), 0x81, 0x00, 0, 1, 0x81, 0x00, 0, 2), b[12:]...)
		}, false},
		{"VLAN tag then ARP", func(b []byte) []byte {
			return append(append(bytes.Clone(b[:12]), 0x81, 0x00, 0, 1, 0x08, 0x06), b[14:]...)
		}, false},
		{"VLAN tag cut short", func(b []byte) []byte { return append(bytes.Clone(b[:12]), 0x81, 0x00, 0) }, false},
		{"IP version 6", func(b []byte) []byte { b[ip] = 0x66; return b }, false},
		{"IP version 0", func(b []byte) []byte { b[ip] = 0x06; return b }, false},
		{"IHL 4", func(b []byte) []byte { b[ip] = 0x44; return b }, false},
		{"IHL 0", func(b []byte) []byte { b[ip] = 0x40; return b }, false},
		{"IHL beyond frame", func(b []byte) []byte { b[ip] = 0x4f; return b[:ip+59] }, false},
		{"IHL 15 beyond packet", func(b []byte) []byte { b[ip] = 0x4f; put16(b, ip+2, 56); return b }, false},
		{"total length 0", func(b []byte) []byte { put16(b, ip+2, 0); return b }, false},
		{"total length below IHL", func(b []byte) []byte { put16(b, ip+2, 23); return b }, false},
		{"total length leaves 19 TCP bytes", func(b []byte) []byte { put16(b, ip+2, 24+19); return b }, false},
		{"total length beyond capture", func(b []byte) []byte { put16(b, ip+2, 24+40+1); return b }, false},
		{"total length 65535", func(b []byte) []byte { put16(b, ip+2, 0xffff); return b }, false},
		{"more fragments", func(b []byte) []byte { b[ip+6] |= 0x20; return b }, false},
		{"fragment offset 8", func(b []byte) []byte { put16(b, ip+6, 1); return b }, false},
		{"fragment offset max", func(b []byte) []byte { put16(b, ip+6, 0x1fff); return b }, false},
		{"UDP", func(b []byte) []byte { b[ip+9] = 17; return b }, false},
		{"ICMP", func(b []byte) []byte { b[ip+9] = 1; return b }, false},
		{"data offset 4", func(b []byte) []byte { b[tcp+12] = 0x40; return b }, false},
		{"data offset 0", func(b []byte) []byte { b[tcp+12] = 0x00; return b }, false},
		{"data offset beyond packet", func(b []byte) []byte { b[tcp+12] = 0xb0; return b }, false},
		{"data offset beyond packet, inside padding", func(b []byte) []byte {
			b[tcp+12] = 0xb0
			return append(b, make([]byte, 4)...)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.mutate(bytes.Clone(base))
			var r frame.Reply
			got := frame.ParseReply(b, &r)
			if got != tt.want {
				t.Fatalf("ParseReply = %v, want %v for % x", got, tt.want, b)
			}
			if got {
				if r.SrcPort != 993 || r.DstPort != 40000 || r.Seq != 1 || r.Ack != 2 {
					t.Errorf("ParseReply = %+v, want ports 993→40000 seq 1 ack 2", r)
				}
				checkAgainstGopacket(t, b, &r)
			}
		})
	}
}

// TestParseReplyGarbage feeds seeded random frames, most of them made to
// look like IPv4/TCP up to some byte, and checks every accepted one against
// gopacket. A panic fails the test by itself.
func TestParseReplyGarbage(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	accepted := 0
	for i := range 50_000 {
		b := make([]byte, rng.Intn(140))
		rng.Read(b)
		if len(b) >= 14+20 && i%4 != 0 {
			put := 14
			if i%8 == 1 {
				binary.BigEndian.PutUint16(b[12:], 0x8100)
				put = 18
			}
			binary.BigEndian.PutUint16(b[put-2:], 0x0800)
			if len(b) >= put+20 {
				b[put] = 0x45 + byte(rng.Intn(3))
				binary.BigEndian.PutUint16(b[put+2:], uint16(len(b)-put-rng.Intn(8)))
				binary.BigEndian.PutUint16(b[put+6:], 0)
				b[put+9] = 6
				if th := put + int(b[put]&0xf)*4; len(b) >= th+13 {
					b[th+12] = byte(5+rng.Intn(4)) << 4
				}
			}
		}
		var r frame.Reply
		if frame.ParseReply(b, &r) {
			accepted++
			checkAgainstGopacket(t, b, &r)
		}
	}
	// The shaping above must reach the accepting path often, or this test
	// only exercises early rejections.
	if accepted < 1000 {
		t.Errorf("only %d of 50000 shaped frames were accepted (bad test)", accepted)
	}
}

// checkAgainstGopacket checks that gopacket decodes from b the reply r that
// ParseReply returned. gopacket refuses malformed options that ParseReply
// rightly skips unread, so if it cannot find a TCP layer, the IPv4 and TCP
// options are overwritten with NOPs (fields ParseReply reads stay) and the
// decode is tried again.
func checkAgainstGopacket(t testing.TB, b []byte, r *frame.Reply) {
	t.Helper()
	if r.V6 {
		checkAgainstGopacket6(t, b, r)
		return
	}
	ip, tcp := decodeGopacket(b)
	if tcp == nil {
		nb := bytes.Clone(b)
		off := 14
		if binary.BigEndian.Uint16(nb[12:]) == 0x8100 {
			off = 18
		}
		ihl := int(nb[off]&0xf) * 4
		for i := off + 20; i < off+ihl; i++ {
			nb[i] = 1
		}
		th := off + ihl
		doff := int(nb[th+12]>>4) * 4
		for i := th + 20; i < th+doff; i++ {
			nb[i] = 1
		}
		ip, tcp = decodeGopacket(nb)
		if tcp == nil {
			t.Fatalf("ParseReply accepted % x, gopacket finds no TCP layer even with NOP options", b)
		}
	}
	var flags frame.TCPFlags
	for i, set := range []bool{tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR} {
		if set {
			flags |= 1 << i
		}
	}
	want := frame.Reply{
		SrcAddr: ipToUint32(ip.SrcIP), DstAddr: ipToUint32(ip.DstIP),
		SrcPort: uint16(tcp.SrcPort), DstPort: uint16(tcp.DstPort),
		Seq: tcp.Seq, Ack: tcp.Ack, Flags: flags,
		TTL: ip.TTL, Window: tcp.Window, IPID: ip.Id,
	}
	if *r != want {
		t.Fatalf("ParseReply(% x) = %+v\ngopacket decodes %+v", b, *r, want)
	}
}

// checkAgainstGopacket6 is checkAgainstGopacket for an IPv6 reply.
func checkAgainstGopacket6(t testing.TB, b []byte, r *frame.Reply) {
	t.Helper()
	ip, tcp := decodeGopacket6(b)
	if tcp == nil {
		nb := bytes.Clone(b)
		off := 14
		if binary.BigEndian.Uint16(nb[12:]) == 0x8100 {
			off = 18
		}
		th := off + 40
		doff := int(nb[th+12]>>4) * 4
		for i := th + 20; i < th+doff; i++ {
			nb[i] = 1
		}
		ip, tcp = decodeGopacket6(nb)
		if tcp == nil {
			t.Fatalf("ParseReply accepted % x, gopacket finds no IPv6/TCP layer even with NOP options", b)
		}
	}
	var flags frame.TCPFlags
	for i, set := range []bool{tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR} {
		if set {
			flags |= 1 << i
		}
	}
	want := frame.Reply{
		V6: true, SrcAddr6: [16]byte(ip.SrcIP.To16()), DstAddr6: [16]byte(ip.DstIP.To16()),
		SrcPort: uint16(tcp.SrcPort), DstPort: uint16(tcp.DstPort),
		Seq: tcp.Seq, Ack: tcp.Ack, Flags: flags,
		TTL: ip.HopLimit, Window: tcp.Window,
	}
	if *r != want {
		t.Fatalf("ParseReply(% x) = %+v\ngopacket decodes %+v", b, *r, want)
	}
}

func decodeGopacket6(b []byte) (*layers.IPv6, *layers.TCP) {
	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	ip, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tcp == nil {
		return nil, nil
	}
	return ip, tcp
}

func decodeGopacket(b []byte) (*layers.IPv4, *layers.TCP) {
	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip == nil || tcp == nil {
		return nil, nil
	}
	return ip, tcp
}

func FuzzParseReply(f *testing.F) {
	for _, tt := range replyCases(f) {
		f.Add(tt.frame)
	}
	f.Add(rst(f)[:40])
	f.Add(synAck6(f))
	f.Add(with6(f, func(s *replySpec6) { s.vlan = true; s.rstFlag, s.synFlag = true, false }))
	f.Add(with6(f, func(s *replySpec6) { s.hopByHop = true }))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r frame.Reply
		if frame.ParseReply(b, &r) {
			checkAgainstGopacket(t, b, &r)
		}
	})
}

func TestParseReplyAllocs(t *testing.T) {
	b := synAckLinux(t)
	var r frame.Reply
	if n := testing.AllocsPerRun(1000, func() {
		if !frame.ParseReply(b, &r) {
			t.Fatal("ParseReply = false")
		}
	}); n != 0 {
		t.Errorf("ParseReply allocates %v times per frame", n)
	}
}

func BenchmarkParseReply(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame []byte
	}{
		{"SYN-ACK", synAckLinux(b)},
		{"RST-ACK", rstAck(b)},
		{"SYN-ACK6", synAck6(b)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var r frame.Reply
			b.SetBytes(int64(len(bc.frame)))
			b.ReportAllocs()
			for b.Loop() {
				if !frame.ParseReply(bc.frame, &r) {
					b.Fatal("ParseReply = false")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
