package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"mailscan/blocklist"
	"mailscan/syn"
	"mailscan/syn/frame"
	"mailscan/syn/hitlist"
	"mailscan/syn/pace"
	"mailscan/syn/targets"
)

var cmdSyn = &command{
	name:  "syn",
	short: "stateless SYN scan: targets → hit list",
	usage: "[flags] [target ...]",
	long: `
Syn sends one TCP SYN per target (address × port) from a raw socket, in a
pseudorandom order, and writes every target that answers as a hit list.

Targets are CIDRs (198.18.16.0/20), addresses or ranges (a-b) on the command
line and/or in -w files. The IANA special-purpose ranges are never scanned
unless named with --allow-reserved; addresses in -b files are never scanned
at all. Every destination is checked against the blocklist once more right
before its frame is written.

Needs root or CAP_NET_RAW. Interface, source address and gateway MAC come from
the routing and neighbour tables; -i, -S and -G override them.

Example:

	mailscan syn -p 110,143,993,995 -r 50000 -o hits.csv 198.18.16.0/20
`,
}

func init() { cmdSyn.run = runSyn }

// synFlags are the flags syn shares with run.
type synFlags struct {
	allowlists, blocklists, allowReserved listFlag
	ports                                 string
	maxTargets                            uint64
	seed                                  string
	shards, shard                         uint64
	rate                                  float64
	bandwidth                             string
	probes, senders, batch                int
	tcpOptions                            string
	iface, source, gatewayMAC             string
	sourcePorts                           string
	ttl                                   uint
	cooldown                              time.Duration
	closed                                bool
	quiet                                 bool
	metadata                              string
	resume                                string
	dryRun                                bool
	sendMode                              string
}

func (f *synFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.allowlists, "w", "allowlist `file` of targets (ZMap format); repeatable")
	fs.Var(&f.blocklists, "b", "blocklist `file` (ZMap format: address or CIDR per line, # comments); repeatable")
	fs.Var(&f.allowReserved, "allow-reserved", "scan this reserved `CIDR` (e.g. 198.18.0.0/15) if targeted; repeatable")
	fs.StringVar(&f.ports, "p", targets.DefaultPorts, "`ports` to probe: list and ranges")
	fs.Uint64Var(&f.maxTargets, "n", 0, "probe at most `N` targets (0: all)")
	fs.StringVar(&f.seed, "seed", "", "seed of the scan order (default random; printed in the metadata)")
	fs.Uint64Var(&f.shards, "shards", 1, "split the scan into `K` shards (one per machine, same seed)")
	fs.Uint64Var(&f.shard, "shard", 0, "which shard `i` (0..K-1) this machine scans")
	fs.Float64Var(&f.rate, "r", 10000, "send rate in packets per second (0: as fast as possible)")
	fs.StringVar(&f.bandwidth, "B", "", "send rate as `bandwidth` in bits per second (e.g. 10M, 1G); overrides -r")
	fs.IntVar(&f.probes, "probes", 1, "SYNs sent to each target")
	fs.IntVar(&f.senders, "senders", 1, "sender threads, each with its own socket")
	fs.IntVar(&f.batch, "batch", syn.DefaultBatch, "frames per system call")
	fs.StringVar(&f.tcpOptions, "tcp-options", "mss", "TCP options of the SYNs: none, mss, linux or windows")
	fs.StringVar(&f.iface, "i", "", "`interface` to send on (default: from the routing table)")
	fs.StringVar(&f.source, "S", "", "source `address` (default: the interface's)")
	fs.StringVar(&f.gatewayMAC, "G", "", "gateway `MAC` address (default: from the neighbour table, else ARP)")
	fs.StringVar(&f.sourcePorts, "source-port", fmt.Sprintf("%d-%d", syn.DefaultSourcePortFirst, syn.DefaultSourcePortLast), "source port `range` the probes use (keep it out of the host's ephemeral range)")
	fs.UintVar(&f.ttl, "ttl", syn.DefaultTTL, "IP TTL of the probes")
	f.cooldown = syn.DefaultCooldown
	fs.Var(secondsFlag{&f.cooldown}, "cooldown", "`seconds` to wait for late replies after the last probe")
	fs.BoolVar(&f.closed, "closed", false, "also report closed ports (RST)")
	fs.BoolVar(&f.quiet, "q", false, "no status line")
	fs.StringVar(&f.metadata, "metadata", "", "write a JSON summary of the scan to `file`")
	fs.StringVar(&f.resume, "resume", "", "resume `file`: continue the scan it records, and keep it up to date")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan (targets, exclusions, route, rate) and send nothing")
	fs.StringVar(&f.sendMode, "send-mode", "auto", "send path: `auto` (AF_XDP where the device has a queue per sender, else AF_PACKET), af_xdp, tx-ring or sendmmsg")
}

