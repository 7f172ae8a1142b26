package pipeline

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"mailscan/banner"
	"mailscan/syn/hitlist"
	"mailscan/syn/state"
)

// failWriter fails every write once fail is set.
type failWriter struct {
	mu   sync.Mutex
	fail bool
	buf  strings.Builder
}

func (w *failWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return 0, errors.New("no space left on device")
	}
	return w.buf.Write(p)
}

func target(a netip.Addr, port uint16) (banner.Target, error) {
	if port == 7 {
		return banner.Target{}, errors.New("no protocol for port 7")
	}
	return banner.Target{Addr: a, Port: port, Protocol: banner.IMAP}, nil
}

func openHit(s string) *hitlist.Hit {
	ap := netip.MustParseAddrPort(s)
	return &hitlist.Hit{Addr: ap.Addr(), Port: ap.Port(), Status: hitlist.Open}
}

func pendingKeys(b *Bridge) []string {
	var out []string
	for _, h := range b.Pending() {
		out = append(out, h.AddrPort().String())
	}
	slices.Sort(out)
	return out
}

// TestBridgeQueuesOnlyFlushedHits: a hit is pending only once the hit list
// holds it; a failed flush leaves it with the scanner (not pending here).
func TestBridgeQueuesOnlyFlushedHits(t *testing.T) {
	hitsOut := &failWriter{}
	hw, _ := hitlist.NewWriter(hitsOut, hitlist.CSV)
	b := New(Config{Hits: hw, Results: &failWriter{}, Target: target}, []state.Hit{{IP: netip.MustParseAddr("198.18.16.9"), Port: 993}})
	b.Write(openHit("198.18.16.1:143"))
	if got := pendingKeys(b); !slices.Equal(got, []string{"198.18.16.9:993"}) {
		t.Fatalf("before the flush, pending = %v; want only the resumed hit", got)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := pendingKeys(b); !slices.Equal(got, []string{"198.18.16.1:143", "198.18.16.9:993"}) {
		t.Fatalf("after the flush, pending = %v", got)
	}
	b.Write(openHit("198.18.16.7:7")) // no protocol: listed, not grabbed
	hitsOut.fail = true
	b.Write(openHit("198.18.16.2:143"))
	if err := b.Flush(); err == nil {
		t.Fatal("a failed hit list flush reported no error")
	}
	if got := pendingKeys(b); slices.Contains(got, "198.18.16.2:143") || slices.Contains(got, "198.18.16.7:7") {
		t.Fatalf("after a failed flush, pending = %v", got)
	}
	if b.Skipped() != 1 {
		t.Errorf("skipped %d, want 1", b.Skipped())
	}
}

// TestBridgeResultWriteFailure: a result that cannot be written leaves its
// hit pending, stops the feed and counts no result.
func TestBridgeResultWriteFailure(t *testing.T) {
	res := &failWriter{}
	b := New(Config{Results: res, Target: target}, nil)
	for _, k := range []string{"198.18.16.1:143", "198.18.16.2:143", "198.18.16.3:143"} {
		b.Write(openHit(k))
	}
	b.Flush()
	b.Close()
	ch := make(chan banner.Target)
	stop := make(chan struct{})
	go b.Feed(stop, ch)
	t1 := <-ch
	b.Done(&banner.Result{IP: t1.Addr, Port: t1.Port, Status: banner.StatusSuccess})
	if b.Written() != 1 || strings.Count(res.buf.String(), "\n") != 1 {
		t.Fatalf("written %d, output %q", b.Written(), res.buf.String())
	}
	t2 := <-ch
	res.fail = true
	b.Done(&banner.Result{IP: t2.Addr, Port: t2.Port, Status: banner.StatusSuccess})
	select {
	case <-b.Failed():
	default:
		t.Fatal("Failed not closed after a failed write")
	}
	// The feed stops: at most the target it was handing over when the
	// write failed still goes out (its result cannot be written either:
	// it stays pending).
	more := 0
	for range ch {
		more++
	}
	if more > 1 {
		t.Errorf("the feed handed over %d more targets after a failed write", more)
	}
	want := []string{t2.Addr.String() + ":143", "198.18.16.3:143"}
	slices.Sort(want)
	if got := pendingKeys(b); !slices.Equal(got, want) {
		t.Errorf("pending %v, want %v (the failed one and the one not grabbed)", got, want)
	}
	if b.Written() != 1 || b.Err() == nil {
		t.Errorf("written %d err %v", b.Written(), b.Err())
	}
}

// TestBridgeFeedStopRequeues: a stop leaves the hit being handed over at
// the head of the queue, pending.
func TestBridgeFeedStopRequeues(t *testing.T) {
	b := New(Config{Results: &failWriter{}, Target: target}, nil)
	b.Write(openHit("198.18.16.1:143"))
	b.Write(openHit("198.18.16.2:143"))
	b.Flush()
	ch := make(chan banner.Target) // nobody reads: Feed blocks handing the first over
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { b.Feed(stop, ch); close(done) }()
	for len(b.inflightKeys()) == 0 {
	}
	close(stop)
	<-done
	if got := pendingKeys(b); !slices.Equal(got, []string{"198.18.16.1:143", "198.18.16.2:143"}) {
		t.Errorf("pending %v after stop", got)
	}
	if h, _ := b.queue.TryPop(); h.AddrPort().String() != "198.18.16.1:143" {
		t.Errorf("head of the queue %v, want the hit that was being handed over", h.AddrPort())
	}
}

func (b *Bridge) inflightKeys() []netip.AddrPort {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []netip.AddrPort
	for k := range b.inflight {
		out = append(out, k)
	}
	return out
}
