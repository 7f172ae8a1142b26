package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"mailscan/banner"
	"mailscan/syn"
	"mailscan/syn/hitlist"
)

var cmdRun = &command{
	name:  "run",
	short: "both stages in one process, streaming",
	usage: "[flags] [target ...]",
	long: `
Run sweeps the targets with a SYN scan and grabs the banner of every hit as
it is found, in one process: the hits flow straight into the banner workers
through a bounded queue. When the banner side falls behind, the SYN side
pauses (the status line shows the backlog); no hit is dropped.

It takes the flags of both syn and banner, and:

  --hits FILE    also write the hit list (CSV with an answers_all_ports column)
  -o FILE        write the results (JSON lines; default stdout)
  --user NAME    once the raw sockets are open, switch to this user
  --resume FILE  written each minute and on stop; run again with it to continue

Once the raw sockets are open, run drops every capability (and, with --user,
switches user), so the banner side never runs with raw-socket rights.

For each host that answers, run also probes one random high control port; a
host whose control port is open too answers on every port (a middlebox or
tarpit) and is marked answers_all_ports in the hit list and the results.

On SIGINT or SIGTERM both stages stop taking new work, grabs in flight finish
or time out, every output is flushed, and the metadata says interrupted. The
resume file then holds the scan's position and the hits not yet grabbed:
'mailscan run --resume FILE' with the same targets continues exactly there.

Example:

	sudo mailscan run -p 110,143,993,995 --hits hits.csv -o results.jsonl --user nobody 198.18.16.0/20
`,
}

func init() { cmdRun.run = runRun }

// pendingHit is a hit found but not yet grabbed, as the resume file keeps it.
type pendingHit struct {
	IP              netip.Addr `json:"ip"`
	Port            uint16     `json:"port"`
	AnswersAllPorts bool       `json:"answers_all_ports,omitempty"`
}

// runResume is run's resume file: the SYN scan's state and the hits that
// still wait for their banner grab.
type runResume struct {
	*syn.ResumeState
	Pending []pendingHit `json:"pending,omitempty"`
}

func readRunResume(path string) (*runResume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError{err}
	}
	defer f.Close()
	var r runResume
	if err := json.NewDecoder(f).Decode(&r); err != nil {
		return nil, usagef("resume file %s: %v", path, err)
	}
	return &r, nil
}

// bridge carries the SYN stage's hits to the banner stage. It is the SYN
// scanner's Output: each hit is written to the hit list and queued for a
// grab; the feeder hands queued targets to the banner pool as workers free
// up. The queue's length is the backlog the SYN senders pause on.
type bridge struct {
	g    *grabber
	hits *hitlist.Writer // nil without --hits
	e    *env

	mu       sync.Mutex
	queue    []pendingHit
	inflight map[netip.AddrPort]pendingHit
	flagged  map[netip.AddrPort]bool
	closed   bool
	ready    chan struct{}
	skipped  atomic.Int64
}

func newBridge(g *grabber, hits *hitlist.Writer, e *env) *bridge {
	return &bridge{g: g, hits: hits, e: e, inflight: map[netip.AddrPort]pendingHit{},
		flagged: map[netip.AddrPort]bool{}, ready: make(chan struct{}, 1)}
}

func (b *bridge) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// Write takes one hit from the SYN scanner.
func (b *bridge) Write(h *hitlist.Hit) error {
	if b.hits != nil {
		if err := b.hits.Write(h); err != nil {
			return err
		}
	}
	if h.Status != hitlist.Open {
		return nil
	}
	if _, err := b.g.target(*h); err != nil {
		b.skipped.Add(1)
		b.e.log.Warn(fmt.Sprintf("not grabbing %s: %v", netip.AddrPortFrom(h.Addr, h.Port), err))
		return nil
	}
	b.enqueue(pendingHit{IP: h.Addr, Port: h.Port, AnswersAllPorts: h.AnswersAllPorts})
	return nil
}

func (b *bridge) enqueue(p pendingHit) {
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if p.AnswersAllPorts {
		b.flagged[netip.AddrPortFrom(p.IP, p.Port)] = true
	}
	b.mu.Unlock()
	b.signal()
}

