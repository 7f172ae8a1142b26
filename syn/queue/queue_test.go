package queue

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestOrderAndClose(t *testing.T) {
	q := New[int]()
	q.Push(1, 2)
	q.PushFront(-1, 0)
	q.Push(3)
	if got := q.Snapshot(nil); !slices.Equal(got, []int{-1, 0, 1, 2, 3}) || q.Len() != 5 {
		t.Fatalf("Snapshot = %v, Len %d", got, q.Len())
	}
	if v, ok := q.Pop(nil); !ok || v != -1 {
		t.Fatalf("Pop = %d, %v", v, ok)
	}
	got, ok := q.Wait(nil, 0)
	if !ok || !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("Wait = %v, %v", got, ok)
	}
	q.Push(4)
	q.Close()
	if got, ok := q.Wait(nil, 0); !ok || !slices.Equal(got, []int{4}) {
		t.Fatalf("Wait after Close = %v, %v; want the last item and ok", got, ok)
	}
	if got, ok := q.Wait(nil, 0); ok || len(got) != 0 {
		t.Fatalf("Wait on a closed empty queue = %v, %v", got, ok)
	}
	if _, ok := q.Pop(nil); ok {
		t.Fatal("Pop on a closed empty queue succeeded")
	}
}

func TestWaitTimeoutAndPopStop(t *testing.T) {
	q := New[string]()
	if got, ok := q.Wait(nil, time.Millisecond); !ok || len(got) != 0 {
		t.Fatalf("Wait with timeout = %v, %v", got, ok)
	}
	stop := make(chan struct{})
	close(stop)
	if _, ok := q.Pop(stop); ok {
		t.Fatal("Pop returned an item from an empty queue after stop")
	}
}

// TestManyProducers: every pushed item comes out exactly once, in each
// producer's order, whatever the interleaving (run with -race).
func TestManyProducers(t *testing.T) {
	q := New[[2]int]()
	const producers, each = 4, 5000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				q.Push([2]int{p, i})
			}
		})
	}
	go func() { wg.Wait(); q.Close() }()
	next := make([]int, producers)
	var buf [][2]int
	n := 0
	for {
		var ok bool
		buf, ok = q.Wait(buf, 0)
		if !ok {
			break
		}
		for _, v := range buf {
			if v[1] != next[v[0]] {
				t.Fatalf("producer %d: got item %d, want %d", v[0], v[1], next[v[0]])
			}
			next[v[0]]++
			n++
		}
	}
	if n != producers*each {
		t.Fatalf("got %d items, want %d", n, producers*each)
	}
}
