package xsk

import (
	"fmt"
	"testing"
)

// TestProdRing produces into a ring of 8 entries while a simulated kernel
// consumes, with both indexes starting just below 2^32 so that they wrap
// during the test: the free count, the slots and the published index must
// not notice.
func TestProdRing(t *testing.T) {
	for _, start := range []uint32{0, 5, 1<<32 - 20, 1<<32 - 1} {
		t.Run(fmt.Sprintf("start=%#x", start), func(t *testing.T) {
			const size = 8
			producer, consumer := start, start
			var slots [size]uint32 // what the "kernel" reads: the sequence number written in each slot
			r := newProdRing(&producer, &consumer, size)
			var written, read uint32
			for round, chunk := range []uint32{1, 3, 8, 5, 7, 2, 8, 8, 6, 4, 8, 1} {
				if got := r.free(size); got != size {
					t.Fatalf("round %d: free = %d with the ring drained, want %d", round, got, size)
				}
				for range chunk {
					slots[r.reserve()] = written
					written++
				}
				if producer != start+read {
					t.Fatalf("round %d: producer published before submit", round)
				}
				if got := r.free(1); got != size-chunk {
					t.Fatalf("round %d: free = %d after %d reserved, want %d", round, got, chunk, size-chunk)
				}
				r.submit()
				if producer != start+written {
					t.Fatalf("round %d: producer = %#x, want %#x", round, producer, start+written)
				}
				if got := r.outstanding(); got != chunk {
					t.Fatalf("round %d: outstanding = %d, want %d", round, got, chunk)
				}
				// The kernel consumes in two steps, to check partial progress.
				half := chunk / 2
				for i := range chunk {
					if i == half {
						if got := r.outstanding(); got != chunk-half {
							t.Fatalf("round %d: outstanding = %d after %d consumed, want %d", round, got, half, chunk-half)
						}
					}
					if got := slots[consumer&(size-1)]; got != read {
						t.Fatalf("round %d: kernel read %d, want %d (FIFO)", round, got, read)
					}
					read++
					consumer++
				}
				if got := r.outstanding(); got != 0 {
					t.Fatalf("round %d: outstanding = %d after the kernel consumed all, want 0", round, got)
				}
			}
			if written != read || read < 2*size {
				t.Fatalf("wrote %d, read %d", written, read)
			}
		})
	}
}

// TestProdRingFreeCaches checks that free reads the shared consumer index
// only when its cached one says the ring is too full.
func TestProdRingFreeCaches(t *testing.T) {
	producer, consumer := uint32(1<<32-2), uint32(1<<32-2)
	r := newProdRing(&producer, &consumer, 4)
	for range 3 {
		r.reserve()
	}
	r.submit()
	consumer += 3 // the kernel consumed everything, wrapping its index
	if got := r.free(1); got != 1 {
		t.Errorf("free(1) = %d, want 1 from the cached consumer index", got)
	}
	if got := r.free(2); got != 4 {
		t.Errorf("free(2) = %d, want 4 after reading the consumer index", got)
	}
}

// TestConsRing consumes from a ring a simulated kernel produces into, with
// indexes that wrap.
func TestConsRing(t *testing.T) {
	for _, start := range []uint32{0, 1<<32 - 3, 1<<32 - 1} {
		t.Run(fmt.Sprintf("start=%#x", start), func(t *testing.T) {
			const size = 4
			producer, consumer := start, start
			var addrs [size]uint64
			r := newConsRing(&producer, &consumer, size)
			var next, want uint64
			for round, chunk := range []uint32{0, 1, 4, 3, 2, 4, 4, 1, 3} {
				for range chunk {
					addrs[producer&(size-1)] = next
					next++
					producer++
				}
				n := r.available()
				if n != chunk {
					t.Fatalf("round %d: available = %d, want %d", round, n, chunk)
				}
				// Read in two steps, releasing in between.
				for _, part := range []uint32{n / 2, n - n/2} {
					for i := range part {
						if got := addrs[r.peek(i)]; got != want {
							t.Fatalf("round %d: read %d, want %d (FIFO)", round, got, want)
						}
						want++
					}
					if part > 0 {
						r.release(part)
					}
				}
				if consumer != producer {
					t.Fatalf("round %d: consumer = %#x, want %#x (everything released)", round, consumer, producer)
				}
				if got := r.available(); got != 0 {
					t.Fatalf("round %d: available = %d after releasing all, want 0", round, got)
				}
			}
		})
	}
}
