package afpacket

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/net/bpf"
)

// Frame layout constants used by the filter (offsets from the start of the
// Ethernet frame).
const (
	etherTypeOffset = 12
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeVLAN   = 0x8100 // IEEE 802.1Q
	vlanTagLen      = 4

	ipv4ProtocolOffset = 9
	ipv4FlagsOffset    = 6 // flags (3 bits) and fragment offset (13 bits)
	ipv4DstOffset      = 16
	ipv4FragOffsetMask = 0x1fff
	ipProtoTCP         = 6

	ipv6NextHeaderOffset = 6
	ipv6DstOffset        = 24
	ipv6HeaderLen        = 40

	tcpFlagsOffset = 13
	tcpFlagRST     = 0x04
	tcpFlagSYN     = 0x02
	tcpFlagACK     = 0x10

	// acceptLen is what the filter returns for an accepted frame: the whole
	// frame (libpcap's default snapshot length).
	acceptLen = 262144
)

// FilterTCPTo returns a classic BPF program that accepts only IPv4 TCP frames
// addressed to addr (host byte order: 198.18.0.1 is 0xC6120001) carrying
// SYN+ACK or RST: the replies a SYN scan wants. It accepts Ethernet II frames
// with no tag or with one 802.1Q tag, rejects non-first fragments (they carry
// no TCP header) and returns the whole frame.
func FilterTCPTo(addr uint32) ([]bpf.RawInstruction, error) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], addr)
	return FilterReplies(netip.AddrFrom4(b), netip.Addr{})
}

// FilterReplies returns a classic BPF program that accepts the replies of a
// scan of both families: TCP frames carrying SYN+ACK or RST, addressed to
// local4 over IPv4 or to local6 over IPv6. A family whose address is the
// zero Addr is not accepted at all. IPv4 frames are checked as FilterTCPTo
// checks them (and first, so an IPv4 reply costs what it costs there);
// IPv6 frames must carry TCP right after the fixed header (a reply to a SYN
// has no extension header, and the scanner's parser takes none). Both
// accept no tag or one 802.1Q tag and return the whole frame.
func FilterReplies(local4, local6 netip.Addr) ([]bpf.RawInstruction, error) {
	switch {
	case local4.IsValid() && !local4.Is4():
		return nil, fmt.Errorf("afpacket: filter: %v is not an IPv4 address", local4)
	case local6.IsValid() && (!local6.Is6() || local6.Is4In6()):
		return nil, fmt.Errorf("afpacket: filter: %v is not an IPv6 address", local6)
	case !local4.IsValid() && !local6.IsValid():
		return nil, fmt.Errorf("afpacket: filter: no local address")
	}
	raw, err := bpf.Assemble(filterReplies(local4, local6))
	if err != nil {
		return nil, fmt.Errorf("afpacket: assembling filter: %w", err)
	}
	return raw, nil
}

