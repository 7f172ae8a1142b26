package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"mailscan/syn"
	"mailscan/syn/hitlist"
	"mailscan/syn/state"
)

// outputSpec names one output of a scan.
type outputSpec struct {
	role    string // state.RoleHits or state.RoleResults
	path    string // "" or "-": standard output
	csv     bool   // a CSV hit list: reading it back needs its header line
	perPort bool   // path is the prefix of one file per port (-O nmap)
}

// isFile reports whether the output is one file the session opens, marks
// and can read back.
func (o outputSpec) isFile() bool { return o.path != "" && o.path != "-" && !o.perPort }

// name is the output's path as a state records it.
func (o outputSpec) name() string {
	if o.path == "" {
		return "-"
	}
	return o.path
}

// scanSession runs a SYN scan for syn and run: it reads and plans the
// resume state, opens sockets and outputs in the safe order, writes the
// resume state and the metadata, and says how the scan ended.
//
// The order is the point: nothing is truncated before the flags, the
// route, the sockets (privilege) and the user are checked, and nothing is
// sent before every output is open and the first resume state is on disk.
type scanSession struct {
	e       *env
	f       *synFlags
	p       *scanPlan
	command string
	specs   []outputSpec
	files   []*state.Output // per spec; nil for standard output
	prior   *state.State    // the state a resumed run continues
	plan    *state.Plan
	s       *syn.Scanner
	out     *outputSwitch
	ck      *state.Checkpointer
	meta    metaFile
	header  runHeader
	status  *statusSink
	metaDoc func(runHeader) any
	// line formats the status line and its JSON form; set before the scan
	// runs (run adds the banner side's).
	line func(syn.Progress) (string, any)
}

// newScanSession reads the resume state, if there is one, and plans the
// resume from the outputs it marks; then it builds the scanner (route
// discovery included). With --dry-run it prints the plan and returns nil.
func newScanSession(e *env, f *synFlags, p *scanPlan, command string, specs []outputSpec, grab bool) (*scanSession, error) {
	ss := &scanSession{e: e, f: f, p: p, command: command, specs: specs, files: make([]*state.Output, len(specs)),
		out: &outputSwitch{}, meta: metaFile{f.metadata}, header: newHeader(command)}
	if err := ss.loadResume(grab); err != nil {
		return nil, err
	}
	p.cfg.Output, p.cfg.Log = ss.out, e.log
	p.cfg.Progress = func(pr syn.Progress) { ss.status.emit(ss.line(pr)) }
	ss.line = func(pr syn.Progress) (string, any) { return pr.String(), pr }
	s, err := syn.New(&p.cfg)
	if err != nil {
		return nil, classify(err)
	}
	ss.s = s
	r := s.Route()
	e.log.Info("route", "interface", r.Interface, "source", r.Source, "gateway", r.Gateway, "gateway_mac", r.GatewayMAC.String(),
		"seed", p.cfg.Seed, "shard", fmt.Sprintf("%d/%d", p.cfg.Shard, max(p.cfg.Shards, 1)), "rate", p.cfg.Rate)
	if r.Source6.IsValid() {
		e.log.Info("IPv6 route", "source", r.Source6, "gateway", r.Gateway6, "gateway_mac", r.GatewayMAC6.String())
	}
	if f.dryRun {
		rate := "as fast as possible"
		if p.cfg.Rate > 0 {
			rate = fmt.Sprintf("at %.0f packets/s", p.cfg.Rate)
		}
		src, gw, mac := r.Source, r.Gateway, r.GatewayMAC
		if !src.IsValid() { // IPv6 targets only
			src, gw, mac = r.Source6, r.Gateway6, r.GatewayMAC6
		}
		fmt.Fprintf(e.stdout, "dry run: shard %d/%d of %d targets (%d addresses × %d ports), %d SYN(s) per target %s, from %v on %s via %v (%v); nothing sent\n",
			p.cfg.Shard, max(p.cfg.Shards, 1), s.Targets(), p.excluded.Allowed, len(p.cfg.Ports), max(p.cfg.Probes, 1), rate, src, r.Interface, gw, mac)
		if r.Source.IsValid() && r.Source6.IsValid() {
			fmt.Fprintf(e.stdout, "dry run: the %d IPv6 addresses from %v via %v (%v)\n", p.excluded.IPv6.Allowed, r.Source6, r.Gateway6, r.GatewayMAC6)
		}
		return nil, nil
	}
	if ss.status, err = newStatusSink(e, f.quiet, f.statusJSON); err != nil {
		return nil, err
	}
	return ss, nil
}