// scanPlan is the outcome of the syn flags: the scanner's config and what
// the exclusions did.
type scanPlan struct {
	cfg      syn.Config
	excluded targets.Excluded
	byFile   []fileCount
	resume   *syn.ResumeState
}

type fileCount struct {
	name  string
	count uint64
}

// plan turns flags and arguments into a scan config. Every error is the
// user's to fix: a usage error.
func (f *synFlags) plan(args []string) (*scanPlan, error) {
	var tset []blocklist.Range
	for _, a := range args {
		r, err := blocklist.ParseEntry(a)
		if err != nil {
			return nil, usagef("bad target %q: %v", a, err)
		}
		tset = append(tset, r)
	}
	tgt := blocklist.NewSet(tset...)
	for _, file := range f.allowlists {
		s, err := blocklist.ParseFile(file)
		if err != nil {
			return nil, usageError{err}
		}
		tgt = tgt.Union(s)
	}
	if tgt.Len() == 0 {
		return nil, usagef("no targets: give CIDRs or addresses as arguments, or -w FILE")
	}
	user := blocklist.NewSet()
	var byFile []fileCount
	for _, file := range f.blocklists {
		s, err := blocklist.ParseFile(file)
		if err != nil {
			return nil, usageError{err}
		}
		byFile = append(byFile, fileCount{file, tgt.Intersect(s).Len()})
		user = user.Union(s)
	}
	var ar []blocklist.Range
	for _, a := range f.allowReserved {
		r, err := blocklist.ParseEntry(a)
		if err != nil {
			return nil, usagef("bad --allow-reserved %q: %v", a, err)
		}
		ar = append(ar, r)
	}
	allowed, excl := targets.Build(tgt, user, blocklist.NewSet(ar...))
	if allowed.Len() == 0 {
		msg := "no targets left to scan: " + excl.String()
		if excl.Reserved > 0 {
			msg += "; to scan a reserved range on purpose, name it with --allow-reserved CIDR"
		}
		return nil, usageError{errors.New(msg)}
	}
	ports, err := targets.ParsePorts(f.ports)
	if err != nil {
		return nil, usagef("-p: %v", err)
	}
	mode, err := syn.ParseSendMode(f.sendMode)
	if err != nil {
		return nil, usagef("--send-mode: %v", err)
	}
	opts, err := frame.ParseTCPOptions(f.tcpOptions)
	if err != nil {
		return nil, usagef("--tcp-options: %v", err)
	}
	cfg := syn.Config{
		Allowed: allowed, Deny: excl.Blocklist, Ports: ports,
		Shard: f.shard, Shards: f.shards, MaxTargets: f.maxTargets,
		Interface: f.iface, Rate: f.rate, Probes: f.probes, Senders: f.senders,
		Options: opts, ReportClosed: f.closed, Batch: f.batch, SendMode: mode,
		Cooldown: f.cooldown,
	}
	if f.cooldown == 0 {
		cfg.Cooldown = -1 // --cooldown 0: none at all (0 in Config means the default)
	}
	if f.shards == 0 || f.shard >= f.shards {
		return nil, usagef("--shard %d --shards %d: shards are numbered 0 to K-1", f.shard, f.shards)
	}
	if f.probes < 1 || f.senders < 1 || f.batch < 1 {
		return nil, usagef("--probes, --senders and --batch must be at least 1")
	}
	// Each sender makes raw send calls that hold a Go processor (P) for
	// their whole duration; two more Ps keep the receiver, the output and
	// the banner stage running beside them.
	if n := f.senders + 2; n > runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(n)
	}
	if f.rate < 0 {
		return nil, usagef("-r %v: the rate cannot be negative", f.rate)
	}
	if f.ttl < 1 || f.ttl > 255 {
		return nil, usagef("--ttl %d: want 1 to 255", f.ttl)
	}
	cfg.TTL = uint8(f.ttl)
	if f.seed != "" {
		if cfg.Seed, err = strconv.ParseUint(f.seed, 0, 64); err != nil {
			return nil, usagef("--seed %q: want an unsigned 64-bit number", f.seed)
		}
	} else {
		var b [8]byte
		rand.Read(b[:])
		cfg.Seed = binary.LittleEndian.Uint64(b[:])
	}
	if f.source != "" {
		a, err := netip.ParseAddr(f.source)
		if err != nil || !a.Is4() {
			return nil, usagef("-S %q: want an IPv4 address", f.source)
		}
		cfg.Source = a
	}
	if f.gatewayMAC != "" {
		mac, err := net.ParseMAC(f.gatewayMAC)
		if err != nil || len(mac) != 6 {
			return nil, usagef("-G %q: want an Ethernet MAC address like 02:00:00:00:00:01", f.gatewayMAC)
		}
		cfg.GatewayMAC = mac
	}
	first, last, ok := strings.Cut(f.sourcePorts, "-")
	if !ok {
		last = first
	}
	pf, err1 := strconv.ParseUint(first, 10, 16)
	pl, err2 := strconv.ParseUint(last, 10, 16)
	if err1 != nil || err2 != nil || pf == 0 || pl < pf {
		return nil, usagef("--source-port %q: want a range like 61000-65535", f.sourcePorts)
	}
	cfg.SourcePortFirst, cfg.SourcePortLast = uint16(pf), uint16(pl)
	if f.bandwidth != "" {
		bps, err := parseBandwidth(f.bandwidth)
		if err != nil {
			return nil, usagef("-B: %v", err)
		}
		cfg.Rate = pace.BandwidthToRate(bps, 14+20+20+opts.Len())
	}
	p := &scanPlan{cfg: cfg, excluded: excl, byFile: byFile}
	if f.resume != "" {
		if _, err := os.Stat(f.resume); err == nil {
			rs, err := syn.ReadResumeFile(f.resume)
			if err != nil {
				return nil, usageError{err}
			}
			if f.seed == "" {
				// The seed comes from the file when not given again.
				p.cfg.Seed = rs.Seed
			}
			p.resume = rs
			p.cfg.Resume = rs
		}
	}
	return p, nil
}

