package syn

import (
	"fmt"
	"strings"
	"time"
)

// Summary is what a scan did, for the --metadata file and the last words on
// stderr.
type Summary struct {
	Start       time.Time `json:"start"`
	SendEnd     time.Time `json:"send_end"`
	End         time.Time `json:"end"`
	Interrupted bool      `json:"interrupted"`

	Route       Route   `json:"route"`
	GatewayMAC  string  `json:"gateway_mac"`
	GatewayMAC6 string  `json:"gateway_mac6,omitempty"`
	SendMode    string  `json:"send_mode"`
	Seed        uint64  `json:"seed"`
	Shard       uint64  `json:"shard"`
	Shards      uint64  `json:"shards"`
	Senders     int     `json:"senders"`
	Rate        float64 `json:"rate"`
	Probes      int     `json:"probes"`
	// Cycle records the permutation, so that a run can be checked against
	// another or resumed.
	Cycle CycleInfo `json:"cycle"`

	// Targets is the size of the whole target space (all shards).
	Targets uint64 `json:"targets"`
	// Probed is the number of targets this run probed.
	Probed uint64 `json:"probed"`
	// Sent is the number of packets sent (Probed × probes per target).
	Sent uint64 `json:"sent"`
	// Blocked counts destinations the last-moment blocklist check stopped;
	// anything but 0 is a bug in the target set.
	Blocked uint64 `json:"blocked"`

	Frames uint64 `json:"frames"`
	// Foreign counts frames to our address but not to a probe's port: the
	// host's own connections.
	Foreign uint64 `json:"foreign"`
	// SendRate is the average rate over the sending time, packets/s.
	SendRate float64 `json:"send_rate"`

	Replies     uint64 `json:"replies"`
	Open        uint64 `json:"open"`
	Closed      uint64 `json:"closed"`
	Duplicates  uint64 `json:"duplicates"`
	Invalid     uint64 `json:"invalid"`
	KernelDrops uint64 `json:"kernel_drops"`

	// ControlProbes is the number of hosts whose control port was probed;
	// AnswersAllPorts the number of them that answered there too.
	ControlProbes   uint64 `json:"control_probes,omitempty"`
	AnswersAllPorts uint64 `json:"answers_all_ports,omitempty"`

	// Positions are each sender's positions in its part of the cycle when
	// the run ended: what --resume continues from.
	Positions []uint64 `json:"positions"`
	// Complete is true when every sender walked its whole part.
	Complete bool `json:"complete"`
}

// CycleInfo describes a permutation: index space N, prime P, generator G,
// first element Start.
type CycleInfo struct {
	N     uint64 `json:"n"`
	P     uint64 `json:"p"`
	G     uint64 `json:"g"`
	Start uint64 `json:"start"`
}

func (s *Scanner) fill(sum *Summary) {
	c := &s.cfg
	sum.End = time.Now().UTC()
	sum.Route = s.route
	sum.GatewayMAC = s.route.GatewayMAC.String()
	if s.route.GatewayMAC6 != nil {
		sum.GatewayMAC6 = s.route.GatewayMAC6.String()
	}
	sum.SendMode = s.mode.Load().(string)
	sum.Seed, sum.Shard, sum.Shards = c.Seed, c.Shard, c.Shards
	sum.Senders, sum.Rate, sum.Probes = c.Senders, c.Rate, c.Probes
	rs := s.ResumeState()
	sum.Cycle, sum.Positions, sum.Complete = rs.Cycle, rs.Positions, rs.Complete
	sum.Targets = s.space.Len()
	for i := range s.senders {
		st := &s.senders[i]
		sum.Sent += st.sent.Load()
		sum.Probed += st.targets.Load()
		sum.Blocked += st.blocked.Load()
	}
	if d := sum.SendEnd.Sub(sum.Start).Seconds(); d > 0 {
		sum.SendRate = float64(sum.Sent) / d
	}
	if s.ctl != nil {
		s.ctl.mu.Lock()
		sum.ControlProbes = s.ctl.sent
		s.ctl.mu.Unlock()
		sum.AnswersAllPorts = s.flagged.Load()
	}
	r := &s.recv
	sum.Frames, sum.Foreign, sum.Replies = r.frames.Load(), r.foreign.Load(), r.replies.Load()
	sum.Open, sum.Closed = r.open.Load(), r.closed.Load()
	sum.Duplicates, sum.Invalid, sum.KernelDrops = r.duplicates.Load(), r.invalid.Load(), r.drops.Load()
}

