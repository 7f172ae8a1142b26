package cyclic

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// MaxN is the largest index space New accepts. Every prime involved then
// stays below 2^64, and the scanner's targets (2^32 addresses × 2^16 ports,
// under 2^48) fit with room to spare.
const MaxN = 1 << 63

// pcgStream is the second PCG seed word. It is fixed forever: changing it
// changes every scan order derived from a seed.
const pcgStream = 0x6d61696c7363616e // "mailscan"

// Cycle is a cyclic group that permutes [0, N): the prime P > N, the
// primitive root G modulo P, and the first element Start of the walk. Its
// fields are exported so that metadata and resume files can record them;
// New is the way to make one.
type Cycle struct {
	N     uint64 // size of the index space
	P     uint64 // the smallest prime above N
	G     uint64 // a primitive root modulo P
	Start uint64 // the element at position 0, in [1, P−1]
}

// New returns the cycle over [0, n) for seed: the same n and seed give the
// same cycle, and so the same order, on every machine. n must be in
// [1, MaxN].
func New(n, seed uint64) (*Cycle, error) {
	if n == 0 {
		return nil, errors.New("cyclic: empty index space")
	}
	if n > MaxN {
		return nil, fmt.Errorf("cyclic: index space of %d exceeds %d", n, uint64(MaxN))
	}
	p := n + 1
	for !IsPrime(p) {
		p++
	}
	factors := PrimeFactors(p - 1)
	rng := rand.NewPCG(seed, pcgStream)
	// Primitive roots are dense: a share φ(p−1)/(p−1) of the group, which
	// for p < 2^64 is above 0.13 (p−1 has at most 15 distinct prime
	// factors), so a few draws find one.
	var g uint64
	for {
		g = 1 + uniform(rng, p-1)
		if IsPrimitiveRoot(g, p, factors) {
			break
		}
	}
	start := 1 + uniform(rng, p-1)
	return &Cycle{N: n, P: p, G: g, Start: start}, nil
}

// uniform returns a uniform value in [0, m) for m ≥ 1 from the raw outputs
// of src, by multiply-and-reject (Lemire, 2019). It relies on nothing but
// the PCG output sequence, which is fixed, so the draws cannot change
// between Go releases.
func uniform(src *rand.PCG, m uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), m)
	if lo < m {
		threshold := -m % m // 2^64 mod m
		for lo < threshold {
			hi, lo = bits.Mul64(src.Uint64(), m)
		}
	}
	return hi
}

// Validate checks that c is a cycle New could have returned: P is the
// smallest prime above N, G a primitive root modulo P and Start in
// [1, P−1]. Use it on a cycle read back from a file.
func (c *Cycle) Validate() error {
	switch {
	case c.N == 0 || c.N > MaxN:
		return fmt.Errorf("cyclic: N = %d out of range [1, %d]", c.N, uint64(MaxN))
	case c.P <= c.N || !IsPrime(c.P):
		return fmt.Errorf("cyclic: P = %d is not a prime above N = %d", c.P, c.N)
	case c.Start == 0 || c.Start >= c.P:
		return fmt.Errorf("cyclic: Start = %d out of range [1, %d]", c.Start, c.P-1)
	}
	for q := c.N + 1; q < c.P; q++ {
		if IsPrime(q) {
			return fmt.Errorf("cyclic: P = %d is not the smallest prime above N = %d (%d is)", c.P, c.N, q)
		}
	}
	if !IsPrimitiveRoot(c.G, c.P, PrimeFactors(c.P-1)) {
		return fmt.Errorf("cyclic: G = %d is not a primitive root modulo %d", c.G, c.P)
	}
	return nil
}

// Iter returns an iterator over part `part` of `parts` of shard `shard` of
// `shards`. Shards are disjoint and together cover [0, N); so are the parts
// of a shard, and the indices a shard covers are the same whatever the
// number of parts. It fails unless shard < shards and part < parts.
func (c *Cycle) Iter(shard, shards, part, parts uint64) (*Iter, error) {
	switch {
	case shards == 0 || shard >= shards:
		return nil, fmt.Errorf("cyclic: shard %d out of range [0, %d)", shard, shards)
	case parts == 0 || part >= parts:
		return nil, fmt.Errorf("cyclic: part %d out of range [0, %d)", part, parts)
	case c.P < 2 || c.N >= c.P || c.G == 0 || c.G >= c.P || c.Start == 0 || c.Start >= c.P:
		// Cheap checks only: a cycle from New always passes, and one read
		// from a file should go through Validate first.
		return nil, fmt.Errorf("cyclic: invalid cycle %+v", *c)
	}
	order := c.P - 1 // positions of the whole cycle: 0 … P−2
	var count uint64 // positions of this shard: shard, shard+shards, …
	if shard < order {
		count = 1 + (order-1-shard)/shards
	}
	// The part's contiguous run [part·count/parts, (part+1)·count/parts) of
	// the shard's positions. The 128-bit products cannot overflow and the
	// quotients fit: part·count/parts < count.
	lo := mulDiv(part, count, parts)
	hi := mulDiv(part+1, count, parts)
	it := &Iter{n: c.N, p: c.P, step: powMod(c.G, shards, c.P), len: hi - lo}
	if it.len > 0 {
		// Position shard + lo·shards of the whole cycle; it is below P−1,
		// so the product does not overflow.
		it.base = mulMod(c.Start, powMod(c.G, shard+lo*shards, c.P), c.P)
	} else {
		it.base = 1
	}
	it.cur = it.base
	return it, nil
}

// mulDiv returns a·b/c for a·b/c < 2^64.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// Iter walks one part of one shard of a Cycle. It is not safe for
// concurrent use: each sender goroutine owns one.
type Iter struct {
	n, p uint64 // index space and modulus
	step uint64 // G^shards: the distance between this shard's positions
	base uint64 // element at position 0 of this part
	cur  uint64 // element at position pos
	pos  uint64 // positions consumed
	len  uint64 // positions in this part
}

// Next returns the next index of the part; ok is false when the part is
// done. Positions whose element falls outside [0, N) are skipped. Next
// allocates nothing; each position costs one 64×64-bit multiplication and
// one 128-bit remainder.
func (it *Iter) Next() (index uint64, ok bool) {
	for it.pos < it.len {
		x := it.cur
		it.cur = mulMod(x, it.step, it.p)
		it.pos++
		if x <= it.n {
			return x - 1, true
		}
	}
	return 0, false
}

// Pos returns how many positions of the part have been consumed, counting
// skipped ones; a resumed run passes it to Seek.
func (it *Iter) Pos() uint64 { return it.pos }

// Len returns the number of positions in the part. Up to a handful of them
// are skipped, so Len is an upper bound on the indices Next yields.
func (it *Iter) Len() uint64 { return it.len }

// Seek moves the iterator to position pos of its part, as though pos
// positions had been consumed; a pos beyond Len ends the part. It costs one
// modular exponentiation.
func (it *Iter) Seek(pos uint64) {
	pos = min(pos, it.len)
	it.pos = pos
	it.cur = mulMod(it.base, powMod(it.step, pos, it.p), it.p)
}
