package pace

import (
	"math"
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
		// The last packet may leave no earlier than (total-burst)/rate.
		elapsed := c.t.Sub(time.Unix(1e9, 0)).Seconds()
		got := float64(total) / elapsed
		if d := math.Abs(got-tt.rate) / tt.rate; d > 0.02 && total > 100 {
			t.Errorf("rate %v batch %d lag %v: achieved %.1f pps (%.2f%% off)", tt.rate, tt.batch, tt.lag, got, d*100)
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
