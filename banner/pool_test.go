package banner

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// greeter is a tiny IMAP server for pool tests and benchmarks: greeting,
// CAPABILITY, LOGOUT; on IMAPS the same inside TLS.
func greeter(tlsCfg *tls.Config) func(addr string, c net.Conn) {
	return func(addr string, c net.Conn) {
		if strings.HasSuffix(addr, ":993") {
			tc := tls.Server(c, tlsCfg)
			if tc.Handshake() != nil {
				return
			}
			c = tc
		}
		if _, err := io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready\r\n"); err != nil {
			return
		}
		miniIMAP(c, "IMAP4rev1 LOGINDISABLED", nil)
	}
}

// feed sends n targets, alternating port 143 and 993 when tlsHalf is set,
// over addresses of 198.18.64.0/24, and closes the channel.
func feed(ctx context.Context, n int, tlsHalf bool) <-chan Target {
	ch := make(chan Target)
	go func() {
		defer close(ch)
		for i := range n {
			port := uint16(143)
			if tlsHalf && i%2 == 1 {
				port = 993
			}
			t := Target{Addr: netip.AddrFrom4([4]byte{198, 18, 64, byte(1 + i%254)}), Port: port}
			select {
			case ch <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

func TestRun(t *testing.T) {
	base := runtime.NumGoroutine()
	p := mustPKI(t)
	g := greeter(serverTLS(p.leaf))
	m := &memNet{serve: func(addr string, c net.Conn) {
		switch {
		case strings.HasPrefix(addr, "198.18.64.7:"):
			return // closes at once
		case addr == "198.18.64.9:143":
			io.WriteString(c, "220 not imap\r\n")
			drain(c)
			return
		}
		time.Sleep(2 * time.Millisecond) // keep several in flight
		g(addr, c)
	}}
	cfg := testConfig(m)
	cfg.RootCAs = p.roots
	s, err := NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stats Stats
	var (
		results []*Result // out is serialized: no lock needed
		inOut   atomic.Int32
		overlap atomic.Bool
	)
	const n, conc = 300, 8
	err = Run(context.Background(), s, PoolConfig{Concurrency: conc, Stats: &stats}, feed(context.Background(), n, true), func(r *Result) {
		if inOut.Add(1) != 1 {
			overlap.Store(true)
		}
		defer inOut.Add(-1)
		results = append(results, r)
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	m.wait()
	if overlap.Load() {
		t.Error("out was called concurrently")
	}
	if len(results) != n {
		t.Fatalf("%d results, want %d", len(results), n)
	}
	if got := m.maxOpen.Load(); got > conc || got < 2 {
		t.Errorf("%d connections at once, want 2..%d", got, conc)
	}
	want := map[Status]int64{}
	for _, r := range results {
		want[r.Status]++
		switch {
		case strings.HasSuffix(r.IP.String(), ".7"):
			if r.Status != StatusClosed && r.Status != StatusTLSError {
				t.Errorf("%s:%d: status %q", r.IP, r.Port, r.Status)
			}
		case strings.HasSuffix(r.IP.String(), ".9") && r.Port == 143:
			if r.Status != StatusProtocolError {
				t.Errorf("%s:%d: status %q", r.IP, r.Port, r.Status)
			}
		default:
			if r.Status != StatusSuccess {
				t.Errorf("%s:%d: status %q (%s)", r.IP, r.Port, r.Status, r.Error)
			}
		}
	}
	snap := stats.Snapshot()
	if snap.Started != n || snap.Done != n || snap.InFlight != 0 || snap.Success != want[StatusSuccess] {
		t.Errorf("snapshot = %+v", snap)
	}
	for _, st := range Statuses() {
		if snap.ByStatus[st] != want[st] {
			t.Errorf("by_status[%s] = %d, want %d", st, snap.ByStatus[st], want[st])
		}
	}
	settleGoroutines(t, base)
}

// TestRunCanceled: canceling Run aborts the scans in flight, delivers their
// results, and leaves nothing running.
func TestRunCanceled(t *testing.T) {
	base := runtime.NumGoroutine()
	m := &memNet{serve: func(_ string, c net.Conn) { drain(c) }}
	cfg := testConfig(m)
	cfg.ReadTimeout, cfg.TargetTimeout = time.Hour, time.Hour
	s, err := NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stats Stats
	ctx, cancel := context.WithCancel(context.Background())
	var delivered atomic.Int64
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, s, PoolConfig{Concurrency: 50, Stats: &stats}, feed(ctx, 1000, false), func(r *Result) {
			if r.Status != StatusIOTimeout {
				t.Errorf("status %q (%s), want io-timeout", r.Status, r.Error)
			}
			delivered.Add(1)
		})
	}()
	for m.dials.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	snap := stats.Snapshot()
	if snap.Started != 50 || snap.Done != 50 || delivered.Load() != 50 {
		t.Fatalf("started %d done %d delivered %d; want 50 each", snap.Started, snap.Done, delivered.Load())
	}
	m.wait()
	settleGoroutines(t, base)
}

func TestRunBadConfig(t *testing.T) {
	s, err := NewScanner(nil)
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan Target)
	out := func(*Result) {}
	tests := []struct {
		name string
		s    *Scanner
		cfg  PoolConfig
		in   chan Target
		out  func(*Result)
		want string
	}{
		{"no scanner", nil, PoolConfig{}, in, out, "needs a Scanner"},
		{"no out", s, PoolConfig{}, in, nil, "needs a Scanner"},
		{"no in", s, PoolConfig{}, nil, out, "needs a Scanner"},
		{"negative concurrency", s, PoolConfig{Concurrency: -1}, in, out, "concurrency -1 is negative"},
		{"negative rate", s, PoolConfig{Rate: -5}, in, out, "rate -5"},
		{"NaN rate", s, PoolConfig{Rate: nan()}, in, out, "rate NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inCh <-chan Target
			if tt.in != nil {
				inCh = tt.in
			}
			err := Run(context.Background(), tt.s, tt.cfg, inCh, tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "banner: ") {
				t.Fatalf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestPacerSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name string
		rate float64
		at   []time.Duration // call times, relative to t0
		want []time.Duration // delays returned
	}{
		{
			name: "100/s from idle: one at once, then 10ms apart",
			rate: 100,
			at:   []time.Duration{0, 0, 0, 0},
			want: []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond},
		},
		{
			name: "1000/s: a 10ms burst, then 1ms apart",
			rate: 1000,
			at:   []time.Duration{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			want: []time.Duration{-9 * time.Millisecond, -8 * time.Millisecond, -7 * time.Millisecond, -6 * time.Millisecond, -5 * time.Millisecond, -4 * time.Millisecond, -3 * time.Millisecond, -2 * time.Millisecond, -time.Millisecond, 0, time.Millisecond, 2 * time.Millisecond},
		},
		{
			name: "an idle spell banks at most the burst",
			rate: 100,
			at:   []time.Duration{0, 10 * time.Second, 10 * time.Second},
			want: []time.Duration{0, 0, 10 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(tt.rate)
			for i, at := range tt.at {
				if got := p.reserve(t0.Add(at)); got != tt.want[i] {
					t.Fatalf("call %d at %v: delay %v, want %v", i, at, got, tt.want[i])
				}
			}
		})
	}
	if newPacer(0) != nil {
		t.Fatal("rate 0 must mean no pacer")
	}
}

// TestRunPaced checks that a rate-limited Run still completes and counts;
// the rate itself is measured by benchmarks, not asserted.
func TestRunPaced(t *testing.T) {
	m := &memNet{serve: func(_ string, c net.Conn) {}}
	s, err := NewScanner(testConfig(m))
	if err != nil {
		t.Fatal(err)
	}
	var stats Stats
	if err := Run(context.Background(), s, PoolConfig{Concurrency: 4, Rate: 2000, Stats: &stats}, feed(context.Background(), 40, false), func(*Result) {}); err != nil {
		t.Fatal(err)
	}
	m.wait()
	if snap := stats.Snapshot(); snap.Done != 40 || snap.ByStatus[StatusClosed] != 40 {
		t.Fatalf("snapshot = %+v", snap)
	}
}

func TestStatsRecordAllocs(t *testing.T) {
	var s Stats
	if n := testing.AllocsPerRun(1000, func() { s.record(StatusIOTimeout) }); n != 0 {
		t.Fatalf("Stats.record allocates %v times", n)
	}
	p := newPacer(1e9)
	if n := testing.AllocsPerRun(1000, func() { p.reserve(time.Now()) }); n != 0 {
		t.Fatalf("pacer.reserve allocates %v times", n)
	}
}

// BenchmarkPool scans over the in-memory transport against the greeter
// with concurrency 1000, half of the targets over implicit TLS. It measures
// the client and the in-process servers together.
func BenchmarkPool(b *testing.B) {
	p := mustPKI(b)
	srv := serverTLS(p.leaf)
	m := &memNet{serve: greeter(srv)}
	cfg := &Config{ReadTimeout: 10 * time.Second, TargetTimeout: 30 * time.Second, EHLOName: "scanner.example.test", Dial: m.Dial, RootCAs: p.roots, Policy: labPolicy()}
	s, err := NewScanner(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var stats Stats
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := Run(context.Background(), s, PoolConfig{Concurrency: 1000, Stats: &stats}, feed(context.Background(), b.N, true), func(*Result) {}); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	m.wait()
	snap := stats.Snapshot()
	if snap.Success != int64(b.N) {
		b.Fatalf("%d of %d succeeded: %+v", snap.Success, b.N, snap.ByStatus)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "targets/s")
}
