package netroute

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	ourMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	peerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	ourIP   = netip.MustParseAddr("198.18.250.1")
	peerIP  = netip.MustParseAddr("198.18.250.2")
)

// arpFrame serializes an ARP packet with gopacket, the independent oracle.
func arpFrame(tb testing.TB, op uint16, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{},
		&layers.Ethernet{SrcMAC: sha, DstMAC: tha, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: sha, SourceProtAddress: spa.AsSlice(), DstHwAddress: tha, DstProtAddress: tpa.AsSlice(),
		})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodeARPRequest(t *testing.T) {
	var b [ethMinFrame]byte
	for i := range b {
		b[i] = 0xee // encodeARPRequest must clear what it does not write
	}
	n := encodeARPRequest(b[:], ourMAC, ourIP, peerIP)
	if n != ethMinFrame {
		t.Fatalf("length %d, want %d", n, ethMinFrame)
	}
	want := arpFrame(t, layers.ARPRequest, ourMAC, ourIP, make(net.HardwareAddr, 6), peerIP)
	copy(want[0:6], broadcastMAC) // gopacket's Ethernet destination was the zero THA
	want = append(want, make([]byte, ethMinFrame-len(want))...)
	if !bytes.Equal(b[:n], want) {
		t.Fatalf("encodeARPRequest:\n got % x\nwant % x", b[:n], want)
	}
	p := gopacket.NewPacket(b[:n], layers.LayerTypeEthernet, gopacket.Default)
	if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); !ok || a.Operation != layers.ARPRequest {
		t.Fatalf("gopacket does not read an ARP request: %v", p)
	}
}

func TestParseARP(t *testing.T) {
	reply := arpFrame(t, layers.ARPReply, peerMAC, peerIP, ourMAC, ourIP)
	tests := []struct {
		name      string
		frame     []byte
		ok        bool
		replyFrom bool // isReplyFrom(peerIP)
	}{
		{"reply from peer", reply, true, true},
		{"reply padded to 60 bytes", append(append([]byte(nil), reply...), make([]byte, 18)...), true, true},
		{"request from peer", arpFrame(t, layers.ARPRequest, peerMAC, peerIP, make(net.HardwareAddr, 6), ourIP), true, false},
		{"reply from another host", arpFrame(t, layers.ARPReply, peerMAC, netip.MustParseAddr("198.18.250.3"), ourMAC, ourIP), true, false},
		{"reply with broadcast sender MAC", arpFrame(t, layers.ARPReply, broadcastMAC, peerIP, ourMAC, ourIP), true, false},
		{"reply with zero sender MAC", arpFrame(t, layers.ARPReply, make(net.HardwareAddr, 6), peerIP, ourMAC, ourIP), true, false},
		{"truncated", reply[:ethHeaderLen+arpLen-1], false, false},
		{"empty", nil, false, false},
		{"IPv4 ethertype", func() []byte { b := append([]byte(nil), reply...); b[12], b[13] = 0x08, 0x00; return b }(), false, false},
		{"hardware type 6", func() []byte { b := append([]byte(nil), reply...); b[15] = 6; return b }(), false, false},
		{"protocol IPv6", func() []byte { b := append([]byte(nil), reply...); b[16], b[17] = 0x86, 0xdd; return b }(), false, false},
		{"address sizes 6/16", func() []byte { b := append([]byte(nil), reply...); b[19] = 16; return b }(), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := parseARP(tt.frame)
			if ok != tt.ok {
				t.Fatalf("parseARP ok = %v, want %v", ok, tt.ok)
			}
			if got := ok && p.isReplyFrom(peerIP); got != tt.replyFrom {
				t.Fatalf("isReplyFrom(%v) = %v, want %v (%+v)", peerIP, got, tt.replyFrom, p)
			}
			if tt.replyFrom && !bytes.Equal(p.SenderMAC, peerMAC) {
				t.Fatalf("SenderMAC = %v, want %v", p.SenderMAC, peerMAC)
			}
		})
	}
}

func FuzzParseARP(f *testing.F) {
	f.Add(arpFrame(f, layers.ARPReply, peerMAC, peerIP, ourMAC, ourIP))
	f.Add(arpFrame(f, layers.ARPRequest, peerMAC, peerIP, make(net.HardwareAddr, 6), ourIP))
	var req [ethMinFrame]byte
	f.Add(req[:encodeARPRequest(req[:], ourMAC, ourIP, peerIP)])
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, ok := parseARP(frame)
		if !ok {
			return
		}
		if len(p.SenderMAC) != 6 || len(p.TargetMAC) != 6 || !p.SenderIP.Is4() || !p.TargetIP.Is4() {
			t.Fatalf("parseARP returned a malformed packet %+v", p)
		}
		if p.isReplyFrom(p.SenderIP) != (p.Op == arpOpReply && validMAC(p.SenderMAC)) {
			t.Fatalf("isReplyFrom inconsistent for %+v", p)
		}
	})
}
