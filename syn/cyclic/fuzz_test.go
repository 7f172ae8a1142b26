package cyclic_test

import (
	"testing"

	"mailscan/syn/cyclic"
)

// FuzzWalk checks the permutation property for arbitrary small N, seeds,
// shard and part counts: every index of [0, N) is yielded exactly once
// over all shards and parts.
func FuzzWalk(f *testing.F) {
	f.Add(uint16(1), uint64(0), uint8(1), uint8(1))
	f.Add(uint16(1000), uint64(42), uint8(3), uint8(4))
	f.Add(uint16(65535), uint64(7), uint8(5), uint8(2))
	f.Add(uint16(2), uint64(1), uint8(9), uint8(9))
	f.Fuzz(func(t *testing.T, n16 uint16, seed uint64, shards8, parts8 uint8) {
		n, shards, parts := uint64(n16)+1, uint64(shards8%8)+1, uint64(parts8%8)+1
		c, err := cyclic.New(n, seed)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, n)
		var count uint64
		for shard := range shards {
			for part := range parts {
				it, err := c.Iter(shard, shards, part, parts)
				if err != nil {
					t.Fatal(err)
				}
				for {
					i, ok := it.Next()
					if !ok {
						break
					}
					if i >= n || seen[i] {
						t.Fatalf("N=%d seed=%d K=%d S=%d: index %d out of range or repeated", n, seed, shards, parts, i)
					}
					seen[i] = true
					count++
				}
			}
		}
		if count != n {
			t.Fatalf("N=%d seed=%d K=%d S=%d: %d indices yielded", n, seed, shards, parts, count)
		}
	})
}
