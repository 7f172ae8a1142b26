package blocklist

import (
	"net/netip"
	"sync"
)

// ReservedRange is one entry of the IANA IPv4 Special-Purpose Address
// Registry (or the multicast and limited-broadcast blocks beside it).
type ReservedRange struct {
	Prefix netip.Prefix `json:"prefix"`
	Name   string       `json:"name"` // purpose and defining RFC, e.g. "benchmarking, RFC 2544"
}

// String returns e.g. "198.18.0.0/15 (benchmarking, RFC 2544)".
func (r ReservedRange) String() string {
	return r.Prefix.String() + " (" + r.Name + ")"
}

// Range returns the addresses of r.
func (r ReservedRange) Range() Range { return rangeFromPrefix(r.Prefix) }

// reserved is the table behind Reserved, kept apart from the exported
// ReservedRanges so that a caller editing that slice cannot open a reserved
// block to the scanner.
var reserved = [...]ReservedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network, RFC 791"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private-use, RFC 1918"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space, RFC 6598"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback, RFC 1122"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link local, RFC 3927"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private-use, RFC 1918"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments, RFC 6890"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation TEST-NET-1, RFC 5737"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast, RFC 7526"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private-use, RFC 1918"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking, RFC 2544"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation TEST-NET-2, RFC 5737"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation TEST-NET-3, RFC 5737"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast, RFC 5771"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved for future use, RFC 1112"},
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast, RFC 919"},
}

// ReservedRanges lists the special-purpose IPv4 ranges that Reserved
// returns, in ascending order, with their names for messages such as
// "198.18.0.0/15 (benchmarking, RFC 2544) is reserved". It is a copy:
// modifying it changes neither Reserved nor ReservedName.
var ReservedRanges = func() []ReservedRange {
	return append([]ReservedRange(nil), reserved[:]...)
}()

var reservedSet = sync.OnceValue(func() *Set {
	rs := make([]Range, len(reserved))
	for i, r := range reserved {
		rs[i] = r.Range()
	}
	return NewSet(rs...)
})

// Reserved returns the set of IANA special-purpose IPv4 addresses that a
// scan of the public Internet must not touch: 0.0.0.0/8, 10.0.0.0/8,
// 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24,
// 192.0.2.0/24, 192.88.99.0/24, 192.168.0.0/16, 198.18.0.0/15,
// 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4, 240.0.0.0/4 and
// 255.255.255.255/32. The set is built once and shared.
func Reserved() *Set { return reservedSet() }

// ReservedName returns, in ascending order, the reserved ranges that
// overlap r, each formatted as "198.18.0.0/15 (benchmarking, RFC 2544)";
// nil if r touches none.
func ReservedName(r Range) []string {
	var out []string
	for _, e := range reserved {
		if er := e.Range(); er.First <= r.Last && r.First <= er.Last && r.First <= r.Last {
			out = append(out, e.String())
		}
	}
	return out
}

// reserved6 is the IPv6 counterpart of reserved: every block outside global
// unicast (2000::/3) that a scan could reach, and the special-purpose blocks
// inside it, after the IANA IPv6 Special-Purpose Address Registry. ::/8 takes
// in the unspecified, loopback, IPv4-mapped and IPv4-compatible addresses;
// 64:ff9b::/96 is listed because a NAT64 gateway would carry a probe to an
// IPv4 host past the IPv4 blocklist.
var reserved6 = [...]ReservedRange{
	{netip.MustParsePrefix("::/8"), "reserved by IETF: unspecified, loopback, IPv4-mapped, RFC 4291"},
	{netip.MustParsePrefix("64:ff9b::/96"), "IPv4-IPv6 translation, RFC 6052"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use IPv4-IPv6 translation, RFC 8215"},
	{netip.MustParsePrefix("100::/64"), "discard-only, RFC 6666"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments, RFC 2928"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation, RFC 3849"},
	{netip.MustParsePrefix("2002::/16"), "6to4, RFC 3056"},
	{netip.MustParsePrefix("3fff::/20"), "documentation, RFC 9637"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing SIDs, RFC 9602"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local, RFC 4193"},
	{netip.MustParsePrefix("fe80::/10"), "link-local unicast, RFC 4291"},
	{netip.MustParsePrefix("ff00::/8"), "multicast, RFC 4291"},
}

// ReservedRanges6 lists the special-purpose IPv6 ranges that Reserved6
// returns. It is a copy: modifying it changes neither Reserved6 nor the
// names Policy gives.
var ReservedRanges6 = func() []ReservedRange {
	return append([]ReservedRange(nil), reserved6[:]...)
}()

var reservedSet6 = sync.OnceValue(func() *Set6 {
	rs := make([]Range6, len(reserved6))
	for i, r := range reserved6 {
		rs[i] = RangeFromPrefix6(r.Prefix)
	}
	return NewSet6(rs...)
})

// Reserved6 returns the set of IPv6 addresses a scan of the public Internet
// must not touch (see ReservedRanges6). The set is built once and shared.
func Reserved6() *Set6 { return reservedSet6() }

// reservedName6 names the reserved IPv6 ranges holding a.
func reservedName6(a netip.Addr) []string {
	var out []string
	for _, e := range reserved6 {
		if e.Prefix.Contains(a) {
			out = append(out, e.String())
		}
	}
	return out
}
