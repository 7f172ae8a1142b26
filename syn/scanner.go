package syn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mailscan/blocklist"
	"mailscan/syn/cookie"
	"mailscan/syn/cyclic"
	"mailscan/syn/frame"
	"mailscan/syn/hitlist"
	"mailscan/syn/pace"
	"mailscan/syn/queue"
	"mailscan/syn/targets"
)

// Scanner runs one SYN scan. Make it with New, run it once with Run.
type Scanner struct {
	cfg   Config
	space *targets.Space
	cycle *cyclic.Cycle
	iters []*cyclic.Iter
	// configHash is ConfigHash of the scan, computed once: every resume
	// state the checkpointer writes carries it.
	configHash string
	cookie     *cookie.Cookie
	tmpl       *frame.Template  // nil without IPv4 targets
	tmpl6      *frame.Template6 // nil without IPv6 targets
	route      Route
	src        uint32          // our IPv4 address; 0 without IPv4 targets
	src6       blocklist.Addr6 // our IPv6 address; zero without IPv6 targets

	claimed  atomic.Uint64 // targets claimed against MaxTargets
	stop     atomic.Bool   // set on interrupt: senders end after their batch
	stopCh   chan struct{} // closed with stop set: wakes sleeping senders
	stopOnce sync.Once
	senders  []senderStats
	recv     recvStats
	queue    *queue.Queue[event] // receiver → output goroutine
	dd       *dedup              // the receiver's; seeded from Config.Seen
	dd6      *dedup6             // dd for IPv6 replies
	mode     atomic.Value        // string: the send path in use
	cooling  atomic.Bool         // senders are done; waiting for late replies
	sendDur  atomic.Int64        // how long sending took, once it is over (ns)
	// startPos is the sum of the senders' cycle positions at the start: not
	// 0 when resuming.
	startPos uint64
	paused   atomic.Bool // senders wait for the consumer's backlog to drain

	ctl *controller // nil without control probes

	// The output goroutine's state. outMu is held while hits move from the
	// queue through the holder to the Output, so that Checkpoint sees each
	// hit either held here or delivered.
	outMu  sync.Mutex
	hold   *holder       // nil without control probes
	failed []hitlist.Hit // hits the Output could not take
	outErr error         // the Output's first error
	outBuf []hitlist.Hit
	heldN  atomic.Int64 // len(failed) + hits in the holder, for the backlog

	// The sockets, once Open has run.
	opened  bool
	rcv     frameReceiver
	snds    []frameSender
	ctlSnd  frameSender
	flagged atomic.Uint64 // hosts that answer on every port
}

// Route is the path the probes take, as discovered or overridden: one
// interface, and per family the source address and the next hop (Source,
// Gateway, GatewayMAC for IPv4; Source6, Gateway6, GatewayMAC6 for IPv6,
// zero when the scan has no target of that family).
type Route struct {
	Interface   string           `json:"interface"`
	Index       int              `json:"-"`
	Source      netip.Addr       `json:"source,omitzero"`
	Gateway     netip.Addr       `json:"gateway,omitzero"`
	Source6     netip.Addr       `json:"source6,omitzero"`
	Gateway6    netip.Addr       `json:"gateway6,omitzero"`
	SrcMAC      net.HardwareAddr `json:"-"`
	GatewayMAC  net.HardwareAddr `json:"-"`
	GatewayMAC6 net.HardwareAddr `json:"-"`
}

// senderStats are one sender's counters, padded to a cache line so that
// senders on different cores do not share one.
type senderStats struct {
	sent    atomic.Uint64 // packets
	targets atomic.Uint64
	blocked atomic.Uint64 // destinations the last-moment blocklist check stopped
	pos     atomic.Uint64 // cycle positions consumed, for progress and resume
	_       [32]byte
}

type recvStats struct {
	frames     atomic.Uint64 // frames the filter let through
	foreign    atomic.Uint64 // to a port outside the probes' range: the host's own traffic
	invalid    atomic.Uint64 // not a well-formed reply, or a failed cookie
	replies    atomic.Uint64 // valid replies, duplicates included
	open       atomic.Uint64
	closed     atomic.Uint64
	duplicates atomic.Uint64
	drops      atomic.Uint64 // kernel ring drops
}

