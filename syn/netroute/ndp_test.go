package netroute

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	ourIP6  = netip.MustParseAddr("2001:db8:250::1")
	peerIP6 = netip.MustParseAddr("2001:db8:250::2")
)

// naFrame serializes a neighbour advertisement with gopacket, the
// independent oracle: from peerMAC/peerIP6 to ourMAC/ourIP6 for target,
// with the target link-layer address option naming tll (none when nil).
func naFrame(tb testing.TB, hop uint8, target netip.Addr, tll net.HardwareAddr) []byte {
	tb.Helper()
	ip := &layers.IPv6{Version: 6, HopLimit: hop, NextHeader: layers.IPProtocolICMPv6, SrcIP: peerIP6.AsSlice(), DstIP: ourIP6.AsSlice()}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	na := &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: target.AsSlice()} // solicited, override
	if tll != nil {
		na.Options = layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: tll}}
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: peerMAC, DstMAC: ourMAC, EthernetType: layers.EthernetTypeIPv6}, ip, icmp, na)
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeNS checks the solicitation with gopacket: addresses, hop limit,
// the solicited-node group, the source link-layer option, and a checksum
// that gopacket's own computation agrees with.
func TestEncodeNS(t *testing.T) {
	var b [nsFrameLen + 8]byte
	for i := range b {
		b[i] = 0xee
	}
	target := netip.MustParseAddr("2001:db8:250::12:3456")
	n := encodeNS(b[:], ourMAC, ourIP6, target)
	if n != nsFrameLen || b[n] != 0xee {
		t.Fatalf("encodeNS wrote %d bytes (or beyond), want %d", n, nsFrameLen)
	}
	p := gopacket.NewPacket(b[:n], layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	icmp, _ := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	ns, _ := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	if eth == nil || ip == nil || icmp == nil || ns == nil {
		t.Fatalf("gopacket does not read a neighbour solicitation: %v", p)
	}
	if eth.DstMAC.String() != "33:33:ff:12:34:56" || !bytes.Equal(eth.SrcMAC, ourMAC) {
		t.Errorf("Ethernet %v -> %v", eth.SrcMAC, eth.DstMAC)
	}
	if ip.HopLimit != 255 || ip.SrcIP.String() != ourIP6.String() || ip.DstIP.String() != "ff02::1:ff12:3456" || ip.Length != 32 {
		t.Errorf("IPv6 %v -> %v, hop limit %d, length %d", ip.SrcIP, ip.DstIP, ip.HopLimit, ip.Length)
	}
	if ns.TargetAddress.String() != target.String() || len(ns.Options) != 1 ||
		ns.Options[0].Type != layers.ICMPv6OptSourceAddress || !bytes.Equal(ns.Options[0].Data, ourMAC) {
		t.Errorf("solicitation for %v with options %v", ns.TargetAddress, ns.Options)
	}
	// gopacket recomputes the checksum over what it decoded.
	got := icmp.Checksum
	icmp2 := &layers.ICMPv6{TypeCode: icmp.TypeCode}
	icmp2.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, icmp2, gopacket.Payload(icmp.Payload)); err != nil {
		t.Fatal(err)
	}
	if want := binary.BigEndian.Uint16(buf.Bytes()[2:]); got != want {
		t.Errorf("checksum %#04x, gopacket computes %#04x", got, want)
	}
}

