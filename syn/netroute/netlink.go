package netroute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Netlink (rtnetlink) wire format: the message encoders and the parsers of
// kernel replies. This file makes no system call, so that the parsers — which
// read bytes from outside the process — can be tested and fuzzed anywhere.
// The kernel writes headers in host byte order and addresses in network
// byte order; every Linux port Go supports is little-endian or says so
// through binary.NativeEndian.

// Constants from linux/netlink.h, linux/rtnetlink.h, linux/neighbour.h.
const (
	nlmsgHdrLen   = 16 // struct nlmsghdr
	nlmsgAlignTo  = 4
	rtaHdrLen     = 4  // struct rtattr
	rtmsgLen      = 12 // struct rtmsg
	ndmsgLen      = 12 // struct ndmsg
	nlmsgerrLen   = 4 + nlmsgHdrLen
	afInet        = 2  // AF_INET
	afInet6       = 10 // AF_INET6 (Linux)
	nlmsgNoop     = 1  // NLMSG_NOOP
	nlmsgError    = 2  // NLMSG_ERROR
	nlmsgDone     = 3  // NLMSG_DONE
	nlmsgOverrun  = 4  // NLMSG_OVERRUN
	nlmFRequest   = 0x1
	nlmFMulti     = 0x2
	nlmFDump      = 0x300
	nlmFCapped    = 0x100 // in an error: the request was not echoed back
	nlmFAckTLVs   = 0x200 // in an error: extended-ack attributes follow
	nlmsgerrAttrM = 1     // NLMSGERR_ATTR_MSG

	rtmNewRoute = 24
	rtmGetRoute = 26
	rtmNewNeigh = 28
	rtmGetNeigh = 30

	rtaDst     = 1
	rtaOIF     = 4
	rtaGateway = 5
	rtaPrefSrc = 7
	rtaTable   = 15
	rtaVia     = 18

	ndaDst    = 1
	ndaLLAddr = 2
)

// Route types (rtm_type).
const (
	rtnUnicast     = 1
	rtnLocal       = 2
	rtnBroadcast   = 3
	rtnAnycast     = 4
	rtnMulticast   = 5
	rtnBlackhole   = 6
	rtnUnreachable = 7
	rtnProhibit    = 8
	rtnThrow       = 9
)

// Neighbour states (ndm_state).
const (
	nudIncomplete = 0x01
	nudReachable  = 0x02
	nudStale      = 0x04
	nudDelay      = 0x08
	nudProbe      = 0x10
	nudFailed     = 0x20
	nudNoARP      = 0x40
	nudPermanent  = 0x80

	// nudValid are the states whose link-layer address can be used: the
	// kernel's own NUD_VALID less NUD_NOARP, whose entries carry no address
	// learnt from the link.
	nudValid = nudReachable | nudStale | nudDelay | nudProbe | nudPermanent
)

var errTruncated = errors.New("netroute: truncated netlink message")

func nlmsgAlign(n int) int { return (n + nlmsgAlignTo - 1) &^ (nlmsgAlignTo - 1) }

// nlMessage is one netlink message; Data aliases the buffer it was parsed
// from.
type nlMessage struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
	Data  []byte
}

// appendHeader appends a struct nlmsghdr whose length is fixed up by
// finish.
func appendHeader(b []byte, typ, flags uint16, seq uint32) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	return binary.NativeEndian.AppendUint32(b, 0) // nlmsg_pid: 0, the kernel fills it in
}

func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(rtaHdrLen+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%nlmsgAlignTo != 0 {
		b = append(b, 0)
	}
	return b
}

