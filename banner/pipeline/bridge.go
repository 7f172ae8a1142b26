// Package pipeline joins the two stages of `mailscan run`: the hits of a
// SYN scan flow through a Bridge into the banner pool, and a resumed run is
// planned from a state file and the outputs of the run it continues.
//
// The Bridge is the scan's Output. It writes each hit to the hit list and,
// once the hit list is flushed, queues the hit for a grab; the banner pool
// takes queued hits as its workers free up, and each result is written
// before its hit leaves the Bridge. So a hit is always in exactly one of
// three places a checkpoint can see: held by the scanner, pending in the
// Bridge (queued or in flight), or written as a result.
package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"mailscan/banner"
	"mailscan/syn/hitlist"
	"mailscan/syn/queue"
	"mailscan/syn/state"
)

// Config configures a Bridge.
type Config struct {
	// Hits receives every hit (nil: no hit list).
	Hits *hitlist.Writer
	// Results receives every result as a JSON line; it must not be nil.
	Results io.Writer
	// ReportExcluded writes the results of targets the exclusion policy
	// refused; without it they are counted, not written.
	ReportExcluded bool
	// Target maps a hit to the banner target to grab; an error means the
	// hit is not grabbed (no protocol for its port): it is counted and
	// logged once per port.
	Target func(addr netip.Addr, port uint16) (banner.Target, error)
	// Log receives warnings (default: discard).
	Log *slog.Logger
}

// Bridge carries hits from a SYN scan to the banner pool; see the package
// doc. Write and Flush are called by the scanner's output goroutine, Feed
// by one goroutine, Done by the pool (never concurrently with itself).
type Bridge struct {
	cfg Config

	mu       sync.Mutex
	staged   []state.Hit // in the hit list's buffer, not yet flushed
	queue    *queue.Queue[state.Hit]
	inflight map[netip.AddrPort]state.Hit
	results  *bufio.Writer
	err      error // the first results write error
	failed   chan struct{}
	fail     sync.Once

	written   atomic.Int64 // results written
	skipped   atomic.Int64 // hits without a protocol
	warnMu    sync.Mutex
	warnedFor map[uint16]bool
}

// New returns a Bridge whose queue starts with pending: hits a resumed run
// grabs first.
func New(cfg Config, pending []state.Hit) *Bridge {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bridge{cfg: cfg, queue: queue.New[state.Hit](), inflight: map[netip.AddrPort]state.Hit{},
		results: bufio.NewWriterSize(cfg.Results, 64<<10), failed: make(chan struct{}), warnedFor: map[uint16]bool{}}
	b.queue.Push(pending...)
	return b
}

// Write takes a hit from the scanner: it goes to the hit list, and is staged
// for a grab until Flush confirms the hit list holds it.
func (b *Bridge) Write(h *hitlist.Hit) error {
	if b.cfg.Hits != nil {
		if err := b.cfg.Hits.Write(h); err != nil {
			return fmt.Errorf("hit list: %w", err)
		}
	}
	if h.Status != hitlist.Open {
		return nil
	}
	if _, err := b.cfg.Target(h.Addr, h.Port); err != nil {
		b.skip(h.Port, err)
		return nil
	}
	b.mu.Lock()
	b.staged = append(b.staged, state.FromHitlist(*h))
	b.mu.Unlock()
	return nil
}

func (b *Bridge) skip(port uint16, err error) {
	b.skipped.Add(1)
	b.warnMu.Lock()
	defer b.warnMu.Unlock()
	if !b.warnedFor[port] {
		b.warnedFor[port] = true
		b.cfg.Log.Warn(fmt.Sprintf("not grabbing the hits of port %d: %v", port, err))
	}
}

// Flush flushes the hit list; then the hits written since the last Flush
// are queued for their grabs. If the flush fails they are not: the scanner
// keeps them (it treats them as not delivered).
func (b *Bridge) Flush() error {
	if b.cfg.Hits != nil {
		if err := b.cfg.Hits.Flush(); err != nil {
			b.mu.Lock()
			b.staged = b.staged[:0]
			b.mu.Unlock()
			return fmt.Errorf("hit list: %w", err)
		}
	}
	b.mu.Lock()
	b.queue.Push(b.staged...)
	b.staged = b.staged[:0]
	b.mu.Unlock()
	return nil
}

