package banner

import (
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// probeCase is a transcript of a real server of the lab
// (scripts/lab/mailservers.sh, Debian 12 packages): its replies as it sent
// them, the exact bytes the client must write (probes included, pipelined
// where the protocol allows), the probes recorded and the fingerprint the
// facts give.
type probeCase struct {
	name     string
	proto    Protocol
	implicit bool
	steps    []step
	client   string
	probes   *Probes
	family   string
	version  string
	rule     string
}

const (
	cyrusGreeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE AUTH=PLAIN AUTH=LOGIN SASL-IR] cyrus.lab.mailscan.test Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready\r\n"
	cyrusID       = `* ID ("name" "Cyrus IMAPD" "version" "3.6.1-Debian-3.6.1-4+deb12u5" "vendor" "Project Cyrus" "support-url" "https://www.cyrusimap.org" "os" "Linux" "os-version" "6.18.44-fc-v1272")`
	sendmailEHLO  = "250-sendmail.lab.mailscan.test Hello [198.18.0.2], pleased to meet you\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-EXPN\r\n250-VERB\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250-ETRN\r\n250-AUTH DIGEST-MD5 CRAM-MD5\r\n250-DELIVERBY\r\n250 HELP\r\n"
	opensmtpdHelp = "214-2.0.0 This is OpenSMTPD\r\n214-2.0.0 To report bugs in the implementation, please contact bugs@openbsd.org\r\n214-2.0.0 with full details\r\n214 2.0.0 End of HELP info\r\n"
)

