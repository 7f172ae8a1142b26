// Package queue is the one hand-off between the goroutines of a scan: an
// unbounded first-in first-out queue with many producers and one consumer.
//
// A producer never blocks, so a receiver goroutine that must drain the
// kernel's ring is never held up by a slow consumer; memory grows instead,
// and the caller bounds it (the scanner pauses its senders on a backlog).
// The consumer takes everything queued at once (Drain, Wait) or one item at
// a time (Pop), and can look at what is queued without taking it (Snapshot),
// which is how a checkpoint records work not yet done.
package queue

import (
	"sync"
	"time"
)

// Queue is an unbounded FIFO queue. The zero value is not usable: make one
// with New. All methods are safe for concurrent use.
type Queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	ready  chan struct{} // holds a token while items or a close are pending
}

// New returns an empty queue.
func New[T any]() *Queue[T] { return &Queue[T]{ready: make(chan struct{}, 1)} }

func (q *Queue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Push appends vs. Pushing to a closed queue is allowed: the items are
// queued all the same (a consumer draining after Close still gets them).
func (q *Queue[T]) Push(vs ...T) {
	if len(vs) == 0 {
		return
	}
	q.mu.Lock()
	q.items = append(q.items, vs...)
	q.mu.Unlock()
	q.signal()
}

// PushFront puts vs back at the head of the queue, in order: work a
// consumer took but could not hand on.
func (q *Queue[T]) PushFront(vs ...T) {
	if len(vs) == 0 {
		return
	}
	q.mu.Lock()
	q.items = append(append(make([]T, 0, len(vs)+len(q.items)), vs...), q.items...)
	q.mu.Unlock()
	q.signal()
}

// Close says no more items will come; consumers see the end once the queue
// is empty.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// Ready returns a channel that receives a token when items or a close may be
// pending. A consumer that waits on it must then Drain or Pop, and treat an
// empty result as a spurious wake-up.
func (q *Queue[T]) Ready() <-chan struct{} { return q.ready }

// Drain swaps everything queued into buf's storage and returns it, without
// blocking. closed is true once the queue is closed and the returned items
// are its last.
func (q *Queue[T]) Drain(buf []T) (items []T, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items, q.items = q.items, buf[:0]
	return items, q.closed
}

// Wait blocks until items are queued or the queue is closed, then drains it
// as Drain does; ok is false once the queue is closed and drained. With a
// timeout > 0 it also returns, with no items and ok true, when the timeout
// passes.
func (q *Queue[T]) Wait(buf []T, timeout time.Duration) (items []T, ok bool) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	for {
		items, closed := q.Drain(buf)
		if len(items) > 0 || closed {
			if closed {
				q.signal() // later waiters see the close too
			}
			return items, !closed || len(items) > 0
		}
		buf = items
		select {
		case <-q.ready:
		case <-tc:
			return buf[:0], true
		}
	}
}

// Pop removes and returns the item at the head, blocking until there is one.
// ok is false when the queue is closed and empty, or when stop is closed
// first.
func (q *Queue[T]) Pop(stop <-chan struct{}) (v T, ok bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			v = q.items[0]
			var zero T
			q.items[0] = zero // let the item go once taken
			q.items = q.items[1:]
			more := len(q.items) > 0
			q.mu.Unlock()
			if more {
				q.signal()
			}
			return v, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			q.signal()
			return v, false
		}
		select {
		case <-q.ready:
		case <-stop:
			return v, false
		}
	}
}

// TryPop removes and returns the item at the head without blocking; ok is
// false when the queue is empty.
func (q *Queue[T]) TryPop() (v T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return v, false
	}
	v = q.items[0]
	var zero T
	q.items[0] = zero
	q.items = q.items[1:]
	return v, true
}

// Closed reports whether Close was called.
func (q *Queue[T]) Closed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// Len returns the number of items queued.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Snapshot appends a copy of the queued items to buf, leaving them queued.
func (q *Queue[T]) Snapshot(buf []T) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append(buf, q.items...)
}
