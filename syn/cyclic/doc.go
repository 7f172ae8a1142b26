// Package cyclic walks the indices [0, N) in a pseudorandom order with O(1)
// memory, the way ZMap orders its probes: through the multiplicative group
// of integers modulo a prime.
//
// For the smallest prime p > N and a primitive root g modulo p, the
// sequence x_j = start·g^j mod p (j = 0 … p−2) visits every element of
// {1, …, p−1} exactly once. Element x stands for index x−1, and the few
// elements above N are skipped; since p is the next prime after N, almost
// nothing is (prime gaps below 2^64 are under 1600, against N).
//
// The walk splits without coordination. Shard i of K (one machine of a
// distributed scan) takes the positions j ≡ i (mod K), stepping by g^K.
// Part s of S (one sender goroutine of a shard) takes a contiguous run of
// its shard's positions, so the addresses a shard covers do not depend on
// how many senders it runs, and the run can be resumed from a position
// count with one modular exponentiation (Iter.Seek).
//
// The order is a function of (N, seed) alone: g and the start are drawn
// from a PCG generator (math/rand/v2) seeded with seed, using only its raw
// 64-bit outputs, so every machine, and every Go release, derives the same
// cycle. The permutation hides the scan order from casual observers and
// spreads load over destination networks; it is not a cryptographic
// permutation and does not pretend to be one.
//
// All arithmetic modulo p uses 128-bit products (math/bits), so nothing
// overflows for any N up to MaxN.
package cyclic
