package cyclic

import (
	"math/bits"
	"slices"
)

// mulMod returns a·b mod m. It requires a, b < m: then the high word of the
// product is below m, which is the precondition of bits.Div64, and a single
// 128-by-64-bit division does the reduction.
func mulMod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, r := bits.Div64(hi, lo, m)
	return r
}

// addMod returns a+b mod m for a, b < m, without overflow for m near 2^64.
func addMod(a, b, m uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 || s >= m {
		s -= m
	}
	return s
}

// powMod returns b^e mod m for m >= 1.
func powMod(b, e, m uint64) uint64 {
	if m == 1 {
		return 0
	}
	r := uint64(1)
	b %= m
	for ; e > 0; e >>= 1 {
		if e&1 != 0 {
			r = mulMod(r, b, m)
		}
		b = mulMod(b, b, m)
	}
	return r
}

// mrBases are the Miller–Rabin witnesses that together decide primality
// for every n < 3.3·10^24, so for every uint64 (Sorenson and Webster, 2015).
var mrBases = [...]uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}

// IsPrime reports whether n is prime. It is deterministic and exact for
// every uint64: trial division by the witnesses, then Miller–Rabin with the
// bases 2, 3, 5, …, 37.
func IsPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for _, p := range mrBases {
		if n%p == 0 {
			return n == p
		}
	}
	// n−1 = d·2^s with d odd.
	s := bits.TrailingZeros64(n - 1)
	d := (n - 1) >> s
	for _, a := range mrBases {
		x := powMod(a, d, n)
		if x == 1 || x == n-1 {
			continue
		}
		composite := true
		for range s - 1 {
			x = mulMod(x, x, n)
			if x == n-1 {
				composite = false
				break
			}
		}
		if composite {
			return false
		}
	}
	return true
}

// smallPrimes are the primes below 2^10, for trial division.
var smallPrimes = func() []uint64 {
	var ps []uint64
	for n := uint64(2); n < 1<<10; n++ {
		if IsPrime(n) {
			ps = append(ps, n)
		}
	}
	return ps
}()

// PrimeFactors returns the distinct prime factors of n in ascending order,
// nil for n < 2. Small factors go by trial division, the rest by Pollard's
// rho method with Brent's cycle detection; any uint64 factors in
// milliseconds.
func PrimeFactors(n uint64) []uint64 {
	if n < 2 {
		return nil
	}
	var fs []uint64
	for _, p := range smallPrimes {
		if n%p == 0 {
			fs = append(fs, p)
			for n%p == 0 {
				n /= p
			}
		}
		if p*p > n {
			break
		}
	}
	fs = factorLarge(n, fs)
	slices.Sort(fs)
	return slices.Compact(fs)
}

// factorLarge appends the prime factors of n, which has no factor below
// 2^10 (or is 1), to fs.
func factorLarge(n uint64, fs []uint64) []uint64 {
	switch {
	case n == 1:
		return fs
	case IsPrime(n):
		return append(fs, n)
	}
	d := rho(n)
	fs = factorLarge(d, fs)
	return factorLarge(n/d, fs)
}

// rho returns a non-trivial divisor of the odd composite n.
func rho(n uint64) uint64 {
	// A perfect square defeats no rho walk, but catching it here is cheap
	// and spares the walk for n = q^2 with q prime.
	if r := isqrt(n); r*r == n {
		return r
	}
	for c := uint64(1); ; c++ {
		if d := brent(n, c); d != 1 && d != n {
			return d
		}
	}
}

// brent runs Pollard's rho with Brent's cycle finding on x ↦ x²+c mod n,
// multiplying batches of |x−y| together to pay for one gcd per batch. It
// returns n when the walk failed and another c must be tried.
func brent(n, c uint64) uint64 {
	const batch = 128
	f := func(x uint64) uint64 { return addMod(mulMod(x, x, n), c, n) }
	var x, ys uint64
	y, q, g := uint64(2), uint64(1), uint64(1)
	for r := uint64(1); g == 1; r <<= 1 {
		x = y
		for range r {
			y = f(y)
		}
		for k := uint64(0); k < r && g == 1; k += batch {
			ys = y
			for range min(batch, r-k) {
				y = f(y)
				q = mulMod(q, absDiff(x, y), n)
			}
			g = gcd(q, n)
		}
	}
	if g == n {
		// The batch overshot (or q hit 0): replay it one step at a time.
		for g = 1; g == 1; {
			ys = f(ys)
			g = gcd(absDiff(x, ys), n)
		}
	}
	return g
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// isqrt returns floor(√n).
func isqrt(n uint64) uint64 {
	if n < 2 {
		return n
	}
	// Newton's method from an over-estimate: 2^ceil(bits/2) > √n.
	x := uint64(1) << ((bits.Len64(n) + 1) / 2)
	for {
		y := (x + n/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

// IsPrimitiveRoot reports whether g generates the multiplicative group
// modulo the prime p, given the distinct prime factors of p−1 (see
// PrimeFactors): g is a primitive root iff g^((p−1)/q) ≠ 1 for each of
// them. The result is meaningless if p is not prime or the factors are
// wrong.
func IsPrimitiveRoot(g, p uint64, factors []uint64) bool {
	if p < 2 || g%p == 0 {
		return false
	}
	for _, q := range factors {
		if powMod(g, (p-1)/q, p) == 1 {
			return false
		}
	}
	return true
}
