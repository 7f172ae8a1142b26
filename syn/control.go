package syn

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"mailscan/syn/hitlist"
	"mailscan/syn/queue"
)

// Control probes tell real services from hosts that answer a SYN-ACK on
// every port (middleboxes, tarpits, some firewalls). The first time a host
// answers, the scanner also probes one random high port of it, its control
// port; a host whose control port is open is marked AnswersAllPorts. Its hits
// wait in the output goroutine until the control answer arrives (or
// controlTimeout passes: no answer means not all ports), so that every hit
// leaves with its mark.

// controlTimeout is how long a host's hits wait for its control answer.
const controlTimeout = 3 * time.Second

// controlPortFirst and controlPorts span the range control ports are drawn
// from: the IANA dynamic range, where no mail service lives.
const (
	controlPortFirst = 49152
	controlPorts     = 65536 - controlPortFirst
)

// controller derives control ports and carries control-probe requests from
// the receiver to the control sender.
type controller struct {
	key     [16]byte
	scanned *[65536]bool // ports of the scan: a control port is never one

	requests *queue.Queue[host] // hosts to probe, from the output goroutine

	mu   sync.Mutex
	sent uint64
}

func newController(key [16]byte, ports []uint16) (*controller, error) {
	c := &controller{key: key, scanned: new([65536]bool), requests: queue.New[host]()}
	free := controlPorts
	for _, p := range ports {
		c.scanned[p] = true
		if p >= controlPortFirst {
			free--
		}
	}
	if free == 0 {
		return nil, errors.New("syn: control probes need a port of 49152-65535 that the scan does not probe")
	}
	return c, nil
}

// port returns h's control port: a keyed hash of the address (4 bytes for
// IPv4, 16 for IPv6), so that it differs per host and per scan and cannot
// be guessed by a middlebox, yet the receiver recognises the answer without
// state.
func (c *controller) port(h host) uint16 {
	var b [32]byte
	copy(b[:16], c.key[:])
	in := b[:20]
	if h.v6 {
		binary.BigEndian.PutUint64(b[16:], h.a6.Hi)
		binary.BigEndian.PutUint64(b[24:], h.a6.Lo)
		in = b[:32]
	} else {
		binary.BigEndian.PutUint32(b[16:], h.a4)
	}
	p := controlPortFirst + uint16(xxhash.Sum64(in)%controlPorts)
	for c.scanned[p] {
		p = controlPortFirst + (p-controlPortFirst+1)%controlPorts
	}
	return p
}

// request asks for a control probe of h.
func (c *controller) request(h host) { c.requests.Push(h) }

// sendLoop sends the requested control probes on snd until stop is closed.
func (s *Scanner) controlLoop(snd frameSender, stop <-chan struct{}) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := s.ctl
	var batch []host
	var ipid uint16 = 0xF000
	for {
		select {
		case <-stop:
			return nil
		case <-c.requests.Ready():
		}
		batch, _ = c.requests.Drain(batch)
		for _, h := range batch {
			// Cannot happen (it answered a probe), and must not: the
			// last-moment check covers control probes too.
			if h.v6 && (s.tmpl6 == nil || s.cfg.Deny6.ContainsAddr6(h.a6)) || !h.v6 && (s.tmpl == nil || s.cfg.Deny.Contains(h.a4)) {
				continue
			}
			port := c.port(h)
			var sport uint16
			var seq uint32
			if h.v6 {
				sport, seq = s.cookie.Probe6(s.src6.Hi, s.src6.Lo, h.a6.Hi, h.a6.Lo, port)
			} else {
				sport, seq = s.cookie.Probe(s.src, h.a4, port)
			}
			for range s.cfg.Probes {
				buf, err := snd.Next()
				if err != nil {
					return err
				}
				if h.v6 {
					snd.Commit(s.tmpl6.Write(buf, h.a6.Hi, h.a6.Lo, port, sport, seq, seq))
				} else {
					snd.Commit(s.tmpl.Write(buf, h.a4, port, sport, seq, ipid))
					ipid++
				}
			}
		}
		if err := snd.Flush(); err != nil {
			return err
		}
		c.mu.Lock()
		c.sent += uint64(len(batch))
		c.mu.Unlock()
	}
}

// holder is the output goroutine's side of control probes: hits of hosts
// whose control answer is not yet known wait here.
type holder struct {
	resolved map[host]bool // host → answers all ports
	pending  map[host]*pendingHost
	flagged  uint64 // hosts found to answer on every port
	hits     int    // hits held in pending
}

type pendingHost struct {
	hits     []hitlist.Hit
	deadline time.Time
}

func newHolder() *holder {
	return &holder{resolved: map[host]bool{}, pending: map[host]*pendingHost{}}
}

// hit takes a hit; it returns the hits that may go out now. The first hit
// of a host asks ctl for a control probe.
func (h *holder) hit(ev event, addr host, ctl *controller, now time.Time, out []hitlist.Hit) []hitlist.Hit {
	if all, ok := h.resolved[addr]; ok {
		ev.hit.AnswersAllPorts = all
		return append(out, ev.hit)
	}
	p := h.pending[addr]
	if p == nil {
		p = &pendingHost{deadline: now.Add(controlTimeout)}
		h.pending[addr] = p
		ctl.request(addr)
	}
	p.hits = append(p.hits, ev.hit)
	h.hits++
	return out
}

// resolve records addr's control answer and releases its hits.
func (h *holder) resolve(addr host, all bool, out []hitlist.Hit) []hitlist.Hit {
	if _, done := h.resolved[addr]; done {
		return out
	}
	h.resolved[addr] = all
	if all {
		h.flagged++
	}
	if p := h.pending[addr]; p != nil {
		for _, hit := range p.hits {
			hit.AnswersAllPorts = all
			out = append(out, hit)
		}
		h.hits -= len(p.hits)
		delete(h.pending, addr)
	}
	return out
}

// held appends the hits still waiting for their host's control answer.
func (h *holder) held(out []hitlist.Hit) []hitlist.Hit {
	for _, p := range h.pending {
		out = append(out, p.hits...)
	}
	return out
}

// expire releases the hits of hosts whose control port did not answer in
// time (or, with force, of every host still waiting): silence means the host
// does not answer on every port.
func (h *holder) expire(now time.Time, force bool, out []hitlist.Hit) []hitlist.Hit {
	for addr, p := range h.pending {
		if force || now.After(p.deadline) {
			out = h.resolve(addr, false, out)
		}
	}
	return out
}
