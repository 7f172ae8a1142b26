package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"mailscan/banner"
	"mailscan/banner/pipeline"
	"mailscan/syn"
	"mailscan/syn/hitlist"
	"mailscan/syn/privdrop"
	"mailscan/syn/state"
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
  -o FILE        write the results (JSON lines; default and -: stdout)
  --user NAME    once the raw sockets are open, switch to this user
  --resume FILE  keep a resume state; run the same command again to continue

Once the raw sockets are open, run drops every capability (and, with --user,
switches user), so the banner side never runs with raw-socket rights. The
resume and metadata files are replaced atomically after that: their
directories must be writable by that user (root without capabilities, or
--user).

For each host that answers, run also probes one random high control port; a
host whose control port is open too answers on every port (a middlebox or
tarpit) and is marked answers_all_ports in the hit list and the results.

On SIGINT or SIGTERM both stages stop taking new work, grabs in flight finish
or time out, every output is flushed, and the metadata says interrupted. On
a write error (a full disk) run stops the same way and exits 1. Either way,
with --resume the same command continues: every target is probed and every
hit grabbed exactly once over the runs, when -o and --hits are files.

Exit status: 0 done; 1 failed; 2 bad usage or input; 3 stopped before the end
(SIGINT, SIGTERM, --max-runtime, --max-results).

Example:

	sudo mailscan run -p 110,143,993,995 --hits hits.csv -o results.jsonl --user nobody --resume scan.state 198.18.16.0/20