// New checks cfg, builds the target space and permutation, resolves the
// route and builds the frame template. It opens no socket.
func New(cfg *Config) (*Scanner, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Scanner{cfg: c, queue: queue.New[event](), stopCh: make(chan struct{}), dd: newDedup(), dd6: newDedup6()}
	if s.space, err = targets.New(targets.Addrs{V4: c.Allowed, V6: c.Allowed6}, c.Ports); err != nil {
		return nil, fmt.Errorf("syn: %w", err)
	}
	has4, has6 := c.Allowed.Len() > 0, !c.Allowed6.Empty()
	if err := s.initCycle(); err != nil {
		return nil, err
	}
	if n := s.cfg.Senders + 2; n > runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(n)
	}
	if c.link == nil {
		var first4, first6 netip.Addr
		if has4 {
			first4 = blocklist.AddrFromUint32(c.Allowed.At(0))
		}
		if has6 {
			first6 = c.Allowed6.At(0)
		}
		r, err := resolveRoute(&c, first4, first6)
		if err != nil {
			return nil, err
		}
		s.route = r
		s.cfg.link = &packetLink{ifindex: r.Index, r: r, mode: c.SendMode, batch: c.Batch}
	} else {
		s.route = c.link.route()
	}
	if has4 {
		src, ok := blocklist.Uint32FromAddr(s.route.Source)
		if !ok || !s.route.Source.Is4() || src == 0 {
			return nil, fmt.Errorf("syn: source address %v is not IPv4", s.route.Source)
		}
		s.src = src
	}
	if has6 {
		if !s.route.Source6.Is6() || s.route.Source6.Is4In6() {
			return nil, fmt.Errorf("syn: IPv6 source address %v is not IPv6 (give one with -S)", s.route.Source6)
		}
		s.src6 = blocklist.Addr6From(s.route.Source6)
	}
	key, err := cookie.NewKey()
	if err != nil {
		return nil, fmt.Errorf("syn: %w", err)
	}
	if s.cookie, err = cookie.New(key, c.SourcePortFirst, c.SourcePortLast); err != nil {
		return nil, fmt.Errorf("syn: %w", err)
	}
	if c.ControlProbes {
		if s.ctl, err = newController(key, c.Ports); err != nil {
			return nil, err
		}
		s.hold = newHolder()
	}
	// A resumed scan delivers the hits its predecessor held first, and
	// never again a hit already delivered.
	for _, ap := range c.Seen {
		if h, ok := hostOf(ap.Addr()); ok {
			s.seen(h, ap.Port())
		}
	}
	for _, hit := range c.Held {
		h, ok := hostOf(hit.Addr)
		if !ok {
			continue
		}
		if s.seen(h, hit.Port) {
			hit.AnswersAllPorts = false // asked again: the answer was not in
			s.queue.Push(event{host: h, hit: hit})
		}
	}
	if has4 {
		s.tmpl, err = frame.NewTemplate(&frame.TemplateConfig{
			SrcMAC:  s.route.SrcMAC,
			DstMAC:  s.route.GatewayMAC,
			SrcAddr: s.src,
			TTL:     c.TTL,
			Options: c.Options,
		})
		if err != nil {
			return nil, fmt.Errorf("syn: %w", err)
		}
	}
	if has6 {
		s.tmpl6, err = frame.NewTemplate6(&frame.Template6Config{
			SrcMAC:   s.route.SrcMAC,
			DstMAC:   s.route.GatewayMAC6,
			SrcAddr:  s.route.Source6,
			HopLimit: c.TTL,
			Options:  c.Options,
		})
		if err != nil {
			return nil, fmt.Errorf("syn: IPv6: %w", err)
		}
	}
	s.mode.Store("")
	return s, nil
}

// seen records (h, port) in the receiver's dedup set and reports whether it
// was new. Before Run only.
func (s *Scanner) seen(h host, port uint16) bool {
	if h.v6 {
		return s.dd6.add(h.a6, port)
	}
	return s.dd.add(h.a4, port)
}

func (s *Scanner) initCycle() error {
	c := &s.cfg
	var err error
	if s.cycle, err = cyclic.New(s.space.Len(), c.Seed); err != nil {
		return fmt.Errorf("syn: %w", err)
	}
	s.configHash = ConfigHash(c)
	if c.Resume != nil {
		if err := c.Resume.check(s.configHash, s.space.Len(), s.cycle); err != nil {
			return err
		}
		c.Senders = len(c.Resume.Positions)
	}
	s.iters = make([]*cyclic.Iter, c.Senders)
	s.senders = make([]senderStats, c.Senders)
	for i := range s.iters {
		it, err := s.cycle.Iter(c.Shard, c.Shards, uint64(i), uint64(c.Senders))
		if err != nil {
			return fmt.Errorf("syn: %w", err)
		}
		if c.Resume != nil {
			if p := c.Resume.Positions[i]; p > it.Len() {
				return fmt.Errorf("%w: it puts sender %d at position %d, past the end of its part (%d)", ErrResume, i, p, it.Len())
			}
			it.Seek(c.Resume.Positions[i])
			s.startPos += it.Pos()
		}
		s.senders[i].pos.Store(it.Pos())
		s.iters[i] = it
	}
	return nil
}

