package banner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultConcurrency is the number of targets scanned at once when
// PoolConfig.Concurrency is zero.
const DefaultConcurrency = 1000

// PoolConfig configures Run.
type PoolConfig struct {
	// Concurrency bounds the targets in flight (one goroutine and one
	// socket each). Zero means DefaultConcurrency.
	Concurrency int
	// Rate bounds new connections per second; zero means unlimited.
	Rate float64
	// Stats, when set, is updated live for a status line.
	Stats *Stats
}

// Stats counts a running pool's progress with lock-free atomics, so a
// status line can read it every second while workers update it. The zero
// value is ready; a Stats must not be copied after first use.
type Stats struct {
	started  atomic.Int64
	done     atomic.Int64
	byStatus [numStatuses]atomic.Int64
}

// StatsSnapshot is a point-in-time copy of Stats, ready for JSON (the
// --metadata summary).
type StatsSnapshot struct {
	// Started counts targets handed to Scan, Done those whose result has
	// been delivered; InFlight is their difference.
	Started  int64 `json:"started"`
	Done     int64 `json:"done"`
	InFlight int64 `json:"in_flight"`
	// Success is ByStatus[StatusSuccess], repeated for status lines.
	Success  int64            `json:"success"`
	ByStatus map[Status]int64 `json:"by_status"`
}

// Snapshot returns the current counts. Counters are read one at a time, so
// a snapshot taken while workers run may be off by the few targets that
// finished during the call; Done never exceeds Started.
func (s *Stats) Snapshot() StatsSnapshot {
	snap := StatsSnapshot{ByStatus: make(map[Status]int64, numStatuses)}
	snap.Done = s.done.Load()
	for i, st := range statuses {
		snap.ByStatus[st] = s.byStatus[i].Load()
	}
	snap.Started = max(s.started.Load(), snap.Done)
	snap.InFlight = snap.Started - snap.Done
	snap.Success = snap.ByStatus[StatusSuccess]
	return snap
}

func (s *Stats) record(st Status) {
	if i := st.index(); i >= 0 {
		s.byStatus[i].Add(1)
	}
	s.done.Add(1)
}

// Run scans every target received from in with s, at most
// cfg.Concurrency at a time and at most cfg.Rate new connections per
// second, and hands each result to out. out is called from the worker
// goroutines but never concurrently; a slow out slows the scan rather than
// letting results pile up. Run returns when in is closed and every worker
// has ended, or, when ctx is done, after aborting the scans in flight (their
// results are still delivered) and with ctx's error.
func Run(ctx context.Context, s *Scanner, cfg PoolConfig, in <-chan Target, out func(*Result)) error {
	if s == nil || in == nil || out == nil {
		return errors.New("banner: Run needs a Scanner, an input channel and an output function")
	}
	n := cfg.Concurrency
	if n == 0 {
		n = DefaultConcurrency
	}
	if n < 0 {
		return fmt.Errorf("banner: concurrency %d is negative", cfg.Concurrency)
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return fmt.Errorf("banner: rate %v is not a non-negative number", cfg.Rate)
	}
	stats := cfg.Stats
	if stats == nil {
		stats = new(Stats)
	}
	pace := newPacer(cfg.Rate)
	defer pace.stop()

	var (
		wg    sync.WaitGroup
		outMu sync.Mutex
		slots = make(chan struct{}, n)
	)
	defer wg.Wait()
	for {
		var t Target
		select {
		case <-ctx.Done():
			return ctx.Err()
		case tt, ok := <-in:
			if !ok {
				wg.Wait()
				return nil
			}
			t = tt
		}
		if !s.Allows(t.Addr) {
			// Not contacted: no slot, no rate token (Scan checks again).
			stats.started.Add(1)
			r := s.excluded(t)
			outMu.Lock()
			out(r)
			stats.record(r.Status)
			outMu.Unlock()
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case slots <- struct{}{}:
		}
		// Paced after a slot is free, so that waiting for a slot does not
		// bank tokens that then leave as a burst.
		if err := pace.wait(ctx); err != nil {
			<-slots
			return err
		}
		stats.started.Add(1)
		wg.Go(func() {
			defer func() { <-slots }()
			r := s.Scan(ctx, t)
			outMu.Lock()
			defer outMu.Unlock()
			out(r)
			stats.record(r.Status)
		})
	}
}

// pacer spaces events cfg.Rate per second apart, allowing a burst of
// burstWindow's worth after an idle spell (a virtual-schedule token bucket).
type pacer struct {
	interval time.Duration
	burst    time.Duration
	next     time.Time
	timer    *time.Timer
}

// burstWindow is how far behind schedule the pacer may fall and catch up
// at full speed.
const burstWindow = 10 * time.Millisecond

func newPacer(rate float64) *pacer {
	if rate == 0 {
		return nil
	}
	iv := time.Duration(float64(time.Second) / rate)
	return &pacer{interval: iv, burst: max(iv, burstWindow)}
}

// reserve books the next event and returns how long after now it may
// happen (≤ 0: at once).
func (p *pacer) reserve(now time.Time) time.Duration {
	if floor := now.Add(-p.burst); p.next.Before(floor) {
		p.next = floor
	}
	p.next = p.next.Add(p.interval)
	return p.next.Sub(now)
}

func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	d := p.reserve(time.Now())
	if d <= 0 {
		return nil
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-ctx.Done():
		p.timer.Stop()
		return ctx.Err()
	case <-p.timer.C:
		return nil
	}
}

func (p *pacer) stop() {
	if p != nil && p.timer != nil {
		p.timer.Stop()
	}
}
