package xsk

import "sync/atomic"

// The rings an AF_XDP socket shares with the kernel are single-producer,
// single-consumer circular buffers of a power-of-two number of entries. Each
// side owns one free-running 32-bit index (the producer's and the consumer's)
// and reads the other's; an entry's slot is its index masked, so the indexes
// wrap around 2^32 without care as long as they are compared by difference,
// never by order.
//
// The memory ordering is the kernel's (net/xdp/xsk_queue.h): the producer
// writes entries, then stores the producer index with release semantics; the
// consumer loads the producer index with acquire semantics before reading
// entries, and stores its own index (release) once it no longer needs them.
// sync/atomic's loads and stores are sequentially consistent, which is more
// than enough.
//
// Each side keeps cached copies of both indexes and touches the shared ones
// only when the cache says it must: the shared cache lines then bounce
// between the cores once per batch, not once per frame.

// prodRing is user space's side of a ring it produces into (the TX ring).
type prodRing struct {
	producer *uint32 // shared, written by us
	consumer *uint32 // shared, written by the kernel
	size     uint32
	mask     uint32
	prod     uint32 // next index to fill; published by submit
	cons     uint32 // last consumer index read
}

func newProdRing(producer, consumer *uint32, size uint32) prodRing {
	r := prodRing{producer: producer, consumer: consumer, size: size, mask: size - 1}
	r.prod = atomic.LoadUint32(producer)
	r.cons = atomic.LoadUint32(consumer)
	return r
}

// free returns the number of entries that can be reserved now, at least up
// to want: it reads the kernel's consumer index only when the cached one
// says there are fewer than want.
func (r *prodRing) free(want uint32) uint32 {
	n := r.size - (r.prod - r.cons)
	if n >= want {
		return n
	}
	r.cons = atomic.LoadUint32(r.consumer)
	return r.size - (r.prod - r.cons)
}

// reserve returns the slot of the next entry and advances the cached
// producer index. The caller must have checked free.
func (r *prodRing) reserve() uint32 {
	i := r.prod & r.mask
	r.prod++
	return i
}

// submit publishes the reserved entries to the kernel.
func (r *prodRing) submit() { atomic.StoreUint32(r.producer, r.prod) }

// outstanding reads the kernel's consumer index and returns how many
// published or reserved entries it has not consumed yet.
func (r *prodRing) outstanding() uint32 {
	r.cons = atomic.LoadUint32(r.consumer)
	return r.prod - r.cons
}

// consRing is user space's side of a ring it consumes from (the completion
// ring).
type consRing struct {
	producer *uint32 // shared, written by the kernel
	consumer *uint32 // shared, written by us
	mask     uint32
	prod     uint32 // last producer index read
	cons     uint32 // next index to read; published by release
}

func newConsRing(producer, consumer *uint32, size uint32) consRing {
	r := consRing{producer: producer, consumer: consumer, mask: size - 1}
	r.prod = atomic.LoadUint32(producer)
	r.cons = atomic.LoadUint32(consumer)
	return r
}

// available reads the kernel's producer index and returns the number of
// entries ready to read, starting at slot peek(0).
func (r *consRing) available() uint32 {
	r.prod = atomic.LoadUint32(r.producer)
	return r.prod - r.cons
}

// peek returns the slot of the i-th unread entry.
func (r *consRing) peek(i uint32) uint32 { return (r.cons + i) & r.mask }

// release hands n read entries back to the kernel.
func (r *consRing) release(n uint32) {
	r.cons += n
	atomic.StoreUint32(r.consumer, r.cons)
}
