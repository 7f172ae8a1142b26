package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"mailscan/banner"
)

// The fingerprint lab test: every real mail server Debian packages that the
// lab can run (scripts/lab/mailservers.sh: Exim, OpenSMTPD, Sendmail, Cyrus
// IMAP and POP3, GNU Mailutils imap4d and pop3d, Courier IMAP, POP3 and
// ESMTP, perdition, aiosmtpd) beside the lab's Dovecot and Postfix, each
// service scanned by the banner stage from the scanner namespace, then its
// results re-fingerprinted from the stored facts by `mailscan fingerprint
// -i`. Both must name every service's family, and the version wherever the
// software tells it before login.

// labService is one service of the lab and what its fingerprint must say.
type labService struct {
	addr    string
	port    uint16
	proto   string
	server  string
	family  string
	version *regexp.Regexp // nil: the software announces none before login
}

// labServices lists what the lab runs: scripts/lab/mailservers.sh list,
// and the lab's own Dovecot and Postfix on one open address each.
func labServices(t *testing.T, l *labEnv) []labService {
	t.Helper()
	out, err := exec.Command(filepath.Join(repo, "scripts", "lab", "mailservers.sh"), "list").Output()
	if err != nil {
		t.Fatalf("mailservers.sh list: %v", err)
	}
	families := map[string]struct {
		family  string
		version string
	}{
		"exim":      {"Exim", `^4\.\d+`},
		"opensmtpd": {"OpenSMTPD", ""},
		"sendmail":  {"Sendmail", `^8\.\d+\.\d+`},
		"cyrus":     {"Cyrus", `^3\.\d+\.\d+-Debian-`},
		"mailutils": {"GNU Mailutils", ""},
		"courier":   {"Courier", ""},
		"perdition": {"perdition", ""},
		"aiosmtpd":  {"aiosmtpd", `^1\.\d+\.\d+`},
	}
	var svcs []labService
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		port, _ := strconv.Atoi(f[1])
		want, ok := families[f[3]]
		if !ok {
			t.Fatalf("mailservers.sh lists %q, which this test does not know", f[3])
		}
		s := labService{addr: f[0], port: uint16(port), proto: f[2], server: f[3], family: want.family}
		if want.version != "" {
			s.version = regexp.MustCompile(want.version)
		}
		svcs = append(svcs, s)
	}
	first := map[uint16]string{}
	for _, k := range l.expectedOpenOn(t, l.get("LAB_ALL_PORTS")) {
		ap := netip.MustParseAddrPort(k)
		if _, ok := first[ap.Port()]; !ok {
			first[ap.Port()] = ap.Addr().String()
		}
	}
	for _, p := range []struct {
		port          uint16
		proto, server string
	}{
		{143, "imap", "dovecot"}, {993, "imaps", "dovecot"}, {110, "pop3", "dovecot"}, {995, "pop3s", "dovecot"},
		{25, "smtp", "postfix"}, {587, "submission", "postfix"}, {465, "smtps", "postfix"},
	} {
		fam := "Dovecot"
		if p.server == "postfix" {
			fam = "Postfix"
		}
		if first[p.port] == "" {
			t.Fatalf("no open address on port %d in the lab's truth", p.port)
		}
		svcs = append(svcs, labService{addr: first[p.port], port: p.port, proto: p.proto, server: p.server, family: fam})
	}
	return svcs
}

// fpResult is the part of a result this test reads.
type fpResult struct {
	IP          string `json:"ip"`
	Port        uint16 `json:"port"`
	Protocol    string `json:"protocol"`
	Status      string `json:"status"`
	Error       string `json:"error"`
	Probes      *banner.Probes
	Fingerprint *struct {
		Vendor, Product, Family, Version, OS, Rule string
		Evidence                                   []struct{ Rule, Field, Text string }
	} `json:"fingerprint"`
}

