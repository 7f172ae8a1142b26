package frame

import (
	"encoding/binary"
	"net"
)

// Ethernet II header (IEEE 802.3 clause 3.1.1, without preamble and FCS):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination MAC address                    |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                      Source MAC address                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           EtherType           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	EthernetDstOffset  = 0
	EthernetSrcOffset  = 6
	EthernetTypeOffset = 12

	// EthernetAddressSize is the size of a MAC address.
	EthernetAddressSize = 6
	// EthernetMinimumSize is the size of an Ethernet II header without tags.
	EthernetMinimumSize = 14
	// EthernetMinimumFrameSize is the shortest frame a NIC puts on the wire,
	// without the 4-byte FCS; the NIC pads shorter frames.
	EthernetMinimumFrameSize = 60
)

// An 802.1Q tag sits between the source address and the EtherType: a TPID
// (EtherTypeVLAN) and a 16-bit tag control field, after which the real
// EtherType follows.
const (
	// VLANTagSize is the size of one 802.1Q tag (TPID and TCI).
	VLANTagSize = 4
)

// EtherType values this package knows.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeVLAN = 0x8100
	EtherTypeIPv6 = 0x86DD
)

// Ethernet is an Ethernet II header stored in a byte slice.
//
// Its methods do not check bounds: the slice must be at least
// EthernetMinimumSize bytes long, which the caller checks once before use.
type Ethernet []byte

// DestinationAddress returns the "destination address" field as a value.
func (b Ethernet) DestinationAddress() [EthernetAddressSize]byte {
	return [EthernetAddressSize]byte(b[EthernetDstOffset : EthernetDstOffset+EthernetAddressSize])
}

// SetDestinationAddress sets the "destination address" field. mac must be 6
// bytes long.
func (b Ethernet) SetDestinationAddress(mac net.HardwareAddr) {
	copy(b[EthernetDstOffset:EthernetDstOffset+EthernetAddressSize], mac)
}

// SourceAddress returns the "source address" field as a value.
func (b Ethernet) SourceAddress() [EthernetAddressSize]byte {
	return [EthernetAddressSize]byte(b[EthernetSrcOffset : EthernetSrcOffset+EthernetAddressSize])
}

// SetSourceAddress sets the "source address" field. mac must be 6 bytes long.
func (b Ethernet) SetSourceAddress(mac net.HardwareAddr) {
	copy(b[EthernetSrcOffset:EthernetSrcOffset+EthernetAddressSize], mac)
}

// Type returns the "EtherType" field. For a tagged frame this is
// EtherTypeVLAN and the real EtherType follows the tag.
func (b Ethernet) Type() uint16 {
	return binary.BigEndian.Uint16(b[EthernetTypeOffset:])
}

// SetType sets the "EtherType" field.
func (b Ethernet) SetType(t uint16) {
	binary.BigEndian.PutUint16(b[EthernetTypeOffset:], t)
}

// IPv4 header, RFC 791 section 3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	IPv4VersIHLOffset      = 0
	IPv4TOSOffset          = 1
	IPv4TotalLenOffset     = 2
	IPv4IDOffset           = 4
	IPv4FlagsFragOffset    = 6
	IPv4TTLOffset          = 8
	IPv4ProtocolOffset     = 9
	IPv4ChecksumOffset     = 10
	IPv4SrcAddrOffset      = 12
	IPv4DstAddrOffset      = 16
	IPv4OptionsOffset      = 20
	IPv4AddressSize        = 4
	IPv4Version            = 4
	IPv4MinimumSize        = IPv4OptionsOffset
	IPv4OptionsMaximumSize = 40
	// IPv4MaximumHeaderSize is the largest header the 4-bit IHL can describe.
	IPv4MaximumHeaderSize = IPv4MinimumSize + IPv4OptionsMaximumSize
)

// Bits of the 3-bit "flags" field of the IPv4 header, as returned by
// IPv4.Flags.
const (
	IPv4FlagMoreFragments = 1 << 0
	IPv4FlagDontFragment  = 1 << 1
)

// IPProtocolTCP is the "protocol" field value of TCP.
const IPProtocolTCP = 6

// IPv4 is an IPv4 header stored in a byte slice.
//
// Its methods do not check bounds: the slice must be at least IPv4MinimumSize
// bytes long (HeaderLength bytes for Options), which the caller checks once
// before use, with IsValid for received packets.
type IPv4 []byte