// inScan reports whether a hit of a state file or an output read back is a
// target of this scan: an allowed address, a scanned port, and allowed by
// the exclusion policy.
func (ss *scanSession) inScan(ap netip.AddrPort) bool {
	c := &ss.p.cfg
	return (c.Allowed.ContainsAddr(ap.Addr()) || c.Allowed6.Contains(ap.Addr())) && slices.Contains(c.Ports, ap.Port()) && ss.p.policy.Allows(ap.Addr())
}

// loadResume reads --resume's state, checks that it belongs to this scan,
// and plans what the resumed run does with the outputs after their marks.
// A resume file that does not exist yet is a fresh start.
func (ss *scanSession) loadResume(grab bool) error {
	path := ss.f.resume
	if path == "" {
		return nil
	}
	st, err := state.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usageError{err}
	}
	if st.Command != ss.command {
		return usagef("--resume %s: written by mailscan %s; continue it with that command", path, st.Command)
	}
	for _, spec := range ss.specs {
		if m, ok := st.Mark(spec.role); !ok || m.Path != spec.name() {
			return usagef("--resume %s: the %s output of that run was %q, not %q: give the same outputs to continue", path, spec.role, m.Path, spec.name())
		}
	}
	for _, h := range slices.Concat(st.Pending, st.Held) {
		if !ss.inScan(h.AddrPort()) {
			return usagef("--resume %s: its hit %s is not a target of this scan or is excluded: the file was changed", path, h.AddrPort())
		}
	}
	readers := make([]io.Reader, 2)
	for _, spec := range ss.specs {
		m, _ := st.Mark(spec.role)
		if !spec.isFile() || m.Offset < 0 {
			continue
		}
		rc, err := state.ReadBack(spec.path, m.Offset, spec.csv)
		if err != nil {
			return usageError{err}
		}
		defer rc.Close()
		readers[slices.Index([]string{state.RoleHits, state.RoleResults}, spec.role)] = rc
	}
	plan, err := state.PlanResume(st, readers[0], readers[1], grab, ss.inScan)
	if err != nil {
		return usagef("--resume %s: reading the outputs back: %v", path, err)
	}
	ss.p.cfg.Resume, ss.p.cfg.Held, ss.p.cfg.Seen = &st.Scan, plan.Held, plan.Seen
	if ss.f.seed == "" {
		ss.p.cfg.Seed = st.Scan.Seed // the seed comes from the file when not given again
	}
	ss.prior, ss.plan = st, plan
	ss.e.log.Info("resuming", "file", path, "held", len(plan.Held), "pending", len(plan.Pending),
		"hits_read_back", plan.Listed, "results_read_back", plan.Done, "complete", st.Scan.Complete)
	return nil
}

// open opens the sockets (the privilege check), then the outputs: created,
// or, for a resumed run, appended to after their last complete line.
func (ss *scanSession) open() error {
	if ss.prior == nil || !ss.prior.Scan.Complete {
		if err := ss.s.Open(); err != nil {
			return classify(err)
		}
	}
	// Every output must open before any is truncated: a bad path must not
	// cost the user the other files.
	for _, spec := range ss.specs {
		if !spec.isFile() {
			continue
		}
		f, err := os.OpenFile(spec.path, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return usageError{err}
		}
		f.Close()
	}
	for i, spec := range ss.specs {
		if !spec.isFile() {
			continue
		}
		var err error
		if ss.prior != nil {
			m, _ := ss.prior.Mark(spec.role)
			ss.files[i], err = state.AppendOutput(spec.path, spec.role, m.Offset)
		} else {
			ss.files[i], err = state.CreateOutput(spec.path, spec.role)
		}
		if err != nil {
			return usageError{err}
		}
	}
	return nil
}

