package blocklist

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// Set is an immutable set of IPv4 addresses, stored as sorted, disjoint,
// non-adjacent ranges together with the number of addresses before each
// range, so that both membership and rank queries are binary searches.
//
// A nil *Set is a valid, empty set. Every method is safe for concurrent use.
type Set struct {
	ranges []Range
	// before[i] is the number of addresses in ranges[:i]; it turns the
	// rank queries At and IndexOf into binary searches.
	before []uint64
	// lasts[i] is ranges[i].Last, packed densely for search.
	lasts []uint32
	n     uint64
}

// NewSet returns the set of addresses in rs. The ranges may come in any
// order and may overlap or touch: NewSet sorts them and merges overlapping
// and adjacent ranges. Empty ranges (First > Last) are ignored. rs is not
// modified or retained.
func NewSet(rs ...Range) *Set {
	sorted := make([]Range, 0, len(rs))
	for _, r := range rs {
		if r.First <= r.Last {
			sorted = append(sorted, r)
		}
	}
	slices.SortFunc(sorted, func(a, b Range) int {
		if c := cmp.Compare(a.First, b.First); c != 0 {
			return c
		}
		return cmp.Compare(a.Last, b.Last)
	})
	return fromSorted(sorted)
}

// fromSorted builds a Set from non-empty ranges sorted by First, merging
// overlapping and adjacent ones in place. It takes ownership of rs.
func fromSorted(rs []Range) *Set {
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && uint64(r.First) <= uint64(out[k].Last)+1 {
			// Overlapping or adjacent: the uint64 sum keeps Last == 2^32-1
			// from wrapping around to 0.
			out[k].Last = max(out[k].Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	s := &Set{ranges: slices.Clip(out), before: make([]uint64, len(out)), lasts: make([]uint32, len(out))}
	for i, r := range out {
		s.before[i] = s.n
		s.lasts[i] = r.Last
		s.n += r.Len()
	}
	return s
}

// Ranges returns the set as sorted, disjoint, non-adjacent ranges. The slice
// is shared with the set and must not be modified.
func (s *Set) Ranges() []Range {
	if s == nil {
		return nil
	}
	return s.ranges
}

// Len returns the number of addresses in s, at most 1<<32.
func (s *Set) Len() uint64 {
	if s == nil {
		return 0
	}
	return s.n
}

// search returns the index of the first range whose Last is >= a, or
// len(s.ranges) if there is none. The halving loop has no data-dependent
// branch, because the addresses a scanner checks are random and would
// defeat branch prediction (the compiler keeps a branch for an if here, as
// its select-to-CMOV pass skips loop-carried values); it reads the dense
// lasts array rather than ranges to halve the cache lines it touches.
func (s *Set) search(a uint32) int {
	lasts := s.lasts
	n := len(lasts)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		// lt is 1 if lasts[base+half] < a, else 0: both values are below
		// 2^32, so their difference as uint64 has its top bit set exactly
		// when the first is smaller.
		lt := int((uint64(lasts[base+half]) - uint64(a)) >> 63)
		base += half & -lt
		n -= half
	}
	if lasts[base] < a {
		base++
	}
	return base
}

// Contains reports whether a is in s. It allocates nothing and takes
// O(log ranges) time: it is the scanner's per-packet blocklist check.
func (s *Set) Contains(a uint32) bool {
	if s == nil {
		return false
	}
	i := s.search(a)
	return i < len(s.ranges) && s.ranges[i].First <= a
}

// ContainsAddr reports whether a is in s. IPv4-mapped IPv6 addresses are
// unmapped first; any other IPv6 address is never in s.
func (s *Set) ContainsAddr(a netip.Addr) bool {
	v, ok := Uint32FromAddr(a)
	return ok && s.Contains(v)
}

// At returns the address of rank i in s, counting from 0 in ascending
// order, in O(log ranges) time. The caller must ensure i < s.Len(); At
// panics otherwise, as indexing a slice out of range does.
func (s *Set) At(i uint64) uint32 {
	if i >= s.Len() {
		panic(fmt.Sprintf("blocklist: Set.At(%d) out of range [0,%d)", i, s.Len()))
	}
	// Find the last range that starts at rank <= i.
	lo, hi := 0, len(s.before)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if s.before[m] <= i {
			lo = m
		} else {
			hi = m
		}
	}
	return s.ranges[lo].First + uint32(i-s.before[lo])
}

// IndexOf returns the rank of a in s, the inverse of At; ok is false if a
// is not in s.
func (s *Set) IndexOf(a uint32) (i uint64, ok bool) {
	if s == nil {
		return 0, false
	}
	k := s.search(a)
	if k == len(s.ranges) || s.ranges[k].First > a {
		return 0, false
	}
	return s.before[k] + uint64(a-s.ranges[k].First), true
}

// Equal reports whether s and o hold the same addresses.
func (s *Set) Equal(o *Set) bool {
	return slices.Equal(s.Ranges(), o.Ranges())
}

// Union returns the addresses in s or o.
func (s *Set) Union(o *Set) *Set {
	a, b := s.Ranges(), o.Ranges()
	merged := make([]Range, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].First <= b[0].First {
			merged, a = append(merged, a[0]), a[1:]
		} else {
			merged, b = append(merged, b[0]), b[1:]
		}
	}
	merged = append(merged, a...)
	merged = append(merged, b...)
	return fromSorted(merged)
}

// Intersect returns the addresses in both s and o.
func (s *Set) Intersect(o *Set) *Set {
	a, b := s.Ranges(), o.Ranges()
	var out []Range
	for len(a) > 0 && len(b) > 0 {
		first, last := max(a[0].First, b[0].First), min(a[0].Last, b[0].Last)
		if first <= last {
			out = append(out, Range{first, last})
		}
		// The range that ends first cannot meet anything further on.
		if a[0].Last < b[0].Last {
			a = a[1:]
		} else {
			b = b[1:]
		}
	}
	return fromSorted(out)
}

// Subtract returns the addresses in s that are not in o.
func (s *Set) Subtract(o *Set) *Set {
	a, b := s.Ranges(), o.Ranges()
	var out []Range
	for _, r := range a {
		// Ranges of o that end before r cannot cut r or any later range.
		for len(b) > 0 && b[0].Last < r.First {
			b = b[1:]
		}
		cut := b
		for ; len(cut) > 0 && cut[0].First <= r.Last; cut = cut[1:] {
			if cut[0].First > r.First {
				out = append(out, Range{r.First, cut[0].First - 1})
			}
			if cut[0].Last >= r.Last {
				r.First, r.Last = 1, 0 // nothing of r is left
				break
			}
			r.First = cut[0].Last + 1 // cannot wrap: cut[0].Last < r.Last
		}
		if r.First <= r.Last {
			out = append(out, r)
		}
	}
	return fromSorted(out)
}

// String returns the ranges of s in ascending order, each formatted by
// Range.String and separated by ", "; the empty set is "". Each element
// reads back with ParseEntry.
func (s *Set) String() string {
	var b strings.Builder
	for i, r := range s.Ranges() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// WriteTo writes s to w in ZMap's blocklist format, one CIDR prefix per
// line, so that both ZMap and Parse read it back as the same set. It
// implements io.WriterTo.
func (s *Set) WriteTo(w io.Writer) (n int64, err error) {
	// One buffer and one Write keep the byte count exact on error, which a
	// bufio.Writer would not.
	var buf []byte
	for _, r := range s.Ranges() {
		for _, p := range r.Prefixes() {
			buf = p.AppendTo(buf)
			buf = append(buf, '\n')
		}
	}
	k, err := w.Write(buf)
	return int64(k), err
}
