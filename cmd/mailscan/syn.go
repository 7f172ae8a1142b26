package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"mailscan/blocklist"
	"mailscan/syn"
	"mailscan/syn/frame"
	"mailscan/syn/hitlist"
	"mailscan/syn/pace"
	"mailscan/syn/state"
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
line and/or in -w files, IPv4 and IPv6 mixed in one scan. IPv6 is scanned as
lists (from DNS, hit lists) and small prefixes: more than 2^32 IPv6 targets
(addresses × ports) need --force. The IANA special-purpose ranges of both
families are never scanned unless named with --allow-reserved; addresses in
-b files are never scanned at all. Every destination is checked against the
blocklist once more right before its frame is written.

Needs root or CAP_NET_RAW. Interface, source addresses and gateway MACs come
from the routing and neighbour tables (ARP, IPv6 neighbour solicitation);
-i, -S (once per family), -G and --gateway-mac6 override them.

With --resume FILE the scan keeps a resume state (written at the start, every
--checkpoint and at the end); after an interrupt, a crash or a full disk, the
same command continues it: every target is probed and every hit written
exactly once over the runs, when -o is a file.

Exit status: 0 done; 1 failed; 2 bad usage or input; 3 stopped before the end
(SIGINT, SIGTERM, --max-runtime, --max-results).

Example:

	mailscan syn -p 110,143,993,995 -r 50000 -o hits.csv 198.18.16.0/20
