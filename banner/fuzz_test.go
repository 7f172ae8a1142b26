package banner

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// cannedConn is a net.Conn whose peer has already said everything: reads
// return data, then io.EOF; writes are discarded; deadlines are moot
// because nothing blocks.
type cannedConn struct {
	data    []byte
	read    int
	written []byte
}

func (c *cannedConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	c.read += n
	return n, nil
}

func (c *cannedConn) Write(p []byte) (int, error) {
	c.written = append(c.written, p...)
	return len(p), nil
}
func (c *cannedConn) Close() error                     { return nil }
func (c *cannedConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *cannedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *cannedConn) SetDeadline(time.Time) error      { return nil }
func (c *cannedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cannedConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzDialogue runs the dialogue of proto against a server that sends data
// and checks the invariants: no panic (Scan would report it as an internal
// error), a valid status, reads within MaxBytes, a result that encodes.
func fuzzDialogue(t *testing.T, proto Protocol, data []byte) {
	conn := &cannedConn{data: data}
	cfg := Config{
		ReadTimeout:   time.Second,
		TargetTimeout: 2 * time.Second,
		MaxLineBytes:  512,
		MaxBytes:      4096,
		EHLOName:      "scanner.example.test",
		Dial:          func(context.Context, string, string) (net.Conn, error) { return conn, nil },
		Policy:        labPolicy(),
	}
	s, err := NewScanner(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Scan(context.Background(), Target{Addr: testAddr, Port: proto.DefaultPort(), Protocol: proto})
	if !r.Status.Valid() {
		t.Fatalf("invalid status %q", r.Status)
	}
	if strings.Contains(r.Error, "internal error") {
		t.Fatalf("Scan panicked: %s", r.Error)
	}
	if conn.read > cfg.MaxBytes {
		t.Fatalf("read %d bytes, above MaxBytes %d", conn.read, cfg.MaxBytes)
	}
	if len(r.Greeting) > cfg.MaxBytes {
		t.Fatalf("greeting of %d bytes", len(r.Greeting))
	}
	if r.Status == StatusSuccess && r.Error != "" || r.Status != StatusSuccess && r.Error == "" {
		t.Fatalf("status %q with error %q", r.Status, r.Error)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
	// Whatever the server says, the client sends no credential and no
	// probe but ID NIL and HELP.
	noCredentials(t, string(conn.written))
	if r.Probes != nil {
		for _, c := range r.Probes.Sent {
			if c != "HELP" && !strings.HasSuffix(c, " ID NIL") {
				t.Fatalf("probe %q sent", c)
			}
		}
	}
}

func FuzzReadIMAP(f *testing.F) {
	for _, seed := range []string{
		dovecotGreeting + dovecotCapsClear + "a001" + dovecotCapsOK + "a002 OK Begin TLS negotiation now.\r\n",
		dovecotGreeting + dovecotCapsClear + "a001" + dovecotCapsOK + "a002 NO no TLS\r\n* BYE\r\na003 OK\r\n",
		"* OK The Microsoft Exchange IMAP4 service is ready.\r\n* ID (\"name\" {9}\r\nExchange)\r\n* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM\r\na001 OK CAPABILITY completed.\r\n* BYE\r\na002 OK LOGOUT completed.\r\n",
		"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] Logged in\r\na001 OK [CAPABILITY IMAP4rev1] done\r\n",
		"* BYE Too many connections\r\n",
		"* OK hi\r\n+ go on\r\n",
		"* OK hi\r\na001 BAD what\r\n",
		"* OK hi\r\n* X {5+}\r\nabcde\r\na001 OK\r\n",
		"* OK [CAPABILITY IMAP4rev1 STARTTLS] x\r\na001 OK\r\na002 OK\r\n\x16\x03\x01\x00\x05hello",
		// Cyrus 3.6.1 of the lab: ID listed, ID NIL and LOGOUT answered.
		"* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE] cyrus.lab.mailscan.test Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready\r\n* CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE\r\na001 OK Completed\r\n* ID (\"name\" \"Cyrus IMAPD\" \"version\" \"3.6.1-Debian-3.6.1-4+deb12u5\" \"os\" \"Linux\")\r\na002 OK Completed\r\n* BYE LOGOUT received\r\na003 OK Completed\r\n",
		// GNU Mailutils 3.15: ID listed but refused before login.
		"* OK IMAP4rev1\r\n* CAPABILITY IMAP4rev1 NAMESPACE ID IDLE\r\na001 OK CAPABILITY Completed\r\na002 BAD ID Wrong state\r\n* BYE Session terminating.\r\na003 OK LOGOUT Completed\r\n",
		"* OK x\r\n* CAPABILITY ID\r\na001 OK\r\n* ID {3}\r\nabc\r\na002 OK\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for line := range strings.SplitSeq(string(data), "\n") {
			r, err := parseIMAPLine(strings.TrimSuffix(line, "\r"))
			if err == nil {
				r.capabilities()
			}
			imapLiteral(line)
		}
		fuzzDialogue(t, IMAP, data)
		fuzzDialogue(t, IMAPS, data)
	})
}

func FuzzReadPOP3(f *testing.F) {
	for _, seed := range []string{
		"+OK Dovecot ready.\r\n+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n+OK Begin TLS negotiation now.\r\n",
		"+OK Qpopper (version 4.1.0) at mail.example.test starting.  <21646.1262304000@mail.example.test>\r\n-ERR Unknown command\r\n+OK bye\r\n",
		"+OK hi\r\n+OK List follows\r\nUSER\r\n..odd\r\n.\r\n+OK bye\r\n",
		"-ERR [SYS/TEMP] Too many connections\r\n",
		"+OK x\r\n+OK\r\nSTLS\r\n.\r\n-ERR no\r\n",
		"+OK <a@b> <<c@d>\r\n",
		// GNU Mailutils 3.15 pop3d, with its EXPIRENEVER.
		"+OK POP3 Ready <5071.1796402205@vm.lab.mailscan.test>\r\n+OK Capability list follows\r\nTOP\r\nUIDL\r\nEXPIRENEVER\r\nUSER\r\n.\r\n+OK\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for line := range strings.SplitSeq(string(data), "\n") {
			parsePOP3Status(line)
			apopTimestamp(line)
			unstuffPOP3(line)
		}
		fuzzDialogue(t, POP3, data)
		fuzzDialogue(t, POP3S, data)
	})
}

