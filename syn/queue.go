package syn

import (
	"sync"
	"time"

	"mailscan/syn/hitlist"
)

// event is what the receiver tells the output goroutine: a hit, or (with
// control probes) what a host's control port said.
type event struct {
	hit hitlist.Hit
	// control marks a control-port answer for addr: allPorts is true when
	// the host accepted a connection on its random control port.
	control  bool
	addr     uint32
	allPorts bool
}

// hitQueue carries events from the receiver to the output goroutine. It
// never blocks the receiver and never drops a hit: if the output falls behind
// (a slow consumer on a pipe), the queue grows. Its size is bounded by the
// number of distinct hits, which the dedup set holds anyway.
type hitQueue struct {
	mu     sync.Mutex
	hits   []event
	closed bool
	ready  chan struct{} // a token when hits or close are pending
	once   sync.Once
}

func (q *hitQueue) init() { q.once.Do(func() { q.ready = make(chan struct{}, 1) }) }

func (q *hitQueue) push(h event) {
	q.init()
	q.mu.Lock()
	q.hits = append(q.hits, h)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *hitQueue) close() {
	q.init()
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// wait blocks until events are queued or the queue is closed, and swaps the
// queued hits into buf's storage. ok is false once the queue is closed and
// drained.
//
// With a timeout > 0 it also returns (with no events) when the timeout
// passes, so the caller can expire what it holds.
func (q *hitQueue) wait(buf []event, timeout time.Duration) (hits []event, ok bool) {
	q.init()
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	for {
		q.mu.Lock()
		if len(q.hits) > 0 || q.closed {
			hits, q.hits = q.hits, buf[:0]
			done := q.closed
			q.mu.Unlock()
			return hits, !done
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-tc:
			return buf[:0], true
		}
	}
}

// len returns the number of hits waiting for output.
func (q *hitQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.hits)
}
