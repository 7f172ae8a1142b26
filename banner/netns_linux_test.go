package banner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailscan/scripts/lab/labtest"
)

// The integration tests run real TCP, but only inside a private network
// namespace: the test re-executes its own binary under `unshare --net`
// with netnsEnv set; the child brings up lo with 198.18.64.1/24 (the whole
// /24 is then local, AnyIP), and the namespace dies with the child. No
// packet reaches the host's interfaces, and every address is in
// 198.18.0.0/15.
const netnsEnv = "MAILSCAN_BANNER_NETNS"

const (
	nsPrefix    = "198.18.64.1/24" // on lo in the child: 198.18.64.0/24 is all local
	nsBlackhole = "198.18.65.0/24" // routed to lo, not local: SYNs vanish
)

func inNetNS() bool { return os.Getenv(netnsEnv) == "1" }

// needRoot skips a test that needs root and the tools of a namespace,
// except under CI=true, where a skip would hide that the lab did not run:
// there it fails (labtest decides).
func needRoot(tb testing.TB) {
	tb.Helper()
	labtest.NeedRoot(tb, "unshare", "ip")
}

// reexecInNetNS runs this test binary with args in a fresh network
// namespace and returns its combined output.
func reexecInNetNS(tb testing.TB, timeout time.Duration, args ...string) (string, error) {
	tb.Helper()
	needRoot(tb)
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--net", "--", exe}, args...)...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var (
	setupOnce sync.Once
	setupErr  error
)

// setupNetNS prepares the child's namespace, once per process (benchmarks
// run several times), after making sure it is a private one: a namespace
// with any interface but lo is not ours.
func setupNetNS(tb testing.TB) {
	tb.Helper()
	if !inNetNS() {
		tb.Fatal("setupNetNS outside the namespace child")
	}
	setupOnce.Do(func() {
		ifs, err := net.Interfaces()
		if err != nil {
			setupErr = err
			return
		}
		if len(ifs) != 1 || ifs[0].Name != "lo" {
			setupErr = fmt.Errorf("refusing to run: not in a private network namespace (interfaces %v)", ifs)
			return
		}
		for _, args := range [][]string{
			{"link", "set", "lo", "up"},
			{"addr", "add", nsPrefix, "dev", "lo"},
			{"route", "add", nsBlackhole, "dev", "lo"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				setupErr = fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
				return
			}
		}
	})
	if setupErr != nil {
		tb.Fatal(setupErr)
	}
}

// tcpTransport serves a hostile case on a real listener in the namespace.
func tcpTransport(t *testing.T, hc hostileCase) (func(context.Context, string, string) (net.Conn, error), Target, func() int64, func()) {
	var read atomic.Int64
	d := &net.Dialer{KeepAlive: -1}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countConn{Conn: c, n: &read}, nil
	}
	target := Target{Addr: netip.MustParseAddr("198.18.64.1"), Protocol: hc.proto}
	switch hc.mode {
	case dialRefuse:
		target.Port = 9 // nothing listens
		return dial, target, read.Load, func() {}
	case dialBlackhole:
		target.Addr, target.Port = netip.MustParseAddr("198.18.65.1"), 25
		return dial, target, read.Load, func() {}
	}
	ln, err := net.Listen("tcp", "198.18.64.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target.Port = uint16(ln.Addr().(*net.TCPAddr).Port)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				hc.serve(c)
			})
		}
	})
	return dial, target, read.Load, func() { ln.Close(); wg.Wait() }
}

// TestIntegrationHostileTCP runs the hostile-server table over real
// sockets (in a private network namespace), adding what only TCP has: a
// RST on connect and a SYN that is never answered.
func TestIntegrationHostileTCP(t *testing.T) {
	if !inNetNS() {
		out, err := reexecInNetNS(t, 2*time.Minute, "-test.run=^TestIntegrationHostileTCP$", "-test.v", "-test.count=1")
		if err != nil {
			t.Fatalf("in the namespace: %v\n%s", err, out)
		}
		if !strings.Contains(out, "--- PASS: TestIntegrationHostileTCP") {
			t.Fatalf("the namespace run did not pass:\n%s", out)
		}
		t.Logf("in the namespace:\n%s", out)
		return
	}
	setupNetNS(t)
	runHostile(t, tcpTransport)
}

