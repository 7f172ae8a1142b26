package blocklist

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
)

// Range is an inclusive range of IPv4 addresses in host byte order. A Range
// whose First is greater than its Last is empty.
type Range struct {
	First, Last uint32
}

// Len returns the number of addresses in r, 0 if r is empty. The full
// address space has 1<<32 addresses, which is why the result is a uint64.
func (r Range) Len() uint64 {
	if r.First > r.Last {
		return 0
	}
	return uint64(r.Last) - uint64(r.First) + 1
}

// Contains reports whether a lies in r.
func (r Range) Contains(a uint32) bool { return r.First <= a && a <= r.Last }

// prefixBits returns the prefix length of the largest CIDR block that starts
// at first and does not extend past last. first must not exceed last.
func prefixBits(first, last uint32) int {
	// The block size is limited by the alignment of first (its trailing
	// zero bits) and by the number of addresses left in the range.
	align := bits.TrailingZeros32(first) // 32 when first == 0
	left := uint64(last) - uint64(first) + 1
	fit := bits.Len64(left) - 1 // floor(log2(left)), at most 32
	return 32 - min(align, fit)
}

// Prefixes returns the shortest list of CIDR prefixes, in ascending order,
// whose union is r; nil if r is empty. A range of n addresses needs at most
// 62 prefixes.
func (r Range) Prefixes() []netip.Prefix {
	if r.First > r.Last {
		return nil
	}
	var out []netip.Prefix
	first := uint64(r.First)
	for first <= uint64(r.Last) {
		b := prefixBits(uint32(first), r.Last)
		out = append(out, netip.PrefixFrom(AddrFromUint32(uint32(first)), b))
		first += 1 << (32 - b)
	}
	return out
}

// String returns r in the form ParseEntry reads back: "192.0.2.0/24" (or
// "192.0.2.7/32") when r is exactly one CIDR block, else "first-last".
func (r Range) String() string {
	if r.First <= r.Last {
		if b := prefixBits(r.First, r.Last); uint64(1)<<(32-b) == r.Len() {
			return netip.PrefixFrom(AddrFromUint32(r.First), b).String()
		}
	}
	return AddrFromUint32(r.First).String() + "-" + AddrFromUint32(r.Last).String()
}

// AddrFromUint32 returns the IPv4 address a (host byte order) as a netip.Addr.
func AddrFromUint32(a uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.AddrFrom4(b)
}

// Uint32FromAddr returns a as a uint32 in host byte order. IPv4-mapped IPv6
// addresses (::ffff:192.0.2.1), as a dual-stack socket reports them, are
// unmapped first; ok is false for any other IPv6 address and for the zero
// Addr.
func Uint32FromAddr(a netip.Addr) (v uint32, ok bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:]), true
}

// rangeFromPrefix converts an IPv4 prefix, ignoring host bits.
func rangeFromPrefix(p netip.Prefix) Range {
	first, _ := Uint32FromAddr(p.Masked().Addr())
	// Go defines a shift by the full width as 0, so /32 needs no special case.
	hostMask := uint32(math.MaxUint32) >> p.Bits()
	return Range{First: first, Last: first | hostMask}
}