// IsValid reports whether b starts with a complete IPv4 header whose "total
// length" fits in b: version 4, IHL of at least 5 words, and
// HeaderLength <= TotalLength <= len(b). Bytes beyond the total length (such
// as Ethernet padding) are allowed.
func (b IPv4) IsValid() bool {
	if len(b) < IPv4MinimumSize || b[IPv4VersIHLOffset]>>4 != IPv4Version {
		return false
	}
	hlen := int(b[IPv4VersIHLOffset]&0x0f) * 4
	tlen := int(binary.BigEndian.Uint16(b[IPv4TotalLenOffset:]))
	return hlen >= IPv4MinimumSize && hlen <= tlen && tlen <= len(b)
}

// Version returns the "version" field.
func (b IPv4) Version() uint8 {
	return b[IPv4VersIHLOffset] >> 4
}

// HeaderLength returns the header length in bytes: the "internet header
// length" field times 4.
func (b IPv4) HeaderLength() int {
	return int(b[IPv4VersIHLOffset]&0x0f) * 4
}

// SetVersionAndHeaderLength sets the "version" field to 4 and the "internet
// header length" field to hlen/4; hlen is in bytes, a multiple of 4 between
// IPv4MinimumSize and IPv4MaximumHeaderSize.
func (b IPv4) SetVersionAndHeaderLength(hlen int) {
	b[IPv4VersIHLOffset] = IPv4Version<<4 | uint8(hlen/4)&0x0f
}

// TOS returns the "type of service" field (DSCP and ECN).
func (b IPv4) TOS() uint8 {
	return b[IPv4TOSOffset]
}

// SetTOS sets the "type of service" field.
func (b IPv4) SetTOS(tos uint8) {
	b[IPv4TOSOffset] = tos
}

// TotalLength returns the "total length" field: header and payload in bytes.
func (b IPv4) TotalLength() uint16 {
	return binary.BigEndian.Uint16(b[IPv4TotalLenOffset:])
}

// SetTotalLength sets the "total length" field.
func (b IPv4) SetTotalLength(n uint16) {
	binary.BigEndian.PutUint16(b[IPv4TotalLenOffset:], n)
}

// ID returns the "identification" field.
func (b IPv4) ID() uint16 {
	return binary.BigEndian.Uint16(b[IPv4IDOffset:])
}

// SetID sets the "identification" field.
func (b IPv4) SetID(id uint16) {
	binary.BigEndian.PutUint16(b[IPv4IDOffset:], id)
}

// Flags returns the 3-bit "flags" field (IPv4FlagDontFragment,
// IPv4FlagMoreFragments).
func (b IPv4) Flags() uint8 {
	return b[IPv4FlagsFragOffset] >> 5
}

// FragmentOffset returns the "fragment offset" field converted to bytes.
func (b IPv4) FragmentOffset() uint16 {
	return binary.BigEndian.Uint16(b[IPv4FlagsFragOffset:]) << 3
}

// SetFlagsFragmentOffset sets the "flags" field and the "fragment offset"
// field; offset is in bytes and must be a multiple of 8.
func (b IPv4) SetFlagsFragmentOffset(flags uint8, offset uint16) {
	binary.BigEndian.PutUint16(b[IPv4FlagsFragOffset:], uint16(flags)<<13|offset>>3)
}

// TTL returns the "time to live" field.
func (b IPv4) TTL() uint8 {
	return b[IPv4TTLOffset]
}

// SetTTL sets the "time to live" field.
func (b IPv4) SetTTL(ttl uint8) {
	b[IPv4TTLOffset] = ttl
}

// Protocol returns the "protocol" field.
func (b IPv4) Protocol() uint8 {
	return b[IPv4ProtocolOffset]
}

// SetProtocol sets the "protocol" field.
func (b IPv4) SetProtocol(p uint8) {
	b[IPv4ProtocolOffset] = p
}

// Checksum returns the "header checksum" field.
func (b IPv4) Checksum() uint16 {
	return binary.BigEndian.Uint16(b[IPv4ChecksumOffset:])
}

// SetChecksum sets the "header checksum" field.
func (b IPv4) SetChecksum(c uint16) {
	binary.BigEndian.PutUint16(b[IPv4ChecksumOffset:], c)
}

// CalculateChecksum returns the value the "header checksum" field must hold
// for the header as it is, ignoring the field's current content.
func (b IPv4) CalculateChecksum() uint16 {
	hlen := b.HeaderLength()
	sum := Checksum(b[:IPv4ChecksumOffset], 0)
	return ^Checksum(b[IPv4ChecksumOffset+2:hlen], sum)
}

// SourceAddress returns the "source address" field, in host byte order
// (1.2.3.4 is 0x01020304).
func (b IPv4) SourceAddress() uint32 {
	return binary.BigEndian.Uint32(b[IPv4SrcAddrOffset:])
}

