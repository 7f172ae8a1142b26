package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runMain runs mailscan with args in-process, with stdin, and returns the
// exit status and both outputs.
func runMain(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	e.log = slog.New(slog.NewTextHandler(&errb, nil))
	code = mainErr(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// TestHelpListsEveryCommand: help names every command of the table, and
// each command's help shows its usage line.
func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := runMain(t, "", "help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out, "\t"+c.name) {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
		if c.name == "help" {
			continue
		}
		if c.run == nil || c.short == "" {
			t.Errorf("command %q has no run function or summary", c.name)
			continue
		}
		code, out, _ := runMain(t, "", "help", c.name)
		if code != 0 || !strings.Contains(out, "usage: mailscan "+c.name) {
			t.Errorf("help %s: exit %d, output:\n%s", c.name, code, out)
		}
	}
	if code, _, stderr := runMain(t, "", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, stderr)
	}
	if code, _, _ := runMain(t, ""); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// TestSynUsageErrors: bad input is refused before any socket is opened,
// with exit status 2 and a message naming the file, line and value.
func TestSynUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "block.txt")
	os.WriteFile(bad, []byte("# exclusions\n198.18.20.0/24\n198.18.300.1\n\n10.0.0.0/33 # typo\n"), 0o644)
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("198.18.20.0/24\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"malformed CIDR", []string{"syn", "198.18.16.0/33"}, []string{`bad target "198.18.16.0/33"`}},
		{"malformed port", []string{"syn", "-p", "143,99999", "--allow-reserved", "198.18.0.0/15", "198.18.16.0/24"}, []string{"-p:", `"99999"`}},
		{"port zero", []string{"syn", "-p", "0", "--allow-reserved", "198.18.0.0/15", "198.18.16.0/24"}, []string{"-p:"}},
		{"no targets", []string{"syn"}, []string{"no targets"}},
		{"all reserved", []string{"syn", "198.18.16.0/24"}, []string{"no targets left to scan", "--allow-reserved"}},
		{"all blocklisted", []string{"syn", "--allow-reserved", "198.18.0.0/15", "-b", good, "198.18.20.0/25"}, []string{"no targets left to scan: excluded 128 of 128 addresses: 128 by user blocklist"}},
		{"bad blocklist lines", []string{"syn", "-b", bad, "198.18.16.0/24"}, []string{block(bad, 3, "198.18.300.1"), block(bad, 5, "10.0.0.0/33")}},
		{"missing blocklist", []string{"syn", "-b", filepath.Join(dir, "nope.txt"), "198.18.16.0/24"}, []string{"nope.txt"}},
		{"bad shard", []string{"syn", "--allow-reserved", "198.18.0.0/15", "--shards", "2", "--shard", "2", "198.18.16.0/24"}, []string{"--shard 2 --shards 2"}},
		{"bad seed", []string{"syn", "--allow-reserved", "198.18.0.0/15", "--seed", "x", "198.18.16.0/24"}, []string{"--seed"}},
		{"bad options", []string{"syn", "--allow-reserved", "198.18.0.0/15", "--tcp-options", "bsd", "198.18.16.0/24"}, []string{"--tcp-options"}},
		{"bad gateway", []string{"syn", "--allow-reserved", "198.18.0.0/15", "-G", "zz", "198.18.16.0/24"}, []string{`-G "zz"`}},
		{"bad flag", []string{"syn", "--no-such-flag"}, []string{"no-such-flag"}},
		{"bad format", []string{"syn", "-O", "xml", "198.18.16.0/24"}, []string{`"xml"`}},
		// Numbers: NaN and the infinities parse as floats and must never
		// mean "unlimited"; absurd magnitudes are typos.
		{"rate NaN", []string{"syn", "-r", "NaN", "198.18.16.0/24"}, []string{"-r NaN: want packets per second from 0 to 1e+09"}},
		{"rate +Inf", []string{"syn", "-r", "+Inf", "198.18.16.0/24"}, []string{"-r +Inf"}},
		{"rate 1e300", []string{"run", "-r", "1e300", "198.18.16.0/24"}, []string{"-r 1e+300"}},
		{"rate negative", []string{"syn", "-r", "-5", "198.18.16.0/24"}, []string{"-r -5"}},
		{"bandwidth NaN", []string{"syn", "-B", "NaN", "--allow-reserved", "198.18.0.0/15", "198.18.16.0/24"}, []string{`bad bandwidth "NaN"`}},
		{"cooldown Inf", []string{"syn", "--cooldown", "Inf", "198.18.16.0/24"}, []string{`"Inf": want seconds`}},
		{"timeout NaN", []string{"run", "--timeout", "NaN", "198.18.16.0/24"}, []string{`"NaN": want seconds`}},
		{"timeout 1e300", []string{"banner", "--timeout", "1e300"}, []string{`"1e300": want seconds`}},
		{"max-runtime Inf", []string{"syn", "--max-runtime", "Inf", "198.18.16.0/24"}, []string{`"Inf": want seconds`}},
		{"checkpoint 0", []string{"syn", "--checkpoint", "0", "198.18.16.0/24"}, []string{"--checkpoint 0s: want at least 1s"}},
		{"banner rate NaN", []string{"banner", "--rate", "NaN"}, []string{"--rate NaN: want connections per second"}},
		{"concurrency 0", []string{"banner", "--concurrency", "0"}, []string{"--concurrency 0"}},
		{"senders 100000", []string{"syn", "--senders", "100000", "198.18.16.0/24"}, []string{"--senders 100000: want 1 to"}},
		{"probes 0", []string{"syn", "--probes", "0", "198.18.16.0/24"}, []string{"--probes 0"}},
		{"batch huge", []string{"syn", "--batch", "1000000", "198.18.16.0/24"}, []string{"--batch 1e+06"}},
		{"max-backlog negative", []string{"run", "--max-backlog", "-1", "--allow-reserved", "198.18.0.0/15", "198.18.16.0/24"}, []string{"--max-backlog -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runMain(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func block(file string, line int, value string) string {
	return "blocklist: " + file + ":" + itoa(line) + `: "` + value + `"`
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestSynDryRunExclusions: the plan says exactly what the exclusions
// removed, and a dry run sends nothing (it needs no privilege to get this
// far only up to route discovery, so the plan is checked directly).
func TestSynPlanExclusions(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "bl.txt")
	os.WriteFile(bl, []byte("198.18.16.0/25\n198.18.16.200\n"), 0o644)
	var f synFlags
	fs := newFlagSet(cmdSyn, &env{stderr: io.Discard})
	f.register(fs)
	if err := fs.Parse([]string{"-b", bl, "--allow-reserved", "198.18.16.0/23", "-p", "143,993", "198.18.16.0/24", "10.1.2.0/30"}); err != nil {
		t.Fatal(err)
	}
	p, err := f.plan(&env{stderr: io.Discard, log: slog.New(slog.DiscardHandler)}, fs.Args())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.cfg.Allowed.Len(); got != 256-128-1 {
		t.Errorf("allowed %d addresses, want 127", got)
	}
	if p.cfg.Deny.ContainsAddr(mustAddr("198.18.16.130")) || !p.cfg.Deny.ContainsAddr(mustAddr("198.18.16.200")) ||
		!p.cfg.Deny.ContainsAddr(mustAddr("10.1.2.1")) || !p.cfg.Deny.ContainsAddr(mustAddr("198.18.18.1")) {
		t.Error("the blocklist the scanner checks before sending is wrong")
	}
	want := "targets: 127 addresses × 2 ports; excluded 133 of 260 addresses: 129 by user blocklist, 4 reserved (10.0.0.0/8 (private-use, RFC 1918): 4); blocklist " + bl + " removed 129"
	if got := p.exclusionSummary(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}

// TestFingerprintCommand reads greetings on stdin and prints a fingerprint
// per line.
func TestFingerprintCommand(t *testing.T) {
	in := "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\n" +
		"220 mail.example.org ESMTP Postfix (Debian/GNU)\n" +
		"+OK hello\n"
	code, out, stderr := runMain(t, in, "fingerprint")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d output lines, want 3:\n%s", len(lines), out)
	}
	for i, want := range []string{`"family":"Dovecot"`, `"family":"Postfix"`, `"proto":"pop3"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s lacks %s", i+1, lines[i], want)
		}
	}
	if strings.Contains(lines[2], "family") {
		t.Errorf("a generic greeting was attributed: %s", lines[2])
	}
	if code, _, _ := runMain(t, "", "fingerprint", "--proto", "gopher"); code != 2 {
		t.Errorf("bad --proto: exit %d, want 2", code)
	}
}

// TestBannerBadInputLines: bad hit-list lines are reported with their line
// numbers and skipped; they never stop the run. An input with lines but no
// usable target at all is an error.
func TestBannerBadInputLines(t *testing.T) {
	// The good lines target a port no protocol maps to or a reserved
	// address, so nothing is dialled: the test needs no network.
	in := "198.18.16.1:7\nnot an address\n198.18.16.2:99999\n10.1.2.3:143\n"
	code, out, stderr := runMain(t, in, "banner", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != "" {
		t.Errorf("results without --report-excluded: %q", out)
	}
	for _, want := range []string{"stdin:1: 198.18.16.1:7: no protocol for port 7", `stdin:2: \"not an address\"`, `stdin:3: \"198.18.16.2:99999\"`, "excluded=1"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = runMain(t, in[:strings.LastIndex(in[:len(in)-1], "\n")+1], "banner", "-q")
	if want := "stdin: 3 lines but no target to grab (2 bad lines, 1 not open or without a protocol"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("only bad lines: exit %d, want 2 and %q:\n%s", code, want, stderr)
	}
}

// TestBannerReportExcluded: an excluded target is written, with the reason,
// only when asked; it is never dialled (the address is reserved: a dial
// would fail the test with another status).
func TestBannerReportExcluded(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "optout.txt")
	os.WriteFile(bl, []byte("# opted out\n198.18.16.0/24\n2001:db8::/32\n"), 0o644)
	code, out, stderr := runMain(t, "198.18.16.5:143\n127.0.0.1:110\n", "banner", "-q", "--report-excluded", "-b", bl, "--allow-reserved", "198.18.0.0/15")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := map[string]string{
		"198.18.16.5:143": "banner: not contacted: blocklist " + bl,
		"127.0.0.1:110":   "banner: not contacted: reserved range 127.0.0.0/8 (loopback, RFC 1122)",
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(lines), len(want), out)
	}
	for _, line := range lines {
		var r struct {
			IP     string `json:"ip"`
			Port   int    `json:"port"`
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		key := r.IP + ":" + strconv.Itoa(r.Port)
		if r.Status != "excluded" || r.Error != want[key] {
			t.Errorf("%s: status %q error %q, want excluded, %q", key, r.Status, r.Error, want[key])
		}
	}
	if !strings.Contains(stderr, "blocklist "+bl+": 1 IPv6 entries, applied to IPv6 targets") {
		t.Errorf("the IPv6 entry is not reported:\n%s", stderr)
	}
}

// TestConventions: --help, -h, help CMD, CMD --help, --version and version
// work as a Unix user expects, with exit status 0.
func TestConventions(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, _ := runMain(t, "", args...)
		if code != 0 || !strings.Contains(out, "The commands are:") || !strings.Contains(out, "Exit status:") {
			t.Errorf("%v: exit %d, stdout:\n%s", args, code, out)
		}
	}
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		code, out, _ := runMain(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, "mailscan ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	for _, c := range []string{"syn", "banner", "run", "report", "fingerprint"} {
		code, _, stderr := runMain(t, "", c, "--help")
		if code != 0 || !strings.Contains(stderr, "usage: mailscan "+c) {
			t.Errorf("%s --help: exit %d, stderr:\n%s", c, code, stderr)
		}
	}
}

// TestBannerStdinStdout: "-" is standard input for -i and standard output
// for -o.
func TestBannerStdinStdout(t *testing.T) {
	code, out, stderr := runMain(t, "10.1.2.3:143\n", "banner", "-q", "-i", "-", "-o", "-", "--report-excluded")
	if code != 0 || !strings.Contains(out, `"status":"excluded"`) {
		t.Errorf("exit %d, stdout %q, stderr %s", code, out, stderr)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`a file named "-" was made`)
	}
	dir := t.TempDir()
	if code, _, stderr := runMain(t, "", "banner", "-i", dir); code != 2 || !strings.Contains(stderr, "is a directory") {
		t.Errorf("-i DIR: exit %d, %s", code, stderr)
	}
}