// Flush flushes the hit list, so a reader of it sees hits promptly.
func (b *bridge) Flush() error {
	if b.hits != nil {
		return b.hits.Flush()
	}
	return nil
}

// backlog is the number of hits waiting for a banner worker.
func (b *bridge) backlog() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// close says no more hits will come.
func (b *bridge) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

// feed hands queued hits to the banner pool through ch until the queue is
// closed and empty, or stop is closed (an interrupt: what is queued stays
// queued, for the resume file). It closes ch.
func (b *bridge) feed(stop <-chan struct{}, ch chan<- banner.Target) {
	defer close(ch)
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.closed {
			b.mu.Unlock()
			select {
			case <-b.ready:
			case <-stop:
				return
			}
			b.mu.Lock()
		}
		if len(b.queue) == 0 {
			b.mu.Unlock()
			return
		}
		p := b.queue[0]
		b.queue = b.queue[1:]
		ap := netip.AddrPortFrom(p.IP, p.Port)
		b.inflight[ap] = p
		b.mu.Unlock()
		t, _ := b.g.target(hitlist.Hit{Addr: p.IP, Port: p.Port})
		select {
		case ch <- t:
		case <-stop:
			b.mu.Lock()
			delete(b.inflight, ap)
			b.queue = append([]pendingHit{p}, b.queue...)
			b.mu.Unlock()
			return
		}
	}
}

// done records a finished grab and marks its result.
func (b *bridge) done(r *banner.Result) {
	ap := netip.AddrPortFrom(r.IP, r.Port)
	b.mu.Lock()
	delete(b.inflight, ap)
	r.AnswersAllPorts = b.flagged[ap]
	b.mu.Unlock()
}

// pending returns the hits not yet grabbed: queued, and in flight (a grab in
// flight when the process dies must be done again).
func (b *bridge) pending() []pendingHit {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]pendingHit, 0, len(b.queue)+len(b.inflight))
	for _, p := range b.inflight {
		out = append(out, p)
	}
	return append(out, b.queue...)
}

// runMeta is run's --metadata file.
type runMeta struct {
	Command     string      `json:"command"`
	Interrupted bool        `json:"interrupted"`
	Privileges  string      `json:"privileges,omitempty"`
	Syn         *metadata   `json:"syn,omitempty"`
	Banner      *bannerMeta `json:"banner"`
	Pending     int         `json:"pending"`
}