// writer returns the output of role: its file, or standard output.
func (ss *scanSession) writer(role string) io.Writer {
	for i, spec := range ss.specs {
		if spec.role == role && ss.files[i] != nil {
			return ss.files[i]
		}
	}
	return ss.e.stdout
}

// hitWriter returns a hit list writer on the hits output; a resumed CSV hit
// list that has its header gets no second one.
func (ss *scanSession) hitWriter(f hitlist.Format, opts ...hitlist.WriterOption) (*hitlist.Writer, error) {
	for i, spec := range ss.specs {
		if spec.role == state.RoleHits && ss.files[i] != nil && ss.files[i].Offset() > 0 {
			opts = append(opts, hitlist.WithoutHeader())
		}
	}
	w, err := hitlist.NewWriter(ss.writer(state.RoleHits), f, opts...)
	if err != nil {
		return nil, usageError{err}
	}
	return w, nil
}

// setOutput gives the scanner its real output, once the files are open.
func (ss *scanSession) setOutput(o syn.Output) { ss.out.o = o }

// start writes the first resume state and the metadata (status running),
// before the first probe: a crash from now on leaves a state to resume
// from. pending is the pipeline's (nil for syn); proto run's --proto.
func (ss *scanSession) start(pending func() []state.Hit, proto string) error {
	if ss.f.resume != "" {
		base := state.State{Command: ss.command, Proto: proto}
		initial := make([]int64, len(ss.specs))
		for i, spec := range ss.specs {
			base.Outputs = append(base.Outputs, state.Mark{Role: spec.role, Path: spec.name()})
			initial[i] = -1
			if ss.prior != nil {
				m, _ := ss.prior.Mark(spec.role)
				initial[i] = m.Offset
			} else if ss.files[i] != nil {
				initial[i] = ss.files[i].Offset()
			}
		}
		ss.ck = state.NewCheckpointer(state.CheckpointConfig{
			Path: ss.f.resume, Base: base, Files: ss.files, Initial: initial, Resumed: ss.prior != nil, Source: ss.s, Pending: pending,
			Lag: max(ss.p.cfg.Cooldown, 2*time.Second),
		})
		if err := ss.ck.Write(false); err != nil {
			return usagef("--resume %s: %v (the resume file's directory must be writable by the user mailscan runs as)", ss.f.resume, err)
		}
	}
	if ss.metaDoc == nil {
		ss.metaDoc = func(h runHeader) any { return ss.metadata(h, nil) }
	}
	if err := ss.meta.write(ss.metaDoc(ss.header)); err != nil {
		return usagef("--metadata: %v (its directory must be writable by the user mailscan runs as)", err)
	}
	return nil
}

// errMaxRuntime is the cause of the context that ends a scan at
// --max-runtime.
var errMaxRuntime = errors.New("--max-runtime")

