package state

import (
	"sync"
	"time"

	"mailscan/syn"
	"mailscan/syn/hitlist"
)

// Source is a running scan as a Checkpointer sees it; *syn.Scanner is one.
type Source interface {
	// Positions returns each sender's position now.
	Positions() []uint64
	// Checkpoint calls fn with the hits not yet delivered, while none is.
	Checkpoint(fn func(held []hitlist.Hit))
	// ResumeStateAt returns the scan's resume state at positions.
	ResumeStateAt(positions []uint64) *syn.ResumeState
}

// Checkpointer writes the State of a running scan, consistently: the hits
// it records as held or pending, the outputs' contents and the positions
// agree, whatever the moment it is written and whenever the process dies
// after.
//
// It samples the scan every SampleEvery: first the outputs' offsets, then
// the senders' positions. A State takes the newest sample at least Lag old:
// every reply to a probe sent before that sample has arrived (Lag is the
// scan's cooldown), so its hit is written, held or pending; and every hit
// of a later target is written after that sample's offsets, because it can
// only be found after its probe was sent.
type Checkpointer struct {
	cfg CheckpointConfig

	mu      sync.Mutex // one sample or write at a time
	initial sample
	samples []sample // oldest first
}

// CheckpointConfig configures a Checkpointer.
type CheckpointConfig struct {
	// Path is the state file.
	Path string
	// Base holds the fields of every State written: Command, Proto, and
	// Outputs with their roles and paths (the offsets are filled in).
	Base State
	// Files are the outputs of Base.Outputs, in the same order; nil for an
	// output that is not a file (its mark is -1).
	Files []*Output
	// Initial are the outputs' marks at the start: the marks of the state
	// a resumed run continues, else the outputs' sizes.
	Initial []int64
	// Source is the scan.
	Source Source
	// Pending, when set, returns the hits written and not yet grabbed. It
	// is called inside Source.Checkpoint: what it reports and what the
	// scan holds are one cut.
	Pending func() []Hit
	// Lag is how old a sample must be to be used (the scan's cooldown).
	Lag time.Duration

	now func() time.Time
}

// SampleEvery is how often Run samples the scan.
const SampleEvery = 200 * time.Millisecond

type sample struct {
	t         time.Time
	offsets   []int64
	positions []uint64
}

// NewCheckpointer returns a Checkpointer whose first sample is the scan as
// it is now, before it starts, with the outputs at cfg.Initial.
func NewCheckpointer(cfg CheckpointConfig) *Checkpointer {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	c := &Checkpointer{cfg: cfg}
	c.initial = sample{offsets: append([]int64(nil), cfg.Initial...), positions: cfg.Source.Positions()}
	return c
}

// offsets returns the outputs' current offsets, -1 for non-files.
func (c *Checkpointer) offsets() []int64 {
	out := make([]int64, len(c.cfg.Files))
	for i, f := range c.cfg.Files {
		out[i] = -1
		if f != nil {
			out[i] = f.Offset()
		}
	}
	return out
}

// Sample records the scan's place now.
func (c *Checkpointer) Sample() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.now()
	// Offsets before positions: a hit written after these offsets may be
	// of a target before these positions, never the other way round.
	s := sample{t: now, offsets: c.offsets()}
	s.positions = c.cfg.Source.Positions()
	c.samples = append(c.samples, s)
	// Keep the newest sample older than Lag and everything after it.
	cut := -1
	for i, old := range c.samples {
		if now.Sub(old.t) >= c.cfg.Lag {
			cut = i
		}
	}
	if cut > 0 {
		c.samples = append(c.samples[:0], c.samples[cut:]...)
	}
}

// lagged returns the newest sample at least Lag old, or the initial one.
func (c *Checkpointer) lagged(now time.Time) sample {
	best := c.initial
	for _, s := range c.samples {
		if now.Sub(s.t) >= c.cfg.Lag {
			best = s
		}
	}
	return best
}

// Write writes the State. With settled, the scan has ended and every reply
// it waits for has come: the state takes the positions of now rather than
// of a lag ago.
func (c *Checkpointer) Write(settled bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.now()
	at := c.lagged(now)
	if settled {
		at = sample{t: now, offsets: c.offsets()}
		at.positions = c.cfg.Source.Positions()
	}
	st := c.cfg.Base
	st.Outputs = append([]Mark(nil), c.cfg.Base.Outputs...)
	for i := range st.Outputs {
		st.Outputs[i].Offset = at.offsets[i]
	}
	c.cfg.Source.Checkpoint(func(held []hitlist.Hit) {
		st.Held = make([]Hit, len(held))
		for i, h := range held {
			st.Held[i] = FromHitlist(h)
		}
		if c.cfg.Pending != nil {
			st.Pending = c.cfg.Pending()
		}
	})
	// What the outputs hold now (everything the state does not list as
	// held or pending) reaches the disk before the state that relies on it.
	for _, f := range c.cfg.Files {
		if f != nil {
			if err := f.Sync(); err != nil {
				return err
			}
		}
	}
	st.Scan = *c.cfg.Source.ResumeStateAt(at.positions)
	st.Written = now.UTC()
	return st.WriteFile(c.cfg.Path)
}

// Run samples the scan every SampleEvery and writes the state every
// interval until stop is closed; a failed write is reported to onErr and
// the scan goes on (the previous state stays valid: it only re-probes
// more).
func (c *Checkpointer) Run(stop <-chan struct{}, interval time.Duration, onErr func(error)) {
	st := time.NewTicker(SampleEvery)
	defer st.Stop()
	wt := time.NewTicker(interval)
	defer wt.Stop()
	for {
		select {
		case <-stop:
			return
		case <-st.C:
			c.Sample()
		case <-wt.C:
			if err := c.Write(false); err != nil {
				onErr(err)
			}
		}
	}
}