// SetSourceAddress sets the "source address" field from an address in host
// byte order.
func (b IPv4) SetSourceAddress(a uint32) {
	binary.BigEndian.PutUint32(b[IPv4SrcAddrOffset:], a)
}

// DestinationAddress returns the "destination address" field, in host byte
// order.
func (b IPv4) DestinationAddress() uint32 {
	return binary.BigEndian.Uint32(b[IPv4DstAddrOffset:])
}

// SetDestinationAddress sets the "destination address" field from an address
// in host byte order.
func (b IPv4) SetDestinationAddress(a uint32) {
	binary.BigEndian.PutUint32(b[IPv4DstAddrOffset:], a)
}

// Options returns the options of the header, aliasing b, with its capacity
// capped so that appending cannot overwrite the payload.
func (b IPv4) Options() []byte {
	hlen := b.HeaderLength()
	return b[IPv4OptionsOffset:hlen:hlen]
}

// Payload returns the bytes after the header up to the "total length",
// aliasing b.
func (b IPv4) Payload() []byte {
	return b[b.HeaderLength():b.TotalLength()]
}

// IPv6 header, RFC 8200 section 3:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                         Source Address                        +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                      Destination Address                      +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	IPv6VersTCFlowOffset  = 0
	IPv6PayloadLenOffset  = 4
	IPv6NextHeaderOffset  = 6
	IPv6HopLimitOffset    = 7
	IPv6SrcAddrOffset     = 8
	IPv6DstAddrOffset     = 24
	IPv6AddressSize       = 16
	IPv6Version           = 6
	IPv6MinimumSize       = IPv6DstAddrOffset + IPv6AddressSize
	IPv6FlowLabelMask     = 1<<20 - 1
	ipv6VersionShift      = 28
	ipv6TrafficClassShift = 20
)

// IPv6 is an IPv6 header stored in a byte slice. Extension headers are not
// modelled: the scanner sends none and takes replies without them.
//
// Its methods do not check bounds: the slice must be at least
// IPv6MinimumSize bytes long, which the caller checks once before use, with
// IsValid for received packets.
type IPv6 []byte

// IsValid reports whether b starts with a complete IPv6 header whose
// "payload length" fits in b: version 6 and IPv6MinimumSize + PayloadLength
// <= len(b). Bytes beyond the payload (Ethernet padding) are allowed.
func (b IPv6) IsValid() bool {
	if len(b) < IPv6MinimumSize || b[IPv6VersTCFlowOffset]>>4 != IPv6Version {
		return false
	}
	return IPv6MinimumSize+int(binary.BigEndian.Uint16(b[IPv6PayloadLenOffset:])) <= len(b)
}

// Version returns the "version" field.
func (b IPv6) Version() uint8 {
	return b[IPv6VersTCFlowOffset] >> 4
}

// TrafficClass returns the "traffic class" field.
func (b IPv6) TrafficClass() uint8 {
	return uint8(binary.BigEndian.Uint32(b[IPv6VersTCFlowOffset:]) >> ipv6TrafficClassShift)
}

// FlowLabel returns the 20-bit "flow label" field.
func (b IPv6) FlowLabel() uint32 {
	return binary.BigEndian.Uint32(b[IPv6VersTCFlowOffset:]) & IPv6FlowLabelMask
}

// SetVersionTrafficClassFlowLabel sets the first word of the header: version
// 6, the traffic class and the low 20 bits of flow.
func (b IPv6) SetVersionTrafficClassFlowLabel(tc uint8, flow uint32) {
	binary.BigEndian.PutUint32(b[IPv6VersTCFlowOffset:],
		IPv6Version<<ipv6VersionShift|uint32(tc)<<ipv6TrafficClassShift|flow&IPv6FlowLabelMask)
}

// PayloadLength returns the "payload length" field: the bytes after the
// fixed header.
func (b IPv6) PayloadLength() uint16 {
	return binary.BigEndian.Uint16(b[IPv6PayloadLenOffset:])
}

// SetPayloadLength sets the "payload length" field.
func (b IPv6) SetPayloadLength(n uint16) {
	binary.BigEndian.PutUint16(b[IPv6PayloadLenOffset:], n)
}

// NextHeader returns the "next header" field: the protocol of the payload
// when there is no extension header.
func (b IPv6) NextHeader() uint8 {
	return b[IPv6NextHeaderOffset]
}

// SetNextHeader sets the "next header" field.
func (b IPv6) SetNextHeader(p uint8) {
	b[IPv6NextHeaderOffset] = p
}