// Backlog is the number of hits waiting for a banner worker.
func (b *Bridge) Backlog() int { return b.queue.Len() }

// Close says no more hits will come: Feed ends once the queue is empty.
func (b *Bridge) Close() { b.queue.Close() }

// Failed is closed when writing a result failed: the pipeline must stop.
func (b *Bridge) Failed() <-chan struct{} { return b.failed }

// Feed hands queued hits to the banner pool through ch until the queue is
// closed and empty, stop is closed (what is queued stays queued, for the
// state), or a result could not be written. It closes ch.
func (b *Bridge) Feed(stop <-chan struct{}, ch chan<- banner.Target) {
	defer close(ch)
	for {
		select {
		case <-stop:
			return
		case <-b.failed:
			return
		default:
		}
		b.mu.Lock()
		h, ok := b.queue.TryPop()
		if ok {
			b.inflight[h.AddrPort()] = h
		}
		b.mu.Unlock()
		if !ok {
			if b.queue.Closed() && b.queue.Len() == 0 {
				return
			}
			select {
			case <-b.queue.Ready():
			case <-stop:
				return
			case <-b.failed:
				return
			}
			continue
		}
		select {
		case <-b.failed: // a result could not be written: hand nothing more over
			b.requeue(h)
			return
		default:
		}
		t, err := b.cfg.Target(h.IP, h.Port)
		if err != nil {
			// Checked when queued; a pending hit of a state file can
			// still fail here: not grabbed, and not pending any more.
			b.skip(h.Port, err)
			b.mu.Lock()
			delete(b.inflight, h.AddrPort())
			b.mu.Unlock()
			continue
		}
		select {
		case ch <- t:
		case <-stop:
			b.requeue(h)
			return
		case <-b.failed:
			b.requeue(h)
			return
		}
	}
}

func (b *Bridge) requeue(h state.Hit) {
	b.mu.Lock()
	delete(b.inflight, h.AddrPort())
	b.queue.PushFront(h)
	b.mu.Unlock()
}

// Done writes the result of a grab and, once it is written, lets its hit
// go; a result that cannot be written leaves its hit pending and stops the
// feed (Failed). The result gets the hit's answers_all_ports mark.
func (b *Bridge) Done(r *banner.Result) {
	ap := netip.AddrPortFrom(r.IP, r.Port)
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.inflight[ap]
	if ok {
		r.AnswersAllPorts = h.AnswersAllPorts
	}
	if b.err != nil {
		return // pending it stays
	}
	if r.Status != banner.StatusExcluded || b.cfg.ReportExcluded {
		if err := b.writeResult(r); err != nil {
			b.err = err
			b.fail.Do(func() { close(b.failed) })
			return
		}
	}
	delete(b.inflight, ap)
}

func (b *Bridge) writeResult(r *banner.Result) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b.results.Write(line)
	b.results.WriteByte('\n')
	if err := b.results.Flush(); err != nil {
		return err
	}
	b.written.Add(1)
	return nil
}

// Err returns the error that stopped the writing of results, if any.
func (b *Bridge) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return fmt.Errorf("writing results: %w", b.err)
	}
	return nil
}

// Pending returns the hits not yet grabbed: in flight first (a grab in
// flight when the process dies is done again), then queued.
func (b *Bridge) Pending() []state.Hit {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]state.Hit, 0, len(b.inflight)+b.queue.Len())
	for _, h := range b.inflight {
		out = append(out, h)
	}
	return b.queue.Snapshot(out)
}

// Written is the number of results written; Skipped the number of hits
// not grabbed because no protocol maps their port.
func (b *Bridge) Written() int64 { return b.written.Load() }

// Skipped returns the number of hits not grabbed for want of a protocol.
func (b *Bridge) Skipped() int64 { return b.skipped.Load() }
