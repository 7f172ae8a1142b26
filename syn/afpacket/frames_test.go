package afpacket_test

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// frameSpec describes one crafted test frame. id goes into the IPv4
// identification field so the receiving side can tell frames apart.
type frameSpec struct {
	name    string
	id      uint16
	vlan    bool
	dst     net.IP
	proto   string // "tcp" (default), "udp", "arp"
	flags   string // TCP flags: S, A, R, F, P
	fragOf  uint16 // IPv4 fragment offset (8-byte units)
	mf      bool   // IPv4 more-fragments flag
	options bool   // a 4-byte IPv4 option (IHL 6); for IPv6, a hop-by-hop header
}

// buildFrame serializes f with gopacket, the independent oracle of the
// frames our filter and sender handle.
func buildFrame(tb testing.TB, src, dst net.HardwareAddr, f frameSpec) []byte {
	tb.Helper()
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	if f.vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4})
	}
	if f.proto == "arp" {
		eth.EthernetType = layers.EthernetTypeARP
		eth.DstMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		ls = append(ls, &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: src, SourceProtAddress: net.IPv4(198, 18, 250, 1).To4(),
			DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: f.dst.To4(),
		})
		return serialize(tb, ls...)
	}
	if f.dst.To4() == nil {
		return buildFrame6(tb, eth, ls, f)
	}
	ip := &layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Id: f.id, FragOffset: f.fragOf,
		SrcIP: net.IPv4(198, 18, 16, 5).To4(), DstIP: f.dst.To4(),
	}
	if f.mf {
		ip.Flags = layers.IPv4MoreFragments
	}
	if f.options {
		ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	}
	ls = append(ls, ip)
	switch f.proto {
	case "udp":
		ip.Protocol = layers.IPProtocolUDP
		udp := &layers.UDP{SrcPort: 53, DstPort: 40000}
		udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, udp, gopacket.Payload("hello"))
	default:
		ip.Protocol = layers.IPProtocolTCP
		tcp := tcpOf(f)
		tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, tcp)
	}
	return serialize(tb, ls...)
}

func tcpOf(f frameSpec) *layers.TCP {
	tcp := &layers.TCP{SrcPort: 143, DstPort: 40000, Seq: uint32(f.id) * 7, Ack: 12345, Window: 64240}
	for _, c := range f.flags {
		switch c {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'R':
			tcp.RST = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		}
	}
	return tcp
}

// buildFrame6 is buildFrame for an IPv6 destination. The flow label
// carries id; options puts an 8-byte hop-by-hop header before the payload.
func buildFrame6(tb testing.TB, eth *layers.Ethernet, ls []gopacket.SerializableLayer, f frameSpec) []byte {
	tb.Helper()
	if f.vlan {
		ls[len(ls)-1].(*layers.Dot1Q).Type = layers.EthernetTypeIPv6
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, FlowLabel: uint32(f.id),
		SrcIP: net.ParseIP("2001:db8:16::5"), DstIP: f.dst}
	ls = append(ls, ip)
	switch f.proto {
	case "udp":
		ip.NextHeader = layers.IPProtocolUDP
		udp := &layers.UDP{SrcPort: 53, DstPort: 40000}
		udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, udp, gopacket.Payload("hello"))
	default:
		ip.NextHeader = layers.IPProtocolTCP
		tcp := tcpOf(f)
		tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, tcp)
	}
	b := serialize(tb, ls...)
	if f.options {
		l3 := 14
		if f.vlan {
			l3 = 18
		}
		ext := []byte{b[l3+6], 0, 1, 4, 0, 0, 0, 0} // next header, length 0, PadN(4)
		b = append(append(append([]byte(nil), b[:l3+40]...), ext...), b[l3+40:]...)
		b[l3+6] = 0 // hop-by-hop
		b[l3+5] += 8
	}
	return b
}

func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
