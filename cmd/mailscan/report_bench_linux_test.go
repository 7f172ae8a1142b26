package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The report benchmarks run the real binary on generated result files
// shaped like the lab's (1.1-1.6 KB a line: greeting, capabilities,
// STARTTLS, a one- or two-certificate chain, findings, a fingerprint) and
// measure its rate and its peak memory (the kernel's maximum RSS of the
// process), beside a naive Python counter over the same file:
//
//	go test -run '^$' -bench 'BenchmarkReport' -benchtime 1x ./cmd/mailscan
//
// The addresses are strings in a file, nothing is sent; they are spread
// over 240.0.0.0/4 (reserved, never a host) so that the host table sees an
// internet-like spread rather than one /16.

var reportBin struct {
	once sync.Once
	path string
	err  error
}

// buildReportBin builds mailscan once per test process.
func buildReportBin(b *testing.B) string {
	reportBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "mailscan-report-bench-")
		if err != nil {
			reportBin.err = err
			return
		}
		reportBin.path = filepath.Join(dir, "mailscan")
		cmd := exec.Command("go", "build", "-o", reportBin.path, ".")
		cmd.Dir = filepath.Join(repo, "cmd", "mailscan")
		if out, err := cmd.CombinedOutput(); err != nil {
			reportBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if reportBin.err != nil {
		b.Fatal(reportBin.err)
	}
	return reportBin.path
}

// benchPorts are the lab's ports and protocols.
var benchPorts = []struct {
	port  int
	proto string
}{{143, "imap"}, {993, "imaps"}, {110, "pop3"}, {995, "pop3s"}, {25, "smtp"}, {587, "submission"}, {465, "smtps"}}

var benchFamilies = []struct{ vendor, family, greeting string }{
	{"Dovecot", "Dovecot", "Dovecot (Debian) ready."},
	{"Postfix", "Postfix", "ESMTP Postfix (Debian/GNU)"},
	{"Exim", "Exim", "ESMTP Exim 4.96 Mon, 01 May 2024 10:00:00 +0000"},
	{"Double Precision", "Courier", "Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc."},
	{"Microsoft", "Microsoft Exchange", "Microsoft Exchange Server 2016 IMAP4 service ready"},
	{"Cyrus", "Cyrus", "Cyrus IMAP v3.4.1 server ready"},
}

// writeResults writes records result lines over as many hosts as it takes
// (each host has 1 to 4 of the seven ports) and returns the number of
// hosts and the mean line length.
func writeResults(b *testing.B, path string, records int) (hosts int, meanLine float64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	total := 0
	n := 0
	for h := 0; n < records; h++ {
		// A permutation of 2^28 addresses: consecutive hosts land far apart.
		a := uint32(0xf0000000) | (uint32(h)*2654435761)&0x0fffffff
		ip := fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&0xff, a>>8&0xff, a&0xff)
		k := 1 + (h*7)%4
		for j := 0; j < k && n < records; j++ {
			p := benchPorts[(h+j*3)%len(benchPorts)]
			fam := benchFamilies[(h+j)%len(benchFamilies)]
			line = benchRecord(line[:0], ip, p.port, p.proto, fam.vendor, fam.family, fam.greeting, n)
			total += len(line)
			w.Write(line)
			n++
		}
		hosts++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return hosts, float64(total) / float64(records)
}

// benchRecord appends one result line.
func benchRecord(dst []byte, ip string, port int, proto, vendor, family, greeting string, i int) []byte {
	status, greet := "success", "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS] "+greeting
	switch i % 29 {
	case 3:
		status, greet = "io-timeout", ""
	case 7:
		status = "closed"
	}
	dst = fmt.Appendf(dst, `{"ip":%q,"port":%d,"protocol":%q,"status":%q,"greeting":%q,`, ip, port, proto, status, greet)
	dst = append(dst, `"capabilities":{"before":["IMAP4rev1","SASL-IR","LOGIN-REFERRALS","ID","ENABLE","IDLE","LITERAL+","STARTTLS"],"after":["IMAP4rev1","AUTH=PLAIN","AUTH=LOGIN"]},`...)
	dst = append(dst, `"starttls":{"offered":true,"attempted":true,"response":"a002 OK Begin TLS negotiation now."},`...)
	dst = fmt.Appendf(dst, `"tls":{"version":"TLSv1.%d","cipher_suite":"TLS_AES_128_GCM_SHA256","chain_verified":false,"certificates":[`, 2+i%2)
	dst = fmt.Appendf(dst, `{"subject":"CN=mail%d.example.test","issuer":"CN=R3,O=Let's Encrypt,C=US","sans":[`, i)
	for s := 0; s < i%4; s++ {
		if s > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, `"alt%d-%d.example.test"`, s, i)
	}
	dst = fmt.Appendf(dst, `],"not_before":"2024-01-01T00:00:00Z","not_after":"2025-01-01T00:00:00Z","serial":"%d","key_type":"RSA","key_bits":2048,"signature_algorithm":"SHA256-RSA","sha256":"00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff%04x","self_signed":%t,"expired":%t}`,
		1000000007*uint64(i), i&0xffff, i%11 == 0, i%13 == 0)
	if i%3 != 0 {
		dst = append(dst, `,{"subject":"CN=R3,O=Let's Encrypt,C=US","issuer":"CN=ISRG Root X1,O=Internet Security Research Group,C=US","not_before":"2020-09-04T00:00:00Z","not_after":"2025-09-15T16:00:00Z","serial":"192961496339968674994309121183282847578","key_type":"RSA","key_bits":2048,"signature_algorithm":"SHA256-RSA","sha256":"67add1166b020ae61b8f5fc96813c04c2aa589960796865572a3c7e737613dfd","self_signed":false,"expired":false}`...)
	}
	dst = append(dst, "]},"...)
	dst = fmt.Appendf(dst, `"fingerprint":{"vendor":%q,"product":%q,"family":%q,"version":"%d.%d","rule":"builtin:%s"},`, vendor, family, family, 2+i%2, i%40, strings.ToLower(vendor[:4]))
	dst = fmt.Appendf(dst, `"findings":{"cleartext_login":{"value":%t,"evidence":"cleartext capabilities"},"starttls_offered":{"value":true,"evidence":"STARTTLS"},"tls_only":{"value":%t,"evidence":"x"}},`, i%5 == 0, i%5 != 0)
	dst = fmt.Appendf(dst, `"time":"2024-05-01T10:00:%02dZ","duration_ms":%d}`+"\n", i%60, 10+i%90)
	return dst
}

