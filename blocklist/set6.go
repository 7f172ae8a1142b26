package blocklist

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// Range6 is an inclusive range of IPv6 addresses. Both ends are IPv6
// addresses without a zone; IPv4-mapped addresses are plain IPv6 here (the
// Policy unmaps them before it looks at an address).
type Range6 struct {
	First, Last netip.Addr
}

// String returns the range as a prefix when it is one ("2001:db8::/32"),
// else as "first-last".
func (r Range6) String() string {
	last := Addr6From(r.Last)
	for bits := 0; bits <= 128; bits++ {
		if p := netip.PrefixFrom(r.First, bits).Masked(); p.Addr() == r.First && lastOf(p) == last {
			return p.String()
		}
	}
	return r.First.String() + "-" + r.Last.String()
}

// RangeFromPrefix6 returns the addresses of an IPv6 prefix, ignoring host
// bits.
func RangeFromPrefix6(p netip.Prefix) Range6 {
	p = p.Masked()
	return Range6{First: p.Addr(), Last: lastOf(p).addr()}
}

// Set6 is an immutable set of IPv6 addresses, stored as sorted, disjoint,
// non-adjacent ranges together with the number of addresses before each
// range, so that membership and rank (At, IndexOf) are binary searches. A
// nil *Set6 is a valid, empty set. Every method is safe for concurrent use.
//
// Counts are uint64 and saturate: a set of 2^64 addresses or more (a /64
// and anything larger) has Len math.MaxUint64, and At and IndexOf are
// defined only for sets smaller than that, which a scan's target list is.
type Set6 struct {
	ranges []r128
	// before[i] is the number of addresses in ranges[:i], saturated.
	before []uint64
	// lasts[i] is ranges[i].last, packed densely for search.
	lasts []Addr6
	n     uint64
}

// r128 is a range in 128-bit integer form.
type r128 struct{ first, last Addr6 }

// NewSet6 returns the set of addresses in rs, which may come in any order,
// overlap or touch. Ranges whose ends are not both IPv6, or whose First is
// above Last, are ignored.
func NewSet6(rs ...Range6) *Set6 {
	in := make([]r128, 0, len(rs))
	for _, r := range rs {
		if !r.First.Is6() || !r.Last.Is6() {
			continue
		}
		f, l := Addr6From(r.First), Addr6From(r.Last)
		if l.less(f) {
			continue
		}
		in = append(in, r128{f, l})
	}
	return fromSorted6(in)
}

func fromSorted6(in []r128) *Set6 {
	slices.SortFunc(in, func(a, b r128) int {
		if c := a.first.cmp(b.first); c != 0 {
			return c
		}
		return a.last.cmp(b.last)
	})
	out := in[:0]
	for _, r := range in {
		if k := len(out) - 1; k >= 0 && (!out[k].last.less(r.first) || out[k].last.next() == r.first) {
			if out[k].last.less(r.last) {
				out[k].last = r.last
			}
			continue
		}
		out = append(out, r)
	}
	return newSet6(slices.Clip(out))
}

// newSet6 wraps sorted, disjoint, non-adjacent ranges, counting them.
func newSet6(rs []r128) *Set6 {
	s := &Set6{ranges: rs, before: make([]uint64, len(rs)), lasts: make([]Addr6, len(rs))}
	for i, r := range rs {
		s.before[i] = s.n
		s.lasts[i] = r.last
		s.n = addSat(s.n, r.len())
	}
	return s
}

// len returns the number of addresses in r, saturated at 2^64-1.
func (r r128) len() uint64 {
	d := r.last.sub(r.first) // last-first, below 2^128
	if d.Hi != 0 || d.Lo == ^uint64(0) {
		return ^uint64(0)
	}
	return d.Lo + 1
}

// addSat returns a+b, saturated at 2^64-1.
func addSat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// Len returns the number of addresses in s, or math.MaxUint64 when it
// holds 2^64 addresses or more.
func (s *Set6) Len() uint64 {
	if s == nil {
		return 0
	}
	return s.n
}

