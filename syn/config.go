package syn

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"mailscan/blocklist"
	"mailscan/syn/frame"
	"mailscan/syn/hitlist"
)

// Config describes one scan. The zero value of each optional field means the
// default given in its comment.
type Config struct {
	// Allowed holds the IPv4 addresses to scan: the targets minus every
	// exclusion.
	Allowed *blocklist.Set
	// Allowed6 holds the IPv6 addresses to scan (a list or small prefixes);
	// they follow the IPv4 ones in one index space (targets.Space), so one
	// permutation, one set of shards and one resume state cover both.
	Allowed6 *blocklist.Set6
	// Deny is the effective IPv4 blocklist. Each destination is checked
	// against it once more right before its frame is written. Required.
	Deny *blocklist.Set
	// Deny6 is the effective IPv6 blocklist, checked the same way right
	// before every IPv6 frame. Required with IPv6 targets.
	Deny6 *blocklist.Set6
	// Ports to probe on every address.
	Ports []uint16

	// Seed fixes the order of the scan; scans with one seed, one target set
	// and ports visit targets in the same order on every machine.
	Seed uint64
	// Shard and Shards split the scan over machines: shard i of K probes
	// the targets at cycle positions ≡ i (mod K). Shards 0 means 1.
	Shard, Shards uint64
	// MaxTargets caps how many targets this scan probes (0: all).
	MaxTargets uint64
	// MaxResults stops the scan once this many open hits are found (0: no
	// limit). Hits of replies already on their way are kept, so a scan may
	// report a few more.
	MaxResults uint64

	// Interface, Source and GatewayMAC override what route discovery finds
	// (Source and GatewayMAC for the IPv4 targets). A scan of both families
	// sends both through one interface.
	Interface  string
	Source     netip.Addr
	GatewayMAC net.HardwareAddr
	// Source6 and GatewayMAC6 override the IPv6 source address and the
	// IPv6 next hop's MAC.
	Source6     netip.Addr
	GatewayMAC6 net.HardwareAddr

	// Rate is the total send rate in packets per second, over all senders
	// (0: as fast as possible).
	Rate float64
	// Probes is the number of SYNs sent to each target (default 1).
	Probes int
	// Senders is the number of sender goroutines, each with its own socket
	// and OS thread (default 1, at most MaxSenders). New raises GOMAXPROCS
	// to Senders + 2 if it is lower: each sender's raw send calls hold a Go
	// processor for their whole duration, and two more keep the receiver,
	// the output and a banner stage running beside them.
	Senders int
	// Options selects the TCP option layout of the SYNs (default MSS only).
	Options frame.TCPOptions
	// TTL of the probes (default 64).
	TTL uint8
	// SourcePortFirst and SourcePortLast bound the source ports the
	// cookies pick from (default 61000-65535: above Linux's ephemeral range,
	// so that the host's own connections, such as the banner stage's, never
	// share a port with a probe).
	SourcePortFirst, SourcePortLast uint16
	// Batch is how many frames go to the kernel in one system call
	// (default 64).
	Batch int
	// SendMode chooses the send path (default SendAuto: AF_XDP where the
	// device has a queue for the sender, else AF_PACKET).
	SendMode SendMode

	// Cooldown is how long to wait for late replies after the last probe
	// (default 8s; negative means none).
	Cooldown time.Duration
	// ReportClosed reports RSTs as closed hits.
	ReportClosed bool
	// ControlProbes probes one random high port of every host that
	// answers, and marks the hits of hosts that answer there too
	// (hitlist.Hit.AnswersAllPorts). Their hits are held until the answer
	// comes, at most a few seconds.
	ControlProbes bool

	// Backlog, when set, reports how many hits wait downstream; while it
	// exceeds MaxBacklog the senders pause. This is how a slower consumer
	// (the banner stage) keeps the scan from outrunning it without a hit
	// ever being dropped.
	Backlog    func() int
	MaxBacklog int

	// Output receives every hit, from a single goroutine.
	Output Output
	// Progress, when set, is called about once a second with the scan's
	// progress, from a single goroutine.
	Progress func(Progress)
	// Log receives diagnostics (default: discard).
	Log *slog.Logger
	// Resume, when set, continues an earlier run of the same scan from the
	// positions it records.
	Resume *ResumeState
	// Held are hits an earlier run found but did not deliver: they are
	// delivered first (with control probes, after asking their hosts'
	// control ports again).
	Held []hitlist.Hit
	// Seen are hits an earlier run delivered: a resumed run, which probes
	// again the targets of its predecessor's last moments, never delivers
	// them a second time.
	Seen []netip.AddrPort

	// link replaces AF_PACKET in tests.
	link link
}

