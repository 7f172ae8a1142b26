package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// labResult is the part of a banner result the lab tests check, decoded
// independently of the banner package's types.
type labResult struct {
	IP           string `json:"ip"`
	Port         int    `json:"port"`
	Protocol     string `json:"protocol"`
	Status       string `json:"status"`
	Greeting     string `json:"greeting"`
	Error        string `json:"error"`
	Capabilities struct {
		Before []string `json:"before"`
		After  []string `json:"after"`
	} `json:"capabilities"`
	StartTLS *struct {
		Offered, Attempted bool
	} `json:"starttls"`
	TLS *struct {
		Version      string `json:"version"`
		Certificates []struct {
			SHA256     string `json:"sha256"`
			Subject    string `json:"subject"`
			SelfSigned bool   `json:"self_signed"`
			Expired    bool   `json:"expired"`
		} `json:"certificates"`
	} `json:"tls"`
	Fingerprint *struct {
		Vendor, Product, Family string
	} `json:"fingerprint"`
	Findings map[string]struct {
		Value    bool   `json:"value"`
		Evidence string `json:"evidence"`
	} `json:"findings"`
}

func readResults(t *testing.T, path string) []labResult {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []labResult
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r labResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		out = append(out, r)
	}
	return out
}

// cleartextRanges reads the lab's cleartext.txt: "198.18.16.0/21 allowed".
func (l *labEnv) cleartextRanges(t *testing.T) (allowed, disabled netip.Prefix) {
	t.Helper()
	for _, line := range readLines(t, filepath.Join(l.get("LAB_DIR"), "cleartext.txt")) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[1] {
		case "allowed":
			allowed = netip.MustParsePrefix(f[0])
		case "disabled":
			disabled = netip.MustParsePrefix(f[0])
		}
	}
	if !allowed.IsValid() || !disabled.IsValid() {
		t.Fatal("cleartext.txt lacks a range")
	}
	return allowed, disabled
}