// ---- benchmarks in the namespace ----

var benchLine = regexp.MustCompile(`(?m)^Benchmark\S+\s+(\d+)\s+(.*)$`)

// proxyBench runs benchmark name in a namespace child with the same b.N and
// reports the child's metrics as its own. Run it with -benchtime=Nx to
// choose the number of targets (e.g. -benchtime=20000x).
func proxyBench(b *testing.B, name string) {
	out, err := reexecInNetNS(b, 10*time.Minute, "-test.run=^$", "-test.bench=^"+name+"$",
		"-test.benchtime="+strconv.Itoa(b.N)+"x", "-test.benchmem", "-test.count=1")
	if err != nil {
		b.Fatalf("in the namespace: %v\n%s", err, out)
	}
	m := benchLine.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("no benchmark line from the namespace:\n%s", out)
	}
	fields := strings.Fields(m[2])
	for i := 0; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			continue
		}
		b.ReportMetric(v, fields[i+1])
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "netns_linux_test.go") {
			b.Log(strings.TrimSpace(l))
		}
	}
}

// BenchmarkIntegrationPool measures targets per second over real TCP:
// concurrency 1000, half of the targets over implicit TLS (ECDSA P-256,
// TLS 1.3), against tiny in-process IMAP servers on 16 addresses of
// 198.18.64.0/24, in a private network namespace. Client and servers share
// the machine's cores. It fails unless every target succeeded: targets/s
// counts successful grabs only.
func BenchmarkIntegrationPool(b *testing.B) {
	if !inNetNS() {
		proxyBench(b, "BenchmarkIntegrationPool")
		return
	}
	setupNetNS(b)
	if _, err := RaiseFileLimit(8192); err != nil {
		b.Fatal(err)
	}
	p := mustPKI(b)
	serve := greeter(serverTLS(p.leaf))
	var wg sync.WaitGroup
	var lns []net.Listener
	for i := 1; i <= 16; i++ {
		for _, port := range []int{143, 993} {
			addr := fmt.Sprintf("198.18.64.%d:%d", i, port)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			lns = append(lns, ln)
			wg.Go(func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					wg.Go(func() {
						defer c.Close()
						serve(addr, c)
					})
				}
			})
		}
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
		wg.Wait()
	}()

	s, err := NewScanner(&Config{EHLOName: "scanner.example.test", RootCAs: p.roots, Policy: labPolicy()})
	if err != nil {
		b.Fatal(err)
	}
	in := make(chan Target)
	go func() {
		defer close(in)
		for i := range b.N {
			port := uint16(143)
			if i%2 == 1 {
				port = 993
			}
			in <- Target{Addr: netip.AddrFrom4([4]byte{198, 18, 64, byte(1 + (i/2)%16)}), Port: port}
		}
	}()
	var stats Stats
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := Run(context.Background(), s, PoolConfig{Concurrency: 1000, Stats: &stats}, in, func(*Result) {}); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	snap := stats.Snapshot()
	// A rate of failures is no rate: every target must have succeeded
	// for targets/s to mean grabs per second.
	if snap.Done != int64(b.N) || snap.Success != int64(b.N) {
		b.Fatalf("%d of %d targets done, %d successes (statuses %v); want every one a success", snap.Done, b.N, snap.Success, snap.ByStatus)
	}
	b.ReportMetric(float64(snap.Success)/elapsed.Seconds(), "targets/s")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
}

