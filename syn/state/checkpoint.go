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
	// Frontier returns, for positions, how far each sender may have sent
	// before its position is next updated.
	Frontier(positions []uint64) []uint64
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
// the senders' frontiers (Source.Frontier of their positions), past every
// target probed when the offsets were read. A State takes the newest sample
// at least Lag old whose frontiers every sender has since recorded passing:
// every target before it was probed; every reply to those probes has
// arrived (Lag is the scan's cooldown), so its hit is written, held or
// pending; every hit written before the sample's offsets is of a target
// before the frontier, so the resumed run does not find it again; and
// every hit of a later target is written after the offsets, because it can
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
	// Resumed pins the marks at Initial for the whole run. The run it
	// continues was killed somewhere past its state's positions; this run
	// probes those targets again, and until it has passed the farthest the
	// other got (which no file records) a hit of a target ahead of it may
	// stand anywhere after Initial. A resumed run that is killed in turn
	// is then read back from Initial again: more reading, never a hit
	// written twice.
	Resumed bool
	// Source is the scan.
	Source Source
	// Pending, when set, returns the hits written and not yet grabbed. It
	// is called inside Source.Checkpoint: what it reports and what the
	// scan holds are one cut.
	Pending func() []Hit
	// Lag is how old a sample must be to be used (the scan's cooldown).
	Lag time.Duration
	// Now returns the time (default time.Now); tests replace it.
	Now func() time.Time
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
	if cfg.Now == nil {
		cfg.Now = time.Now
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
	now := c.cfg.Now()
	// Offsets before positions: a hit written after these offsets may be
	// of a target before these positions, never the other way round.
	s := sample{t: now, offsets: c.offsets()}
	if c.cfg.Resumed {
		s.offsets = c.initial.offsets
	}
	s.positions = c.cfg.Source.Frontier(c.cfg.Source.Positions())
	c.samples = append(c.samples, s)
	// Keep the samples a state may still want: those at most Lag old, and
	// older ones back to the newest that every sender has passed (a
	// sender held up mid-batch makes newer ones unusable for a while).
	live := s.positions
	cut := 0
	for i, old := range c.samples {
		if now.Sub(old.t) < c.cfg.Lag {
			break
		}
		passed := len(old.positions) == len(live)
		for j := 0; passed && j < len(live); j++ {
			passed = old.positions[j] <= live[j]
		}
		if passed {
			cut = i
		}
	}
	c.samples = append(c.samples[:0], c.samples[cut:]...)
}

// usable returns the newest sample at least Lag old whose frontiers the
// senders have all recorded passing by now (live), or the initial sample.
// A sample's frontier may hold the batch a sender was sending; until that
// sender records its position past it, the frontier may lie beyond what
// it probed, and a state there would skip targets.
func (c *Checkpointer) usable(now time.Time, live []uint64) sample {
	best := c.initial
	for _, s := range c.samples {
		if now.Sub(s.t) < c.cfg.Lag {
			break
		}
		ok := len(s.positions) == len(live)
		for i := 0; ok && i < len(live); i++ {
			ok = s.positions[i] <= live[i]
		}
		if ok {
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
	now := c.cfg.Now()
	at := c.usable(now, c.cfg.Source.Positions())
	if settled {
		// Sending has stopped and every reply is in: no hit of a target
		// past the positions of now was ever found, so the outputs' ends
		// are the marks.
		at = sample{t: now, offsets: c.offsets(), positions: c.cfg.Source.Positions()}
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