// pythonCounter is the naive Python the issue compares with: json.loads
// each line, count (port, status, family).
const pythonCounter = `
import json, sys, collections
c = collections.Counter()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        if not line.strip():
            continue
        r = json.loads(line)
        fp = r.get("fingerprint") or {}
        c[(r.get("port"), r.get("status"), fp.get("family"))] += 1
        n += 1
print(n)
`

// warm reads path once, untimed, so that the run after it reads the page
// cache, not the disk: the machine reclaims cold pages quickly (DAMON), and
// a disk-bound run would measure the disk, to the slower reader's benefit.
func warm(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatal(err)
	}
}

// runMeasured runs argv and returns its wall time and peak RSS in bytes.
func runMeasured(b *testing.B, argv ...string) (time.Duration, int64) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v\n%s", argv, err, stderr.String())
	}
	d := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, ru.Maxrss * 1024
}

// BenchmarkReportVsPython: mailscan report --format json on 2,000,000
// records, against the naive Python counter on the same file in the same
// run. Metrics: both rates, their ratio, mailscan's peak memory, and the
// bound the issue sets (64 MiB + 48 bytes per distinct host).
func BenchmarkReportVsPython(b *testing.B) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not found")
	}
	bin := buildReportBin(b)
	const records = 2_000_000
	path := filepath.Join(b.TempDir(), "results.jsonl")
	hosts, mean := writeResults(b, path, records)
	script := filepath.Join(b.TempDir(), "count.py")
	os.WriteFile(script, []byte(pythonCounter), 0o644)
	b.Logf("%d records, %d hosts, %.0f bytes a line", records, hosts, mean)
	var goTime, pyTime time.Duration
	var peak int64
	for b.Loop() {
		warm(b, path)
		pt, _ := runMeasured(b, py, script, path)
		warm(b, path)
		gt, rss := runMeasured(b, bin, "report", "-i", path, "--format", "json", "-o", os.DevNull)
		pyTime += pt
		goTime += gt
		peak = max(peak, rss)
	}
	goRate := float64(records*b.N) / goTime.Seconds()
	pyRate := float64(records*b.N) / pyTime.Seconds()
	bound := 64<<20 + 48*int64(hosts)
	b.ReportMetric(goRate, "records/s")
	b.ReportMetric(pyRate, "python-records/s")
	b.ReportMetric(goRate/pyRate, "x-python")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(bound)/(1<<20), "bound-MiB")
	b.ReportMetric(float64(peak-64<<20)/float64(hosts), "B/host-over-64MiB")
	b.Logf("mailscan %.0f records/s, python %.0f records/s (%.2fx); peak %.1f MiB, bound %.1f MiB",
		goRate, pyRate, goRate/pyRate, float64(peak)/(1<<20), float64(bound)/(1<<20))
}

// BenchmarkReportScaling: time and peak memory at 0.5, 1, 2 and 4 million
// records; hosts grow with records (about 2.5 records a host).
func BenchmarkReportScaling(b *testing.B) {
	bin := buildReportBin(b)
	for _, records := range []int{500_000, 1_000_000, 2_000_000, 4_000_000} {
		b.Run("records="+strconv.Itoa(records), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "results.jsonl")
			hosts, _ := writeResults(b, path, records)
			var total time.Duration
			var peak int64
			for b.Loop() {
				warm(b, path)
				d, rss := runMeasured(b, bin, "report", "-i", path, "--format", "json", "-o", os.DevNull)
				total += d
				peak = max(peak, rss)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/report")
			b.ReportMetric(float64(records*b.N)/total.Seconds(), "records/s")
			b.ReportMetric(float64(hosts), "hosts")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}
