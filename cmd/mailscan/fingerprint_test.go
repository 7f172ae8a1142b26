package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two stored results as mailscan banner wrote them, one with the
// fingerprint an older rule set gave (greeting only) and a field this
// version does not know, one with no fingerprint at all.
const storedResults = `{"ip":"198.18.64.13","port":10143,"protocol":"imap","status":"success","greeting":"* OK [CAPABILITY IMAP4rev1 ID STARTTLS] cyrus.lab.mailscan.test Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready","probes":{"sent":["a004 ID NIL"],"id":"* ID (\"name\" \"Cyrus IMAPD\" \"version\" \"3.6.1-Debian-3.6.1-4+deb12u5\" \"os\" \"Linux\")"},"fingerprint":{"vendor":"Carnegie Mellon University","product":"Cyrus IMAP","version":"3.6.1","family":"Cyrus","rule":"builtin:cyrus-imap"},"x_future":{"kept":true},"time":"2026-12-04T16:36:46Z","duration_ms":12}
{"ip":"198.18.64.15","port":10025,"protocol":"smtp","status":"success","greeting":"220 vm ESMTP","capabilities":{"before":["XVERP=Courier","XEXDATA","PIPELINING"]},"probes":{"sent":["HELP"],"help":"502 ESMTP command error"},"time":"2026-12-04T16:36:46Z","duration_ms":9}
{"ip":"198.18.64.99","port":25,"protocol":"smtp","status":"connection-refused","time":"2026-12-04T16:36:46Z","duration_ms":1}
`

// storedOut is what TestFingerprintRederive reads back.
type storedOut struct {
	IP          string          `json:"ip"`
	XFuture     json.RawMessage `json:"x_future"`
	Greeting    string          `json:"greeting"`
	Fingerprint *struct {
		Vendor, Product, Family, Version, OS, Rule string
		Evidence                                   []struct{ Rule, Field, Text string }
	} `json:"fingerprint"`
}

// TestFingerprintRederive: -i derives every fingerprint again from the
// stored facts (the Cyrus version from its ID reply, Courier from an EHLO
// keyword) and writes every other field back as it was.
func TestFingerprintRederive(t *testing.T) {
	in := filepath.Join(t.TempDir(), "results.jsonl")
	if err := os.WriteFile(in, []byte(storedResults), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runMain(t, "", "fingerprint", "-i", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d results written, want 3:\n%s", len(lines), out)
	}
	var got []storedOut
	for _, l := range lines {
		var one storedOut
		if err := json.Unmarshal([]byte(l), &one); err != nil {
			t.Fatalf("output %q: %v", l, err)
		}
		got = append(got, one)
	}
	cy := got[0].Fingerprint
	if cy == nil || cy.Family != "Cyrus" || cy.Version != "3.6.1-Debian-3.6.1-4+deb12u5" || cy.OS != "Linux" || cy.Rule != "builtin:cyrus-id" {
		t.Errorf("Cyrus: %+v, want the ID reply's version and OS", cy)
	}
	if string(got[0].XFuture) != `{"kept":true}` || !strings.Contains(got[0].Greeting, "Cyrus IMAP 3.6.1") {
		t.Errorf("fields not kept: x_future %s, greeting %q", got[0].XFuture, got[0].Greeting)
	}
	co := got[1].Fingerprint
	if co == nil || co.Family != "Courier" || co.Rule != "builtin:courier-esmtp" || len(co.Evidence) == 0 || co.Evidence[0].Field != "capabilities" {
		t.Errorf("Courier: %+v, want it named by XVERP=Courier", co)
	}
	if got[2].Fingerprint != nil {
		t.Errorf("a result without greeting got a fingerprint: %+v", got[2].Fingerprint)
	}
	if !strings.Contains(stderr, "results=3 named=2 changed=2") {
		t.Errorf("stderr lacks the counts: %s", stderr)
	}
}

// TestFingerprintRederiveBadLine: a line that is no result is reported by
// number (exit 2) and the good results are all written.
func TestFingerprintRederiveBadLine(t *testing.T) {
	lines := strings.SplitAfter(storedResults, "\n")
	in := lines[0] + "not json\n" + lines[1]
	code, out, stderr := runMain(t, in, "fingerprint", "-i", "-")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d results written, want 2", n)
	}
	if !strings.Contains(stderr, "stdin:2:") {
		t.Errorf("stderr does not name stdin:2: %s", stderr)
	}
	if code, _, _ := runMain(t, "", "fingerprint", "-i", "x.jsonl", "--proto", "imap"); code != 2 {
		t.Errorf("-i with --proto: exit %d, want 2", code)
	}
}

// TestFingerprintLongLine (issue 13 item 9): the 50 good greeting lines
// before a 70 KiB line are printed and the long line is named by number.
func TestFingerprintLongLine(t *testing.T) {
	in := strings.Repeat("220 mx.example.test ESMTP Postfix\n", 50) + strings.Repeat("x", 70<<10) + "\n"
	code, out, stderr := runMain(t, in, "fingerprint")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if n := strings.Count(out, `"family":"Postfix"`); n != 50 {
		t.Errorf("%d good lines printed, want 50", n)
	}
	if !strings.Contains(stderr, "input line 51 longer than 65536 bytes") {
		t.Errorf("stderr does not name line 51: %s", stderr)
	}
}