// Route returns the path the probes take.
func (s *Scanner) Route() Route { return s.route }

// Targets returns the size of the target space: allowed addresses × ports,
// over all shards.
func (s *Scanner) Targets() uint64 { return s.space.Len() }

// Stop asks the scan to end early: senders stop after their current batch
// (a sender waiting for its rate wakes at once), a short cooldown collects
// the replies already on their way, and Run returns a Summary marked
// interrupted. Safe to call from any goroutine, any number of times.
func (s *Scanner) Stop() {
	s.stop.Store(true)
	s.stopOnce.Do(func() { close(s.stopCh) })
}

// Positions returns each sender's position in its part of the cycle: the
// frames of every target before it have been handed to the kernel. Safe to
// call while the scan runs.
func (s *Scanner) Positions() []uint64 {
	out := make([]uint64, len(s.senders))
	for i := range s.senders {
		out[i] = s.senders[i].pos.Load()
	}
	return out
}

// Frontier returns, for positions read from Positions, the positions each
// sender may reach before it records its next one: the end of a whole
// batch sent from there. A sender records its position after its batch
// leaves, so a target probed at the moment positions were read lies before
// the frontier, if not before the positions.
func (s *Scanner) Frontier(positions []uint64) []uint64 {
	c := &s.cfg
	batch := max(c.Batch, c.Probes) // targets in one batch, at most
	out := make([]uint64, len(positions))
	for i, p := range positions {
		it, err := s.cycle.Iter(c.Shard, c.Shards, uint64(i), uint64(len(positions)))
		if err != nil {
			out[i] = p
			continue
		}
		it.Seek(p)
		for range batch {
			if _, ok := it.Next(); !ok {
				break
			}
		}
		out[i] = it.Pos()
	}
	return out
}

// Checkpoint calls fn with the hits found but not yet delivered to the
// Output (queued for the output goroutine, waiting for a control answer, or
// refused by a failing Output), while no hit moves to the Output: every hit
// found so far is either in held or was delivered before fn runs. A caller
// records held, and its own view of what the Output did with the hits it
// got, as one consistent state. fn must not call the Scanner.
func (s *Scanner) Checkpoint(fn func(held []hitlist.Hit)) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	held := append([]hitlist.Hit(nil), s.failed...)
	if s.hold != nil {
		held = s.hold.held(held)
	}
	for _, ev := range s.queue.Snapshot(nil) {
		if !ev.control {
			held = append(held, ev.hit)
		}
	}
	fn(held)
}

// backlog counts the hits found and not yet delivered.
func (s *Scanner) backlog() int { return s.queue.Len() + int(s.heldN.Load()) }

