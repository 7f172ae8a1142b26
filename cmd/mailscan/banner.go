package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mailscan/banner"
	"mailscan/banner/fingerprint"
	"mailscan/blocklist"
	"mailscan/syn/hitlist"
	"mailscan/syn/targets"
)

var cmdBanner = &command{
	name:  "banner",
	short: "TCP/TLS dialogue with each hit: hit list → results (JSON lines)",
	usage: "[flags]",
	long: `
Banner reads a hit list (mailscan syn's CSV, JSON lines or ip:port list;
zmap's and masscan's outputs; zgrab2-style "ip,domain,tag,port" lines; plain
addresses with -p) from stdin or -i, and for every open (address, port) runs
the dialogue of its protocol: greeting, capabilities, STARTTLS where offered,
TLS handshake, capabilities again, goodbye. It writes one JSON object per
target as soon as the target is done.

It never sends a password, a user name, or AUTH.

Protocols by port: 143 imap, 993 imaps, 110 pop3, 995 pop3s, 25 smtp,
587 submission, 465 smtps; --proto 2525=smtp,10143=imap adds or overrides.

Example:

	mailscan syn ... -O csv | mailscan banner -o results.jsonl
	mailscan banner -i hits.csv --concurrency 2000 --timeout 10s
`,
}

func init() {
	cmdBanner.run = runBanner
}

// grabFlags are the flags banner shares with run.
type grabFlags struct {
	proto          string
	concurrency    int
	rate           float64
	timeout        time.Duration
	targetTimeout  time.Duration
	connectTimeout time.Duration
	sourceIP       listFlag
	ehlo           string
	recog          string
	reportExcluded bool
}

func (f *grabFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.proto, "proto", "", "protocol by port overrides, e.g. `2525=smtp,10143=imap`")
	fs.IntVar(&f.concurrency, "concurrency", banner.DefaultConcurrency, "targets in flight at once")
	fs.Float64Var(&f.rate, "rate", 0, "new connections per second (0: no limit)")
	f.timeout, f.targetTimeout, f.connectTimeout = banner.DefaultReadTimeout, banner.DefaultTargetTimeout, banner.DefaultConnectTimeout
	fs.Var(secondsFlag{&f.timeout}, "timeout", "per-read `timeout` (seconds or a duration)")
	fs.Var(secondsFlag{&f.targetTimeout}, "target-timeout", "total `deadline` per target, connect included")
	fs.Var(secondsFlag{&f.connectTimeout}, "connect-timeout", "connect `timeout`")
	fs.Var(&f.sourceIP, "source-ip", "local `address` to connect from; once per family (IPv4, IPv6)")
	fs.StringVar(&f.ehlo, "ehlo", "", "`name` to send in EHLO (default: this machine's host name)")
	fs.StringVar(&f.recog, "recog", "", "also match greetings against the Recog XML database in `dir`")
	fs.BoolVar(&f.reportExcluded, "report-excluded", false, "write a result with status excluded for each target the exclusion policy refuses (never contacted either way)")
}

// grabber is a configured banner stage: scanner, pool settings, protocol
// map.
type grabber struct {
	protoFlag      string // --proto as given
	scanner        *banner.Scanner
	pool           banner.PoolConfig
	overrides      map[uint16]banner.Protocol
	stats          *banner.Stats
	reportExcluded bool
}

