package frame_test

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Addresses used by the tests: all in 198.18.0.0/15 (RFC 2544), though no
// test sends anything.
const (
	scanAddr   = 0xc6120001 // 198.18.0.1, the scanner
	targetAddr = 0xc6121005 // 198.18.16.5, a scanned host
)

var (
	scanMAC    = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	gatewayMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0xfe}
)

func ip4(a uint32) net.IP {
	return net.IPv4(byte(a>>24), byte(a>>16), byte(a>>8), byte(a)).To4()
}

func ipToUint32(ip net.IP) uint32 {
	return binary.BigEndian.Uint32(ip.To4())
}

// serialize encodes ls with gopacket, fixing lengths and computing
// checksums, as the oracle for this package's encoders and the source of
// realistic replies.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		if tcp, ok := l.(*layers.TCP); ok {
			for _, l2 := range ls {
				if ip, ok := l2.(*layers.IPv4); ok {
					if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("gopacket.SerializeLayers: %v", err)
	}
	return buf.Bytes()
}

// replySpec describes a reply frame to build with gopacket.
type replySpec struct {
	vlan       bool
	ipOptions  []layers.IPv4Option
	tcpOptions []layers.TCPOption
	src, dst   uint32
	sport      uint16
	dport      uint16
	seq, ack   uint32
	synFlag    bool
	ackFlag    bool
	rstFlag    bool
	ttl        uint8
	window     uint16
	id         uint16
	payload    []byte
}

func (s replySpec) build(t testing.TB) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: gatewayMAC, DstMAC: scanMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{
		Version: 4, TTL: s.ttl, Id: s.id, Flags: layers.IPv4DontFragment,
		Protocol: layers.IPProtocolTCP, SrcIP: ip4(s.src), DstIP: ip4(s.dst),
		Options: s.ipOptions,
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.sport), DstPort: layers.TCPPort(s.dport),
		Seq: s.seq, Ack: s.ack, SYN: s.synFlag, ACK: s.ackFlag, RST: s.rstFlag,
		Window: s.window, Options: s.tcpOptions,
	}
	ls := []gopacket.SerializableLayer{eth}
	if s.vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{Priority: 3, VLANIdentifier: 42, Type: layers.EthernetTypeIPv4})
	}
	ls = append(ls, ip, tcp)
	if s.payload != nil {
		ls = append(ls, gopacket.Payload(s.payload))
	}
	return serialize(t, ls...)
}

// linuxSynAckOptions are the options of a Linux SYN-ACK: MSS, SACK
// permitted, timestamps, NOP, window scale.
func linuxSynAckOptions(tsval, tsecr uint32) []layers.TCPOption {
	ts := make([]byte, 8)
	binary.BigEndian.PutUint32(ts, tsval)
	binary.BigEndian.PutUint32(ts[4:], tsecr)
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
		{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
}

// Real-looking replies to a probe from scanAddr:40000 to targetAddr:993.
func synAckLinux(t testing.TB) []byte {
	return replySpec{
		src: targetAddr, dst: scanAddr, sport: 993, dport: 40000,
		seq: 0x8a3e41d2, ack: 0x12345679, synFlag: true, ackFlag: true,
		ttl: 64, window: 65160, id: 0,
		tcpOptions: linuxSynAckOptions(0x9c2d4e11, 1),
	}.build(t)
}

func rstAck(t testing.TB) []byte {
	return replySpec{
		src: targetAddr, dst: scanAddr, sport: 143, dport: 40001,
		seq: 0, ack: 0x0badf00e, rstFlag: true, ackFlag: true, ttl: 64,
	}.build(t)
}

func rst(t testing.TB) []byte {
	return replySpec{
		src: targetAddr, dst: scanAddr, sport: 110, dport: 40002,
		seq: 0x0badf00e, rstFlag: true, ttl: 255, id: 0x1234,
	}.build(t)
}