func runRun(ctx context.Context, e *env, args []string) error {
	var (
		f                   synFlags
		gf                  grabFlags
		hitsPath, out, user string
		control             bool
		maxBacklog          int
	)
	fs := newFlagSet(cmdRun, e)
	f.register(fs)
	gf.register(fs)
	fs.StringVar(&hitsPath, "hits", "", "also write the hit list to `file` (CSV)")
	fs.StringVar(&out, "o", "", "write results to `file` (default stdout)")
	fs.StringVar(&user, "user", "", "switch to `user` once the raw sockets are open")
	fs.BoolVar(&control, "control", true, "probe a random high port of each responsive host to flag hosts that answer on every port")
	fs.IntVar(&maxBacklog, "max-backlog", 0, "pause the SYN scan while more than `N` hits wait for a grab (default 4 × --concurrency)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := f.plan(e, fs.Args())
	if err != nil {
		return err
	}
	e.log.Info(p.exclusionSummary())
	g, err := gf.grabber(e, p.policy)
	if err != nil {
		return err
	}
	var prior *runResume
	if p.resume != nil {
		if prior, err = readRunResume(f.resume); err != nil {
			return err
		}
	}
	resuming := prior != nil

	// Every output is opened now, before the privileges go.
	var resultsW io.Writer = e.stdout
	if out != "" && !f.dryRun {
		file, err := createOutput(out, resuming)
		if err != nil {
			return err
		}
		defer file.Close()
		resultsW = file
	}
	var hw *hitlist.Writer
	if hitsPath != "" && !f.dryRun {
		file, err := createOutput(hitsPath, resuming)
		if err != nil {
			return err
		}
		defer file.Close()
		if hw, err = hitlist.NewWriter(file, hitlist.CSV, hitlist.WithAnswersAllPorts()); err != nil {
			return err
		}
		defer hw.Flush()
	}
	br := newBridge(g, hw, e)
	if prior != nil {
		for _, ph := range prior.Pending {
			br.enqueue(ph)
		}
	}
	if maxBacklog <= 0 {
		maxBacklog = 4 * g.pool.Concurrency
	}
	p.cfg.Output = br
	p.cfg.Log = e.log
	p.cfg.ControlProbes = control
	p.cfg.Backlog, p.cfg.MaxBacklog = br.backlog, maxBacklog
	var synLine atomic.Value
	synLine.Store("")
	p.cfg.Progress = func(pr syn.Progress) { synLine.Store(pr.String()) }

	ss, err := newScanSession(e, &f, p)
	if err != nil || ss == nil {
		return err
	}
	defer ss.close()
	synNeeded := prior == nil || !prior.Complete
	if synNeeded {
		if err := ss.s.Open(); err != nil {
			return classify(err)
		}
	}
	privs, err := dropPrivileges(user)
	if err != nil {
		return err
	}
	e.log.Info("privileges dropped before any grab", "now", privs)

	rw := newResultWriter(resultsW, g.reportExcluded)
	bm := &bannerMeta{Command: "run", Start: time.Now().UTC(), Input: "syn", Concurrency: g.pool.Concurrency, Rate: g.pool.Rate}
	targetsCh := make(chan banner.Target)
	feedStop := make(chan struct{})
	feedDone := make(chan struct{})
	go func() { defer close(feedDone); br.feed(feedStop, targetsCh) }()
	context.AfterFunc(ctx, func() { close(feedStop) })
	poolErr := make(chan error, 1)
	go func() {
		poolErr <- banner.Run(context.WithoutCancel(ctx), g.scanner, g.pool, targetsCh, func(r *banner.Result) {
			br.done(r)
			rw.write(r)
		})
	}()

	stopStatus := startStatus(f.quiet, e, func(elapsed time.Duration, last *int64, dt float64) string {
		s := g.stats.Snapshot()
		line := fmt.Sprintf("%s | %s; queued %d", synLine.Load(), grabStatus(0, s, *last, dt), br.backlog())
		*last = s.Done
		return line
	})
	state := func() any { return runResume{ResumeState: ss.s.ResumeState(), Pending: br.pending()} }
	var sum *syn.Summary
	var synErr error
	if synNeeded {
		sum, synErr = ss.run(ctx, state)
	} else {
		e.log.Info("the SYN scan of this resume file is complete; grabbing the hits it left", "pending", len(prior.Pending))
	}
	br.close()
	<-feedDone
	err = <-poolErr
	stopStatus()

	bm.End = time.Now().UTC()
	bm.Results, bm.Skipped = rw.n, br.skipped.Load()
	bm.Stats, bm.MaxRSSBytes = g.stats.Snapshot(), maxRSS()
	pending := br.pending()
	if ss.resume != nil {
		if werr := ss.resume.write(state()); werr != nil && err == nil {
			err = werr
		}
	}
	interrupted := ctx.Err() != nil
	bm.Interrupted = interrupted
	m := runMeta{Command: "run", Interrupted: interrupted, Privileges: privs, Banner: bm, Pending: len(pending)}
	if sum != nil {
		sm := metadataFor(p, sum)
		m.Syn = &sm
	}
	if werr := ss.meta.write(m); werr != nil && err == nil {
		err = werr
	}
	e.log.Info("run done", "results", rw.n, "success", bm.Stats.Success, "pending", len(pending), "interrupted", interrupted)
	if len(pending) > 0 && f.resume != "" {
		e.log.Info(fmt.Sprintf("%d hits wait for their grab: run again with --resume %s to continue", len(pending), f.resume))
	}
	if rw.err != nil && err == nil {
		err = fmt.Errorf("writing results: %w", rw.err)
	}
	return errors.Join(synErr, err)
}