// filterReplies builds the program of FilterReplies. The untagged and the
// tagged paths are the same checks at offsets 4 bytes apart; each ends by
// loading the TCP flags into A for the shared flag test.
func filterReplies(local4, local6 netip.Addr) []bpf.Instruction {
	var p program
	const (
		lTagged = iota
		lTagged6
		lV6
		lFlags
		lAccept
		lReject
		nLabels
	)
	p.labels = make([]int, nLabels)
	has4, has6 := local4.IsValid(), local6.IsValid()
	var addr uint32
	if has4 {
		a := local4.As4()
		addr = binary.BigEndian.Uint32(a[:])
	}
	var words [4]uint32
	if has6 {
		a := local6.As16()
		for i := range words {
			words[i] = binary.BigEndian.Uint32(a[4*i:])
		}
	}

	p.add(bpf.LoadAbsolute{Off: etherTypeOffset, Size: 2})
	// ipv4Checks tests the IPv4 packet at l3 and loads its TCP flags.
	ipv4Checks := func(l3 uint32) {
		p.add(bpf.LoadAbsolute{Off: l3 + ipv4DstOffset, Size: 4})
		p.jumpIf(bpf.JumpEqual, addr, -1, lReject)
		p.add(bpf.LoadAbsolute{Off: l3 + ipv4ProtocolOffset, Size: 1})
		p.jumpIf(bpf.JumpEqual, ipProtoTCP, -1, lReject)
		p.add(bpf.LoadAbsolute{Off: l3 + ipv4FlagsOffset, Size: 2})
		p.jumpIf(bpf.JumpBitsSet, ipv4FragOffsetMask, lReject, -1)
		// X = IPv4 header length, so [x + l3 + 13] is the TCP flags byte.
		p.add(bpf.LoadMemShift{Off: l3})
		p.add(bpf.LoadIndirect{Off: l3 + tcpFlagsOffset, Size: 1})
	}
	// ipv6Checks tests the IPv6 packet at l3 and loads its TCP flags, at a
	// fixed offset: no extension header is allowed.
	ipv6Checks := func(l3 uint32) {
		p.add(bpf.LoadAbsolute{Off: l3 + ipv6NextHeaderOffset, Size: 1})
		p.jumpIf(bpf.JumpEqual, ipProtoTCP, -1, lReject)
		for i, w := range words {
			p.add(bpf.LoadAbsolute{Off: l3 + ipv6DstOffset + 4*uint32(i), Size: 4})
			p.jumpIf(bpf.JumpEqual, w, -1, lReject)
		}
		p.add(bpf.LoadAbsolute{Off: l3 + ipv6HeaderLen + tcpFlagsOffset, Size: 1})
	}
	// A family without an address goes straight to the rejection.
	to4, to6 := -1, lV6
	if !has4 {
		to4 = lReject
	}
	if !has6 {
		to6 = lReject
	}
	p.jumpIf(bpf.JumpEqual, etherTypeIPv4, to4, lTagged)
	if has4 {
		ipv4Checks(ethHeaderLen)
		p.jump(lFlags)
	}

	p.label(lTagged)
	p.jumpIf(bpf.JumpEqual, etherTypeIPv6, to6, -1)
	p.jumpIf(bpf.JumpEqual, etherTypeVLAN, -1, lReject)
	p.add(bpf.LoadAbsolute{Off: etherTypeOffset + vlanTagLen, Size: 2})
	p.jumpIf(bpf.JumpEqual, etherTypeIPv4, to4, lTagged6)
	if has4 {
		ipv4Checks(ethHeaderLen + vlanTagLen)
		p.jump(lFlags)
	}

	p.label(lTagged6)
	p.jumpIf(bpf.JumpEqual, etherTypeIPv6, -1, lReject)
	if has6 {
		ipv6Checks(ethHeaderLen + vlanTagLen)
		p.jump(lFlags)
		p.label(lV6)
		ipv6Checks(ethHeaderLen)
	} else {
		p.jump(lReject)
		p.label(lV6)
		p.jump(lReject)
	}

	p.label(lFlags)
	p.jumpIf(bpf.JumpBitsSet, tcpFlagRST, lAccept, -1)
	p.add(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: tcpFlagSYN | tcpFlagACK})
	p.jumpIf(bpf.JumpEqual, tcpFlagSYN|tcpFlagACK, lAccept, lReject)

	p.label(lAccept)
	p.add(bpf.RetConstant{Val: acceptLen})
	p.label(lReject)
	p.add(bpf.RetConstant{Val: 0})
	return p.resolve()
}

// program is a tiny assembler with forward labels, so that the filter reads
// as checks rather than as hand-counted skip distances.
type program struct {
	ins    []bpf.Instruction
	labels []int // label → instruction index
	fixups []fixup
}

// fixup records a jump whose targets are labels (-1 = fall through).
type fixup struct {
	at            int
	target        int // for bpf.Jump
	onTrue, onFal int // for bpf.JumpIf
}

func (p *program) add(i bpf.Instruction) { p.ins = append(p.ins, i) }

func (p *program) label(l int) { p.labels[l] = len(p.ins) }

func (p *program) jump(l int) {
	p.fixups = append(p.fixups, fixup{at: len(p.ins), target: l, onTrue: -1, onFal: -1})
	p.add(bpf.Jump{})
}

func (p *program) jumpIf(c bpf.JumpTest, v uint32, onTrue, onFalse int) {
	p.fixups = append(p.fixups, fixup{at: len(p.ins), target: -1, onTrue: onTrue, onFal: onFalse})
	p.add(bpf.JumpIf{Cond: c, Val: v})
}

func (p *program) resolve() []bpf.Instruction {
	skip := func(at, l int) uint8 {
		if l < 0 {
			return 0
		}
		return uint8(p.labels[l] - at - 1)
	}
	for _, f := range p.fixups {
		switch in := p.ins[f.at].(type) {
		case bpf.Jump:
			in.Skip = uint32(skip(f.at, f.target))
			p.ins[f.at] = in
		case bpf.JumpIf:
			in.SkipTrue = skip(f.at, f.onTrue)
			in.SkipFalse = skip(f.at, f.onFal)
			p.ins[f.at] = in
		}
	}
	return p.ins
}