// AtAddr6 is At returning an Addr6, for the scanner's per-probe path.
func (s *Set6) AtAddr6(i uint64) Addr6 {
	if i >= s.Len() || s.n == ^uint64(0) {
		panic(fmt.Sprintf("blocklist: Set6.At(%d) out of range [0,%d)", i, s.Len()))
	}
	// The last range that starts at rank <= i.
	lo, hi := 0, len(s.before)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if s.before[m] <= i {
			lo = m
		} else {
			hi = m
		}
	}
	return s.ranges[lo].first.add(i - s.before[lo])
}

// At returns the address of rank i in s, counting from 0 in ascending
// order, in O(log ranges) time and without allocating. The caller must
// ensure i < s.Len() < math.MaxUint64; At panics otherwise, as indexing a
// slice out of range does.
func (s *Set6) At(i uint64) netip.Addr {
	return s.AtAddr6(i).addr()
}

// IndexOf returns the rank of a in s, the inverse of At; ok is false if a
// is not in s (or s is too large to rank).
func (s *Set6) IndexOf(a netip.Addr) (i uint64, ok bool) {
	if s == nil || s.n == ^uint64(0) || !a.Is6() || a.Is4In6() {
		return 0, false
	}
	v := Addr6From(a)
	k := s.search(v)
	if k == len(s.ranges) || v.less(s.ranges[k].first) {
		return 0, false
	}
	return s.before[k] + v.sub(s.ranges[k].first).Lo, true
}

// Equal reports whether s and o hold the same addresses.
func (s *Set6) Equal(o *Set6) bool {
	var a, b []r128
	if s != nil {
		a = s.ranges
	}
	if o != nil {
		b = o.ranges
	}
	return slices.Equal(a, b)
}

// Empty reports whether s holds no address.
func (s *Set6) Empty() bool { return s == nil || len(s.ranges) == 0 }

// Ranges returns the set as sorted, disjoint, non-adjacent ranges.
func (s *Set6) Ranges() []Range6 {
	if s == nil {
		return nil
	}
	out := make([]Range6, len(s.ranges))
	for i, r := range s.ranges {
		out[i] = Range6{r.first.addr(), r.last.addr()}
	}
	return out
}

// Contains reports whether a is in s; an IPv4 address (mapped or not) is
// never in s. It allocates nothing and takes O(log ranges) time.
func (s *Set6) Contains(a netip.Addr) bool {
	if s == nil || !a.Is6() || a.Is4In6() {
		return false
	}
	return s.ContainsAddr6(Addr6From(a))
}

// ContainsAddr6 is Contains for an Addr6, the scanner's per-packet check.
// Unlike Contains it takes IPv4-mapped addresses as the IPv6 addresses they
// are.
func (s *Set6) ContainsAddr6(v Addr6) bool {
	if s == nil {
		return false
	}
	i := s.search(v)
	return i < len(s.ranges) && !v.less(s.ranges[i].first)
}

// search returns the index of the first range whose last address is >= v,
// or len(s.ranges) if there is none. Like Set.search it halves without a
// data-dependent branch (the scanner's destinations are random): the
// borrow of the 128-bit subtraction is the comparison.
func (s *Set6) search(v Addr6) int {
	lasts := s.lasts
	n := len(lasts)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		l := lasts[base+half]
		_, b := bits.Sub64(l.Lo, v.Lo, 0)
		_, b = bits.Sub64(l.Hi, v.Hi, b) // b is 1 if l < v
		base += half & -int(b)
		n -= half
	}
	if lasts[base].less(v) {
		base++
	}
	return base
}

// Union returns the addresses in s or o.
func (s *Set6) Union(o *Set6) *Set6 {
	var in []r128
	if s != nil {
		in = append(in, s.ranges...)
	}
	if o != nil {
		in = append(in, o.ranges...)
	}
	return fromSorted6(in)
}