// HopLimit returns the "hop limit" field.
func (b IPv6) HopLimit() uint8 {
	return b[IPv6HopLimitOffset]
}

// SetHopLimit sets the "hop limit" field.
func (b IPv6) SetHopLimit(h uint8) {
	b[IPv6HopLimitOffset] = h
}

// SourceAddress returns the "source address" field as a value.
func (b IPv6) SourceAddress() [IPv6AddressSize]byte {
	return [IPv6AddressSize]byte(b[IPv6SrcAddrOffset : IPv6SrcAddrOffset+IPv6AddressSize])
}

// SetSourceAddress sets the "source address" field.
func (b IPv6) SetSourceAddress(a [IPv6AddressSize]byte) {
	copy(b[IPv6SrcAddrOffset:IPv6SrcAddrOffset+IPv6AddressSize], a[:])
}

// DestinationAddress returns the "destination address" field as a value.
func (b IPv6) DestinationAddress() [IPv6AddressSize]byte {
	return [IPv6AddressSize]byte(b[IPv6DstAddrOffset : IPv6DstAddrOffset+IPv6AddressSize])
}

// SetDestinationAddress sets the "destination address" field.
func (b IPv6) SetDestinationAddress(a [IPv6AddressSize]byte) {
	copy(b[IPv6DstAddrOffset:IPv6DstAddrOffset+IPv6AddressSize], a[:])
}

// Payload returns the bytes after the fixed header, up to the payload
// length. b must be valid (IsValid).
func (b IPv6) Payload() []byte {
	return b[IPv6MinimumSize : IPv6MinimumSize+int(b.PayloadLength())]
}

// TCP header, RFC 793 section 3.1 (flags as updated by RFC 3168):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|       |       |R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	TCPSrcPortOffset      = 0
	TCPDstPortOffset      = 2
	TCPSeqNumOffset       = 4
	TCPAckNumOffset       = 8
	TCPDataOffset         = 12
	TCPFlagsOffset        = 13
	TCPWindowOffset       = 14
	TCPChecksumOffset     = 16
	TCPUrgentPtrOffset    = 18
	TCPOptionsOffset      = 20
	TCPMinimumSize        = TCPOptionsOffset
	TCPOptionsMaximumSize = 40
	// TCPHeaderMaximumSize is the largest header the 4-bit data offset can
	// describe.
	TCPHeaderMaximumSize = TCPMinimumSize + TCPOptionsMaximumSize
)

// TCPFlags is the 8-bit "flags" field of a TCP header.
type TCPFlags uint8

// TCP flag bits, RFC 793 and RFC 3168.
const (
	TCPFlagFIN TCPFlags = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
)

// Contains reports whether every flag of want is set in f.
func (f TCPFlags) Contains(want TCPFlags) bool {
	return f&want == want
}

// Intersects reports whether any flag of other is set in f.
func (f TCPFlags) Intersects(other TCPFlags) bool {
	return f&other != 0
}

// tcpFlagLetters names the flag bits from the lowest up, as tcpdump does.
const tcpFlagLetters = "FSRPAUEC"

// tcpFlagStrings holds String's result for every value so that formatting a
// flags field in the receive path does not allocate.
var tcpFlagStrings = func() (t [256]string) {
	for v := range t {
		var s []byte
		for i := range len(tcpFlagLetters) {
			if v&(1<<i) != 0 {
				s = append(s, tcpFlagLetters[i])
			}
		}
		if len(s) == 0 {
			t[v] = "none"
		} else {
			t[v] = string(s)
		}
	}
	return t
}()

// String returns the letters of the flags that are set, in the order
// FSRPAUEC (FIN, SYN, RST, PSH, ACK, URG, ECE, CWR): "SA" for a SYN-ACK, "R"
// for a reset, "RA" for a RST-ACK, and "none" when no flag is set. It does
// not allocate.
func (f TCPFlags) String() string {
	return tcpFlagStrings[f]
}

// TCP is a TCP header stored in a byte slice.
//
// Its methods do not check bounds: the slice must be at least TCPMinimumSize
// bytes long (HeaderLength bytes for Options), which the caller checks once
// before use, with IsValid for received segments.
type TCP []byte

// IsValid reports whether b holds a complete TCP header: at least
// TCPMinimumSize bytes and a "data offset" of at least 5 words that does not
// reach beyond b.
func (b TCP) IsValid() bool {
	if len(b) < TCPMinimumSize {
		return false
	}
	hlen := int(b[TCPDataOffset]>>4) * 4
	return hlen >= TCPMinimumSize && hlen <= len(b)
}

// SourcePort returns the "source port" field.
func (b TCP) SourcePort() uint16 {
	return binary.BigEndian.Uint16(b[TCPSrcPortOffset:])
}