// grabber configures the banner stage; pol is the exclusion policy every
// dial is checked against.
func (f *grabFlags) grabber(e *env, pol *blocklist.Policy) (*grabber, error) {
	overrides, err := banner.ParseOverrides(f.proto)
	if err != nil {
		return nil, usagef("--proto: %v", err)
	}
	if err := checkRange("--concurrency", float64(f.concurrency), 1, 1e6, "targets in flight"); err != nil {
		return nil, err
	}
	if err := checkRange("--rate", f.rate, 0, 1e7, "connections per second"); err != nil {
		return nil, err
	}
	cfg := &banner.Config{
		ReadTimeout: f.timeout, TargetTimeout: f.targetTimeout, ConnectTimeout: f.connectTimeout,
		EHLOName: f.ehlo, Policy: pol,
	}
	for _, src := range f.sourceIP {
		a, err := netip.ParseAddr(src)
		switch {
		case err != nil || a.Zone() != "" || a.Is4In6():
			return nil, usagef("--source-ip %q: want an IPv4 or IPv6 address", src)
		case a.Is4() && cfg.SourceIP.IsValid(), a.Is6() && cfg.SourceIP6.IsValid():
			return nil, usagef("--source-ip %q: one address per family", src)
		case a.Is4():
			cfg.SourceIP = a
		default:
			cfg.SourceIP6 = a
		}
	}
	m, err := matcher(e, f.recog)
	if err != nil {
		return nil, err
	}
	cfg.Matcher = m
	s, err := banner.NewScanner(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	// Each connection is a file descriptor; leave room for the rest.
	want := uint64(f.concurrency) + 64
	got, lerr := banner.RaiseFileLimit(want)
	conc := f.concurrency
	if got < want {
		conc = max(1, int(got)-64)
		e.log.Warn(fmt.Sprintf("--concurrency %d needs %d open files but the limit is %d (raise the hard limit: ulimit -Hn); running %d at once",
			f.concurrency, want, got, conc), "err", lerr)
	} else if lerr == nil && got > 0 {
		e.log.Debug("open files limit", "limit", got)
	}
	g := &grabber{protoFlag: f.proto, scanner: s, overrides: overrides, stats: new(banner.Stats), reportExcluded: f.reportExcluded}
	g.pool = banner.PoolConfig{Concurrency: conc, Rate: f.rate, Stats: g.stats}
	return g, nil
}

// matcher returns the built-in fingerprint rules, with a Recog database
// from dir when one is given.
func matcher(e *env, dir string) (*fingerprint.Matcher, error) {
	m := fingerprint.Builtin()
	if dir == "" {
		return m, nil
	}
	db, err := fingerprint.LoadRecog(dir)
	if err != nil {
		return nil, usagef("--recog: %v", err)
	}
	e.log.Info("recog: " + db.Report().String())
	return m.WithRecog(db), nil
}

// target turns a hit into a banner target; ok is false for hits that are not
// open or whose port has no protocol.
func (g *grabber) target(h hitlist.Hit) (banner.Target, error) {
	p, ok := banner.ProtocolForPort(h.Port, g.overrides)
	if !ok {
		return banner.Target{}, fmt.Errorf("no protocol for port %d (name one with --proto %d=imap|imaps|pop3|pop3s|smtp|submission|smtps)", h.Port, h.Port)
	}
	return banner.Target{Addr: h.Addr, Port: h.Port, Protocol: p}, nil
}

// resultWriter writes results as JSON lines, flushing each one so that a
// consumer sees results as they are made. Its methods are called from the
// pool, never concurrently. Results of excluded targets are written only
// when asked for.
type resultWriter struct {
	w              *bufio.Writer
	err            error
	n              int
	reportExcluded bool
}

func newResultWriter(w io.Writer, reportExcluded bool) *resultWriter {
	return &resultWriter{w: bufio.NewWriter(w), reportExcluded: reportExcluded}
}

func (rw *resultWriter) write(r *banner.Result) {
	if rw.err != nil || (r.Status == banner.StatusExcluded && !rw.reportExcluded) {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		rw.err = err
		return
	}
	rw.w.Write(b)
	rw.w.WriteByte('\n')
	if rw.err = rw.w.Flush(); rw.err == nil {
		rw.n++
	}
}

// grabStatus formats the banner stage's status line.
func grabStatus(elapsed time.Duration, s banner.StatsSnapshot, lastDone int64, dt float64) string {
	var b strings.Builder
	rate := 0.0
	if dt > 0 {
		rate = float64(s.Done-lastDone) / dt
	}
	if elapsed > 0 {
		b.WriteString(clockString(elapsed) + " ")
	}
	fmt.Fprintf(&b, "banner: done %d (%.0f/s) in flight %d; success %d", s.Done, rate, s.InFlight, s.Success)
	for _, st := range banner.Statuses() {
		if n := s.ByStatus[st]; n > 0 && st != banner.StatusSuccess {
			fmt.Fprintf(&b, "; %s %d", st, n)
		}
	}
	return b.String()
}

func clockString(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// bannerMeta is what the banner stage did, in banner's --metadata file and
// in run's.
type bannerMeta struct {
	Input      string `json:"input"`
	InputLines int    `json:"input_lines"`
	BadLines   int64  `json:"bad_lines"`
	// Skipped counts records not grabbed: not open (closed, filtered), or
	// no protocol for the port.
	Skipped int64 `json:"skipped"`
	// Duplicates counts records of an (ip, port) already read: grabbed
	// once.
	Duplicates int64 `json:"duplicates"`
	// Formats names the input formats recognised, in order.
	Formats []string `json:"formats,omitempty"`
	// Excluded counts targets the exclusion policy refused: never
	// contacted.
	Excluded    int64                `json:"excluded"`
	Blocklists  []targets.FileCount  `json:"blocklists,omitempty"`
	Results     int                  `json:"results"`
	Concurrency int                  `json:"concurrency"`
	Rate        float64              `json:"rate"`
	Stats       banner.StatsSnapshot `json:"stats"`
	// MaxRSSBytes is the process's peak resident memory.
	MaxRSSBytes int64 `json:"max_rss_bytes,omitempty"`
}

// bannerDoc is banner's --metadata file.
type bannerDoc struct {
	runHeader
	bannerMeta
}

// bannerFlags are banner's own flags, beside the grab and exclusion flags.
type bannerFlags struct {
	in, out, ports, meta, statusJSON string
	quiet                            bool
}

func (bf *bannerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&bf.in, "i", "", "read the hit list from `file` (default and -: stdin)")
	fs.StringVar(&bf.out, "o", "", "write results to `file` (default and -: stdout)")
	fs.StringVar(&bf.ports, "p", "", "`ports` for input lines that carry only an address")
	fs.BoolVar(&bf.quiet, "q", false, "no status line")
	fs.StringVar(&bf.meta, "metadata", "", "write a JSON summary to `file` (at the start and the end)")
	fs.StringVar(&bf.statusJSON, "status-json", "", "also write the status as one JSON object a second to `file`")
}

func runBanner(ctx context.Context, e *env, args []string) error {
	var (
		f  grabFlags
		ex exclusionFlags
		bf bannerFlags
	)
	fs := newFlagSet(cmdBanner, e)
	f.register(fs)
	ex.register(fs)
	bf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q: banner reads its targets from stdin or -i", fs.Args())
	}
	var defPorts []uint16
	if bf.ports != "" {
		var err error
		if defPorts, err = targets.ParsePorts(bf.ports); err != nil {
			return usagef("-p: %v", err)
		}
	}
	pol, err := ex.policy(e)
	if err != nil {
		return err
	}
	g, err := f.grabber(e, pol)
	if err != nil {
		return err
	}
	r, name, closeIn, err := openInput(e, bf.in)
	if err != nil {
		return err
	}
	defer closeIn()
	w, closeOut, err := openOutput(e, bf.out)
	if err != nil {
		return err
	}
	defer closeOut()
	doc := bannerDoc{runHeader: newHeader("banner"), bannerMeta: bannerMeta{Input: name, Concurrency: g.pool.Concurrency, Rate: g.pool.Rate}}
	for _, l := range pol.Lists() {
		doc.Blocklists = append(doc.Blocklists, targets.FileCount{File: l.Name, IPv6Entries: l.V6Entries})
	}
	meta := metaFile{bf.meta}
	if err := meta.write(doc); err != nil {
		return usageError{err}
	}
	sink, err := newStatusSink(e, bf.quiet, bf.statusJSON)
	if err != nil {
		return err
	}
	defer sink.close()
	err = grabStream(ctx, e, g, hitlist.NewReader(r, name, &hitlist.ReaderConfig{Ports: defPorts}), newResultWriter(w, g.reportExcluded), &doc.bannerMeta, sink)
	doc.end(err)
	if merr := meta.write(doc); merr != nil && err == nil {
		err = merr
	}
	return err
}