func TestParseNA(t *testing.T) {
	good := naFrame(t, 255, peerIP6, peerMAC)
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	otherMAC := net.HardwareAddr{2, 0, 0, 0, 0, 0x77}
	tests := []struct {
		name   string
		frame  []byte
		ok     bool
		answer bool // isAnswerFor(peerIP6)
		mac    net.HardwareAddr
	}{
		{"advertisement with TLLAO", good, true, true, peerMAC},
		{"TLLAO names another MAC", naFrame(t, 255, peerIP6, otherMAC), true, true, otherMAC},
		{"no TLLAO: the Ethernet source", naFrame(t, 255, peerIP6, nil), true, true, peerMAC},
		{"padded frame", append(bytes.Clone(good), 0, 0, 0, 0), true, true, peerMAC},
		{"for another target", naFrame(t, 255, netip.MustParseAddr("2001:db8:250::3"), peerMAC), true, false, nil},
		{"multicast TLLAO", naFrame(t, 255, peerIP6, net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}), true, false, nil},
		{"hop limit 254: crossed a router", naFrame(t, 254, peerIP6, peerMAC), false, false, nil},
		{"multicast target", naFrame(t, 255, netip.MustParseAddr("ff02::1"), peerMAC), false, false, nil},
		{"code 1", mutate(func(b []byte) []byte { b[55] = 1; return b }), false, false, nil},
		{"a solicitation", mutate(func(b []byte) []byte { b[54] = 135; return b }), false, false, nil},
		{"UDP", mutate(func(b []byte) []byte { b[20] = 17; return b }), false, false, nil},
		{"version 4", mutate(func(b []byte) []byte { b[14] = 0x40; return b }), false, false, nil},
		{"IPv4 EtherType", mutate(func(b []byte) []byte { b[12], b[13] = 8, 0; return b }), false, false, nil},
		{"option of length 0", mutate(func(b []byte) []byte { b[79] = 0; return b }), false, false, nil},
		{"option beyond the message", mutate(func(b []byte) []byte { b[79] = 2; return b }), false, false, nil},
		{"payload length beyond the frame", mutate(func(b []byte) []byte { b[19]++; return b }), false, false, nil},
		{"payload length below 24", mutate(func(b []byte) []byte { b[18], b[19] = 0, 23; return b }), false, false, nil},
		{"truncated", good[:14+40+23], false, false, nil},
		{"empty", nil, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := parseNA(tt.frame)
			if ok != tt.ok {
				t.Fatalf("parseNA ok = %v, want %v (%+v)", ok, tt.ok, p)
			}
			if got := ok && p.isAnswerFor(peerIP6); got != tt.answer {
				t.Fatalf("isAnswerFor = %v, want %v (%+v)", got, tt.answer, p)
			}
			if tt.mac != nil && !bytes.Equal(p.TargetMAC, tt.mac) {
				t.Fatalf("TargetMAC %v, want %v", p.TargetMAC, tt.mac)
			}
			if ok && tt.answer && !p.Solicited {
				t.Errorf("solicited flag lost")
			}
		})
	}
}

func FuzzParseNA(f *testing.F) {
	f.Add(naFrame(f, 255, peerIP6, peerMAC))
	f.Add(naFrame(f, 255, peerIP6, nil))
	var ns [nsFrameLen]byte
	f.Add(ns[:encodeNS(ns[:], ourMAC, ourIP6, peerIP6)])
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, ok := parseNA(frame)
		if !ok {
			return
		}
		if len(p.TargetMAC) != 6 || !p.Target.Is6() || p.Target.IsMulticast() {
			t.Fatalf("parseNA returned a malformed advertisement %+v", p)
		}
		if p.isAnswerFor(p.Target) != validMAC(p.TargetMAC) {
			t.Fatalf("isAnswerFor inconsistent for %+v", p)
		}
	})
}

func TestSolicitedNode(t *testing.T) {
	for _, tc := range []struct{ target, group, mac string }{
		{"2001:db8::1", "ff02::1:ff00:1", "33:33:ff:00:00:01"},
		{"fe80::2aa:ff:fe28:9c5a", "ff02::1:ff28:9c5a", "33:33:ff:28:9c:5a"},
	} {
		g, m := solicitedNode(netip.MustParseAddr(tc.target))
		if g.String() != tc.group || m.String() != tc.mac {
			t.Errorf("solicitedNode(%s) = %v, %v; want %s, %s", tc.target, g, m, tc.group, tc.mac)
		}
	}
}
