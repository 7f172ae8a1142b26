// Package pace holds a sender to a rate of packets per second.
//
// A Limiter is a token bucket written as a schedule: by time t since the
// start, rate·t packets (plus a small burst) may have been sent. Because the
// schedule is kept against the start of the scan and not from one send to
// the next, the average rate over a scan stays on target however coarse the
// operating system's sleeps are: a late wake-up is made good by a slightly
// larger batch, never lost. A sender that falls far behind (stopped by the
// scheduler, or a flow-controlled socket) does not then burst to catch up
// more than MaxDebt worth of packets: a network should never see a spike a
// multiple of the asked rate.
//
// A Limiter sleeps rather than spins, so a scan at 1,000 pps costs almost no
// CPU; it wakes at most about once per 5 ms, or per batch at rates where a
// batch takes less than that.
package pace

import (
	"math"
	"time"
)

// MaxDebt is how far, in time, a late sender may catch up in one burst.
const MaxDebt = 20 * time.Millisecond

// tick is the granularity of wake-ups: a sender wakes when a tick's worth of
// packets (at least one, at most the batch it asked for) may go. At 1,000
// pps that is five packets per wake-up; waking per packet cost 8% of a core
// in scheduler hand-offs (measured with scripts/bench.sh pace).
const tick = 5 * time.Millisecond

// Limiter paces one sender. It is not safe for concurrent use: each sender
// goroutine has its own, at its share of the rate.
type Limiter struct {
	perNS   float64 // packets per nanosecond; 0 means unlimited
	start   time.Time
	granted uint64  // packets granted since start (after debt adjustments)
	burst   float64 // packets that may go at once at the start
	maxDebt float64 // in packets

	now   func() time.Time
	sleep func(time.Duration)
	stop  <-chan struct{} // closed to end a Take early
	// sleepStop replaces the stoppable sleep in tests.
	sleepStop func(time.Duration, <-chan struct{}) bool
}

// New returns a Limiter for rate packets per second. A rate of 0 or less
// means no limit. burst is the number of packets that may go at once
// (typically the sender's batch size); no more than a tick's worth is used.
func New(rate float64, burst int) *Limiter {
	return newLimiter(rate, burst, time.Now, time.Sleep)
}

func newLimiter(rate float64, burst int, now func() time.Time, sleep func(time.Duration)) *Limiter {
	l := &Limiter{now: now, sleep: sleep}
	if rate > 0 {
		l.perNS = rate / 1e9
		// The start-up burst is what one wake-up would send anyway, so that
		// even a short scan at a low rate starts at its rate, not above it.
		l.burst = math.Min(float64(max(burst, 1)), math.Max(1, float64(tick)*l.perNS))
		l.maxDebt = max(l.burst, rate*MaxDebt.Seconds())
	}
	l.start = now()
	return l
}

// StopOn makes Take return 0 as soon as stop is closed, even in the middle
// of a long sleep: at a rate of one packet a minute, a scan must still end
// within moments of being asked to.
func (l *Limiter) StopOn(stop <-chan struct{}) { l.stop = stop }

// wait sleeps for d, or until the stop channel closes; it reports whether
// the sleep ran its course.
func (l *Limiter) wait(d time.Duration) bool {
	if l.stop == nil {
		l.sleep(d)
		return true
	}
	select {
	case <-l.stop:
		return false
	default:
	}
	if l.sleepStop != nil {
		return l.sleepStop(d, l.stop)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.stop:
		return false
	}
}

// Unlimited reports whether the Limiter lets everything through.
func (l *Limiter) Unlimited() bool { return l.perNS == 0 }

// Take blocks until at least one packet may be sent and returns how many
// (between 1 and n) may be sent now. The caller must send them, or account
// for unsent ones by calling Return. It returns 0 when the channel given to
// StopOn closes first.
func (l *Limiter) Take(n int) int {
	if l.perNS == 0 || n <= 0 {
		return n
	}
	// Wake when a tick's worth (at least 1, at most n) is allowed.
	want := math.Min(float64(n), math.Max(1, float64(tick)*l.perNS))
	for {
		elapsed := float64(l.now().Sub(l.start))
		avail := elapsed*l.perNS + l.burst - float64(l.granted)
		if avail > l.maxDebt {
			// Too far behind: forgive the excess rather than burst it.
			l.granted += uint64(avail - l.maxDebt)
			avail = l.maxDebt
		}
		if avail >= want {
			k := min(n, int(avail))
			l.granted += uint64(k)
			return k
		}
		wait := time.Duration(math.Min((want-avail)/l.perNS, math.MaxInt64/2))
		if !l.wait(max(wait, time.Microsecond)) {
			return 0
		}
	}
}

// Return gives back k packets granted by Take but not sent.
func (l *Limiter) Return(k int) {
	if l.perNS != 0 && k > 0 && uint64(k) <= l.granted {
		l.granted -= uint64(k)
	}
}

// Rate returns the packets per second the Limiter holds to, 0 if unlimited.
func (l *Limiter) Rate() float64 { return l.perNS * 1e9 }

// BandwidthToRate converts a bandwidth in bits per second to a packet rate for
// frames of frameLen bytes, counting what each frame costs on an Ethernet
// wire: padding to the 60-byte minimum, the 4-byte FCS, and the 8-byte
// preamble and 12-byte inter-frame gap.
func BandwidthToRate(bitsPerSecond float64, frameLen int) float64 {
	wire := max(frameLen, 60) + 4 + 8 + 12
	return bitsPerSecond / float64(wire*8)
}
