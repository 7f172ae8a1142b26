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
	"mailscan/syn/targets"
)

// Scanner runs one SYN scan. Make it with New, run it once with Run.
type Scanner struct {
	cfg    Config
	space  *targets.Space
	cycle  *cyclic.Cycle
	iters  []*cyclic.Iter
	cookie *cookie.Cookie
	tmpl   *frame.Template
	route  Route
	src    uint32

	claimed atomic.Uint64 // targets claimed against MaxTargets
	stop    atomic.Bool   // set on interrupt: senders end after their batch
	senders []senderStats
	recv    recvStats
	queue   hitQueue
	mode    atomic.Value // string: the send path in use
	cooling atomic.Bool  // senders are done; waiting for late replies
	sendDur atomic.Int64 // how long sending took, once it is over (ns)
	// startPos is the sum of the senders' cycle positions at the start: not
	// 0 when resuming.
	startPos uint64
	paused   atomic.Bool // senders wait for the consumer's backlog to drain

	ctl *controller // nil without control probes

	// The sockets, once Open has run.
	opened  bool
	rcv     frameReceiver
	snds    []frameSender
	ctlSnd  frameSender
	flagged atomic.Uint64 // hosts that answer on every port
}

// Route is the path the probes take, as discovered or overridden.
type Route struct {
	Interface  string           `json:"interface"`
	Index      int              `json:"-"`
	Source     netip.Addr       `json:"source"`
	Gateway    netip.Addr       `json:"gateway,omitzero"`
	SrcMAC     net.HardwareAddr `json:"-"`
	GatewayMAC net.HardwareAddr `json:"-"`
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
	s := &Scanner{cfg: c}
	if s.space, err = targets.New(c.Allowed, c.Ports); err != nil {
		return nil, fmt.Errorf("syn: %w", err)
	}
	if err := s.initCycle(); err != nil {
		return nil, err
	}
	if c.link == nil {
		r, err := resolveRoute(&c, blocklist.AddrFromUint32(c.Allowed.At(0)))
		if err != nil {
			return nil, err
		}
		s.route = r
		s.cfg.link = &packetLink{ifindex: r.Index, r: r, mode: c.SendMode, batch: c.Batch}
	} else {
		s.route = c.link.route()
	}
	src, ok := blocklist.Uint32FromAddr(s.route.Source)
	if !ok {
		return nil, fmt.Errorf("syn: source address %v is not IPv4", s.route.Source)
	}
	s.src = src
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
	}
	s.tmpl, err = frame.NewTemplate(&frame.TemplateConfig{
		SrcMAC:  s.route.SrcMAC,
		DstMAC:  s.route.GatewayMAC,
		SrcAddr: src,
		TTL:     c.TTL,
		Options: c.Options,
	})
	if err != nil {
		return nil, fmt.Errorf("syn: %w", err)
	}
	s.mode.Store("")
	return s, nil
}

func (s *Scanner) initCycle() error {
	c := &s.cfg
	var err error
	if s.cycle, err = cyclic.New(s.space.Len(), c.Seed); err != nil {
		return fmt.Errorf("syn: %w", err)
	}
	if c.Resume != nil {
		if err := c.Resume.check(c, s.space.Len(), s.cycle); err != nil {
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

// Stop asks the scan to end early: senders stop after their current batch,
// a short cooldown collects the replies already on their way, and Run
// returns a Summary marked interrupted. Safe to call from any goroutine.
func (s *Scanner) Stop() { s.stop.Store(true) }

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
		cool, early = min(cool, time.Second), nil
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
	s.queue.close()
	<-outDone
	close(progStop)
	progWG.Wait()

	s.fill(sum)
	sum.Interrupted = s.stop.Load()
	return sum, errors.Join(sendErr, recvErr, ctlErr, outErr)
}

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
	rcv, err := c.link.receiver(s.src)
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
	maxTargets := c.MaxTargets

	for !s.stop.Load() {
		if c.Backlog != nil && c.Backlog() > c.MaxBacklog {
			// The consumer of the hits (the banner stage) is behind: wait
			// for it rather than find hits faster than they can be used.
			s.paused.Store(true)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.paused.Store(false)
		k := lim.Take(batch)
		for k < probes {
			k += lim.Take(probes - k)
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
	dd := newDedup()
	ck, src, reportClosed, ctl := s.cookie, s.src, c.ReportClosed, s.ctl
	portFirst, portLast := c.SourcePortFirst, c.SourcePortLast
	var r frame.Reply
	handle := func(b []byte) {
		rs.frames.Add(1)
		if !frame.ParseReply(b, &r) || r.DstAddr != src {
			rs.invalid.Add(1)
			return
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
		if !ck.Check(src, r.SrcAddr, r.SrcPort, r.DstPort, r.Ack) {
			rs.invalid.Add(1)
			return
		}
		if ctl != nil && r.SrcPort == ctl.port(r.SrcAddr) {
			// The answer of a host's control port: not a hit.
			if dd.add(r.SrcAddr, r.SrcPort) {
				s.queue.push(event{control: true, addr: r.SrcAddr, allPorts: status == hitlist.Open})
			}
			return
		}
		rs.replies.Add(1)
		if !dd.add(r.SrcAddr, r.SrcPort) {
			rs.duplicates.Add(1)
			return
		}
		if status == hitlist.Open {
			rs.open.Add(1)
		} else {
			rs.closed.Add(1)
			if !reportClosed {
				return
			}
		}
		s.queue.push(event{addr: r.SrcAddr, hit: hitlist.Hit{
			Addr:   blocklist.AddrFromUint32(r.SrcAddr),
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

// output is the output goroutine: it writes queued hits and flushes whenever
// the queue runs dry, so a consumer downstream sees each hit promptly. With
// control probes, a host's hits wait for its control answer (see holder).
func (s *Scanner) output() error {
	var (
		events []event
		out    []hitlist.Hit
		err    error
		h      *holder
		tick   time.Duration
	)
	if s.ctl != nil {
		h, tick = newHolder(), 100*time.Millisecond
	}
	for {
		var ok bool
		events, ok = s.queue.wait(events[:0], tick)
		out = out[:0]
		now := time.Now()
		for _, ev := range events {
			switch {
			case h == nil:
				out = append(out, ev.hit)
			case ev.control:
				out = h.resolve(ev.addr, ev.allPorts, out)
			default:
				out = h.hit(ev, ev.addr, s.ctl, now, out)
			}
		}
		if h != nil {
			out = h.expire(now, !ok, out)
			s.flagged.Store(h.flagged)
		}
		for i := range out {
			if err == nil {
				err = s.cfg.Output.Write(&out[i])
			}
		}
		if err == nil && (len(out) > 0 || !ok) {
			err = s.cfg.Output.Flush()
		}
		if !ok {
			return err
		}
	}
}