`,
}

func init() { cmdSyn.run = runSyn }

// synFlags are the flags syn shares with run.
type synFlags struct {
	exclusionFlags
	familyFlags
	allowlists                listFlag
	ports                     string
	maxTargets, maxResults    uint64
	maxRuntime                time.Duration
	seed                      string
	shards, shard             uint64
	rate                      float64
	bandwidth                 string
	probes, senders, batch    int
	tcpOptions                string
	iface, gatewayMAC, gwMAC6 string
	sourcePorts               string
	ttl                       uint
	cooldown, checkpoint      time.Duration
	closed, quiet, dryRun     bool
	metadata, resume          string
	statusJSON                string
	sendMode                  string
}

// familyFlags are the flags of a scan of both families: a source address
// per family (-S twice), and --force past MaxIPv6Targets.
type familyFlags struct {
	sources listFlag
	force   bool
}

func (f *synFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.allowlists, "w", "allowlist `file` of targets (ZMap format); repeatable")
	f.exclusionFlags.register(fs)
	fs.StringVar(&f.ports, "p", targets.DefaultPorts, "`ports` to probe: list and ranges")
	fs.Uint64Var(&f.maxTargets, "n", 0, "probe at most `N` targets (0: all)")
	fs.Uint64Var(&f.maxResults, "max-results", 0, "stop once `N` open hits are found (0: no limit); resumable")
	fs.Var(secondsFlag{&f.maxRuntime}, "max-runtime", "stop sending after this `duration` (0: no limit); resumable")
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
	fs.Var(&f.sources, "S", "source `address` (default: the interface's); once per family for a scan of both")
	fs.StringVar(&f.gatewayMAC, "G", "", "gateway `MAC` address, of both families unless --gateway-mac6 (default: from the neighbour table, else ARP or neighbour solicitation)")
	fs.StringVar(&f.gwMAC6, "gateway-mac6", "", "IPv6 gateway `MAC` address (default: -G, else the neighbour table, else neighbour solicitation)")
	fs.BoolVar(&f.force, "force", false, "scan more than 2^32 IPv6 targets (addresses × ports)")
	fs.StringVar(&f.sourcePorts, "source-port", fmt.Sprintf("%d-%d", syn.DefaultSourcePortFirst, syn.DefaultSourcePortLast), "source port `range` the probes use (keep it out of the host's ephemeral range)")
	fs.UintVar(&f.ttl, "ttl", syn.DefaultTTL, "IP TTL of the probes")
	f.cooldown, f.checkpoint = syn.DefaultCooldown, defaultCheckpoint
	fs.Var(secondsFlag{&f.cooldown}, "cooldown", "`seconds` to wait for late replies after the last probe")
	fs.Var(secondsFlag{&f.checkpoint}, "checkpoint", "write the resume state this often (`duration`)")
	fs.BoolVar(&f.closed, "closed", false, "also report closed ports (RST)")
	fs.BoolVar(&f.quiet, "q", false, "no status line")
	fs.StringVar(&f.metadata, "metadata", "", "write a JSON summary of the scan to `file` (at the start and the end)")
	fs.StringVar(&f.resume, "resume", "", "resume `file`: continue the scan it records, and keep it up to date")
	fs.StringVar(&f.statusJSON, "status-json", "", "also write the status as one JSON object a second to `file`")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan (targets, exclusions, route, rate) and send nothing")
	fs.StringVar(&f.sendMode, "send-mode", "auto", "send path: `auto` (AF_XDP where the device has a queue per sender, else AF_PACKET), af_xdp, tx-ring or sendmmsg")
}

// defaultCheckpoint is how often the resume state is written.
const defaultCheckpoint = 10 * time.Second

// maxSenders bounds --senders on this machine: each sender is a thread
// that keeps a core busy, so more than two per CPU only add contention (and
// tens of thousands exhaust the process's threads).
func maxSenders() int { return min(syn.MaxSenders, max(4, 2*runtime.NumCPU())) }

// validate checks the numeric flags: finite, in range.
func (f *synFlags) validate() error {
	if err := checkRange("-r", f.rate, 0, 1e9, "packets per second"); err != nil {
		return err
	}
	if err := checkRange("--probes", float64(f.probes), 1, 100, "SYNs per target"); err != nil {
		return err
	}
	if n := maxSenders(); f.senders < 1 || f.senders > n {
		return usagef("--senders %d: want 1 to %d on this machine (%d CPUs): each sender is a thread busy on a core of its own", f.senders, n, runtime.NumCPU())
	}
	if err := checkRange("--batch", float64(f.batch), 1, 4096, "frames"); err != nil {
		return err
	}
	if f.ttl < 1 || f.ttl > 255 {
		return usagef("--ttl %d: want 1 to 255", f.ttl)
	}
	if f.shards == 0 || f.shard >= f.shards {
		return usagef("--shard %d --shards %d: shards are numbered 0 to K-1", f.shard, f.shards)
	}
	if f.checkpoint < time.Second {
		return usagef("--checkpoint %v: want at least 1s", f.checkpoint)
	}
	return nil
}

// scanPlan is the outcome of the syn flags: the scanner's config and what
// the exclusions did.
type scanPlan struct {
	cfg      syn.Config
	policy   *blocklist.Policy
	excluded targets.Excluded
}

// plan turns flags and arguments into a scan config. Every error is the
// user's to fix: a usage error.
func (f *synFlags) plan(e *env, args []string) (*scanPlan, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	pol, err := f.policy(e)
	if err != nil {
		return nil, err
	}
	allowed, excl, err := (&targets.Spec{Entries: args, Allowlists: f.allowlists, Policy: pol}).Build()
	var ae *targets.AllExcludedError
	switch {
	case errors.Is(err, targets.ErrNoTargets):
		return nil, usagef("no targets: give CIDRs or addresses as arguments, or -w FILE")
	case errors.As(err, &ae):
		msg := "no targets left to scan: " + ae.Excluded.String()
		if ae.Excluded.Reserved > 0 {
			msg += "; to scan a reserved range on purpose, name it with --allow-reserved CIDR"
		}
		return nil, usageError{errors.New(msg)}
	case err != nil:
		return nil, usageError{err}
	}
	cfg, err := f.config(allowed)
	if err != nil {
		return nil, err
	}
	if err := allowed.CheckSize(len(cfg.Ports), f.force); err != nil {
		return nil, usageError{err}
	}
	cfg.Allowed, cfg.Deny = allowed.V4, excl.Blocklist
	cfg.Allowed6, cfg.Deny6 = allowed.V6, excl.Blocklist6
	return &scanPlan{cfg: cfg, policy: pol, excluded: excl}, nil
}

// config reads the flags that shape the probes of a scan of allowed into a
// syn.Config.
func (f *synFlags) config(allowed targets.Addrs) (syn.Config, error) {
	ports, err := targets.ParsePorts(f.ports)
	if err != nil {
		return syn.Config{}, usagef("-p: %v", err)
	}
	mode, err := syn.ParseSendMode(f.sendMode)
	if err != nil {
		return syn.Config{}, usagef("--send-mode: %v", err)
	}
	opts, err := frame.ParseTCPOptions(f.tcpOptions)
	if err != nil {
		return syn.Config{}, usagef("--tcp-options: %v", err)
	}
	cfg := syn.Config{
		Ports: ports, Shard: f.shard, Shards: f.shards, MaxTargets: f.maxTargets, MaxResults: f.maxResults,
		Interface: f.iface, Rate: f.rate, Probes: f.probes, Senders: f.senders, TTL: uint8(f.ttl),
		Options: opts, ReportClosed: f.closed, Batch: f.batch, SendMode: mode, Cooldown: f.cooldown,
		Seed: syn.NewSeed(),
	}
	if f.cooldown == 0 {
		cfg.Cooldown = -1 // --cooldown 0: none at all (0 in Config means the default)
	}
	if f.seed != "" {
		if cfg.Seed, err = strconv.ParseUint(f.seed, 0, 64); err != nil {
			return cfg, usagef("--seed %q: want an unsigned 64-bit number", f.seed)
		}
	}
	if f.bandwidth != "" {
		bps, err := parseBandwidth(f.bandwidth)
		if err != nil {
			return cfg, usagef("-B: %v", err)
		}
		// IPv6 frames are 20 bytes longer: the mean frame of the mix.
		n4, n6 := float64(allowed.V4.Len()), float64(allowed.V6.Len())
		size := (n4*float64(14+20+20+opts.Len()) + n6*float64(14+40+20+opts.Len())) / (n4 + n6)
		cfg.Rate = pace.BandwidthToRate(bps, int(size+0.5))
	}
	return cfg, f.route(&cfg)
}

// route reads -S, -G, --gateway-mac6 and --source-port.
func (f *synFlags) route(cfg *syn.Config) error {
	for _, src := range f.sources {
		a, err := netip.ParseAddr(src)
		switch {
		case err != nil || a.Zone() != "" || a.Is4In6():
			return usagef("-S %q: want an IPv4 or IPv6 address", src)
		case a.Is4() && cfg.Source.IsValid(), a.Is6() && cfg.Source6.IsValid():
			return usagef("-S %q: one source address per family", src)
		case a.Is4():
			cfg.Source = a
		default:
			cfg.Source6 = a
		}
	}
	for _, g := range []struct {
		flag, value string
		mac         *net.HardwareAddr
	}{{"-G", f.gatewayMAC, &cfg.GatewayMAC}, {"--gateway-mac6", f.gwMAC6, &cfg.GatewayMAC6}} {
		if g.value == "" {
			continue
		}
		mac, err := net.ParseMAC(g.value)
		if err != nil || len(mac) != 6 {
			return usagef("%s %q: want an Ethernet MAC address like 02:00:00:00:00:01", g.flag, g.value)
		}
		*g.mac = mac
	}
	if cfg.GatewayMAC6 == nil {
		cfg.GatewayMAC6 = cfg.GatewayMAC
	}
	first, last, ok := strings.Cut(f.sourcePorts, "-")
	if !ok {
		last = first
	}
	pf, err1 := strconv.ParseUint(first, 10, 16)
	pl, err2 := strconv.ParseUint(last, 10, 16)
	if err1 != nil || err2 != nil || pf == 0 || pl < pf {
		return usagef("--source-port %q: want a range like 61000-65535", f.sourcePorts)
	}
	cfg.SourcePortFirst, cfg.SourcePortLast = uint16(pf), uint16(pl)
	return nil
}

// exclusionSummary says what the exclusions removed, naming each -b file.
func (p *scanPlan) exclusionSummary() string {
	e := p.excluded
	ports := "ports"
	if len(p.cfg.Ports) == 1 {
		ports = "port"
	}
	addrs := fmt.Sprintf("%d addresses", e.Allowed)
	if e.IPv6 != nil {
		addrs = fmt.Sprintf("%d addresses (%d IPv6)", e.Allowed, e.IPv6.Allowed)
	}
	s := fmt.Sprintf("targets: %s × %d %s; %s", addrs, len(p.cfg.Ports), ports, e.String())
	for _, fc := range p.excluded.ByFile {
		s += fmt.Sprintf("; blocklist %s removed %d", fc.File, fc.Count)
		if fc.IPv6Entries > 0 && e.IPv6 == nil {
			s += fmt.Sprintf(" (its %d IPv6 entries apply to IPv6 targets: none in this scan)", fc.IPv6Entries)
		}
	}
	return s
}

func runSyn(ctx context.Context, e *env, args []string) error {
	var f synFlags
	var out, format string
	fs := newFlagSet(cmdSyn, e)
	f.register(fs)
	fs.StringVar(&out, "o", "", "write hits to `file` (default and -: stdout)")
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
	p, err := f.plan(e, fs.Args())
	if err != nil {
		return err
	}
	e.log.Info(p.exclusionSummary())
	spec := outputSpec{role: state.RoleHits, path: out, csv: hf == hitlist.CSV, perPort: hf.PerPort()}
	ss, err := newScanSession(e, &f, p, "syn", []outputSpec{spec}, false)
	if err != nil || ss == nil {
		return err
	}
	defer ss.close()
	if err := ss.open(); err != nil {
		return err
	}
	if hf.PerPort() {
		pf, err := hitlist.NewPortFiles(out, ss.prior != nil)
		if err != nil {
			return usageError{err}
		}
		defer pf.Close()
		ss.setOutput(pf)
	} else {
		w, err := ss.hitWriter(hf, wopts...)
		if err != nil {
			return err
		}
		ss.setOutput(w)
	}
	if err := ss.start(nil, ""); err != nil {
		return err
	}
	sum, err := ss.run(ctx)
	return ss.finish(sum, err, func(h runHeader) any { return ss.metadata(h, sum) })
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

// metadata is the --metadata file of syn.
type metadata struct {
	runHeader
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
	MaxResults   uint64  `json:"max_results,omitempty"`
	Cooldown     string  `json:"cooldown"`
	ReportClosed bool    `json:"report_closed"`
	Allowed      string  `json:"allowed"`
	Seed         uint64  `json:"seed"`
}

// metadata returns the --metadata document of the scan (sum is nil before
// the scan has run).
func (ss *scanSession) metadata(h runHeader, sum *syn.Summary) metadata {
	c := &ss.p.cfg
	return metadata{
		runHeader: h,
		Config: metadataConfig{
			Ports: targets.FormatPorts(c.Ports), Rate: c.Rate, Probes: max(c.Probes, 1), Senders: max(c.Senders, 1),
			TCPOptions: c.Options.String(), MaxTargets: c.MaxTargets, MaxResults: c.MaxResults, Cooldown: c.Cooldown.String(),
			ReportClosed: c.ReportClosed, Allowed: targets.Addrs{V4: c.Allowed, V6: c.Allowed6}.String(), Seed: c.Seed,
		},
		Excluded: ss.p.excluded,
		Summary:  sum,
	}
}
