package blocklist

import (
	"cmp"
	"encoding/binary"
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
	last := u128From(r.Last)
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
// non-adjacent ranges. A nil *Set6 is a valid, empty set. Every method is
// safe for concurrent use.
type Set6 struct {
	ranges []r128
}

// r128 is a range in 128-bit integer form.
type r128 struct{ first, last u128 }

// NewSet6 returns the set of addresses in rs, which may come in any order,
// overlap or touch. Ranges whose ends are not both IPv6, or whose First is
// above Last, are ignored.
func NewSet6(rs ...Range6) *Set6 {
	in := make([]r128, 0, len(rs))
	for _, r := range rs {
		if !r.First.Is6() || !r.Last.Is6() {
			continue
		}
		f, l := u128From(r.First), u128From(r.Last)
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
	return &Set6{ranges: slices.Clip(out)}
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
	v := u128From(a)
	i, _ := slices.BinarySearchFunc(s.ranges, v, func(r r128, v u128) int {
		// Ranges wholly below v sort first.
		if r.last.less(v) {
			return -1
		}
		return 1
	})
	return i < len(s.ranges) && !v.less(s.ranges[i].first)
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
	return &Set6{ranges: out}
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

// u128 is an IPv6 address as a 128-bit unsigned integer.
type u128 struct{ hi, lo uint64 }

func u128From(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (v u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], v.hi)
	binary.BigEndian.PutUint64(b[8:], v.lo)
	return netip.AddrFrom16(b)
}

func (v u128) cmp(o u128) int {
	if c := cmp.Compare(v.hi, o.hi); c != 0 {
		return c
	}
	return cmp.Compare(v.lo, o.lo)
}

func (v u128) less(o u128) bool { return v.cmp(o) < 0 }

// next returns v+1, wrapping at the top (callers never ask past ::ffff...).
func (v u128) next() u128 {
	if v.lo == ^uint64(0) {
		return u128{v.hi + 1, 0}
	}
	return u128{v.hi, v.lo + 1}
}

// prev returns v-1 (callers never ask below ::).
func (v u128) prev() u128 {
	if v.lo == 0 {
		return u128{v.hi - 1, ^uint64(0)}
	}
	return u128{v.hi, v.lo - 1}
}

// lastOf returns the last address of a masked IPv6 prefix.
func lastOf(p netip.Prefix) u128 {
	v := u128From(p.Addr())
	bits := p.Bits()
	switch {
	case bits <= 0:
		return u128{^uint64(0), ^uint64(0)}
	case bits < 64:
		return u128{v.hi | ^uint64(0)>>bits, ^uint64(0)}
	case bits == 64:
		return u128{v.hi, ^uint64(0)}
	case bits < 128:
		return u128{v.hi, v.lo | ^uint64(0)>>(bits-64)}
	}
	return v
}