// Progress is a snapshot of a running scan, for the status line.
type Progress struct {
	Elapsed  time.Duration
	Done     float64 // fraction of this run's cycle positions walked
	Sent     uint64  // packets
	SendRate float64 // packets/s over the last interval
	AvgRate  float64 // packets/s since the start
	Probed   uint64
	Replies  uint64
	Open     uint64
	Closed   uint64
	Drops    uint64
	Queued   int // hits waiting for output
	ETA      time.Duration
	Mode     string
	Cooldown bool
	// Paused is true while the senders wait for the hits' consumer.
	Paused bool
}

// String formats the status line:
//
//	0:12 41% (0:17 left); send: 491520 40.9 Kp/s (40.9 Kp/s avg) af_xdp; recv: 215 replies, 212 open 3 closed; hitrate 0.04%; drops: 0
func (p Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %.0f%%", clock(p.Elapsed), p.Done*100)
	if p.Cooldown {
		b.WriteString(" (cooldown)")
	} else if p.ETA > 0 {
		fmt.Fprintf(&b, " (%s left)", clock(p.ETA))
	}
	fmt.Fprintf(&b, "; send: %d %s (%s avg)", p.Sent, rate(p.SendRate), rate(p.AvgRate))
	if p.Mode != "" {
		b.WriteString(" " + p.Mode)
	}
	fmt.Fprintf(&b, "; recv: %d replies, %d open %d closed", p.Replies, p.Open, p.Closed)
	hitrate := 0.0
	if p.Probed > 0 {
		hitrate = float64(p.Open) / float64(p.Probed) * 100
	}
	fmt.Fprintf(&b, "; hitrate %.2f%%; drops: %d", hitrate, p.Drops)
	if p.Queued > 0 {
		fmt.Fprintf(&b, "; output backlog %d", p.Queued)
	}
	if p.Paused {
		b.WriteString("; paused: waiting for the hits' consumer")
	}
	return b.String()
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

func rate(pps float64) string {
	switch {
	case pps >= 1e6:
		return fmt.Sprintf("%.2f Mp/s", pps/1e6)
	case pps >= 1e3:
		return fmt.Sprintf("%.1f Kp/s", pps/1e3)
	}
	return fmt.Sprintf("%.0f p/s", pps)
}

// progressLoop calls Config.Progress once a second until stop is closed.
func (s *Scanner) progressLoop(start time.Time, stop <-chan struct{}) {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	var total uint64
	for i := range s.iters {
		total += s.iters[i].Len()
	}
	var lastSent uint64
	last := start
	for {
		select {
		case <-stop:
			return
		case now := <-tk.C:
			p := s.snapshot(now.Sub(start), total)
			if dt := now.Sub(last).Seconds(); dt > 0 {
				p.SendRate = float64(p.Sent-lastSent) / dt
			}
			lastSent, last = p.Sent, now
			s.cfg.Progress(p)
		}
	}
}

func (s *Scanner) snapshot(elapsed time.Duration, total uint64) Progress {
	p := Progress{Elapsed: elapsed, Mode: s.mode.Load().(string), Cooldown: s.cooling.Load()}
	var pos uint64
	for i := range s.senders {
		st := &s.senders[i]
		p.Sent += st.sent.Load()
		p.Probed += st.targets.Load()
		pos += st.pos.Load()
	}
	if total > 0 {
		p.Done = float64(pos) / float64(total)
	}
	if s.cfg.MaxTargets > 0 {
		p.Done = max(p.Done, float64(p.Probed)/float64(s.cfg.MaxTargets))
	}
	p.Done = min(p.Done, 1)
	sending := elapsed
	if d := time.Duration(s.sendDur.Load()); d > 0 {
		sending = d // in the cooldown: the average of the sending time
	}
	if sending > 0 {
		p.AvgRate = float64(p.Sent) / sending.Seconds()
	}
	// A resumed run walked part of the cycle before this one started: the
	// ETA comes from this run's own pace.
	if walked := pos - s.startPos; walked > 0 && !p.Cooldown && pos <= total {
		p.ETA = time.Duration(float64(elapsed)*float64(total-pos)/float64(walked)) + s.cfg.Cooldown
	}
	r := &s.recv
	p.Replies, p.Open, p.Closed, p.Drops = r.replies.Load(), r.open.Load(), r.closed.Load(), r.drops.Load()
	p.Queued = s.backlog()
	p.Paused = s.paused.Load()
	return p
}