// Run sends every probe, collects replies until the cooldown ends, and
// returns the summary. Cancelling ctx has the effect of Stop. Once probes
// have started, Run returns the summary even with an error, so that what was
// found is never lost; it returns a nil summary only when the sockets could
// not be opened and nothing was sent.
func (s *Scanner) Run(ctx context.Context) (*Summary, error) {
	c := &s.cfg
	sum := &Summary{Start: time.Now().UTC()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(ctx, s.Stop)

	if err := s.Open(); err != nil {
		return nil, err
	}
	rcv, senders := s.rcv, s.snds
	s.mode.Store(sendModes(senders))

	ctlStop := make(chan struct{})
	ctlDone := make(chan error, 1)
	if s.ctlSnd != nil {
		go func() {
			err := s.controlLoop(s.ctlSnd, ctlStop)
			if cerr := s.ctlSnd.Close(); err == nil {
				err = cerr
			}
			ctlDone <- err
		}()
	} else {
		ctlDone <- nil
	}

	var outErr error
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		outErr = s.output()
	}()

	recvStop := make(chan struct{})
	recvDone := make(chan error, 1)
	go func() { recvDone <- s.receive(rcv, recvStop) }()

	progStop := make(chan struct{})
	var progWG sync.WaitGroup
	if c.Progress != nil {
		progWG.Add(1)
		go func() { defer progWG.Done(); s.progressLoop(sum.Start, progStop) }()
	}

	sendErrs := make([]error, c.Senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendErrs[i] = s.send(i, senders[i])
			if err := senders[i].Close(); err != nil && sendErrs[i] == nil {
				sendErrs[i] = err
			}
		}()
	}
	wg.Wait()
	sum.SendEnd = time.Now().UTC()
	s.sendDur.Store(int64(sum.SendEnd.Sub(sum.Start)))
	sendErr := errors.Join(sendErrs...)
	if sendErr != nil {
		s.stop.Store(true)
	}

	// Cooldown: replies to the last probes are still on their way. An
	// interrupted scan waits only briefly: the user asked it to end.
	cool, early := c.Cooldown, ctx.Done()
	if s.stop.Load() {
		cool, early = min(cool, interruptCooldown), nil
	}
	c.Log.Debug("cooldown", "duration", cool)
	s.cooling.Store(true)
	t := time.NewTimer(cool)
	select {
	case <-t.C:
	case <-early: // interrupted during the cooldown: end it now
	}
	t.Stop()
	close(recvStop)
	recvErr := <-recvDone
	rcv.Close()
	close(ctlStop)
	ctlErr := <-ctlDone
	s.queue.Close()
	<-outDone
	close(progStop)
	progWG.Wait()

	s.fill(sum)
	sum.Interrupted = s.stop.Load()
	return sum, errors.Join(sendErr, recvErr, ctlErr, outErr)
}

// interruptCooldown is how long a stopped scan still listens for the
// replies of its last probes (at most the cooldown): long enough for any
// reply but the slowest few, short enough that a stop takes under a
// second. A resumed scan starts right where the stopped one stopped
// sending.
const interruptCooldown = 800 * time.Millisecond

// sendModes names the send paths in use: "af_xdp", or "af_xdp+sendmmsg"
// when some senders could not have an AF_XDP queue.
func sendModes(snds []frameSender) string {
	var modes []string
	for _, s := range snds {
		if m := s.Mode(); !slices.Contains(modes, m) {
			modes = append(modes, m)
		}
	}
	return strings.Join(modes, "+")
}

// Open opens the scan's sockets: the receiver first, then one sender per
// sender goroutine and, with control probes, one more. Run calls it when it
// has not been called; calling it first lets a caller drop its privileges
// between Open and Run, since open sockets keep working.
func (s *Scanner) Open() error {
	if s.opened {
		return nil
	}
	c := &s.cfg
	// The receiver is up before the first probe leaves.
	var local4, local6 netip.Addr
	if s.tmpl != nil {
		local4 = blocklist.AddrFromUint32(s.src)
	}
	if s.tmpl6 != nil {
		local6 = s.src6.Addr()
	}
	rcv, err := c.link.receiver(local4, local6)
	if err != nil {
		return err
	}
	n := c.Senders
	if s.ctl != nil {
		n++
	}
	snds := make([]frameSender, n)
	for i := range snds {
		if snds[i], err = c.link.sender(i); err != nil {
			for _, o := range snds[:i] {
				o.Close()
			}
			rcv.Close()
			return err
		}
	}
	s.rcv, s.snds = rcv, snds[:c.Senders]
	if s.ctl != nil {
		s.ctlSnd = snds[c.Senders]
	}
	s.opened = true
	return nil
}