// Output is where hits go; *hitlist.Writer is one.
type Output interface {
	Write(h *hitlist.Hit) error
	Flush() error
}

// MaxSenders bounds Config.Senders: each sender is an OS thread busy with
// its socket, and a few thousand of them exhaust the process's threads.
const MaxSenders = 256

// Defaults for Config fields left zero.
const (
	DefaultCooldown        = 8 * time.Second
	DefaultSourcePortFirst = 61000
	DefaultSourcePortLast  = 65535
	DefaultBatch           = 64
	DefaultTTL             = 64
)

// NewSeed draws a random seed for Config.Seed.
func NewSeed() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.Allowed.Len() == 0 && cfg.Allowed6.Empty() {
		return cfg, errors.New("syn: no targets left to scan")
	}
	if cfg.Deny == nil {
		return cfg, errors.New("syn: Config.Deny is required")
	}
	if !cfg.Allowed6.Empty() && cfg.Deny6 == nil {
		return cfg, errors.New("syn: Config.Deny6 is required with IPv6 targets")
	}
	if cfg.Source.IsValid() && !cfg.Source.Is4() {
		return cfg, fmt.Errorf("syn: source address %v is not IPv4 (IPv6 sources go in Source6)", cfg.Source)
	}
	if cfg.Source6.IsValid() && (!cfg.Source6.Is6() || cfg.Source6.Is4In6()) {
		return cfg, fmt.Errorf("syn: IPv6 source address %v is not IPv6", cfg.Source6)
	}
	if len(cfg.Ports) == 0 {
		return cfg, errors.New("syn: no ports")
	}
	if cfg.Shards == 0 {
		cfg.Shards = 1
	}
	if cfg.Shard >= cfg.Shards {
		return cfg, fmt.Errorf("syn: shard %d out of range: shards are numbered 0 to %d", cfg.Shard, cfg.Shards-1)
	}
	if cfg.Probes <= 0 {
		cfg.Probes = 1
	}
	if cfg.Senders <= 0 {
		cfg.Senders = 1
	}
	if cfg.Senders > MaxSenders {
		return cfg, fmt.Errorf("syn: %d senders: at most %d", cfg.Senders, MaxSenders)
	}
	if cfg.Options == 0 {
		cfg.Options = frame.OptionsMSS
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.SourcePortFirst == 0 && cfg.SourcePortLast == 0 {
		cfg.SourcePortFirst, cfg.SourcePortLast = DefaultSourcePortFirst, DefaultSourcePortLast
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Cooldown == 0 {
		cfg.Cooldown = DefaultCooldown
	}
	if cfg.Cooldown < 0 {
		cfg.Cooldown = 0
	}
	if cfg.ControlProbes && cfg.Cooldown < controlTimeout {
		// Control answers of the last hosts need time to arrive.
		cfg.Cooldown = controlTimeout
	}
	if cfg.Output == nil {
		return cfg, errors.New("syn: Config.Output is required")
	}
	if cfg.Backlog != nil && cfg.MaxBacklog <= 0 {
		return cfg, errors.New("syn: Config.Backlog needs a positive MaxBacklog")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}