// Subtract returns the addresses in s and not in o.
func (s *Set6) Subtract(o *Set6) *Set6 {
	if s == nil {
		return &Set6{}
	}
	if o.Empty() {
		return s
	}
	var out []r128
	j := 0
	for _, r := range s.ranges {
		cur := r
		alive := true
		for j < len(o.ranges) && o.ranges[j].last.less(cur.first) {
			j++
		}
		for k := j; alive && k < len(o.ranges) && !cur.last.less(o.ranges[k].first); k++ {
			c := o.ranges[k]
			if cur.first.less(c.first) {
				out = append(out, r128{cur.first, c.first.prev()})
			}
			if c.last.less(cur.last) {
				cur.first = c.last.next()
			} else {
				alive = false
			}
		}
		if alive {
			out = append(out, cur)
		}
	}
	return newSet6(out)
}

// Intersect returns the addresses in both s and o.
func (s *Set6) Intersect(o *Set6) *Set6 {
	if s.Empty() || o.Empty() {
		return &Set6{}
	}
	return s.Subtract(s.Subtract(o))
}

// String returns the ranges joined by commas.
func (s *Set6) String() string {
	var parts []string
	for _, r := range s.Ranges() {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, ",")
}

// Addr6 is an IPv6 address as a 128-bit unsigned integer: Hi holds its
// first eight bytes, big-endian. It is the scanner's per-packet form of an
// address: two registers, compared, hashed and written into a frame without
// the 16-byte array a netip.Addr converts through, whose narrow stores and
// wide loads defeat the CPU's store forwarding on every probe.
type Addr6 struct{ Hi, Lo uint64 }

// Addr6From returns a as an Addr6. An IPv4 address gives its IPv4-mapped
// form; the zero Addr gives 0.
func Addr6From(a netip.Addr) Addr6 {
	b := a.As16()
	return Addr6{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// Addr6FromBytes returns the address whose network-order bytes are b.
func Addr6FromBytes(b [16]byte) Addr6 {
	return Addr6{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// Addr returns v as a netip.Addr.
func (v Addr6) Addr() netip.Addr { return v.addr() }

// String returns v in the form netip.Addr.String gives.
func (v Addr6) String() string { return v.addr().String() }

func (v Addr6) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], v.Hi)
	binary.BigEndian.PutUint64(b[8:], v.Lo)
	return netip.AddrFrom16(b)
}

func (v Addr6) cmp(o Addr6) int {
	if c := cmp.Compare(v.Hi, o.Hi); c != 0 {
		return c
	}
	return cmp.Compare(v.Lo, o.Lo)
}

func (v Addr6) less(o Addr6) bool { return v.cmp(o) < 0 }

// next returns v+1, wrapping at the top (callers never ask past ::ffff...).
func (v Addr6) next() Addr6 {
	if v.Lo == ^uint64(0) {
		return Addr6{v.Hi + 1, 0}
	}
	return Addr6{v.Hi, v.Lo + 1}
}

// add returns v+d, wrapping at the top.
func (v Addr6) add(d uint64) Addr6 {
	lo, carry := bits.Add64(v.Lo, d, 0)
	return Addr6{v.Hi + carry, lo}
}

// sub returns v-o, wrapping below zero.
func (v Addr6) sub(o Addr6) Addr6 {
	lo, borrow := bits.Sub64(v.Lo, o.Lo, 0)
	return Addr6{v.Hi - o.Hi - borrow, lo}
}

// prev returns v-1 (callers never ask below ::).
func (v Addr6) prev() Addr6 {
	if v.Lo == 0 {
		return Addr6{v.Hi - 1, ^uint64(0)}
	}
	return Addr6{v.Hi, v.Lo - 1}
}

// lastOf returns the last address of a masked IPv6 prefix.
func lastOf(p netip.Prefix) Addr6 {
	v := Addr6From(p.Addr())
	bits := p.Bits()
	switch {
	case bits <= 0:
		return Addr6{^uint64(0), ^uint64(0)}
	case bits < 64:
		return Addr6{v.Hi | ^uint64(0)>>bits, ^uint64(0)}
	case bits == 64:
		return Addr6{v.Hi, ^uint64(0)}
	case bits < 128:
		return Addr6{v.Hi, v.Lo | ^uint64(0)>>(bits-64)}
	}
	return v
}