// send is one sender goroutine: its share of the cycle, its own socket. Its
// socket's sends are raw system calls that hold the goroutine's processor:
// run with GOMAXPROCS above the number of senders (see afpacket's rawSend).
func (s *Scanner) send(idx int, snd frameSender) error {
	// The socket and its ring belong to this thread for the whole scan;
	// switching threads would bounce the ring's cache lines between cores.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	c := &s.cfg
	st := &s.senders[idx]
	it := s.iters[idx]
	probes := c.Probes
	batch := max(c.Batch, probes)
	lim := pace.New(c.Rate/float64(c.Senders), batch)
	ipid := uint16(idx) * 0x1000
	deny, space, ck, tmpl, src := c.Deny, s.space, s.cookie, s.tmpl, s.src
	deny6, tmpl6, src6 := c.Deny6, s.tmpl6, s.src6
	// Indices below n4 are IPv4 targets, the rest IPv6 (targets.Space).
	n4 := space.Len4()
	maxTargets := c.MaxTargets

	lim.StopOn(s.stopCh)
	var pause *time.Timer
	for !s.stop.Load() {
		if c.Backlog != nil && c.Backlog()+s.backlog() > c.MaxBacklog {
			// The consumer of the hits (the banner stage) is behind: wait
			// for it rather than find hits faster than they can be used.
			s.paused.Store(true)
			if pause == nil {
				pause = time.NewTimer(10 * time.Millisecond)
			} else {
				pause.Reset(10 * time.Millisecond)
			}
			select {
			case <-pause.C:
			case <-s.stopCh:
			}
			continue
		}
		s.paused.Store(false)
		k := lim.Take(batch)
		for k > 0 && k < probes {
			more := lim.Take(probes - k)
			if more == 0 {
				lim.Return(k)
				k = 0
			}
			k += more
		}
		if k == 0 {
			break // stopped while waiting for the rate
		}
		n := k / probes
		if rem := k - n*probes; rem > 0 {
			lim.Return(rem)
		}
		if maxTargets > 0 {
			claimed := s.claimed.Add(uint64(n))
			if claimed > maxTargets {
				over := claimed - maxTargets
				if over >= uint64(n) {
					break
				}
				n -= int(over)
			}
		}
		done := false
		var sent, probed, blocked uint64
		for range n {
			idx, ok := it.Next()
			if !ok {
				done = true
				break
			}
			if idx < n4 {
				daddr, dport := space.At(idx)
				if deny.Contains(daddr) {
					blocked++
					continue
				}
				sport, seq := ck.Probe(src, daddr, dport)
				for range probes {
					buf, err := snd.Next()
					if err != nil {
						return err
					}
					snd.Commit(tmpl.Write(buf, daddr, dport, sport, seq, ipid))
					ipid++
				}
			} else {
				daddr, dport := space.At6(idx)
				if deny6.ContainsAddr6(daddr) {
					blocked++
					continue
				}
				sport, seq := ck.Probe6(src6.Hi, src6.Lo, daddr.Hi, daddr.Lo, dport)
				for range probes {
					buf, err := snd.Next()
					if err != nil {
						return err
					}
					// The flow label, like Linux's, is one per connection:
					// the cookie's sequence number serves.
					snd.Commit(tmpl6.Write(buf, daddr.Hi, daddr.Lo, dport, sport, seq, seq))
				}
			}
			sent += uint64(probes)
			probed++
		}
		if err := snd.Flush(); err != nil {
			return err
		}
		st.sent.Add(sent)
		st.targets.Add(probed)
		if blocked > 0 {
			st.blocked.Add(blocked)
		}
		st.pos.Store(it.Pos())
		if done {
			break
		}
	}
	return nil
}

// receive is the receiver goroutine: it validates every reply by its cookie
// and queues the hits. It runs until stop is closed.
func (s *Scanner) receive(rcv frameReceiver, stop <-chan struct{}) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	c := &s.cfg
	rs := &s.recv
	dd, dd6 := s.dd, s.dd6
	ck, src, reportClosed, ctl := s.cookie, s.src, c.ReportClosed, s.ctl
	src6, has4, has6 := s.src6, s.tmpl != nil, s.tmpl6 != nil
	portFirst, portLast := c.SourcePortFirst, c.SourcePortLast
	var r frame.Reply
	handle := func(b []byte) {
		rs.frames.Add(1)
		if !frame.ParseReply(b, &r) {
			rs.invalid.Add(1)
			return
		}
		var peer host
		if r.V6 {
			if !has6 || blocklist.Addr6FromBytes(r.DstAddr6) != src6 {
				rs.invalid.Add(1)
				return
			}
			peer = host6(blocklist.Addr6FromBytes(r.SrcAddr6))
		} else {
			if !has4 || r.DstAddr != src {
				rs.invalid.Add(1)
				return
			}
			peer = host4(r.SrcAddr)
		}
		if r.DstPort < portFirst || r.DstPort > portLast {
			// Not to a probe's port: a connection of this host's own
			// (the banner stage's, in a pipeline).
			rs.foreign.Add(1)
			return
		}
		var status hitlist.Status
		switch {
		case r.Flags&frame.TCPFlagRST != 0:
			status = hitlist.Closed
		case r.Flags&(frame.TCPFlagSYN|frame.TCPFlagACK) == frame.TCPFlagSYN|frame.TCPFlagACK:
			status = hitlist.Open
		default:
			rs.invalid.Add(1)
			return
		}
		var ours bool
		if peer.v6 {
			ours = ck.Check6(src6.Hi, src6.Lo, peer.a6.Hi, peer.a6.Lo, r.SrcPort, r.DstPort, r.Ack)
		} else {
			ours = ck.Check(src, r.SrcAddr, r.SrcPort, r.DstPort, r.Ack)
		}
		if !ours {
			rs.invalid.Add(1)
			return
		}
		var fresh bool // the first reply of this (address, port)
		if peer.v6 {
			fresh = dd6.add(peer.a6, r.SrcPort)
		} else {
			fresh = dd.add(peer.a4, r.SrcPort)
		}
		if ctl != nil && r.SrcPort == ctl.port(peer) {
			// The answer of a host's control port: not a hit.
			if fresh {
				s.queue.Push(event{control: true, host: peer, allPorts: status == hitlist.Open})
			}
			return
		}
		rs.replies.Add(1)
		if !fresh {
			rs.duplicates.Add(1)
			return
		}
		if status == hitlist.Open {
			if n := rs.open.Add(1); c.MaxResults > 0 && n >= c.MaxResults {
				s.Stop() // enough found; the hits of replies in flight are kept too
			}
		} else {
			rs.closed.Add(1)
			if !reportClosed {
				return
			}
		}
		s.queue.Push(event{host: peer, hit: hitlist.Hit{
			Addr:   peer.addr(),
			Port:   r.SrcPort,
			Status: status,
			TTL:    r.TTL,
			Window: r.Window,
			Time:   time.Now(),
		}})
	}
	var err error
	for {
		select {
		case <-stop:
			// Replies that arrived before the end are counted: take what
			// the ring holds without waiting for more.
			for range 64 {
				if n, err := rcv.Poll(0, handle); n == 0 || err != nil {
					break
				}
			}
			return s.updateDrops(rcv)
		default:
		}
		if _, err = rcv.Poll(50*time.Millisecond, handle); err != nil {
			return err
		}
		if err := s.updateDrops(rcv); err != nil {
			return err
		}
	}
}