// SetSourcePort sets the "source port" field.
func (b TCP) SetSourcePort(p uint16) {
	binary.BigEndian.PutUint16(b[TCPSrcPortOffset:], p)
}

// DestinationPort returns the "destination port" field.
func (b TCP) DestinationPort() uint16 {
	return binary.BigEndian.Uint16(b[TCPDstPortOffset:])
}

// SetDestinationPort sets the "destination port" field.
func (b TCP) SetDestinationPort(p uint16) {
	binary.BigEndian.PutUint16(b[TCPDstPortOffset:], p)
}

// SequenceNumber returns the "sequence number" field.
func (b TCP) SequenceNumber() uint32 {
	return binary.BigEndian.Uint32(b[TCPSeqNumOffset:])
}

// SetSequenceNumber sets the "sequence number" field.
func (b TCP) SetSequenceNumber(seq uint32) {
	binary.BigEndian.PutUint32(b[TCPSeqNumOffset:], seq)
}

// AckNumber returns the "acknowledgment number" field.
func (b TCP) AckNumber() uint32 {
	return binary.BigEndian.Uint32(b[TCPAckNumOffset:])
}

// SetAckNumber sets the "acknowledgment number" field.
func (b TCP) SetAckNumber(ack uint32) {
	binary.BigEndian.PutUint32(b[TCPAckNumOffset:], ack)
}

// HeaderLength returns the header length in bytes: the "data offset" field
// times 4.
func (b TCP) HeaderLength() int {
	return int(b[TCPDataOffset]>>4) * 4
}

// SetHeaderLength sets the "data offset" field to hlen/4 and clears the
// reserved bits; hlen is in bytes, a multiple of 4 between TCPMinimumSize and
// TCPHeaderMaximumSize.
func (b TCP) SetHeaderLength(hlen int) {
	b[TCPDataOffset] = uint8(hlen/4) << 4
}

// Flags returns the "flags" field.
func (b TCP) Flags() TCPFlags {
	return TCPFlags(b[TCPFlagsOffset])
}

// SetFlags sets the "flags" field.
func (b TCP) SetFlags(f TCPFlags) {
	b[TCPFlagsOffset] = uint8(f)
}

// WindowSize returns the "window" field, unscaled.
func (b TCP) WindowSize() uint16 {
	return binary.BigEndian.Uint16(b[TCPWindowOffset:])
}

// SetWindowSize sets the "window" field.
func (b TCP) SetWindowSize(w uint16) {
	binary.BigEndian.PutUint16(b[TCPWindowOffset:], w)
}

// Checksum returns the "checksum" field.
func (b TCP) Checksum() uint16 {
	return binary.BigEndian.Uint16(b[TCPChecksumOffset:])
}

// SetChecksum sets the "checksum" field.
func (b TCP) SetChecksum(c uint16) {
	binary.BigEndian.PutUint16(b[TCPChecksumOffset:], c)
}

// UrgentPointer returns the "urgent pointer" field.
func (b TCP) UrgentPointer() uint16 {
	return binary.BigEndian.Uint16(b[TCPUrgentPtrOffset:])
}

// SetUrgentPointer sets the "urgent pointer" field.
func (b TCP) SetUrgentPointer(p uint16) {
	binary.BigEndian.PutUint16(b[TCPUrgentPtrOffset:], p)
}

// Options returns the options of the header, aliasing b, with its capacity
// capped so that appending cannot overwrite the payload.
func (b TCP) Options() []byte {
	hlen := b.HeaderLength()
	return b[TCPOptionsOffset:hlen:hlen]
}

// CalculateChecksum returns the value the "checksum" field must hold for the
// segment b (header and payload) sent from src to dst, ignoring the field's
// current content.
func (b TCP) CalculateChecksum(src, dst uint32) uint16 {
	sum := PseudoHeaderChecksum(IPProtocolTCP, src, dst, uint16(len(b)))
	sum = Checksum(b[:TCPChecksumOffset], sum)
	return ^Checksum(b[TCPChecksumOffset+2:], sum)
}

// CalculateChecksum6 is CalculateChecksum for a segment carried by IPv6
// from src to dst (the pseudo-header of RFC 8200 section 8.1).
func (b TCP) CalculateChecksum6(src, dst [IPv6AddressSize]byte) uint16 {
	sum := PseudoHeaderChecksum6(IPProtocolTCP, src, dst, uint32(len(b)))
	sum = Checksum(b[:TCPChecksumOffset], sum)
	return ^Checksum(b[TCPChecksumOffset+2:], sum)
}
