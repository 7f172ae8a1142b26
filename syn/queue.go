package syn

import (
	"sync"

	"mailscan/syn/hitlist"
)

// hitQueue carries hits from the receiver to the output goroutine. It never
// blocks the receiver and never drops a hit: if the output falls behind (a
// slow consumer on a pipe), the queue grows. Its size is bounded by the number
// of distinct hits, which the dedup set holds anyway.
type hitQueue struct {
	mu     sync.Mutex
	hits   []hitlist.Hit
	closed bool
	ready  chan struct{} // a token when hits or close are pending
	once   sync.Once
}

func (q *hitQueue) init() { q.once.Do(func() { q.ready = make(chan struct{}, 1) }) }

func (q *hitQueue) push(h hitlist.Hit) {
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

// wait blocks until hits are queued or the queue is closed, and swaps the
// queued hits into buf's storage. ok is false once the queue is closed and
// drained.
func (q *hitQueue) wait(buf []hitlist.Hit) (hits []hitlist.Hit, ok bool) {
	q.init()
	for {
		q.mu.Lock()
		if len(q.hits) > 0 || q.closed {
			hits, q.hits = q.hits, buf[:0]
			done := q.closed
			q.mu.Unlock()
			return hits, !done
		}
		q.mu.Unlock()
		<-q.ready
	}
}

// len returns the number of hits waiting for output.
func (q *hitQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.hits)
}