// grabStream grabs every open hit that reader yields, as a stream: the
// first grabs start before the input ends. On SIGINT the reading stops;
// grabs in flight finish (each within its deadline) and their results are
// written. It fills m.
func grabStream(ctx context.Context, e *env, g *grabber, reader *hitlist.Reader, rw *resultWriter, m *bannerMeta, sink *statusSink) error {
	in := feedTargets(ctx, e, g, reader, m.Input)
	stop := startStatus(sink, func(elapsed time.Duration, last *int64, dt float64) (string, any) {
		s := g.stats.Snapshot()
		line := grabStatus(elapsed, s, *last, dt)
		*last = s.Done
		return line, s
	})
	// The pool's own context is not the signal's: a first interrupt stops
	// the input above, and grabs in flight still end properly.
	err := banner.Run(context.WithoutCancel(ctx), g.scanner, g.pool, in.targets, rw.write)
	stop()
	st := reader.Stats()
	m.InputLines = int(st.Lines)
	m.BadLines, m.Skipped, m.Duplicates, m.Results = st.BadLines, st.NotOpen+in.noProto.Load(), st.Duplicates, rw.n
	m.Formats = reader.Formats()
	m.Stats, m.MaxRSSBytes = g.stats.Snapshot(), maxRSS()
	m.Excluded = m.Stats.ByStatus[banner.StatusExcluded]
	e.log.Info("banner done", "results", rw.n, "success", m.Stats.Success, "excluded", m.Excluded, "bad_lines", m.BadLines,
		"skipped", m.Skipped, "duplicates", m.Duplicates, "formats", strings.Join(m.Formats, ","))
	switch {
	case err != nil:
	case rw.err != nil:
		err = fmt.Errorf("writing results: %w", rw.err)
	case in.err != nil:
		err = usagef("%v (the grabs of the %d targets before it are written)", in.err, in.fed.Load())
	case ctx.Err() != nil:
		err = stoppedError{statusInterrupted, "interrupted: the input was not read to its end"}
	case in.fed.Load() == 0 && st.Lines > 0:
		err = usagef("%s: %d lines but no target to grab (%d bad lines, %d not open or without a protocol for the port)",
			m.Input, st.Lines, m.BadLines, m.Skipped)
	}
	return err
}

