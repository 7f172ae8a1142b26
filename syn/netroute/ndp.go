package netroute

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// IPv6 neighbour discovery over Ethernet (RFC 4861): the neighbour
// solicitation that asks for a next hop's link-layer address, and the
// advertisement that answers it. Like arp.go, this file makes no system
// call: it builds solicitations and reads advertisements, which come from
// the link and are not to be trusted.

const (
	ethTypeIPv6     = 0x86DD
	ipv6HeaderLen   = 40
	ipProtoICMPv6   = 58
	icmpv6NS        = 135 // neighbour solicitation
	icmpv6NA        = 136 // neighbour advertisement
	ndpHopLimit     = 255 // RFC 4861 section 7.1: anything else crossed a router
	ndpMsgLen       = 24  // type, code, checksum, flags/reserved, target
	ndpOptSourceLL  = 1   // source link-layer address option
	ndpOptTargetLL  = 2   // target link-layer address option
	ndpOptLLLen     = 8   // a link-layer address option for Ethernet
	nsFrameLen      = ethHeaderLen + ipv6HeaderLen + ndpMsgLen + ndpOptLLLen
	naFlagSolicited = 0x40
)

// solicitedNode returns the solicited-node multicast address of target
// (ff02::1:ffXX:XXXX with its low 24 bits, RFC 4291 section 2.7.1) and the
// Ethernet multicast address that carries it (33:33 and the low 32 bits,
// RFC 2464 section 7).
func solicitedNode(target netip.Addr) (netip.Addr, net.HardwareAddr) {
	t := target.As16()
	a := [16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: t[13], 14: t[14], 15: t[15]}
	return netip.AddrFrom16(a), net.HardwareAddr{0x33, 0x33, 0xff, t[13], t[14], t[15]}
}

// encodeNS writes into b (at least nsFrameLen bytes) a neighbour
// solicitation for target from src and the hardware address mac, to
// target's solicited-node multicast address, and returns the frame's
// length. It carries our link-layer address, so that target can answer
// without a solicitation of its own.
func encodeNS(b []byte, mac net.HardwareAddr, src, target netip.Addr) int {
	_ = b[nsFrameLen-1]
	clear(b[:nsFrameLen])
	group, groupMAC := solicitedNode(target)
	copy(b[0:6], groupMAC)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:], ethTypeIPv6)
	ip := b[ethHeaderLen:]
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], ndpMsgLen+ndpOptLLLen)
	ip[6], ip[7] = ipProtoICMPv6, ndpHopLimit
	s, d := src.As16(), group.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	m := ip[ipv6HeaderLen:]
	m[0] = icmpv6NS
	t := target.As16()
	copy(m[8:24], t[:])
	m[24], m[25] = ndpOptSourceLL, 1
	copy(m[26:32], mac)
	binary.BigEndian.PutUint16(m[2:], icmpv6Checksum(s, d, m[:ndpMsgLen+ndpOptLLLen]))
	return nsFrameLen
}

// icmpv6Checksum returns the ICMPv6 checksum of msg (its checksum field
// zero) sent from src to dst: RFC 1071 over the pseudo-header of RFC 8200
// section 8.1 and the message.
func icmpv6Checksum(src, dst [16]byte, msg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	sum += uint32(len(msg)) + ipProtoICMPv6
	add(msg)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// naPacket is the part of a neighbour advertisement resolution needs.
type naPacket struct {
	Target    netip.Addr
	Solicited bool
	// TargetMAC is the target link-layer address option, or the frame's
	// Ethernet source when the option is absent; it aliases the frame.
	TargetMAC net.HardwareAddr
}

// parseNA reads an Ethernet frame holding an IPv6 neighbour advertisement
// that passes the checks of RFC 4861 section 7.1.2 a receiver can make
// without state: hop limit 255, ICMPv6 code 0, at least 24 bytes, a target
// that is not multicast, and options of non-zero length that fit. It
// reports false for anything else. The checksum is not verified: the hop
// limit already proves the sender is on the link, and the scanner never
// trusts the answer beyond the MAC it names for the target it asked about.
func parseNA(frame []byte) (naPacket, bool) {
	if len(frame) < ethHeaderLen+ipv6HeaderLen+ndpMsgLen || binary.BigEndian.Uint16(frame[12:]) != ethTypeIPv6 {
		return naPacket{}, false
	}
	ip := frame[ethHeaderLen:]
	plen := int(binary.BigEndian.Uint16(ip[4:]))
	if ip[0]>>4 != 6 || ip[6] != ipProtoICMPv6 || ip[7] != ndpHopLimit || plen < ndpMsgLen || ipv6HeaderLen+plen > len(ip) {
		return naPacket{}, false
	}
	m := ip[ipv6HeaderLen : ipv6HeaderLen+plen]
	if m[0] != icmpv6NA || m[1] != 0 {
		return naPacket{}, false
	}
	p := naPacket{Target: netip.AddrFrom16([16]byte(m[8:24])), Solicited: m[4]&naFlagSolicited != 0}
	if p.Target.IsMulticast() {
		return naPacket{}, false
	}
	for opts := m[ndpMsgLen:]; len(opts) > 0; {
		if len(opts) < 2 || opts[1] == 0 || int(opts[1])*8 > len(opts) {
			return naPacket{}, false
		}
		n := int(opts[1]) * 8
		if opts[0] == ndpOptTargetLL && n == ndpOptLLLen {
			p.TargetMAC = net.HardwareAddr(opts[2:8:8])
		}
		opts = opts[n:]
	}
	if p.TargetMAC == nil {
		p.TargetMAC = net.HardwareAddr(frame[6:12:12])
	}
	return p, true
}

// isAnswerFor reports whether p names a usable link-layer address for
// target.
func (p naPacket) isAnswerFor(target netip.Addr) bool {
	return p.Target == target && validMAC(p.TargetMAC)
}
