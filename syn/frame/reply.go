package frame

import "encoding/binary"

// Reply is the part of a received IPv4/TCP or IPv6/TCP packet the receiver
// needs to match it against a probe and record it. IPv4 addresses are in
// host byte order.
type Reply struct {
	// SrcAddr and SrcPort are the sender's (the scanned host's); DstAddr
	// and DstPort ours. For an IPv6 reply (V6) the addresses are in
	// SrcAddr6 and DstAddr6 and these two are 0.
	SrcAddr, DstAddr uint32
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            TCPFlags
	// TTL is the IPv4 TTL or the IPv6 hop limit.
	TTL    uint8
	Window uint16
	// IPID is the IPv4 identification; 0 for IPv6.
	IPID uint16
	// V6 marks an IPv6 reply.
	V6                 bool
	SrcAddr6, DstAddr6 [IPv6AddressSize]byte
}

// ParseReply decodes an Ethernet II frame carrying IPv4/TCP or IPv6/TCP
// into r and reports whether it could. It returns false, and leaves r
// unchanged, for anything that is not one complete IPv4/TCP or IPv6/TCP
// packet: a short frame, another EtherType, an IPv4 header with a version
// other than 4, an IHL below 5 or beyond the frame, a total length shorter
// than the headers or longer than the frame, a fragment (MF set or a
// non-zero offset), another protocol, an IPv6 header with a version other
// than 6, a payload length beyond the frame, an extension header (a reply
// to a SYN carries none; a fragment header would need reassembly), or a
// TCP data offset below 5 or beyond the packet. Bytes after the total or
// payload length (Ethernet padding) are ignored. IPv4 options are skipped
// and one 802.1Q VLAN tag is accepted; AF_PACKET usually strips the tag
// before user space sees the frame, but not on every driver.
//
// It does not verify checksums, on purpose. Frames corrupted on the wire
// fail the Ethernet FCS, a CRC far stronger than the 16-bit sums, and the
// NIC drops them before capture. On veth and other devices with checksum
// offload, a reply from a local stack reaches AF_PACKET before its TCP
// checksum is filled in (the kernel's CHECKSUM_PARTIAL), so verifying would
// drop valid replies in the lab. And a corrupt reply that slips through
// fails the SYN cookie check anyway: a flipped bit in the addresses, ports
// or acknowledgment number no longer matches the keyed hash. Tests can
// verify checksums with IPv4.CalculateChecksum and TCP.CalculateChecksum.
//
// ParseReply never panics, whatever frame holds, and does not allocate.
func ParseReply(frame []byte, r *Reply) bool {
	if len(frame) < EthernetMinimumSize {
		return false
	}
	off := EthernetMinimumSize
	etype := binary.BigEndian.Uint16(frame[EthernetTypeOffset:])
	if etype == EtherTypeVLAN {
		if len(frame) < EthernetMinimumSize+VLANTagSize {
			return false
		}
		etype = binary.BigEndian.Uint16(frame[EthernetTypeOffset+VLANTagSize:])
		off += VLANTagSize
	}
	if etype != EtherTypeIPv4 {
		return etype == EtherTypeIPv6 && parseReply6(frame[off:], r)
	}
	ip := IPv4(frame[off:])
	if !ip.IsValid() {
		return false
	}
	// A fragment's TCP header may be partial or absent, and this scanner
	// never sends anything that needs reassembling; its probes carry DF.
	if binary.BigEndian.Uint16(ip[IPv4FlagsFragOffset:])&0x3fff != 0 ||
		ip[IPv4ProtocolOffset] != IPProtocolTCP {
		return false
	}
	tcp := TCP(ip[ip.HeaderLength():ip.TotalLength()])
	if !tcp.IsValid() {
		return false
	}
	r.V6 = false
	r.SrcAddr = ip.SourceAddress()
	r.DstAddr = ip.DestinationAddress()
	r.TTL = ip.TTL()
	r.IPID = ip.ID()
	r.SrcPort = tcp.SourcePort()
	r.DstPort = tcp.DestinationPort()
	r.Seq = tcp.SequenceNumber()
	r.Ack = tcp.AckNumber()
	r.Flags = tcp.Flags()
	r.Window = tcp.WindowSize()
	return true
}

// parseReply6 is ParseReply for the IPv6 packet b.
func parseReply6(b []byte, r *Reply) bool {
	ip := IPv6(b)
	if !ip.IsValid() || ip.NextHeader() != IPProtocolTCP {
		return false
	}
	tcp := TCP(ip.Payload())
	if !tcp.IsValid() {
		return false
	}
	r.V6 = true
	r.SrcAddr, r.DstAddr = 0, 0
	r.SrcAddr6 = ip.SourceAddress()
	r.DstAddr6 = ip.DestinationAddress()
	r.TTL = ip.HopLimit()
	r.IPID = 0
	r.SrcPort = tcp.SourcePort()
	r.DstPort = tcp.DestinationPort()
	r.Seq = tcp.SequenceNumber()
	r.Ack = tcp.AckNumber()
	r.Flags = tcp.Flags()
	r.Window = tcp.WindowSize()
	return true
}