func finish(b []byte) []byte {
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

// encodeRouteRequest builds RTM_GETROUTE for dst (IPv4 or IPv6), as `ip
// route get dst [oif IF]` does: the kernel answers with the one route it
// would use.
func encodeRouteRequest(seq uint32, dst netip.Addr, oif int) []byte {
	b := appendHeader(make([]byte, 0, 64), rtmGetRoute, nlmFRequest, seq)
	fam, bits := byte(afInet), byte(32)
	if dst.Is6() {
		fam, bits = afInet6, 128
	}
	b = append(b, fam, bits, 0, 0, 0, 0, 0, 0) // family, dst_len, src_len, tos, table, protocol, scope, type
	b = binary.NativeEndian.AppendUint32(b, 0) // rtm_flags
	b = appendAttr(b, rtaDst, dst.AsSlice())
	if oif != 0 {
		b = appendAttr(b, rtaOIF, binary.NativeEndian.AppendUint32(nil, uint32(oif)))
	}
	return finish(b)
}

// encodeNeighDump builds an RTM_GETNEIGH dump request for the neighbour
// table of family (afInet: ARP, afInet6: NDP). Older kernels ignore
// ndm_ifindex in dumps, so callers filter the answer themselves.
func encodeNeighDump(seq uint32, family uint8, ifindex int) []byte {
	b := appendHeader(make([]byte, 0, 32), rtmGetNeigh, nlmFRequest|nlmFDump, seq)
	b = append(b, family, 0, 0, 0) // family, pad1, pad2
	b = binary.NativeEndian.AppendUint32(b, uint32(ifindex))
	b = append(b, 0, 0, 0, 0) // state, flags, type
	return finish(b)
}

// parseMessages splits a datagram into netlink messages. Each message's
// length is checked against the header size and the bytes left.
func parseMessages(b []byte) ([]nlMessage, error) {
	var msgs []nlMessage
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return nil, fmt.Errorf("netroute: netlink message length %d with %d bytes left", l, len(b))
		}
		msgs = append(msgs, nlMessage{
			Type:  binary.NativeEndian.Uint16(b[4:]),
			Flags: binary.NativeEndian.Uint16(b[6:]),
			Seq:   binary.NativeEndian.Uint32(b[8:]),
			Pid:   binary.NativeEndian.Uint32(b[12:]),
			Data:  b[nlmsgHdrLen:l:l],
		})
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	if len(b) != 0 {
		return nil, errTruncated
	}
	return msgs, nil
}