// run runs the scanner, writing the resume state every --checkpoint, until
// it ends or ctx is done (or --max-runtime passes).
func (ss *scanSession) run(ctx context.Context) (*syn.Summary, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if d := ss.f.maxRuntime; d > 0 {
		t := time.AfterFunc(d, func() { cancel(errMaxRuntime) })
		defer t.Stop()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if ss.ck != nil {
		wg.Go(func() {
			ss.ck.Run(stop, ss.f.checkpoint, func(err error) { ss.e.log.Error("resume file not updated (the previous one stays valid)", "err", err) })
		})
	}
	sum, err := ss.s.Run(sctx)
	close(stop)
	wg.Wait()
	if sum != nil {
		ss.e.log.Info("syn done", "probed", sum.Probed, "sent", sum.Sent, "open", sum.Open, "closed", sum.Closed,
			"duplicates", sum.Duplicates, "invalid", sum.Invalid, "kernel_drops", sum.KernelDrops, "interrupted", sum.Interrupted,
			"send_mode", sum.SendMode, "send_rate", fmt.Sprintf("%.0f", sum.SendRate))
		if sum.Blocked > 0 {
			ss.e.log.Error("the last-moment blocklist check stopped probes: the target set held blocklisted addresses (a bug; nothing was sent to them)", "blocked", sum.Blocked)
		}
	}
	if err == nil && sum != nil && sum.Interrupted {
		err = ss.stopped(ctx, sctx, sum)
	}
	return sum, err
}

// stopped says why a scan ended before its end.
func (ss *scanSession) stopped(parent, sctx context.Context, sum *syn.Summary) error {
	how := "run the same command again to continue"
	if ss.f.resume == "" {
		how = "without --resume it cannot be continued"
	}
	switch {
	case parent.Err() != nil:
		return stoppedError{statusInterrupted, "interrupted: " + how}
	case errors.Is(context.Cause(sctx), errMaxRuntime):
		return stoppedError{statusStopped, fmt.Sprintf("stopped at --max-runtime %v: %s", ss.f.maxRuntime, how)}
	case ss.p.cfg.MaxResults > 0 && sum.Open >= ss.p.cfg.MaxResults:
		return stoppedError{statusStopped, fmt.Sprintf("stopped at --max-results %d (%d found): %s", ss.p.cfg.MaxResults, sum.Open, how)}
	}
	return stoppedError{statusInterrupted, "stopped: " + how}
}

// finish writes the last resume state and the metadata and returns the
// command's error.
func (ss *scanSession) finish(sum *syn.Summary, err error, doc func(runHeader) any) error {
	if err != nil && exitCode(err) == exitFailed && ss.f.resume != "" {
		err = fmt.Errorf("%w\nwhat was found and not yet written is kept in %s: free the space (or fix the output) and run the same command again to continue", err, ss.f.resume)
	}
	if ss.ck != nil {
		// Once Run has returned, its cooldown is over: every reply it waits
		// for is in, and the state can take the positions where sending
		// stopped (a stopped scan is probed on exactly where it stopped).
		// Without a summary (nothing ran, or banner grabs remain) the
		// positions of the last checkpoint stand.
		if werr := ss.ck.Write(sum != nil); werr != nil {
			err = errors.Join(err, fmt.Errorf("resume file %s not updated (the previous one stays valid): %w", ss.f.resume, werr))
		}
	}
	ss.header.end(err)
	if werr := ss.meta.write(doc(ss.header)); werr != nil && err == nil {
		err = werr
	}
	return err
}

func (ss *scanSession) close() {
	for _, f := range ss.files {
		if f != nil {
			f.Close()
		}
	}
	ss.status.close()
}

// outputSwitch is the scanner's Output until the real one is set: the
// scanner is built before the outputs may be opened.
type outputSwitch struct{ o syn.Output }

func (s *outputSwitch) Write(h *hitlist.Hit) error { return s.o.Write(h) }
func (s *outputSwitch) Flush() error               { return s.o.Flush() }

// statusSink prints the status line on stderr (unless -q) and writes it
// as JSON lines to --status-json.
type statusSink struct {
	e     *env
	quiet bool
	f     *os.File
	enc   *json.Encoder
}

func newStatusSink(e *env, quiet bool, path string) (*statusSink, error) {
	s := &statusSink{e: e, quiet: quiet}
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, usagef("--status-json: %v", err)
		}
		s.f, s.enc = f, json.NewEncoder(f)
	}
	return s, nil
}

func (s *statusSink) emit(line string, v any) {
	if line == "" {
		return
	}
	if !s.quiet {
		fmt.Fprintln(s.e.stderr, line)
	}
	if s.enc != nil {
		s.enc.Encode(map[string]any{"time": time.Now().UTC(), "status": v})
	}
}

func (s *statusSink) close() {
	if s != nil && s.f != nil {
		s.f.Close()
	}
}

// classify turns the errors a user can fix (privilege, interface) into usage
// errors, exit status 2.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syn.ErrPrivilege) || errors.Is(err, os.ErrPermission) {
		return usagef("%v (run as root, or give the binary CAP_NET_RAW: setcap cap_net_raw+ep mailscan)", err)
	}
	if errors.Is(err, syn.ErrRoute) {
		return usagef("%v (give -i, -S and -G to set the interface, source address and gateway MAC; -S once per family, --gateway-mac6 for IPv6)", err)
	}
	if errors.Is(err, syn.ErrInterface) || errors.Is(err, syn.ErrResume) {
		return usageError{err}
	}
	return err
}