func TestIntegrationFingerprintServers(t *testing.T) {
	l := needLab(t)
	script := filepath.Join(repo, "scripts", "lab", "mailservers.sh")
	env := append(os.Environ(), "LAB_DIR="+l.get("LAB_DIR"), "LAB_TARGET_NS="+l.get("LAB_TARGET_NS"))
	up := exec.Command(script, "up")
	up.Env = env
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("mailservers.sh up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		down := exec.Command(script, "down")
		down.Env = env
		if out, err := down.CombinedOutput(); err != nil {
			t.Errorf("mailservers.sh down: %v\n%s", err, out)
		}
	})

	svcs := labServices(t, l)
	// The real binary scans them, with the protocol of each port named
	// (the extra servers listen on the standard ports + 10000).
	var in strings.Builder
	protos := map[string]bool{}
	for _, s := range svcs {
		fmt.Fprintf(&in, "%s:%d\n", s.addr, s.port)
		if s.port > 10000 {
			protos[fmt.Sprintf("%d=%s", s.port, s.proto)] = true
		}
	}
	hits := filepath.Join(l.dir, "fingerprint-hits.txt")
	if err := os.WriteFile(hits, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	proto := slices.Sorted(maps.Keys(protos))
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "--allow-reserved", "198.18.0.0/15", "-i", hits,
		"--proto", strings.Join(proto, ","), "--ehlo", "scanner.lab.mailscan.test", "--timeout", "5", "--target-timeout", "20")
	if r.code != 0 {
		t.Fatalf("mailscan banner: exit %d\n%s", r.code, r.stderr)
	}
	out := []byte(r.stdout)
	resultsFile := filepath.Join(l.dir, "fingerprint-results.jsonl")
	if err := os.WriteFile(resultsFile, out, 0o644); err != nil {
		t.Fatal(err)
	}
	// The stored facts, fingerprinted again by the real binary.
	re := l.run(t, l.bin, "fingerprint", "-i", resultsFile)
	if re.code != 0 {
		t.Fatalf("mailscan fingerprint -i: exit %d: %s", re.code, re.stderr)
	}

	scanned, rederived := parseResults(t, out), parseResults(t, []byte(re.stdout))
	var table []string
	for _, s := range svcs {
		key := fmt.Sprintf("%s:%d", s.addr, s.port)
		for _, src := range []struct {
			name string
			m    map[string]fpResult
		}{{"scan", scanned}, {"fingerprint -i", rederived}} {
			r, ok := src.m[key]
			if !ok {
				t.Errorf("%s %s (%s): no result", src.name, key, s.server)
				continue
			}
			checkLabService(t, src.name, s, r)
			if src.name == "scan" {
				table = append(table, labRow(s, r))
			}
		}
	}
	sort.Strings(table)
	t.Logf("server\taddress:port\tprotocol\tstatus\tfamily\tversion\trule\tevidence\n%s", strings.Join(table, "\n"))
}

func parseResults(t *testing.T, b []byte) map[string]fpResult {
	t.Helper()
	m := map[string]fpResult{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r fpResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("result %q: %v", line, err)
		}
		m[fmt.Sprintf("%s:%d", r.IP, r.Port)] = r
	}
	return m
}

// checkLabService: the right family, the version where the software
// announces one, evidence, and probes that never carry a credential.
func checkLabService(t *testing.T, src string, s labService, r fpResult) {
	t.Helper()
	key := fmt.Sprintf("%s %s:%d %s (%s)", src, s.addr, s.port, s.proto, s.server)
	fp := r.Fingerprint
	if fp == nil {
		t.Errorf("%s: no fingerprint (status %s, error %q)", key, r.Status, r.Error)
		return
	}
	if fp.Family != s.family {
		t.Errorf("%s: family %q (rule %s), want %q", key, fp.Family, fp.Rule, s.family)
	}
	switch {
	case s.version != nil && !s.version.MatchString(fp.Version):
		t.Errorf("%s: version %q, want one matching %s", key, fp.Version, s.version)
	case s.version == nil && fp.Version != "":
		t.Errorf("%s: version %q, but the software announces none", key, fp.Version)
	}
	if len(fp.Evidence) == 0 {
		t.Errorf("%s: no evidence", key)
	}
	if r.Probes != nil {
		for _, c := range r.Probes.Sent {
			if c != "HELP" && !strings.HasSuffix(c, " ID NIL") {
				t.Errorf("%s: probe %q is not one the stage may send", key, c)
			}
		}
	}
}

func labRow(s labService, r fpResult) string {
	fam, ver, rule, ev := "", "", "", ""
	if fp := r.Fingerprint; fp != nil {
		fam, ver, rule = fp.Family, fp.Version, fp.Rule
		var parts []string
		for _, e := range fp.Evidence {
			text := e.Text
			if len(text) > 48 {
				text = text[:48] + "..."
			}
			parts = append(parts, e.Field+": "+text)
		}
		ev = strings.Join(parts, "; ")
	}
	return fmt.Sprintf("%s\t%s:%d\t%s\t%s\t%s\t%s\t%s\t%s", s.server, s.addr, s.port, s.proto, r.Status, fam, ver, rule, ev)
}