// forEachAttr calls fn for every attribute in b; it stops at the first
// malformed one.
func forEachAttr(b []byte, fn func(typ uint16, data []byte)) error {
	for len(b) >= rtaHdrLen {
		l := int(binary.NativeEndian.Uint16(b))
		if l < rtaHdrLen || l > len(b) {
			return fmt.Errorf("netroute: netlink attribute length %d with %d bytes left", l, len(b))
		}
		// NLA_F_NESTED and NLA_F_NET_BYTEORDER share the type field.
		fn(binary.NativeEndian.Uint16(b[2:])&0x3fff, b[rtaHdrLen:l:l])
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	if len(b) != 0 {
		return errTruncated
	}
	return nil
}

// nlError is an error the kernel returned for a request: a negative errno
// and, with extended acks, its own explanation.
type nlError struct {
	Errno int32 // positive errno value
	Msg   string
}

// parseError decodes the payload of an NLMSG_ERROR message (struct
// nlmsgerr, then extended-ack attributes when flags has NLM_F_ACK_TLVS).
// Errno 0 is an acknowledgement.
func parseError(flags uint16, data []byte) (nlError, error) {
	if len(data) < 4 {
		return nlError{}, errTruncated
	}
	e := nlError{Errno: -int32(binary.NativeEndian.Uint32(data))}
	if e.Errno < 0 {
		return nlError{}, fmt.Errorf("netroute: netlink error code %d is positive", -e.Errno)
	}
	if flags&nlmFAckTLVs == 0 || len(data) < nlmsgerrLen {
		return e, nil
	}
	// Without NLM_F_CAPPED the whole request is echoed before the TLVs.
	off := nlmsgerrLen
	if flags&nlmFCapped == 0 {
		l := int(binary.NativeEndian.Uint32(data[4:]))
		if l < nlmsgHdrLen || 4+l > len(data) {
			return e, nil // the errno stands; the explanation is unreadable
		}
		off = min(4+nlmsgAlign(l), len(data))
	}
	forEachAttr(data[off:], func(typ uint16, v []byte) {
		if typ == nlmsgerrAttrM {
			for len(v) > 0 && v[len(v)-1] == 0 {
				v = v[:len(v)-1]
			}
			e.Msg = string(v)
		}
	})
	return e, nil
}

// routeInfo is what an RTM_NEWROUTE reply says about the route to a
// destination.
type routeInfo struct {
	Family  uint8
	DstLen  uint8
	Table   uint32
	Type    uint8
	Dst     netip.Addr
	OIF     int
	Gateway netip.Addr // the family's gateway (RTA_GATEWAY), or the other family's via RTA_VIA
	PrefSrc netip.Addr
}

// parseRoute decodes the payload of an RTM_NEWROUTE message (struct rtmsg
// and attributes) of family AF_INET or AF_INET6.
func parseRoute(data []byte) (routeInfo, error) {
	if len(data) < rtmsgLen {
		return routeInfo{}, errTruncated
	}
	ri := routeInfo{Family: data[0], DstLen: data[1], Table: uint32(data[4]), Type: data[7]}
	if ri.Family != afInet && ri.Family != afInet6 {
		return routeInfo{}, fmt.Errorf("netroute: route of address family %d, want AF_INET or AF_INET6", ri.Family)
	}
	var bad error
	err := forEachAttr(data[rtmsgLen:], func(typ uint16, v []byte) {
		switch typ {
		case rtaDst:
			ri.Dst, bad = addrAttr(ri.Family, "RTA_DST", v, bad)
		case rtaGateway:
			ri.Gateway, bad = addrAttr(ri.Family, "RTA_GATEWAY", v, bad)
		case rtaPrefSrc:
			ri.PrefSrc, bad = addrAttr(ri.Family, "RTA_PREFSRC", v, bad)
		case rtaOIF:
			if len(v) != 4 {
				bad = cmpErr(bad, fmt.Errorf("netroute: RTA_OIF of %d bytes", len(v)))
				return
			}
			ri.OIF = int(binary.NativeEndian.Uint32(v))
		case rtaTable:
			if len(v) != 4 {
				bad = cmpErr(bad, fmt.Errorf("netroute: RTA_TABLE of %d bytes", len(v)))
				return
			}
			ri.Table = binary.NativeEndian.Uint32(v)
		case rtaVia:
			// struct rtvia: a family, then the address (RFC 5549 routes).
			if len(v) < 2 {
				bad = cmpErr(bad, errTruncated)
				return
			}
			fam := binary.NativeEndian.Uint16(v)
			switch {
			case fam == afInet && len(v) == 6:
				ri.Gateway = netip.AddrFrom4([4]byte(v[2:6]))
			case fam == afInet6 && len(v) == 18:
				ri.Gateway = netip.AddrFrom16([16]byte(v[2:18]))
			default:
				bad = cmpErr(bad, fmt.Errorf("netroute: RTA_VIA of family %d and %d bytes", fam, len(v)))
			}
		}
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return routeInfo{}, err
	}
	return ri, nil
}

func cmpErr(old, e error) error {
	if old != nil {
		return old
	}
	return e
}

func ipv4Attr(name string, v []byte, bad error) (netip.Addr, error) {
	if len(v) != 4 {
		return netip.Addr{}, cmpErr(bad, fmt.Errorf("netroute: %s of %d bytes, want 4", name, len(v)))
	}
	return netip.AddrFrom4([4]byte(v)), bad
}

// addrAttr reads an address attribute of family: 4 bytes for AF_INET, 16
// for AF_INET6.
func addrAttr(family uint8, name string, v []byte, bad error) (netip.Addr, error) {
	if family == afInet {
		return ipv4Attr(name, v, bad)
	}
	if len(v) != 16 {
		return netip.Addr{}, cmpErr(bad, fmt.Errorf("netroute: %s of %d bytes, want 16", name, len(v)))
	}
	return netip.AddrFrom16([16]byte(v)), bad
}

// neighInfo is one entry of the neighbour table.
type neighInfo struct {
	Family  uint8
	IfIndex int
	State   uint16
	Dst     netip.Addr
	LLAddr  []byte // aliases the message
}

// parseNeigh decodes the payload of an RTM_NEWNEIGH message (struct ndmsg and
// attributes).
func parseNeigh(data []byte) (neighInfo, error) {
	if len(data) < ndmsgLen {
		return neighInfo{}, errTruncated
	}
	n := neighInfo{
		Family:  data[0],
		IfIndex: int(int32(binary.NativeEndian.Uint32(data[4:]))),
		State:   binary.NativeEndian.Uint16(data[8:]),
	}
	var bad error
	err := forEachAttr(data[ndmsgLen:], func(typ uint16, v []byte) {
		switch typ {
		case ndaDst:
			if n.Family == afInet || n.Family == afInet6 {
				n.Dst, bad = addrAttr(n.Family, "NDA_DST", v, bad)
			}
		case ndaLLAddr:
			n.LLAddr = v
		}
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return neighInfo{}, err
	}
	return n, nil
}

// reply is the outcome of one request: the messages answering it, or the
// kernel's error.
type reply struct {
	msgs []nlMessage
	done bool // the answer is complete (single reply, NLMSG_DONE or ack)
	err  *nlError
}

// collect adds the messages of one datagram that answer request seq (sent
// from port pid) to r. A datagram may hold several messages of a dump;
// messages of other requests are skipped.
func (r *reply) collect(b []byte, seq, pid uint32) error {
	msgs, err := parseMessages(b)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Seq != seq || m.Pid != pid || r.done {
			continue
		}
		switch m.Type {
		case nlmsgNoop:
		case nlmsgError:
			e, err := parseError(m.Flags, m.Data)
			if err != nil {
				return err
			}
			r.done = true
			if e.Errno != 0 {
				r.err = &e
			}
		case nlmsgDone:
			r.done = true
		case nlmsgOverrun:
			return errors.New("netroute: netlink reply overrun")
		default:
			r.msgs = append(r.msgs, m)
			if m.Flags&nlmFMulti == 0 {
				r.done = true
			}
		}
	}
	return nil
}

// parseRouteReply decodes the kernel's answer to encodeRouteRequest(seq, ...).
// The answer is the first RTM_NEWROUTE message, or the error it returned.
func parseRouteReply(b []byte, seq, pid uint32) (routeInfo, *nlError, error) {
	var r reply
	if err := r.collect(b, seq, pid); err != nil {
		return routeInfo{}, nil, err
	}
	if r.err != nil {
		return routeInfo{}, r.err, nil
	}
	for _, m := range r.msgs {
		if m.Type == rtmNewRoute {
			ri, err := parseRoute(m.Data)
			return ri, nil, err
		}
	}
	return routeInfo{}, nil, errors.New("netroute: no route in the kernel's reply")
}

// lookupNeigh returns the link-layer address of ip on ifindex among the
// RTM_NEWNEIGH messages of a dump, if an entry in a usable state has one.
func lookupNeigh(msgs []nlMessage, ifindex int, ip netip.Addr) ([]byte, bool, error) {
	fam := uint8(afInet)
	if ip.Is6() {
		fam = afInet6
	}
	for _, m := range msgs {
		if m.Type != rtmNewNeigh {
			continue
		}
		n, err := parseNeigh(m.Data)
		if err != nil {
			return nil, false, err
		}
		if n.Family == fam && n.IfIndex == ifindex && n.Dst == ip && n.State&nudValid != 0 && validMAC(n.LLAddr) {
			return n.LLAddr, true, nil
		}
	}
	return nil, false, nil
}

// validMAC reports whether b is a unicast Ethernet address a frame can be
// sent to.
func validMAC(b []byte) bool {
	if len(b) != 6 || b[0]&1 != 0 {
		return false
	}
	return b[0]|b[1]|b[2]|b[3]|b[4]|b[5] != 0
}
