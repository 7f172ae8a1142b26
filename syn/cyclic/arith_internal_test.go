package cyclic

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The modular arithmetic against math/big, with moduli of every size up to
// 2^64−1 so that any overflow in the 128-bit reduction would show.
func TestMulPowModMatchBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	moduli := []uint64{1, 2, 3, 1<<32 - 5, 1<<32 + 15, 1<<62 + 135, 1<<63 + 29, math.MaxUint64 - 58, math.MaxUint64}
	for range 300 {
		moduli = append(moduli, rng.Uint64()|1, rng.Uint64()>>rng.IntN(63)|1)
	}
	var bm, ba, bb, want big.Int
	for _, m := range moduli {
		bm.SetUint64(m)
		for range 20 {
			a, b := rng.Uint64()%m, rng.Uint64()%m
			if m > 1 && rng.IntN(4) == 0 {
				a, b = m-1, m-1-uint64(rng.IntN(2))%m // the largest products
			}
			ba.SetUint64(a)
			bb.SetUint64(b)
			want.Mul(&ba, &bb).Mod(&want, &bm)
			if got := mulMod(a, b, m); got != want.Uint64() {
				t.Fatalf("mulMod(%d, %d, %d) = %d, want %d", a, b, m, got, want.Uint64())
			}
			want.Add(&ba, &bb).Mod(&want, &bm)
			if got := addMod(a, b, m); got != want.Uint64() {
				t.Fatalf("addMod(%d, %d, %d) = %d, want %d", a, b, m, got, want.Uint64())
			}
			e := rng.Uint64() >> rng.IntN(64)
			bb.SetUint64(e)
			want.Exp(&ba, &bb, &bm)
			if got := powMod(a, e, m); got != want.Uint64() {
				t.Fatalf("powMod(%d, %d, %d) = %d, want %d", a, e, m, got, want.Uint64())
			}
		}
	}
}

func TestIsqrt(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 4, 15, 16, 17, 1<<32 - 1, 1 << 32, (1<<32 - 1) * (1<<32 - 1), math.MaxUint64} {
		r := isqrt(n)
		if r*r > n || (r+1 <= math.MaxUint32 && (r+1)*(r+1) <= n) {
			t.Errorf("isqrt(%d) = %d", n, r)
		}
	}
}

func TestUniform(t *testing.T) {
	src := rand.NewPCG(1, 2)
	for _, m := range []uint64{1, 2, 3, 7, 1<<63 + 1, math.MaxUint64} {
		for range 1000 {
			if v := uniform(src, m); v >= m {
				t.Fatalf("uniform(%d) = %d", m, v)
			}
		}
	}
	// Every value of a small range shows up, roughly evenly.
	var counts [6]int
	for range 60000 {
		counts[uniform(src, 6)]++
	}
	for v, c := range counts {
		if c < 9000 || c > 11000 {
			t.Fatalf("uniform(6) drew %d %d times in 60000", v, c)
		}
	}
}