// BenchmarkIntegrationTarpit measures memory with 10,000 connections in
// flight to a tarpit: listeners that never accept (connections complete in
// the kernel and wait in a 65535-deep queue) on ports 143 and 993, so every
// scan blocks on the greeting or on the ServerHello. It runs once whatever
// b.N, and reports the peak RSS and the Go heap and stacks at the peak.
func BenchmarkIntegrationTarpit(b *testing.B) {
	if !inNetNS() {
		proxyBench(b, "BenchmarkIntegrationTarpit")
		return
	}
	setupNetNS(b)
	tarpitOnce.Do(func() { tarpitMetrics, tarpitErr = measureTarpit(b) })
	if tarpitErr != nil {
		b.Fatal(tarpitErr)
	}
	for _, m := range tarpitMetrics {
		b.ReportMetric(m.v, m.unit)
	}
}

type metric struct {
	v    float64
	unit string
}

var (
	tarpitOnce    sync.Once
	tarpitMetrics []metric
	tarpitErr     error
)

func measureTarpit(b *testing.B) ([]metric, error) {
	const conns = 10000
	// Per namespace; read by package net at its first Listen, so it must
	// come before any listener of this process.
	if err := os.WriteFile("/proc/sys/net/core/somaxconn", []byte("65535"), 0o644); err != nil {
		return nil, err
	}
	if got, err := RaiseFileLimit(conns + 1024); err != nil {
		return nil, fmt.Errorf("open-file limit %d: %w", got, err)
	}
	for i := 1; i <= 4; i++ {
		for _, port := range []int{143, 993} {
			ln, err := net.Listen("tcp", fmt.Sprintf("198.18.64.%d:%d", i, port))
			if err != nil {
				return nil, err
			}
			defer ln.Close()
		}
	}
	s, err := NewScanner(&Config{ReadTimeout: 5 * time.Minute, TargetTimeout: 5 * time.Minute, EHLOName: "scanner.example.test", Policy: labPolicy()})
	if err != nil {
		return nil, err
	}
	runtime.GC()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan Target)
	go func() {
		defer close(in)
		for i := range conns {
			port := uint16(143)
			if i%2 == 1 {
				port = 993
			}
			select {
			case in <- Target{Addr: netip.AddrFrom4([4]byte{198, 18, 64, byte(1 + (i/2)%4)}), Port: port}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var stats Stats
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- Run(ctx, s, PoolConfig{Concurrency: conns, Stats: &stats}, in, func(*Result) {}) }()

	// Wait until every connection is established (client side, in
	// /proc/net/tcp) and the scans block, then sample.
	deadline := time.Now().Add(2 * time.Minute)
	for established() < conns {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d connections established; statuses %v", established(), conns, stats.Snapshot().ByStatus)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ramp := time.Since(start)
	time.Sleep(time.Second)
	var at runtime.MemStats
	runtime.ReadMemStats(&at)
	inflight := stats.Snapshot().InFlight
	rss := peakRSS()
	if path := os.Getenv("MAILSCAN_BANNER_HEAPPROFILE"); path != "" {
		// A heap profile at the peak, for `go tool pprof`.
		if f, err := os.Create(path); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	cancel()
	<-done
	b.StopTimer()
	if inflight != conns {
		return nil, fmt.Errorf("%d scans in flight at the sample, want %d", inflight, conns)
	}
	b.Logf("%d connections in flight: peak RSS %.1f MiB, heap in use %.1f MiB, stacks %.1f MiB (ramp %v)",
		conns, float64(rss)/(1<<20), float64(at.HeapInuse)/(1<<20), float64(at.StackInuse)/(1<<20), ramp.Round(time.Millisecond))
	return []metric{
		{float64(rss) / (1 << 20), "peak-RSS-MiB"},
		{float64(at.HeapInuse) / (1 << 20), "heap-inuse-MiB"},
		{float64(at.StackInuse) / (1 << 20), "stack-inuse-MiB"},
		{float64(at.Sys) / (1 << 20), "go-sys-MiB"},
		{float64(conns) / ramp.Seconds(), "connects/s"},
	}, nil
}

// established counts client-side established TCP connections to ports 143
// and 993 in this namespace.
func established() int {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st ...
		if len(f) < 4 || f[3] != "01" {
			continue
		}
		if strings.HasSuffix(f[2], ":008F") || strings.HasSuffix(f[2], ":03E1") {
			n++
		}
	}
	return n
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