// Dovecot 2.3's capabilities as the lab configures it: what a cleartext
// client sees where cleartext login is allowed and where it is disabled,
// and what a client sees under TLS.
var (
	imapBase        = []string{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+"}
	imapTLS         = append(slices.Clone(imapBase), "AUTH=PLAIN", "AUTH=LOGIN")
	imapClearAllow  = append(slices.Clone(imapBase), "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN")
	imapClearDeny   = append(slices.Clone(imapBase), "STARTTLS", "LOGINDISABLED")
	pop3Base        = []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"}
	pop3TLS         = append(slices.Clone(pop3Base), "USER", "SASL PLAIN LOGIN")
	pop3ClearAllow  = append(slices.Clone(pop3Base), "STLS", "USER", "SASL PLAIN LOGIN")
	pop3ClearDeny   = append(slices.Clone(pop3Base), "STLS", "SASL")
	dovecotGreeting = map[int]string{
		143: "* OK [CAPABILITY %s] Dovecot (Debian) ready.",
		993: "* OK [CAPABILITY %s] Dovecot (Debian) ready.",
		110: "+OK Dovecot (Debian) ready.",
		995: "+OK Dovecot (Debian) ready.",
	}
)

// TestIntegrationBannerDovecot: the lab's Dovecot gives, on all four ports,
// success, the Dovecot fingerprint, the right capabilities before and after
// STARTTLS, the certificate's real fingerprint, and cleartext_login as
// Dovecot's config sets it in each of the lab's two ranges.
func TestIntegrationBannerDovecot(t *testing.T) {
	l := needLab(t)
	allowed, disabled := l.cleartextRanges(t)
	want := l.expectedOpen(t)
	dir := t.TempDir()
	hits := filepath.Join(dir, "hits.txt")
	os.WriteFile(hits, []byte(strings.Join(want, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "results.jsonl")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", hits, "-o", out, "--concurrency", "100")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	results := readResults(t, out)
	var got []string
	perPort := map[int]map[bool]int{}
	for _, res := range results {
		key := fmt.Sprintf("%s:%d", res.IP, res.Port)
		got = append(got, key)
		a := netip.MustParseAddr(res.IP)
		inAllowed := allowed.Contains(a)
		if !inAllowed && !disabled.Contains(a) {
			t.Errorf("%s: outside both cleartext ranges", key)
			continue
		}
		if perPort[res.Port] == nil {
			perPort[res.Port] = map[bool]int{}
		}
		perPort[res.Port][inAllowed]++
		if res.Status != "success" {
			t.Errorf("%s: status %s (%s)", key, res.Status, res.Error)
			continue
		}
		if fp := res.Fingerprint; fp == nil || fp.Vendor != "Dovecot" || fp.Family != "Dovecot" {
			t.Errorf("%s: fingerprint %+v, want Dovecot", key, fp)
		}
		if res.TLS == nil || len(res.TLS.Certificates) != 1 || res.TLS.Certificates[0].SHA256 != l.get("LAB_CERT_SHA256") ||
			!res.TLS.Certificates[0].SelfSigned || res.TLS.Certificates[0].Expired {
			t.Errorf("%s: TLS %+v; want the lab's self-signed certificate %s", key, res.TLS, l.get("LAB_CERT_SHA256"))
		}
		var wantProto string
		var before, after []string
		clear := res.Port == 143 || res.Port == 110
		switch res.Port {
		case 143:
			wantProto, after = "imap", imapTLS
			before = map[bool][]string{true: imapClearAllow, false: imapClearDeny}[inAllowed]
		case 993:
			wantProto, after = "imaps", imapTLS
		case 110:
			wantProto, after = "pop3", pop3TLS
			before = map[bool][]string{true: pop3ClearAllow, false: pop3ClearDeny}[inAllowed]
		case 995:
			wantProto, after = "pop3s", pop3TLS
		}
		if res.Protocol != wantProto {
			t.Errorf("%s: protocol %s, want %s", key, res.Protocol, wantProto)
		}
		if !slices.Equal(res.Capabilities.Before, before) || !slices.Equal(res.Capabilities.After, after) {
			t.Errorf("%s: capabilities before %v after %v; want %v and %v", key, res.Capabilities.Before, res.Capabilities.After, before, after)
		}
		wantGreeting := dovecotGreeting[res.Port]
		if strings.Contains(wantGreeting, "%s") {
			caps := imapTLS
			if res.Port == 143 {
				caps = before
			}
			wantGreeting = fmt.Sprintf(wantGreeting, strings.Join(caps, " "))
		}
		if res.Greeting != wantGreeting {
			t.Errorf("%s: greeting %q, want %q", key, res.Greeting, wantGreeting)
		}
		if clear != (res.StartTLS != nil && res.StartTLS.Offered && res.StartTLS.Attempted) {
			t.Errorf("%s: starttls %+v", key, res.StartTLS)
		}
		cl, ok := res.Findings["cleartext_login"]
		if wantCL := clear && inAllowed; !ok || cl.Value != wantCL {
			t.Errorf("%s: cleartext_login %+v, want %v", key, cl, wantCL)
		}
		if so := res.Findings["cert_self_signed"]; !so.Value {
			t.Errorf("%s: cert_self_signed %+v", key, so)
		}
	}
	slices.Sort(got)
	if d := diff(got, want); d != "" {
		t.Errorf("results differ from the hits: %s", d)
	}
	// Both policies must really have been seen on both cleartext ports.
	for _, p := range []int{110, 143} {
		if perPort[p][true] == 0 || perPort[p][false] == 0 {
			t.Errorf("port %d: results in the allowed range %d, disabled range %d; want both", p, perPort[p][true], perPort[p][false])
		}
	}
}

// serviceTargets writes n distinct targets of the lab's open service range,
// half on port a and half on port b, as an ip:port list. (banner grabs each
// pair once: with a == b every target needs an address of its own.)
func (l *labEnv) serviceTargets(t testing.TB, n int, a, b string) string {
	pfx := netip.MustParsePrefix(l.get("LAB_SERVICE_RANGE"))
	var sb strings.Builder
	addr := pfx.Addr().Next()
	for i := 0; i < n; i++ {
		port := a
		if i%2 == 1 {
			port = b
		}
		if i > 0 && (i%2 == 0 || a == b) {
			addr = addr.Next()
		}
		fmt.Fprintf(&sb, "%s:%s\n", addr, port)
	}
	path := filepath.Join(l.dir, fmt.Sprintf("service-%d-%s-%s.txt", n, a, b))
	os.WriteFile(path, []byte(sb.String()), 0o644)
	return path
}

type bannerMetaView struct {
	Results int `json:"results"`
	Stats   struct {
		Done     int64            `json:"done"`
		Success  int64            `json:"success"`
		ByStatus map[string]int64 `json:"by_status"`
	} `json:"stats"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	MaxRSSBytes int64     `json:"max_rss_bytes"`
}

func readBannerMeta(t testing.TB, path string) bannerMetaView {
	var m bannerMetaView
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIntegrationBannerGreeter: 4,000 targets, half over TLS, against a
// lightweight greeting server on the lab's open range, all succeed. The rate
// is logged (not asserted: timing belongs to benchmarks).
func TestIntegrationBannerGreeter(t *testing.T) {
	l := needLab(t)
	startRole(t, l.get("LAB_TARGET_NS"), "greeter", "MAILSCAN_GREET_PLAIN=2143", "MAILSCAN_GREET_TLS=2993")
	in := l.serviceTargets(t, 4000, "2143", "2993")
	meta := filepath.Join(t.TempDir(), "meta.json")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", in, "-o", "/dev/null", "--metadata", meta,
		"--proto", "2143=imap,2993=imaps", "--concurrency", "1000")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m := readBannerMeta(t, meta)
	if m.Results != 4000 || m.Stats.Success != 4000 {
		t.Errorf("results %d, success %d, by status %v; want 4000 successes", m.Results, m.Stats.Success, m.Stats.ByStatus)
	}
	secs := m.End.Sub(m.Start).Seconds()
	t.Logf("4000 targets (half TLS) at concurrency 1000: %.1fs, %.0f targets/s, peak RSS %.1f MiB", secs, 4000/secs, float64(m.MaxRSSBytes)/(1<<20))
}

// tarpitRSSMiB bounds the peak RSS of mailscan banner holding 10,000
// connections to a tarpit: the README states it ("about 80 MiB", measured
// 78-82 MiB over cgo and static builds; at most 100 MiB).
const tarpitRSSMiB = 100

// TestIntegrationBannerTarpit: 10,000 connections held open by a server that
// never speaks all end as io-timeout, within their deadlines, and the
// grabber's memory stays under the README's bound.
func TestIntegrationBannerTarpit(t *testing.T) {
	l := needLab(t)
	startRole(t, l.get("LAB_TARGET_NS"), "tarpit", "MAILSCAN_TARPIT_PORT=2110")
	in := l.serviceTargets(t, 10000, "2110", "2110")
	meta := filepath.Join(t.TempDir(), "meta.json")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", in, "-o", "/dev/null", "--metadata", meta,
		"--proto", "2110=pop3", "--concurrency", "10000", "--timeout", "4s")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m := readBannerMeta(t, meta)
	if m.Results != 10000 || m.Stats.ByStatus["io-timeout"] != 10000 {
		t.Errorf("results %d, by status %v; want 10000 io-timeout", m.Results, m.Stats.ByStatus)
	}
	rss := float64(m.MaxRSSBytes) / (1 << 20)
	t.Logf("10,000 concurrent tarpit connections: peak RSS %.1f MiB", rss)
	if rss > tarpitRSSMiB {
		t.Errorf("peak RSS %.1f MiB, want at most %d MiB (the README's bound)", rss, tarpitRSSMiB)
	}
	if strings.Contains(r.stderr, "open files") {
		t.Errorf("the open-files limit got in the way: %s", r.stderr)
	}
}

// Postfix's EHLO keywords as the lab configures it (Debian's 3.7): port 25
// offers STARTTLS and no AUTH; 587 offers AUTH before STARTTLS, the
// cleartext-login exposure; 465 is TLS from the start.
var (
	postfixHead     = []string{"PIPELINING", "SIZE 10240000", "VRFY", "ETRN"}
	postfixTail     = []string{"ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}
	smtpClear       = slices.Concat(postfixHead, []string{"STARTTLS"}, postfixTail)
	smtpTLS         = slices.Concat(postfixHead, postfixTail)
	submissionClear = slices.Concat(postfixHead, []string{"STARTTLS", "AUTH PLAIN LOGIN"}, postfixTail)
	submissionTLS   = slices.Concat(postfixHead, []string{"AUTH PLAIN LOGIN"}, postfixTail)
	postfixGreeting = "220 mail.lab.mailscan.test ESMTP Postfix (Debian/GNU)"
)

// TestIntegrationBannerPostfix: the lab's Postfix gives, on 25, 587 and 465,
// success, the Postfix fingerprint, its EHLO keywords before and after
// STARTTLS, the lab's certificate, and cleartext_login exactly on 587.
func TestIntegrationBannerPostfix(t *testing.T) {
	l := needLab(t)
	want := l.expectedOpenOn(t, l.get("LAB_SMTP_PORTS"))
	dir := t.TempDir()
	hits := filepath.Join(dir, "hits.txt")
	os.WriteFile(hits, []byte(strings.Join(want, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "results.jsonl")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", hits, "-o", out, "--concurrency", "100", "--ehlo", "scanner.lab.mailscan.test")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []string
	seen := map[int]int{}
	for _, res := range readResults(t, out) {
		key := fmt.Sprintf("%s:%d", res.IP, res.Port)
		got = append(got, key)
		seen[res.Port]++
		if res.Status != "success" {
			t.Errorf("%s: status %s (%s)", key, res.Status, res.Error)
			continue
		}
		if fp := res.Fingerprint; fp == nil || fp.Family != "Postfix" {
			t.Errorf("%s: fingerprint %+v, want Postfix", key, fp)
		}
		if res.Greeting != postfixGreeting {
			t.Errorf("%s: greeting %q", key, res.Greeting)
		}
		if res.TLS == nil || len(res.TLS.Certificates) != 1 || res.TLS.Certificates[0].SHA256 != l.get("LAB_CERT_SHA256") {
			t.Errorf("%s: TLS %+v; want the lab's certificate", key, res.TLS)
		}
		var proto string
		var before, after []string
		switch res.Port {
		case 25:
			proto, before, after = "smtp", smtpClear, smtpTLS
		case 587:
			proto, before, after = "submission", submissionClear, submissionTLS
		case 465:
			proto, after = "smtps", submissionTLS
		}
		if res.Protocol != proto {
			t.Errorf("%s: protocol %s, want %s", key, res.Protocol, proto)
		}
		if !slices.Equal(res.Capabilities.Before, before) || !slices.Equal(res.Capabilities.After, after) {
			t.Errorf("%s: capabilities before %q after %q; want %q and %q", key, res.Capabilities.Before, res.Capabilities.After, before, after)
		}
		if clear := res.Port != 465; clear != (res.StartTLS != nil && res.StartTLS.Offered && res.StartTLS.Attempted) {
			t.Errorf("%s: starttls %+v", key, res.StartTLS)
		}
		if cl, ok := res.Findings["cleartext_login"]; !ok || cl.Value != (res.Port == 587) {
			t.Errorf("%s: cleartext_login %+v, want %v", key, cl, res.Port == 587)
		}
	}
	slices.Sort(got)
	if d := diff(got, want); d != "" {
		t.Errorf("results differ from the hits: %s", d)
	}
	for _, p := range []int{25, 465, 587} {
		if seen[p] == 0 {
			t.Errorf("no result on port %d: the test proves nothing there", p)
		}
	}
}