func FuzzReadSMTP(f *testing.F) {
	for _, seed := range []string{
		"220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 CHUNKING\r\n220 2.0.0 Ready to start TLS\r\n",
		"220-mail.example.test ESMTP Exim 4.94\r\n220-We do not authorize\r\n220 bulk e-mail.\r\n250-mail.example.test Hello\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n454 TLS currently unavailable\r\n221 bye\r\n",
		"220 old.example.test SMTP ready\r\n502 5.5.2 Error\r\n250 old.example.test\r\n221 Bye\r\n",
		"554 5.7.1 Service unavailable\r\n221 Bye\r\n",
		"220-first\r\nno code\r\n230-other\r\n220 last\r\n250\r\n",
		"220 x\n250-y\n250 AUTH=LOGIN\n",
		// Sendmail 8.17 of the lab: HELP and QUIT pipelined.
		"220 sendmail.lab.mailscan.test ESMTP Sendmail 8.17.1.9/8.17.1.9; Fri, 4 Dec 2026 16:21:16 GMT\r\n250-sendmail.lab.mailscan.test Hello\r\n250-PIPELINING\r\n250 HELP\r\n502 5.3.0 Sendmail 8.17.1.9 -- HELP not implemented\r\n221 2.0.0 closing connection\r\n",
		// OpenSMTPD 6.8: no PIPELINING, multi-line HELP.
		"220 opensmtpd.lab.mailscan.test ESMTP OpenSMTPD\r\n250-opensmtpd.lab.mailscan.test Hello\r\n250 HELP\r\n214-2.0.0 This is OpenSMTPD\r\n214 2.0.0 End of HELP info\r\n221 2.0.0 Bye\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readSMTPReply(lines(string(data)))
		if err == nil && (len(r.Text) == 0 || r.Code < 100 || r.Code > 999) {
			t.Fatalf("readSMTPReply = %+v without error", r)
		}
		for _, c := range r.Text {
			smtpKeyword(c)
			smtpDomain(c)
		}
		fuzzDialogue(t, SMTP, data)
		fuzzDialogue(t, SMTPS, data)
	})
}
