package xsk_test

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/internal/vethlab"
)

// Addresses of the lab: the veth ends in 198.18.251.0/24, probe destinations
// in 198.19.0.0/16 (both inside RFC 2544's 198.18.0.0/15). Nothing is routed:
// frames are written raw, to vb's MAC, and vb drops them all.
const (
	addrA = "198.18.251.1"
	addrB = "198.18.251.2"
)

// lab is two namespaces joined by a veth, va in A and vb in B, where an
// nftables netdev ingress hook on vb drops every frame: what is counted in
// vb's rx_packets goes no further. va has TX checksum offload off, as a
// scanner's sending interface would.
type lab struct {
	vethlab.Lab
	queues string // `ethtool -l va`
}

func newLab(tb testing.TB) *lab {
	tb.Helper()
	vethlab.RequireRoot(tb)
	for _, tool := range []string{"nft", "ethtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			vethlab.SkipOrFail(tb, "skipping, needs %s: %v", tool, err)
		}
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	l := &lab{Lab: vethlab.Lab{A: "hk-" + id + "-a", B: "hk-" + id + "-b"}}
	run := func(args ...string) string { tb.Helper(); return vethlab.Run(tb, args...) }
	for _, ns := range []string{l.A, l.B} {
		run("ip", "netns", "add", ns)
		tb.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		// No IPv6: router solicitations and DAD would add frames of their own.
		run("ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		run("ip", "-n", ns, "link", "set", "lo", "up")
	}
	run("ip", "-n", l.A, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", l.B)
	run("ip", "-n", l.A, "addr", "add", addrA+"/24", "dev", "va")
	run("ip", "-n", l.B, "addr", "add", addrB+"/24", "dev", "vb")
	run("ip", "netns", "exec", l.A, "ethtool", "-K", "va", "tx", "off")
	cmd := exec.Command("ip", "netns", "exec", l.B, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader("table netdev d {\n\tchain in { type filter hook ingress device vb priority 0; policy drop; }\n}\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("nft: %v\n%s", err, out)
	}
	run("ip", "-n", l.A, "link", "set", "va", "up")
	run("ip", "-n", l.B, "link", "set", "vb", "up")
	l.queues = run("ip", "netns", "exec", l.A, "ethtool", "-l", "va")
	l.IdxA, l.MacA = l.link(tb, l.A, "va")
	l.IdxB, l.MacB = l.link(tb, l.B, "vb")
	return l
}

func (l *lab) link(tb testing.TB, ns, name string) (idx int, mac net.HardwareAddr) {
	tb.Helper()
	l.MustIn(tb, ns, func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		idx, mac = ifi.Index, ifi.HardwareAddr
		return nil
	})
	return idx, mac
}

// rx returns vb's rx_packets.
func (l *lab) rx(tb testing.TB) uint64 { tb.Helper(); return l.Counter(tb, l.B, "vb", "rx_packets") }

// Offsets in a probe frame (Ethernet, IPv4 without options, TCP).
const (
	probeLen       = 58 // 14 + 20 + 24: a SYN with a 4-byte MSS option
	ipChecksumOff  = 14 + 10
	ipDstLowOff    = 14 + 16 + 2 // the low 16 bits of the destination address
	tcpChecksumOff = 14 + 20 + 16
)

// probe returns a 58-byte SYN from va to 198.19.0.0, serialized by
// gopacket, the independent oracle.
func probe(tb testing.TB, src, dst net.HardwareAddr) []byte {
	tb.Helper()
	ip := &layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Id: 1, Protocol: layers.IPProtocolTCP,
		SrcIP: net.ParseIP(addrA).To4(), DstIP: net.IPv4(198, 19, 0, 0).To4(),
	}
	tcp := &layers.TCP{
		SrcPort: 40000, DstPort: 143, Seq: 0x01020304, SYN: true, Window: 65535,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}},
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
		tb.Fatal(err)
	}
	// gopacket pads the frame to Ethernet's 60-byte minimum; the device
	// does that itself, the probe stops at the end of the IPv4 packet.
	b := buf.Bytes()
	if len(b) < probeLen || binary.BigEndian.Uint16(b[14+2:]) != probeLen-14 {
		tb.Fatalf("probe %x is not a %d-byte frame", b, probeLen)
	}
	return b[:probeLen:probeLen]
}

// writeProbe copies the template tmpl (destination 198.19.0.0) into b with
// destination 198.19.hi.lo, updating both checksums incrementally (RFC 1624,
// eqn. 3: HC' = ~(~HC + ~m + m')), as a scanner's frame template does.
func writeProbe(b, tmpl []byte, dst uint16) int {
	n := copy(b, tmpl)
	binary.BigEndian.PutUint16(b[ipDstLowOff:], dst)
	for _, off := range []int{ipChecksumOff, tcpChecksumOff} {
		sum := uint32(^binary.BigEndian.Uint16(b[off:])) + uint32(^uint16(0)) + uint32(dst) // m = 0, so ~m = 0xffff
		sum = (sum & 0xffff) + sum>>16
		sum = (sum & 0xffff) + sum>>16
		binary.BigEndian.PutUint16(b[off:], ^uint16(sum))
	}
	return n
}

// reserialize decodes frame with gopacket and serializes it again with
// fresh checksums.
func reserialize(tb testing.TB, frame []byte) []byte {
	tb.Helper()
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if ip == nil || tcp == nil || eth == nil {
		tb.Fatalf("cannot decode %x", frame)
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()[:probeLen]
}