// targetFeed is the input side of grabStream: the targets read, and what
// the reading found. err and the counters are final once targets is closed.
type targetFeed struct {
	targets      chan banner.Target
	noProto, fed atomic.Int64
	err          error // an error that ended the input
}

// feedTargets reads hits from reader and sends the targets to grab, as a
// stream, until the input ends or ctx is done. Bad lines are reported and
// skipped; an error the reader cannot skip ends the input.
func feedTargets(ctx context.Context, e *env, g *grabber, reader *hitlist.Reader, name string) *targetFeed {
	in := &targetFeed{targets: make(chan banner.Target)}
	go func() {
		defer close(in.targets)
		for {
			h, err := reader.Next()
			if err == io.EOF {
				return
			}
			var le *hitlist.LineError
			if errors.As(err, &le) {
				if errors.Is(err, hitlist.ErrNoPort) {
					err = fmt.Errorf("%w (give the ports of address-only lines with -p)", err)
				}
				e.log.Warn("skipping input line", "err", err)
				continue
			}
			if errors.Is(err, hitlist.ErrPortUnknown) {
				err = fmt.Errorf("%w (-p: one port per such file)", err)
			}
			if err != nil {
				in.err = err
				return
			}
			t, err := g.target(h)
			if err != nil {
				in.noProto.Add(1)
				e.log.Warn(fmt.Sprintf("%s:%d: %s: %v", name, reader.Line(), netip.AddrPortFrom(h.Addr, h.Port), err))
				continue
			}
			select {
			case in.targets <- t:
				in.fed.Add(1)
			case <-ctx.Done():
				return
			}
		}
	}()
	return in
}

// openInput opens path for reading; "" and "-" are standard input.
func openInput(e *env, path string) (r io.Reader, name string, closeFn func(), err error) {
	if path == "" || path == "-" {
		return e.stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, usageError{err}
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, "", nil, usagef("%s is a directory", path)
	}
	return f, path, func() { f.Close() }, nil
}

// openOutput opens path for writing, truncated; "" and "-" are standard
// output.
func openOutput(e *env, path string) (w io.Writer, closeFn func() error, err error) {
	if path == "" || path == "-" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return f, f.Close, nil
}

// startStatus emits line() on sink once a second until the returned
// function is called.
func startStatus(sink *statusSink, line func(elapsed time.Duration, last *int64, dt float64) (string, any)) func() {
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		prev := start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				sink.emit(line(now.Sub(start), &last, now.Sub(prev).Seconds()))
				prev = now
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
