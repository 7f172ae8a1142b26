package pace

import (
	"testing"
	"time"
)

// fakeClock advances only when the Limiter sleeps, plus a fixed cost per
// call to now, so tests are exact and independent of the machine's load.
type fakeClock struct {
	t     time.Time
	slept time.Duration
	wakes int
	lag   time.Duration // added to every sleep, as an OS that wakes late
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(d time.Duration) {
	c.t = c.t.Add(d + c.lag)
	c.slept += d + c.lag
	c.wakes++
}

func TestLimiterHoldsRate(t *testing.T) {
	for _, tt := range []struct {
		rate  float64
		batch int
		lag   time.Duration
	}{
		{1000, 1, 0}, {1000, 64, 0}, {1000, 64, 300 * time.Microsecond},
		{100_000, 64, 0}, {1_000_000, 64, 0}, {1_000_000, 256, 200 * time.Microsecond},
		{2_500_000, 64, 80 * time.Microsecond}, {7, 16, 0},
	} {
		c := &fakeClock{t: time.Unix(1e9, 0), lag: tt.lag}
		l := newLimiter(tt.rate, tt.batch, c.now, c.sleep)
		total := int(tt.rate * 2) // two simulated seconds of packets
		if total < 10 {
			total = 10
		}
		sent := 0
		maxBatch := 0
		for sent < total {
			k := l.Take(min(tt.batch, total-sent))
			if k < 1 || k > tt.batch {
				t.Fatalf("rate %v: Take gave %d", tt.rate, k)
			}
			maxBatch = max(maxBatch, k)
			sent += k
		}
		// The last packet leaves at (total-burst)/rate: never earlier, and
		// later only by the last wake-up's granularity and lateness. This
		// holds at every rate, down to a few packets a second.
		elapsed := c.t.Sub(time.Unix(1e9, 0)).Seconds()
		// The start-up burst is at most a tick's worth (at least one packet).
		burst := min(float64(tt.batch), max(1, tick.Seconds()*tt.rate))
		want := (float64(total) - burst) / tt.rate
		if slack := (tick + 2*tt.lag + time.Millisecond).Seconds(); elapsed < want-1e-6 || elapsed > want+slack {
			t.Errorf("rate %v batch %d lag %v: last packet after %.6fs, want %.6fs (+%.6fs)", tt.rate, tt.batch, tt.lag, elapsed, want, slack)
		}
		// Never spin: at most about one wake-up per millisecond of the scan
		// or per packet at low rates.
		if maxWakes := int(elapsed*1000) + total + 2; c.wakes > maxWakes {
			t.Errorf("rate %v: %d wake-ups over %.3fs", tt.rate, c.wakes, elapsed)
		}
	}
}

func TestLimiterDebtIsForgiven(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	l := newLimiter(1_000_000, 64, c.now, c.sleep)
	l.Take(64)
	c.t = c.t.Add(time.Second) // the sender was stopped for a second
	burst := 0
	for {
		before := c.wakes
		burst += l.Take(64)
		if c.wakes != before {
			break
		}
	}
	// At most MaxDebt worth (20,000 packets) plus one batch go without a pause.
	if limit := int(1_000_000*MaxDebt.Seconds()) + 64*2; burst > limit {
		t.Errorf("burst after a stall = %d packets, want <= %d", burst, limit)
	}
}

func TestUnlimited(t *testing.T) {
	l := New(0, 64)
	if !l.Unlimited() || l.Take(64) != 64 {
		t.Fatal("rate 0 must not limit")
	}
}

func TestReturn(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	l := newLimiter(1000, 10, c.now, c.sleep)
	k := l.Take(10)
	l.Return(k)
	if k2 := l.Take(10); k2 != k || c.wakes != 0 {
		t.Errorf("after Return, Take gave %d (wakes %d), want %d at once", k2, c.wakes, k)
	}
}

func TestBandwidthToRate(t *testing.T) {
	// A 54-byte SYN costs 60+4+8+12 = 84 bytes = 672 bits on the wire.
	if got := BandwidthToRate(672_000_000, 54); got != 1_000_000 {
		t.Errorf("got %v", got)
	}
	if got := BandwidthToRate(8*(74+24)*1000, 74); got != 1000 {
		t.Errorf("got %v", got)
	}
}

func BenchmarkTakeUnlimited(b *testing.B) {
	l := New(0, 64)
	b.ReportAllocs()
	for b.Loop() {
		l.Take(64)
	}
}

func BenchmarkTakeHighRate(b *testing.B) {
	l := New(1e12, 64)
	b.ReportAllocs()
	for b.Loop() {
		l.Take(64)
	}
}

// TestTakeStops: a Take sleeping toward a packet minutes away returns 0 as
// soon as the stop channel closes.
func TestTakeStops(t *testing.T) {
	c := &fakeClock{t: time.Unix(1e9, 0)}
	l := newLimiter(1.0/600, 1, c.now, c.sleep) // one packet per ten minutes
	stop := make(chan struct{})
	l.StopOn(stop)
	var slept time.Duration
	sleeping := make(chan struct{})
	l.sleepStop = func(d time.Duration, stop <-chan struct{}) bool {
		slept = d
		close(sleeping)
		<-stop
		return false
	}
	if k := l.Take(1); k != 1 {
		t.Fatalf("first Take = %d, want the start-up packet", k)
	}
	done := make(chan int)
	go func() { done <- l.Take(1) }()
	<-sleeping
	close(stop)
	if k := <-done; k != 0 {
		t.Fatalf("Take after stop = %d, want 0", k)
	}
	if slept < 9*time.Minute {
		t.Errorf("the stopped sleep was %v, want about ten minutes", slept)
	}
	if k := l.Take(1); k != 0 {
		t.Errorf("Take with stop already closed = %d, want 0", k)
	}
}