func probeCases() []probeCase {
	return []probeCase{
		{
			name: "cyrus imaps: ID NIL pipelined with LOGOUT", proto: IMAPS, implicit: true,
			steps: []step{
				{send: cyrusGreeting},
				{expect: "a001 CAPABILITY", send: "* CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE ACL QUOTA IDLE AUTH=PLAIN AUTH=LOGIN SASL-IR\r\na001 OK Completed\r\n"},
				{expect: "a002 ID NIL", send: cyrusID + "\r\na002 OK Completed\r\n"},
				{expect: "a003 LOGOUT", send: "* BYE LOGOUT received\r\na003 OK Completed\r\n"},
			},
			client: "a001 CAPABILITY\r\na002 ID NIL\r\na003 LOGOUT\r\n",
			probes: &Probes{Sent: []string{"a002 ID NIL"}, ID: cyrusID, Goodbye: "* BYE LOGOUT received\na003 OK Completed"},
			family: "Cyrus", version: "3.6.1-Debian-3.6.1-4+deb12u5", rule: "builtin:cyrus-id",
		},
		{
			name: "mailutils imap4d: ID refused before login", proto: IMAP,
			steps: []step{
				{send: "* OK IMAP4rev1\r\n"},
				{expect: "a001 CAPABILITY", send: "* CAPABILITY IMAP4rev1 NAMESPACE ID IDLE LITERAL+ UNSELECT AUTH=LOGIN AUTH=PLAIN\r\na001 OK CAPABILITY Completed\r\n"},
				{expect: "a002 ID NIL", send: "a002 BAD ID Wrong state\r\n"},
				{expect: "a003 LOGOUT", send: "* BYE Session terminating.\r\na003 OK LOGOUT Completed\r\n"},
			},
			client: "a001 CAPABILITY\r\na002 ID NIL\r\na003 LOGOUT\r\n",
			probes: &Probes{Sent: []string{"a002 ID NIL"}, ID: "a002 BAD ID Wrong state", Goodbye: "* BYE Session terminating.\na003 OK LOGOUT Completed"},
			family: "GNU Mailutils", rule: "builtin:mailutils-id",
		},
		{
			name: "perdition imap: no ID, LOGOUT alone", proto: IMAP,
			steps: []step{
				{send: "* OK [CAPABILITY IMAP4 IMAP4REV1] perdition ready on 198.18.64.16 0002f302\r\n"},
				{expect: "a001 CAPABILITY", send: "* CAPABILITY IMAP4 IMAP4REV1\r\na001 OK CAPABILITY\r\n"},
				{expect: "a002 LOGOUT", send: "* BYE IMAP4 server logging out, mate\r\na002 OK LOGOUT\r\n"},
			},
			client: "a001 CAPABILITY\r\na002 LOGOUT\r\n",
			probes: &Probes{Goodbye: "* BYE IMAP4 server logging out, mate\na002 OK LOGOUT"},
			family: "perdition", rule: "builtin:perdition",
		},
		{
			name: "mailutils pop3d: CAPA names it", proto: POP3,
			steps: []step{
				{send: "+OK POP3 Ready <5071.1796402205@vm.lab.mailscan.test>\r\n"},
				{expect: "CAPA", send: "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nEXPIRENEVER\r\nUSER\r\n.\r\n"},
				{expect: "QUIT", send: "+OK\r\n"},
			},
			client: "CAPA\r\nQUIT\r\n",
			probes: &Probes{Goodbye: "+OK"},
			family: "GNU Mailutils", rule: "builtin:mailutils-pop3-capa",
		},
		{
			name: "cyrus pop3s: IMPLEMENTATION line", proto: POP3S, implicit: true,
			steps: []step{
				{send: "+OK cyrus.lab.mailscan.test Cyrus POP3 3.6.1-Debian-3.6.1-4+deb12u5 server ready <15624147191938888954.1796401299@cyrus.lab.mailscan.test>\r\n"},
				{expect: "CAPA", send: "+OK List of capabilities follows\r\nSASL PLAIN LOGIN\r\nEXPIRE NEVER\r\nLOGIN-DELAY 0\r\nTOP\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nUSER\r\nIMPLEMENTATION Cyrus POP3 3.6.1-Debian-3.6.1-4+deb12u5\r\n.\r\n"},
				{expect: "QUIT", send: "+OK\r\n"},
			},
			client: "CAPA\r\nQUIT\r\n",
			probes: &Probes{Goodbye: "+OK"},
			family: "Cyrus", version: "3.6.1-Debian-3.6.1-4+deb12u5", rule: "builtin:cyrus-pop3-capa",
		},
		{
			name: "sendmail: HELP pipelined with QUIT states the version", proto: Submission,
			steps: []step{
				{send: "220 sendmail.lab.mailscan.test ESMTP Sendmail 8.17.1.9/8.17.1.9; Fri, 4 Dec 2026 16:21:16 GMT\r\n"},
				{expect: "EHLO scanner.example.test", send: sendmailEHLO},
				{expect: "HELP", send: "502 5.3.0 Sendmail 8.17.1.9 -- HELP not implemented\r\n"},
				{expect: "QUIT", send: "221 2.0.0 sendmail.lab.mailscan.test closing connection\r\n"},
			},
			client: "EHLO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes: &Probes{Sent: []string{"HELP"}, Help: "502 5.3.0 Sendmail 8.17.1.9 -- HELP not implemented",
				Goodbye: "221 2.0.0 sendmail.lab.mailscan.test closing connection"},
			family: "Sendmail", version: "8.17.1.9", rule: "builtin:sendmail-help",
		},
		{
			name: "opensmtpd: no PIPELINING, HELP and QUIT one at a time", proto: SMTPS, implicit: true,
			steps: []step{
				{send: "220 opensmtpd.lab.mailscan.test ESMTP OpenSMTPD\r\n"},
				{expect: "EHLO scanner.example.test", send: "250-opensmtpd.lab.mailscan.test Hello scanner.example.test [198.18.0.2], pleased to meet you\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SIZE 36700160\r\n250-DSN\r\n250 HELP\r\n"},
				{expect: "HELP", send: opensmtpdHelp},
				{expect: "QUIT", send: "221 2.0.0 Bye\r\n"},
			},
			client: "EHLO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes: &Probes{Sent: []string{"HELP"}, Help: strings.ReplaceAll(strings.TrimSuffix(opensmtpdHelp, "\r\n"), "\r\n", "\n"), Goodbye: "221 2.0.0 Bye"},
			family: "OpenSMTPD", rule: "builtin:opensmtpd-help",
		},
		{
			name: "courier esmtpd: a keyword names it, HELP refused", proto: SMTPS, implicit: true,
			steps: []step{
				{send: "220 vm ESMTP\r\n"},
				{expect: "EHLO scanner.example.test", send: "250-vm Ok.\r\n250-XVERP=Courier\r\n250-XEXDATA\r\n250-XSECURITY=NONE,STARTTLS\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE\r\n250 DSN\r\n"},
				{expect: "HELP", send: "502 ESMTP command error\r\n"},
				{expect: "QUIT", send: "221 Bye.\r\n"},
			},
			client: "EHLO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes: &Probes{Sent: []string{"HELP"}, Help: "502 ESMTP command error", Goodbye: "221 Bye."},
			family: "Courier", rule: "builtin:courier-esmtp",
		},
		{
			name: "postfix: its own words for a missing HELP", proto: SMTPS, implicit: true,
			steps: []step{
				{send: "220 mail.lab.mailscan.test ESMTP Postfix (Debian/GNU)\r\n"},
				{expect: "EHLO scanner.example.test", send: "250-mail.lab.mailscan.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n"},
				{expect: "HELP", send: "500 5.5.2 Error: command not recognized\r\n"},
				{expect: "QUIT", send: "221 2.0.0 Bye\r\n"},
			},
			client: "EHLO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes: &Probes{Sent: []string{"HELP"}, Help: "500 5.5.2 Error: command not recognized", Goodbye: "221 2.0.0 Bye"},
			family: "Postfix", rule: "builtin:postfix-help",
		},
	}
}

