package cyclic_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"mailscan/syn/cyclic"
)

// sieve returns the primality of 0..n-1.
func sieve(n int) []bool {
	prime := make([]bool, n)
	for i := 2; i < n; i++ {
		prime[i] = true
	}
	for i := 2; i*i < n; i++ {
		if prime[i] {
			for j := i * i; j < n; j += i {
				prime[j] = false
			}
		}
	}
	return prime
}

func bigPrime(n uint64) bool {
	// ProbablyPrime is exact below 2^64 (it runs Baillie–PSW).
	return new(big.Int).SetUint64(n).ProbablyPrime(0)
}

func TestIsPrimeSmall(t *testing.T) {
	prime := sieve(200000)
	for n, want := range prime {
		if got := cyclic.IsPrime(uint64(n)); got != want {
			t.Fatalf("IsPrime(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestIsPrimeMatchesBig(t *testing.T) {
	special := []uint64{
		// Strong pseudoprimes to the first few bases: each fools a
		// Miller–Rabin test with fewer witnesses than we use.
		2047, 1373653, 25326001, 3215031751, 2152302898747, 3474749660383,
		341550071728321, 3825123056546413051,
		// Carmichael numbers.
		561, 1105, 1729, 2465, 2821, 6601, 8911, 41041, 825265, 321197185,
		// Primes and near-primes at the top of each width.
		1<<31 - 1, 1<<32 - 5, 1<<32 + 15, 1<<61 - 1, 1<<62 - 57, 1<<63 - 25, 1<<63 + 29,
		math.MaxUint64 - 58, math.MaxUint64, math.MaxUint64 - 1, math.MaxUint64 - 2,
		// Squares and products of large primes.
		4294967291 * 4294967291, 4294967291 * 4294967279, 65521 * 65521 * 65521, 2147483647 * 3,
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 20000 {
		special = append(special, rng.Uint64(), rng.Uint64()>>rng.IntN(64)|1)
	}
	for _, n := range special {
		if got, want := cyclic.IsPrime(n), bigPrime(n); got != want {
			t.Fatalf("IsPrime(%d) = %v, math/big says %v", n, got, want)
		}
	}
}

// checkFactors asserts that fs are the distinct prime factors of n in
// ascending order, with math/big as the judge.
func checkFactors(t *testing.T, n uint64, fs []uint64) {
	t.Helper()
	rest := n
	for i, f := range fs {
		if i > 0 && f <= fs[i-1] {
			t.Fatalf("PrimeFactors(%d) = %v: not strictly ascending", n, fs)
		}
		if !bigPrime(f) {
			t.Fatalf("PrimeFactors(%d) = %v: %d is not prime", n, fs, f)
		}
		if rest%f != 0 {
			t.Fatalf("PrimeFactors(%d) = %v: %d does not divide it", n, fs, f)
		}
		for rest%f == 0 {
			rest /= f
		}
	}
	if n >= 2 && rest != 1 {
		t.Fatalf("PrimeFactors(%d) = %v: cofactor %d left over", n, fs, rest)
	}
	if n < 2 && fs != nil {
		t.Fatalf("PrimeFactors(%d) = %v, want nil", n, fs)
	}
}

func TestPrimeFactors(t *testing.T) {
	exact := []struct {
		n    uint64
		want []uint64
	}{
		{0, nil},
		{1, nil},
		{2, []uint64{2}},
		{12, []uint64{2, 3}},
		{1 << 40, []uint64{2}},
		{1009 * 1009, []uint64{1009}},
		{1013 * 1019 * 1021, []uint64{1013, 1019, 1021}},
		{math.MaxUint64, []uint64{3, 5, 17, 257, 641, 65537, 6700417}},
		{1<<62 - 1, []uint64{3, 715827883, 2147483647}},
		{4294967291 * 4294967279, []uint64{4294967279, 4294967291}},
		{(1<<61 - 1) * 7, []uint64{7, 1<<61 - 1}},
		{65521 * 65521 * 65521, []uint64{65521}},
		{1<<63 + 28, nil}, // P−1 for N = MaxN: checked by checkFactors alone
	}
	for _, tt := range exact {
		got := cyclic.PrimeFactors(tt.n)
		checkFactors(t, tt.n, got)
		if tt.want != nil && !slices.Equal(got, tt.want) {
			t.Errorf("PrimeFactors(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
	for n := uint64(0); n < 20000; n++ {
		checkFactors(t, n, cyclic.PrimeFactors(n))
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for range 300 {
		n := rng.Uint64()
		checkFactors(t, n, cyclic.PrimeFactors(n))
		checkFactors(t, n>>32, cyclic.PrimeFactors(n>>32))
	}
	// p−1 for random large primes: what New factors.
	for range 50 {
		p := rng.Uint64() | 1
		for !cyclic.IsPrime(p) {
			p += 2
		}
		checkFactors(t, p-1, cyclic.PrimeFactors(p-1))
	}
}

// order returns the multiplicative order of g modulo the prime p.
func order(g, p uint64) uint64 {
	x, k := g%p, uint64(1)
	for x != 1 {
		x = x * g % p
		k++
	}
	return k
}

func TestIsPrimitiveRootBruteForce(t *testing.T) {
	prime := sieve(600)
	for p := uint64(2); p < 600; p++ {
		if !prime[p] {
			continue
		}
		fs := cyclic.PrimeFactors(p - 1)
		roots := 0
		for g := uint64(1); g < p; g++ {
			want := order(g, p) == p-1
			if got := cyclic.IsPrimitiveRoot(g, p, fs); got != want {
				t.Fatalf("IsPrimitiveRoot(%d, %d) = %v, order says %v", g, p, got, want)
			}
			if want {
				roots++
			}
		}
		if roots == 0 {
			t.Fatalf("no primitive root modulo %d", p)
		}
	}
	if cyclic.IsPrimitiveRoot(0, 7, cyclic.PrimeFactors(6)) || cyclic.IsPrimitiveRoot(14, 7, cyclic.PrimeFactors(6)) {
		t.Fatal("a multiple of p is a primitive root")
	}
	if !cyclic.IsPrimitiveRoot(10, 7, cyclic.PrimeFactors(6)) { // 10 ≡ 3, a root
		t.Fatal("g is not reduced modulo p")
	}
}
