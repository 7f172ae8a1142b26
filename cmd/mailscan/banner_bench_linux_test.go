package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The banner stage's throughput in the lab. The figures are reported, not
// asserted (timing belongs to benchmarks); what is asserted is that they
// mean what they say: every target of the run succeeded, in mailscan and in
// the reference client alike, and nothing failed silently.
//
//	sudo go test -run '^$' -bench BenchmarkIntegrationBanner -benchtime 1x ./cmd/mailscan

// BenchmarkIntegrationBannerDovecot compares mailscan banner's rate against
// the lab's Dovecot with the rate Dovecot itself sustains, measured by a
// plain reference client running the same dialogue at the same concurrency.
// The targets are 3,200 distinct pairs (mailscan grabs a pair once): 800
// addresses of the open service range, which reaches the target namespace
// unfiltered, on Dovecot's four ports (IMAP, POP3, IMAPS, POP3S).
func BenchmarkIntegrationBannerDovecot(b *testing.B) {
	l := needLab(b)
	var list []string
	addr := netip.MustParsePrefix(l.get("LAB_SERVICE_RANGE")).Addr()
	for range 800 {
		addr = addr.Next()
		for _, p := range strings.Split(l.get("LAB_PORTS"), ",") {
			list = append(list, addr.String()+":"+p)
		}
	}
	in := filepath.Join(l.dir, "dovecot-targets.txt")
	if err := os.WriteFile(in, []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	const conc = "200"

	for range b.N {
		// The reference client.
		self, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		ref := exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), self)
		ref.Env = append(os.Environ(), "MAILSCAN_TEST_ROLE=refclient", "MAILSCAN_REF_CONCURRENCY="+conc)
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		ref.Stdin = f
		out, err := ref.Output()
		f.Close()
		if err != nil {
			b.Fatalf("reference client: %v", err)
		}
		var rr struct {
			Targets, Success int
			Seconds          float64
		}
		if err := json.Unmarshal(out, &rr); err != nil {
			b.Fatalf("reference client said %q: %v", out, err)
		}
		if rr.Targets != len(list) || rr.Success != len(list) || rr.Seconds <= 0 {
			b.Fatalf("reference client: %d of %d targets, %d successes in %.1fs; want every one", rr.Targets, len(list), rr.Success, rr.Seconds)
		}
		refRate := float64(rr.Success) / rr.Seconds

		meta := filepath.Join(l.dir, "dovecot-meta.json")
		cmd := exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), l.bin, "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", in, "-o", "/dev/null",
			"--metadata", meta, "--concurrency", conc)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("mailscan banner: %v\n%s", err, out)
		}
		m := readBannerMeta(b, meta)
		if m.Results != len(list) || m.Stats.Success != int64(len(list)) {
			b.Fatalf("mailscan banner: %d results, %d successes (by status %v); want %d successes", m.Results, m.Stats.Success, m.Stats.ByStatus, len(list))
		}
		rate := float64(m.Stats.Success) / m.End.Sub(m.Start).Seconds()
		b.ReportMetric(refRate, "dovecot-ref-grabs/s")
		b.ReportMetric(rate, "mailscan-grabs/s")
		b.ReportMetric(rate/refRate, "ratio")
		b.Logf("%d grabs at concurrency %s: reference client %.0f/s (%d ok), mailscan banner %.0f/s (%d ok), ratio %.2f",
			len(list), conc, refRate, rr.Success, rate, m.Stats.Success, rate/refRate)
	}
}

// BenchmarkIntegrationBannerGreeter measures mailscan banner against the
// lightweight greeting server, half the targets over TLS, at concurrency
// 1000.
func BenchmarkIntegrationBannerGreeter(b *testing.B) {
	l := needLab(b)
	startRole(b, l.get("LAB_TARGET_NS"), "greeter", "MAILSCAN_GREET_PLAIN=2143", "MAILSCAN_GREET_TLS=2993")
	const n = 20000
	in := l.serviceTargets(b, n, "2143", "2993")
	for range b.N {
		meta := filepath.Join(l.dir, "greeter-meta.json")
		cmd := exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), l.bin, "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", in, "-o", "/dev/null",
			"--metadata", meta, "--proto", "2143=imap,2993=imaps", "--concurrency", "1000")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("mailscan banner: %v\n%s", err, out)
		}
		m := readBannerMeta(b, meta)
		if m.Results != n || m.Stats.Success != n {
			b.Fatalf("mailscan banner: %d results, %d successes (by status %v); want %d successes", m.Results, m.Stats.Success, m.Stats.ByStatus, n)
		}
		secs := m.End.Sub(m.Start).Seconds()
		b.ReportMetric(float64(m.Stats.Success)/secs, "grabs/s")
		b.ReportMetric(float64(m.MaxRSSBytes)/(1<<20), "peak-RSS-MiB")
		b.Logf("%d targets, half TLS, concurrency 1000: %d ok in %.1fs = %.0f/s", n, m.Stats.Success, secs, float64(m.Stats.Success)/secs)
	}
}
