package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// Defaults of TemplateConfig.
const (
	// DefaultTTL is the TTL of probes when TemplateConfig.TTL is 0: what
	// Linux and macOS send, so that probes do not stand out by TTL. A TTL
	// of 0 is never useful (the first router drops the packet), so 0 can
	// mean "default".
	DefaultTTL = 64
	// DefaultWindow is the window of probes when TemplateConfig.Window is 0:
	// 65535, as ZMap sends. The window of a SYN does not change whether a
	// service answers, and a zero window in a SYN would be odd enough to
	// invite filtering, so 0 can mean "default".
	DefaultWindow = 65535
)

// Offsets of the probe's headers in the frame. The template never carries
// IPv4 options, so they do not depend on the TCP options layout.
const (
	probeIPOffset  = EthernetMinimumSize
	probeTCPOffset = probeIPOffset + IPv4MinimumSize
	// probeFixedLen is the length of the fixed part of a probe: every field
	// Write changes lies inside it.
	probeFixedLen = probeTCPOffset + TCPMinimumSize
	// probeMaxLen is the longest probe any options layout can make.
	probeMaxLen = probeTCPOffset + TCPHeaderMaximumSize
)

// TemplateConfig describes the fields that are the same in every probe.
type TemplateConfig struct {
	// SrcMAC and DstMAC are the Ethernet addresses: ours, and the next
	// hop's (the gateway, or the target itself on the same link). Both
	// must be 6 bytes.
	SrcMAC, DstMAC net.HardwareAddr
	// SrcAddr is our IPv4 address in host byte order. It must not be 0.
	SrcAddr uint32
	// TTL is the IPv4 time to live; 0 means DefaultTTL.
	TTL uint8
	// Window is the TCP window; 0 means DefaultWindow.
	Window uint16
	// Options is the TCP options layout. Its zero value is invalid.
	Options TCPOptions
}

// Template is an encoded probe frame: Ethernet II, IPv4 and a TCP SYN.
//
// The IPv4 header has no options, TOS 0 and the Don't Fragment flag set, as
// the SYNs of Linux and Windows do (ZMap and masscan send without DF): a
// probe of at most 74 bytes is never fragmented, so DF changes nothing on
// the path and only makes probes look like ordinary clients. The TCP header
// has the SYN flag, acknowledgment number 0, urgent pointer 0 and the
// options of TemplateConfig.Options.
//
// Frames are not padded to the Ethernet minimum of 60 bytes: a NIC pads
// short frames on the wire, and AF_PACKET on veth hands the frame through
// as written, so padding here would only cost bandwidth on the ring.
//
// A Template is made by NewTemplate (the zero value is not usable), is
// immutable, and is safe for concurrent use.
type Template struct {
	frame [probeMaxLen]byte
	n     int
	// ipSum is the folded sum of the IPv4 header with ID, destination and
	// checksum zero; tcpSum that of the pseudo-header and TCP header with
	// destination, ports, sequence number and checksum zero. Write adds the
	// per-probe words to them, so that each checksum costs a handful of
	// additions instead of a pass over the headers.
	ipSum, tcpSum uint32
}

// NewTemplate encodes the probe template described by cfg.
func NewTemplate(cfg *TemplateConfig) (*Template, error) {
	if cfg == nil {
		return nil, errors.New("frame: nil TemplateConfig")
	}
	if len(cfg.SrcMAC) != EthernetAddressSize {
		return nil, fmt.Errorf("frame: source MAC %q is %d bytes, want %d", cfg.SrcMAC, len(cfg.SrcMAC), EthernetAddressSize)
	}
	if len(cfg.DstMAC) != EthernetAddressSize {
		return nil, fmt.Errorf("frame: destination MAC %q is %d bytes, want %d", cfg.DstMAC, len(cfg.DstMAC), EthernetAddressSize)
	}
	if cfg.SrcAddr == 0 {
		return nil, errors.New("frame: source address 0.0.0.0 cannot receive replies")
	}
	if !cfg.Options.Valid() {
		return nil, fmt.Errorf("frame: invalid TCP options layout %v", cfg.Options)
	}
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	window := cfg.Window
	if window == 0 {
		window = DefaultWindow
	}

	t := &Template{}
	tcpLen := TCPMinimumSize + cfg.Options.Len()
	t.n = probeTCPOffset + tcpLen

	eth := Ethernet(t.frame[:probeIPOffset])
	eth.SetDestinationAddress(cfg.DstMAC)
	eth.SetSourceAddress(cfg.SrcMAC)
	eth.SetType(EtherTypeIPv4)

	ip := IPv4(t.frame[probeIPOffset:probeTCPOffset])
	ip.SetVersionAndHeaderLength(IPv4MinimumSize)
	ip.SetTotalLength(uint16(IPv4MinimumSize + tcpLen))
	ip.SetFlagsFragmentOffset(IPv4FlagDontFragment, 0)
	ip.SetTTL(ttl)
	ip.SetProtocol(IPProtocolTCP)
	ip.SetSourceAddress(cfg.SrcAddr)

	tcp := TCP(t.frame[probeTCPOffset:t.n])
	tcp.SetHeaderLength(tcpLen)
	tcp.SetFlags(TCPFlagSYN)
	tcp.SetWindowSize(window)
	cfg.Options.Encode(tcp[TCPOptionsOffset:])

	t.ipSum = uint32(Checksum(ip, 0))
	t.tcpSum = uint32(Checksum(tcp, PseudoHeaderChecksum(IPProtocolTCP, cfg.SrcAddr, 0, uint16(tcpLen))))
	return t, nil
}

// Len returns the length in bytes of every probe frame, without FCS.
func (t *Template) Len() int {
	return t.n
}

// Write builds the probe to daddr:dport from source port sport, with
// sequence number seq and IPv4 ID ipid, into dst and returns the number of
// bytes written, t.Len(). If dst is shorter than t.Len() it writes nothing
// and returns 0. Addresses are in host byte order.
//
// It copies the template and fixes both checksums from the precomputed
// partial sums; it does not allocate.
func (t *Template) Write(dst []byte, daddr uint32, dport, sport uint16, seq uint32, ipid uint16) int {
	n := t.n
	if len(dst) < n {
		return 0
	}
	copy(dst, t.frame[:n])
	// One length check here removes every bounds check below: NewTemplate
	// guarantees n >= probeFixedLen.
	p := (*[probeFixedLen]byte)(dst)

	ipSum := t.ipSum + daddr>>16 + daddr&0xffff + uint32(ipid)
	binary.BigEndian.PutUint16(p[probeIPOffset+IPv4IDOffset:], ipid)
	binary.BigEndian.PutUint32(p[probeIPOffset+IPv4DstAddrOffset:], daddr)
	binary.BigEndian.PutUint16(p[probeIPOffset+IPv4ChecksumOffset:], ^fold32(ipSum))

	tcpSum := t.tcpSum + daddr>>16 + daddr&0xffff +
		uint32(sport) + uint32(dport) + seq>>16 + seq&0xffff
	binary.BigEndian.PutUint16(p[probeTCPOffset+TCPSrcPortOffset:], sport)
	binary.BigEndian.PutUint16(p[probeTCPOffset+TCPDstPortOffset:], dport)
	binary.BigEndian.PutUint32(p[probeTCPOffset+TCPSeqNumOffset:], seq)
	binary.BigEndian.PutUint16(p[probeTCPOffset+TCPChecksumOffset:], ^fold32(tcpSum))
	return n
}