// TestProbeTranscripts runs each real server's transcript: the client's
// bytes exactly (no probe but ID NIL and HELP, pipelined where allowed, never
// a credential), the probes recorded, and the fingerprint the facts give.
func TestProbeTranscripts(t *testing.T) {
	p := mustPKI(t)
	for _, tc := range probeCases() {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scriptServer{steps: tc.steps, tlsCfg: serverTLS(p.leaf), implicit: tc.implicit}
			m := &memNet{serve: srv.serve}
			cfg := testConfig(m)
			cfg.RootCAs = p.roots
			r := scanOne(t, cfg, m, tc.proto)
			if got := srv.transcript(); got != tc.client {
				t.Errorf("client wrote %q\nwant %q", got, tc.client)
			}
			noCredentials(t, srv.transcript())
			if r.Status != StatusSuccess {
				t.Errorf("status %q (%s)", r.Status, r.Error)
			}
			if !reflect.DeepEqual(r.Probes, tc.probes) {
				t.Errorf("probes = %+v\nwant %+v", r.Probes, tc.probes)
			}
			fp := r.Fingerprint
			if fp == nil || fp.Family != tc.family || fp.Version != tc.version || fp.Rule != tc.rule {
				t.Errorf("fingerprint = %+v, want family %q version %q by %s", fp, tc.family, tc.version, tc.rule)
			}
		})
	}
}

// TestProbesNeverLogIn: over every transcript of the package, the probes
// the stage records are only ID NIL and HELP, and no line the client wrote
// starts a login.
func TestProbesNeverLogIn(t *testing.T) {
	p := mustPKI(t)
	run := func(name string, proto Protocol, implicit bool, steps []step) {
		srv := &scriptServer{steps: steps, tlsCfg: serverTLS(p.leaf), implicit: implicit}
		m := &memNet{serve: srv.serve}
		cfg := testConfig(m)
		cfg.RootCAs = p.roots
		r := scanOne(t, cfg, m, proto)
		noCredentials(t, srv.transcript())
		if r.Probes == nil {
			return
		}
		for _, c := range r.Probes.Sent {
			if c != "HELP" && !strings.HasSuffix(c, " ID NIL") {
				t.Errorf("%s: probe %q", name, c)
			}
			if !strings.Contains(srv.transcript(), c+"\r\n") {
				t.Errorf("%s: probe %q recorded but not sent", name, c)
			}
		}
	}
	for _, tc := range probeCases() {
		run(tc.name, tc.proto, tc.implicit, tc.steps)
	}
	for _, tc := range transcriptCases() {
		run(tc.name, tc.proto, tc.implicit, tc.steps)
	}
}

// writeLog records each Read the server side gets: over net.Pipe, one
// Read returns data of one client Write, so the chunks show which commands
// the client sent together.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	chunks []string
}

func (c *writeLog) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.chunks = append(c.chunks, string(p[:n]))
		c.mu.Unlock()
	}
	return n, err
}

// TestProbesPipelined: the probes add no round trip where the protocol
// allows it: ID NIL travels in one write with LOGOUT, HELP with QUIT when
// the server announces PIPELINING; without PIPELINING HELP goes alone
// (OpenSMTPD refuses commands sent ahead of a reply).
func TestProbesPipelined(t *testing.T) {
	cases := probeCases()
	byName := map[string]probeCase{}
	for _, c := range cases {
		byName[c.name] = c
	}
	opensmtpd := byName["opensmtpd: no PIPELINING, HELP and QUIT one at a time"]
	opensmtpd.proto, opensmtpd.implicit = SMTP, false
	for _, tt := range []struct {
		tc        probeCase
		together  string // one write holds all of it
		aloneHELP bool   // HELP was a write of its own
	}{
		{byName["mailutils imap4d: ID refused before login"], "a002 ID NIL\r\na003 LOGOUT\r\n", false},
		{byName["sendmail: HELP pipelined with QUIT states the version"], "HELP\r\nQUIT\r\n", false},
		{opensmtpd, "", true},
	} {
		t.Run(tt.tc.name, func(t *testing.T) {
			srv := &scriptServer{steps: tt.tc.steps}
			var cc *writeLog
			m := &memNet{serve: func(addr string, c net.Conn) {
				cc = &writeLog{Conn: c}
				srv.serve(addr, cc)
			}}
			r := scanOne(t, testConfig(m), m, tt.tc.proto)
			if r.Status != StatusSuccess {
				t.Fatalf("status %q (%s)", r.Status, r.Error)
			}
			cc.mu.Lock()
			defer cc.mu.Unlock()
			if tt.together != "" && !slices.Contains(cc.chunks, tt.together) {
				t.Errorf("writes %q, want %q in one", cc.chunks, tt.together)
			}
			if tt.aloneHELP && !slices.Contains(cc.chunks, "HELP\r\n") {
				t.Errorf("writes %q, want HELP alone", cc.chunks)
			}
		})
	}
}
