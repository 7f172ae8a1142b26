package netroute

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// ARP over Ethernet for IPv4 (RFC 826). Like netlink.go, this file makes no
// system call: it builds requests and reads replies, which come from the
// link and are not to be trusted.

const (
	ethHeaderLen  = 14
	ethTypeARP    = 0x0806
	ethTypeIPv4   = 0x0800
	arpHTypeEther = 1
	arpOpRequest  = 1
	arpOpReply    = 2
	arpLen        = 28 // ARP payload for Ethernet/IPv4
	// ethMinFrame is the shortest Ethernet frame without FCS; AF_PACKET does
	// not pad, and some hardware drops runts.
	ethMinFrame = 60
)

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// encodeARPRequest writes into b (at least ethMinFrame bytes) a broadcast
// "who-has target tell src" from the hardware address mac, and returns the
// frame's length.
func encodeARPRequest(b []byte, mac net.HardwareAddr, src, target netip.Addr) int {
	_ = b[ethMinFrame-1]
	clear(b[:ethMinFrame])
	copy(b[0:6], broadcastMAC)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:], ethTypeARP)
	a := b[ethHeaderLen:]
	binary.BigEndian.PutUint16(a[0:], arpHTypeEther)
	binary.BigEndian.PutUint16(a[2:], ethTypeIPv4)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], arpOpRequest)
	copy(a[8:14], mac)
	s, t := src.As4(), target.As4()
	copy(a[14:18], s[:])
	// a[18:24], the target hardware address, stays zero: it is what we ask.
	copy(a[24:28], t[:])
	return ethMinFrame
}

// arpPacket is the part of an ARP frame that resolution needs.
type arpPacket struct {
	Op        uint16
	SenderMAC net.HardwareAddr // aliases the frame
	SenderIP  netip.Addr
	TargetMAC net.HardwareAddr // aliases the frame
	TargetIP  netip.Addr
}

// parseARP reads an Ethernet frame holding an Ethernet/IPv4 ARP packet. It
// reports false for anything else, short or malformed.
func parseARP(frame []byte) (arpPacket, bool) {
	if len(frame) < ethHeaderLen+arpLen || binary.BigEndian.Uint16(frame[12:]) != ethTypeARP {
		return arpPacket{}, false
	}
	a := frame[ethHeaderLen : ethHeaderLen+arpLen]
	if binary.BigEndian.Uint16(a[0:]) != arpHTypeEther || binary.BigEndian.Uint16(a[2:]) != ethTypeIPv4 ||
		a[4] != 6 || a[5] != 4 {
		return arpPacket{}, false
	}
	return arpPacket{
		Op:        binary.BigEndian.Uint16(a[6:]),
		SenderMAC: net.HardwareAddr(a[8:14:14]),
		SenderIP:  netip.AddrFrom4([4]byte(a[14:18])),
		TargetMAC: net.HardwareAddr(a[18:24:24]),
		TargetIP:  netip.AddrFrom4([4]byte(a[24:28])),
	}, true
}

// isReplyFrom reports whether p answers a question about target: an ARP
// reply whose sender is target and whose hardware address can be used.
func (p arpPacket) isReplyFrom(target netip.Addr) bool {
	return p.Op == arpOpReply && p.SenderIP == target && validMAC(p.SenderMAC)
}