func (s *Scanner) updateDrops(rcv frameReceiver) error {
	d, err := rcv.Drops()
	if err != nil {
		return err
	}
	s.recv.drops.Store(d)
	return nil
}

// output is the output goroutine: it moves queued hits to the Output and
// flushes it whenever the queue runs dry, so a consumer downstream sees each
// hit promptly. With control probes, a host's hits wait for its control
// answer (see holder). It returns the Output's first error; after one, it
// keeps what it cannot deliver for Checkpoint and stops the scan.
func (s *Scanner) output() error {
	var tick <-chan time.Time
	if s.hold != nil {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	var events []event
	for {
		select {
		case <-s.queue.Ready():
		case <-tick:
		}
		var closed bool
		if events, closed = s.moveOut(events); closed {
			s.outMu.Lock()
			defer s.outMu.Unlock()
			return s.outErr
		}
	}
}

// moveOut drains the queue through the holder to the Output, under outMu.
// It reports whether the queue is closed and drained.
func (s *Scanner) moveOut(buf []event) ([]event, bool) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	events, closed := s.queue.Drain(buf)
	now := time.Now()
	out := s.outBuf[:0]
	for _, ev := range events {
		switch {
		case s.hold == nil:
			if !ev.control {
				out = append(out, ev.hit)
			}
		case ev.control:
			out = s.hold.resolve(ev.host, ev.allPorts, out)
		default:
			out = s.hold.hit(ev, ev.host, s.ctl, now, out)
		}
	}
	clear(events) // let the hits go
	held := 0
	if s.hold != nil {
		out = s.hold.expire(now, closed, out)
		s.flagged.Store(s.hold.flagged)
		held = s.hold.hits
	}
	if len(out) > 0 || closed {
		s.deliver(out)
	}
	s.outBuf = out
	s.heldN.Store(int64(len(s.failed) + held))
	return events[:0], closed
}

// deliver writes out and flushes the Output. A hit is delivered once the
// Flush after it succeeds: on an error the whole batch stays with the
// scanner (s.failed), where Checkpoint finds it, and the scan stops.
func (s *Scanner) deliver(out []hitlist.Hit) {
	if s.outErr == nil {
		for i := range out {
			if s.outErr = s.cfg.Output.Write(&out[i]); s.outErr != nil {
				break
			}
		}
		if s.outErr == nil {
			s.outErr = s.cfg.Output.Flush()
		}
		if s.outErr == nil {
			return
		}
		s.cfg.Log.Error("the output failed: the scan stops; the hits not written are kept for the resume state", "err", s.outErr)
		s.Stop()
	}
	s.failed = append(s.failed, out...)
}
