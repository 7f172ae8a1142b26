package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The banner stage's throughput in the lab. Figures, not assertions:
//
//	sudo go test -run '^$' -bench BenchmarkIntegrationBanner -benchtime 1x ./cmd/mailscan

// BenchmarkIntegrationBannerDovecot compares mailscan banner's rate against
// the lab's Dovecot with the rate Dovecot itself sustains, measured by a
// plain reference client running the same dialogue at the same concurrency.
func BenchmarkIntegrationBannerDovecot(b *testing.B) {
	l := needLab(b)
	var list []string
	for len(list) < 3000 {
		list = append(list, l.expectedOpen(b)...)
	}
	in := filepath.Join(l.dir, "dovecot-targets.txt")
	os.WriteFile(in, []byte(strings.Join(list, "\n")+"\n"), 0o644)
	const conc = "200"

	for range b.N {
		// The reference client.
		self, _ := os.Executable()
		ref := exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), self)
		ref.Env = append(os.Environ(), "MAILSCAN_TEST_ROLE=refclient", "MAILSCAN_REF_CONCURRENCY="+conc)
		f, _ := os.Open(in)
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
		json.Unmarshal(out, &rr)
		refRate := float64(rr.Success) / rr.Seconds

		meta := filepath.Join(l.dir, "dovecot-meta.json")
		cmd := exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), l.bin, "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", in, "-o", "/dev/null",
			"--metadata", meta, "--concurrency", conc)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("mailscan banner: %v\n%s", err, out)
		}
		m := readBannerMeta(b, meta)
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
	self, _ := os.Executable()
	srv := exec.Command("ip", "netns", "exec", l.get("LAB_TARGET_NS"), self)
	srv.Env = append(os.Environ(), "MAILSCAN_TEST_ROLE=greeter", "MAILSCAN_GREET_PLAIN=2143", "MAILSCAN_GREET_TLS=2993")
	stdin, _ := srv.StdinPipe()
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); srv.Wait() }()
	buf := make([]byte, 6)
	stdout.Read(buf)
	in := l.serviceTargets(b, 20000, "2143", "2993")
	for range b.N {
		meta := filepath.Join(l.dir, "greeter-meta.json")
		cmd := exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), l.bin, "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", in, "-o", "/dev/null",
			"--metadata", meta, "--proto", "2143=imap,2993=imaps", "--concurrency", "1000")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("mailscan banner: %v\n%s", err, out)
		}
		m := readBannerMeta(b, meta)
		secs := m.End.Sub(m.Start).Seconds()
		b.ReportMetric(float64(m.Stats.Success)/secs, "grabs/s")
		b.ReportMetric(float64(m.MaxRSSBytes)/(1<<20), "peak-RSS-MiB")
		b.Logf("20000 targets, half TLS, concurrency 1000: %d ok in %.1fs = %.0f/s", m.Stats.Success, secs, float64(m.Stats.Success)/secs)
	}
}