`,
}

func init() { cmdRun.run = runRun }

// runFlags are run's own flags, beside those of syn and banner.
type runFlags struct {
	hits, out, user string
	control         bool
	maxBacklog      int
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.hits, "hits", "", "also write the hit list to `file` (CSV)")
	fs.StringVar(&f.out, "o", "", "write results to `file` (default and -: stdout)")
	fs.StringVar(&f.user, "user", "", "switch to `user` once the raw sockets are open")
	fs.BoolVar(&f.control, "control", true, "probe a random high port of each responsive host to flag hosts that answer on every port")
	fs.IntVar(&f.maxBacklog, "max-backlog", 0, "pause the SYN scan while more than `N` hits wait for a grab (default 4 × --concurrency)")
}

// runMeta is run's --metadata file.
type runMeta struct {
	runHeader
	Privileges string      `json:"privileges,omitempty"`
	Syn        *metadata   `json:"syn,omitempty"`
	Banner     *bannerMeta `json:"banner"`
	Pending    int         `json:"pending"`
}

func runRun(ctx context.Context, e *env, args []string) error {
	var (
		f  synFlags
		gf grabFlags
		rf runFlags
	)
	fs := newFlagSet(cmdRun, e)
	f.register(fs)
	gf.register(fs)
	rf.register(fs)
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
	if rf.maxBacklog < 0 {
		return usagef("--max-backlog %d: cannot be negative", rf.maxBacklog)
	}
	if rf.maxBacklog == 0 {
		rf.maxBacklog = 4 * g.pool.Concurrency
	}
	p.cfg.ControlProbes = rf.control
	specs := []outputSpec{{role: state.RoleHits, path: rf.hits, csv: true}, {role: state.RoleResults, path: rf.out}}
	if rf.hits == "" {
		specs = specs[1:]
	}
	r := &pipelineRun{e: e, f: &f, rf: &rf, g: g}
	var ss *scanSession
	// The bridge is the scanner's output: the backlog it reports is set
	// before the scanner is built, the bridge itself once the files are open.
	p.cfg.Backlog, p.cfg.MaxBacklog = func() int { return r.br.Backlog() }, rf.maxBacklog
	if ss, err = newScanSession(e, &f, p, "run", specs, true); err != nil || ss == nil {
		return err
	}
	defer ss.close()
	r.ss = ss
	if ss.prior != nil && ss.prior.Proto != gf.proto {
		return usagef("--resume %s: that run mapped ports with --proto %q; give the same --proto", f.resume, ss.prior.Proto)
	}
	if err := r.prepare(); err != nil {
		return err
	}
	return r.run(ctx)
}

// pipelineRun is one run of both stages.
type pipelineRun struct {
	e     *env
	f     *synFlags
	rf    *runFlags
	g     *grabber
	ss    *scanSession
	br    *pipeline.Bridge
	privs string
}

// prepare checks the user and the state directories, opens sockets and
// outputs, drops the privileges and writes the first state.
func (r *pipelineRun) prepare() error {
	var user *privdrop.User
	uid, gid := 0, 0
	if r.rf.user != "" {
		u, err := privdrop.LookupUser(r.rf.user)
		if ue := (*privdrop.UnknownUserError)(nil); errors.As(err, &ue) {
			return usagef("--user %s: no such user in /etc/passwd", r.rf.user)
		} else if err != nil {
			return fmt.Errorf("--user %s: %w", r.rf.user, err)
		}
		user, uid, gid = &u, u.UID, u.GID
	}
	for _, path := range []string{r.f.resume, r.f.metadata} {
		if path != "" && !privdrop.WritableBy(filepath.Dir(path), uid, gid) {
			return usagef("%s: its directory is not writable by uid %d once the privileges are dropped; give a path in a directory that user can write", path, uid)
		}
	}
	if err := r.ss.open(); err != nil {
		return err
	}
	hw, err := r.ss.hitWriter(hitlist.CSV, hitlist.WithAnswersAllPorts())
	if err != nil {
		return err
	}
	if r.rf.hits == "" {
		hw = nil
	}
	var pending []state.Hit
	if r.ss.plan != nil {
		pending = r.ss.plan.Pending
	}
	r.br = pipeline.New(pipeline.Config{
		Hits: hw, Results: r.ss.writer(state.RoleResults), ReportExcluded: r.g.reportExcluded, Log: r.e.log,
		Target: func(a netip.Addr, port uint16) (banner.Target, error) {
			return r.g.target(hitlist.Hit{Addr: a, Port: port})
		},
	}, pending)
	r.ss.setOutput(r.br)
	if r.privs, err = privdrop.Drop(user); err != nil {
		return err
	}
	r.e.log.Info("privileges dropped before any grab", "now", r.privs)
	return r.ss.start(r.br.Pending, r.g.protoFlag)
}

// run runs the SYN scan and the banner pool side by side and finishes.
func (r *pipelineRun) run(ctx context.Context) error {
	g, ss, br := r.g, r.ss, r.br
	bm := &bannerMeta{Input: "syn", Concurrency: g.pool.Concurrency, Rate: g.pool.Rate}
	targetsCh := make(chan banner.Target)
	feedStop := make(chan struct{})
	var stopOnce sync.Once
	stopFeed := func() { stopOnce.Do(func() { close(feedStop) }) }
	context.AfterFunc(ctx, stopFeed)
	go func() { // a result that cannot be written stops both stages
		select {
		case <-br.Failed():
			ss.s.Stop()
			stopFeed()
		case <-feedStop:
		}
	}()
	var feedWG sync.WaitGroup
	feedWG.Go(func() { br.Feed(feedStop, targetsCh) })
	poolErr := make(chan error, 1)
	go func() { poolErr <- banner.Run(context.WithoutCancel(ctx), g.scanner, g.pool, targetsCh, br.Done) }()

	stopStatus := r.status()
	var sum *syn.Summary
	var synErr error
	if ss.prior == nil || !ss.prior.Scan.Complete {
		sum, synErr = ss.run(ctx)
	} else {
		r.e.log.Info("the SYN scan of this resume file is complete; grabbing the hits it left", "pending", br.Backlog())
	}
	br.Close()
	feedWG.Wait()
	poolErr2 := <-poolErr
	stopStatus()
	bm.Results, bm.Skipped = int(br.Written()), br.Skipped()
	bm.Stats, bm.MaxRSSBytes = g.stats.Snapshot(), maxRSS()
	bm.Excluded = bm.Stats.ByStatus[banner.StatusExcluded]
	pending := len(br.Pending())
	// A failure (a result not written) is the run's outcome even though it
	// also stopped the SYN scan early.
	err := errors.Join(poolErr2, br.Err())
	var se stoppedError
	if err == nil {
		err = synErr
	} else if !errors.As(synErr, &se) {
		err = errors.Join(synErr, err)
	}
	if err == nil && pending > 0 {
		err = ss.stoppedWithPending(ctx, pending)
	}
	r.e.log.Info("run done", "results", bm.Results, "success", bm.Stats.Success, "pending", pending)
	return ss.finish(sum, err, func(h runHeader) any {
		m := runMeta{runHeader: h, Privileges: r.privs, Banner: bm, Pending: pending}
		if sum != nil {
			sm := ss.metadata(h, sum)
			m.Syn = &sm
		}
		return m
	})
}

// status starts run's status line: the SYN side's last line, the banner
// side's, and the grab queue.
func (r *pipelineRun) status() (stop func()) {
	var synLine atomic.Value
	synLine.Store("")
	r.ss.line = func(pr syn.Progress) (string, any) { synLine.Store(pr.String()); return "", nil }
	return startStatus(r.ss.status, func(elapsed time.Duration, last *int64, dt float64) (string, any) {
		s := r.g.stats.Snapshot()
		line := fmt.Sprintf("%s | %s; queued %d", synLine.Load(), grabStatus(0, s, *last, dt), r.br.Backlog())
		*last = s.Done
		return line, map[string]any{"syn": synLine.Load(), "banner": s, "queued": r.br.Backlog()}
	})
}

// stoppedWithPending is the error of a run whose SYN scan ended but whose
// grabs did not all happen: interrupted during the grabs.
func (ss *scanSession) stoppedWithPending(ctx context.Context, pending int) error {
	how := "run the same command again to grab them"
	if ss.f.resume == "" {
		how = "without --resume they are lost"
	}
	if ctx.Err() != nil {
		return stoppedError{statusInterrupted, fmt.Sprintf("interrupted with %d hits not yet grabbed: %s", pending, how)}
	}
	return fmt.Errorf("%d hits not grabbed: %s", pending, how)
}