// exclusionSummary says what the exclusions removed, naming each -b file.
func (p *scanPlan) exclusionSummary() string {
	e := p.excluded
	ports := "ports"
	if len(p.cfg.Ports) == 1 {
		ports = "port"
	}
	s := fmt.Sprintf("targets: %d addresses × %d %s; %s", e.Allowed, len(p.cfg.Ports), ports, e.String())
	for _, fc := range p.byFile {
		s += fmt.Sprintf("; blocklist %s removed %d", fc.name, fc.count)
	}
	return s
}

func runSyn(ctx context.Context, e *env, args []string) error {
	var f synFlags
	var out, format string
	fs := newFlagSet(cmdSyn, e)
	f.register(fs)
	fs.StringVar(&out, "o", "", "write hits to `file` (default stdout)")
	fs.StringVar(&format, "O", "csv", "hit list `format`: csv, jsonl, list, zgrab2 (ZGrab2's CSV input, see mailscan zgrab2-ini; zgrab2:NAME sends EHLO NAME), masscan (its -oL list) or nmap (-o PREFIX writes PREFIX.PORT.txt, one address list per port for nmap -iL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	hf, wopts, err := parseOutputFormat(format)
	if err != nil {
		return err
	}
	if hf.PerPort() && (out == "" || out == "-") {
		return usagef("-O %v writes one file per port, PREFIX.PORT.txt: give -o PREFIX", hf)
	}
	p, err := f.plan(fs.Args())
	if err != nil {
		return err
	}
	e.log.Info(p.exclusionSummary())

	lo := &lazyOutput{open: func() (hitOutput, io.Closer, error) {
		if hf.PerPort() {
			pf, err := hitlist.NewPortFiles(out, p.resume != nil)
			return pf, pf, err
		}
		if out == "" {
			w, err := hitlist.NewWriter(e.stdout, hf, wopts...)
			return w, nil, err
		}
		file, err := createOutput(out, p.resume != nil)
		if err != nil {
			return nil, nil, err
		}
		w, err := hitlist.NewWriter(file, hf, wopts...)
		return w, file, err
	}}
	p.cfg.Output = lo
	p.cfg.Log = e.log
	_, err = scan(ctx, e, &f, p)
	if cerr := lo.close(); cerr != nil && err == nil {
		err = fmt.Errorf("writing hits: %w", cerr)
	}
	return err
}

// parseOutputFormat parses -O: a format name, and for zgrab2 an optional
// ":NAME", the EHLO name ZGrab2 takes from the domain column.
func parseOutputFormat(s string) (hitlist.Format, []hitlist.WriterOption, error) {
	name, domain, hasDomain := strings.Cut(s, ":")
	hf, err := hitlist.ParseFormat(name)
	if err != nil {
		return 0, nil, usagef("-O: %v", err)
	}
	if !hasDomain {
		return hf, nil, nil
	}
	opts := []hitlist.WriterOption{hitlist.WithZGrab2Domain(domain)}
	if _, err := hitlist.NewWriter(io.Discard, hf, opts...); err != nil {
		return 0, nil, usagef("-O %s: %v", s, err)
	}
	return hf, opts, nil
}

// hitOutput is a hit list being written: a *hitlist.Writer, or
// *hitlist.PortFiles for -O nmap.
type hitOutput interface {
	Write(h *hitlist.Hit) error
	Flush() error
}

// lazyOutput opens the hit list on the first hit or flush: a scan that
// cannot start (no privilege, no route) leaves no half-made output behind,
// while a scan that runs and finds nothing still leaves a well-formed file.
type lazyOutput struct {
	open   func() (hitOutput, io.Closer, error)
	w      hitOutput
	closer io.Closer
	err    error
}

func (o *lazyOutput) get() (hitOutput, error) {
	if o.w == nil && o.err == nil {
		o.w, o.closer, o.err = o.open()
		if o.err != nil {
			// A failed open may return a typed nil writer and an open file.
			if o.closer != nil {
				o.closer.Close()
			}
			o.w, o.closer = nil, nil
		}
	}
	return o.w, o.err
}

func (o *lazyOutput) Write(h *hitlist.Hit) error {
	w, err := o.get()
	if err != nil {
		return err
	}
	return w.Write(h)
}

func (o *lazyOutput) Flush() error {
	w, err := o.get()
	if err != nil {
		return err
	}
	return w.Flush()
}

// close flushes and closes what was opened, if anything.
func (o *lazyOutput) close() error {
	if o.w == nil {
		return o.err
	}
	err := o.w.Flush()
	if o.closer != nil {
		if cerr := o.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// createOutput opens an output file: appended to when resuming, so the hits
// of the interrupted run are kept, else truncated.
func createOutput(path string, appendTo bool) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, usageError{err}
	}
	return f, nil
}

// scan runs a planned SYN scan with its status line, resume file and
// metadata: the syn command's whole run.
func scan(ctx context.Context, e *env, f *synFlags, p *scanPlan) (*syn.Summary, error) {
	if !f.quiet {
		p.cfg.Progress = func(pr syn.Progress) { fmt.Fprintln(e.stderr, pr.String()) }
	}
	ss, err := newScanSession(e, f, p)
	if err != nil || ss == nil {
		return nil, err
	}
	defer ss.close()
	if err := ss.s.Open(); err != nil {
		return nil, classify(err)
	}
	return ss.run(ctx, func() any { return ss.s.ResumeState() })
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
	if errors.Is(err, syn.ErrInterface) || errors.Is(err, syn.ErrRoute) {
		return usageError{err}
	}
	return err
}

// metadata is the --metadata file.
type metadata struct {
	Command  string           `json:"command"`
	Config   metadataConfig   `json:"config"`
	Excluded targets.Excluded `json:"excluded"`
	Summary  *syn.Summary     `json:"summary"`
}

type metadataConfig struct {
	Ports        string  `json:"ports"`
	Rate         float64 `json:"rate"`
	Probes       int     `json:"probes"`
	Senders      int     `json:"senders"`
	TCPOptions   string  `json:"tcp_options"`
	MaxTargets   uint64  `json:"max_targets,omitempty"`
	Cooldown     string  `json:"cooldown"`
	ReportClosed bool    `json:"report_closed"`
	Allowed      string  `json:"allowed"`
}

// metadataFor returns the --metadata document of a finished scan.
func metadataFor(p *scanPlan, sum *syn.Summary) metadata {
	c := &p.cfg
	m := metadata{
		Command: "syn",
		Config: metadataConfig{
			Ports: targets.FormatPorts(c.Ports), Rate: c.Rate, Probes: max(c.Probes, 1), Senders: max(c.Senders, 1),
			TCPOptions: c.Options.String(), MaxTargets: c.MaxTargets, Cooldown: c.Cooldown.String(),
			ReportClosed: c.ReportClosed, Allowed: c.Allowed.String(),
		},
		Excluded: p.excluded,
		Summary:  sum,
	}
	return m
}
