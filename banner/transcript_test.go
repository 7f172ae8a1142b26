package banner

import (
	"reflect"
	"strings"
	"testing"
)

// transcriptCase is a canned server script, the exact bytes the client must
// write, and what the result must say.
type transcriptCase struct {
	name      string
	proto     Protocol
	implicit  bool // server starts with TLS
	steps     []step
	client    string // every byte the client writes, in order
	status    Status
	greeting  string
	before    []string
	after     []string
	starttls  *StartTLS
	tlsDone   bool // a completed handshake is reported
	apop      string
	probes    *Probes            // nil: not checked
	findings  map[string]Finding // by JSON name; absent ones must be nil
	errSubstr string
}

const (
	dovecotGreeting   = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.\r\n"
	dovecotCapsClear  = "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED\r\n"
	dovecotCapsTLS    = "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN\r\n"
	dovecotCapsOK     = " OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
	dovecotLogoutResp = "* BYE Logging out\r\n"
	// dovecotID is Dovecot 2.3's reply to ID NIL with its default
	// imap_id_send ("name *"), as the lab's Dovecot sends it.
	dovecotID = "* ID (\"name\" \"Dovecot\")\r\n"
)

var dovecotClearList = []string{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS", "LOGINDISABLED"}
var dovecotTLSList = []string{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "AUTH=PLAIN", "AUTH=LOGIN"}

func transcriptCases() []transcriptCase {
	return []transcriptCase{
		{
			name:  "imap dovecot starttls",
			proto: IMAP,
			steps: []step{
				{send: dovecotGreeting},
				{expect: "a001 CAPABILITY", send: dovecotCapsClear + "a001" + dovecotCapsOK},
				{expect: "a002 STARTTLS", send: "a002 OK Begin TLS negotiation now.\r\n", tls: true},
				{expect: "a003 CAPABILITY", send: dovecotCapsTLS + "a003" + dovecotCapsOK},
				{expect: "a004 ID NIL", send: dovecotID + "a004 OK ID completed.\r\n"},
				{expect: "a005 LOGOUT", send: dovecotLogoutResp + "a005 OK Logout completed.\r\n"},
			},
			client:   "a001 CAPABILITY\r\na002 STARTTLS\r\na003 CAPABILITY\r\na004 ID NIL\r\na005 LOGOUT\r\n",
			probes:   &Probes{Sent: []string{"a004 ID NIL"}, ID: strings.TrimSuffix(dovecotID, "\r\n"), Goodbye: "* BYE Logging out\na005 OK Logout completed."},
			status:   StatusSuccess,
			greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.",
			before:   dovecotClearList,
			after:    dovecotTLSList,
			starttls: &StartTLS{Offered: true, Attempted: true, Response: "a002 OK Begin TLS negotiation now."},
			tlsDone:  true,
			findings: map[string]Finding{
				"cleartext_login":  {false, "cleartext CAPABILITY lists LOGINDISABLED: IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED"},
				"starttls_offered": {true, "cleartext capabilities list STARTTLS"},
				"tls_only":         {true, "STARTTLS offered and no login before it"},
				"cert_expired":     {false, ""},
				"cert_self_signed": {false, ""},
				"tls_legacy":       {false, "negotiated TLSv1.3"},
			},
		},
		{
			name:  "imap exchange, capabilities only from command, tagged code and untagged noise",
			proto: IMAP,
			steps: []step{
				{send: "* OK The Microsoft Exchange IMAP4 service is ready. [TQBYADAAMgBQAFIAMAAxAEMAQQAwADAAMQA=]\r\n"},
				{expect: "a001 CAPABILITY", send: "* ID (\"name\" {9}\r\nExchange)\r\n* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+\r\na001 OK CAPABILITY completed.\r\n"},
				{expect: "a002 ID NIL", send: "a002 BAD Command Argument Error. 11\r\n"},
				{expect: "a003 LOGOUT", send: "* BYE Microsoft Exchange Server IMAP4 server signing off.\r\na003 OK LOGOUT completed.\r\n"},
			},
			client: "a001 CAPABILITY\r\na002 ID NIL\r\na003 LOGOUT\r\n",
			probes: &Probes{Sent: []string{"a002 ID NIL"}, ID: "a002 BAD Command Argument Error. 11",
				Goodbye: "* BYE Microsoft Exchange Server IMAP4 server signing off.\na003 OK LOGOUT completed."},
			status:   StatusSuccess,
			greeting: "* OK The Microsoft Exchange IMAP4 service is ready. [TQBYADAAMgBQAFIAMAAxAEMAQQAwADAAMQA=]",
			before:   []string{"IMAP4", "IMAP4rev1", "AUTH=NTLM", "AUTH=GSSAPI", "AUTH=PLAIN", "UIDPLUS", "MOVE", "ID", "CHILDREN", "IDLE", "NAMESPACE", "LITERAL+"},
			findings: map[string]Finding{
				"cleartext_login":  {true, "cleartext CAPABILITY lacks LOGINDISABLED: IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+"},
				"starttls_offered": {false, "cleartext capabilities lack STARTTLS"},
				"tls_only":         {false, "STARTTLS not offered"},
			},
		},
		{
			name:  "imap capability in tagged code only",
			proto: IMAP,
			steps: []step{
				{send: "* OK ready\r\n"},
				{expect: "a001 CAPABILITY", send: "a001 OK [CAPABILITY IMAP4rev1 STARTTLS] done\r\n"},
				{expect: "a002 STARTTLS", send: "a002 NO [UNAVAILABLE] TLS not configured\r\n"},
				{expect: "a003 LOGOUT", send: "a003 OK bye\r\n"},
			},
			client:   "a001 CAPABILITY\r\na002 STARTTLS\r\na003 LOGOUT\r\n",
			status:   StatusSuccess,
			greeting: "* OK ready",
			before:   []string{"IMAP4rev1", "STARTTLS"},
			starttls: &StartTLS{Offered: true, Attempted: true, Response: "a002 NO [UNAVAILABLE] TLS not configured", Error: "refused: a002 NO [UNAVAILABLE] TLS not configured"},
			findings: map[string]Finding{
				"cleartext_login":  {true, "cleartext CAPABILITY lacks LOGINDISABLED: IMAP4rev1 STARTTLS"},
				"starttls_offered": {true, "cleartext capabilities list STARTTLS"},
				"tls_only":         {false, "STARTTLS offered, but login is possible before it"},
			},
		},
		{
			name:  "imap preauth does not STARTTLS",
			proto: IMAP,
			steps: []step{
				{send: "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] Logged in as joe\r\n"},
				{expect: "a001 CAPABILITY", send: "* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK done\r\n"},
				{expect: "a002 LOGOUT", send: "* BYE bye\r\na002 OK done\r\n"},
			},
			client:   "a001 CAPABILITY\r\na002 LOGOUT\r\n",
			status:   StatusSuccess,
			greeting: "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] Logged in as joe",
			before:   []string{"IMAP4rev1", "STARTTLS"},
			starttls: &StartTLS{Offered: true, Error: "not attempted: PREAUTH session (RFC 3501 allows STARTTLS only before authentication)"},
			findings: map[string]Finding{
				"cleartext_login":  {false, "PREAUTH greeting: the session is authenticated without a login"},
				"starttls_offered": {true, "cleartext capabilities list STARTTLS"},
				"tls_only":         {false, "PREAUTH greeting: the session is authenticated in cleartext"},
			},
		},
		{
			name:      "imap bye greeting is closed",
			proto:     IMAP,
			steps:     []step{{send: "* BYE Too many connections from your IP\r\n"}},
			client:    "",
			status:    StatusClosed,
			greeting:  "* BYE Too many connections from your IP",
			errSubstr: "server refused",
		},
		{
			name:     "imaps dovecot",
			proto:    IMAPS,
			implicit: true,
			steps: []step{
				{send: "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.\r\n"},
				{expect: "a001 CAPABILITY", send: dovecotCapsTLS + "a001" + dovecotCapsOK},
				{expect: "a002 ID NIL", send: dovecotID + "a002 OK ID completed.\r\n"},
				{expect: "a003 LOGOUT", send: dovecotLogoutResp + "a003 OK Logout completed.\r\n"},
			},
			client:   "a001 CAPABILITY\r\na002 ID NIL\r\na003 LOGOUT\r\n",
			status:   StatusSuccess,
			greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready.",
			after:    dovecotTLSList,
			tlsDone:  true,
			findings: map[string]Finding{
				"cleartext_login":  {false, "implicit TLS"},
				"starttls_offered": {false, "implicit TLS"},
				"tls_only":         {true, "implicit TLS"},
				"cert_expired":     {false, ""},
				"cert_self_signed": {false, ""},
				"tls_legacy":       {false, "negotiated TLSv1.3"},
			},
		},
		{
			name:  "pop3 dovecot stls",
			proto: POP3,
			steps: []step{
				{send: "+OK Dovecot ready.\r\n"},
				{expect: "CAPA", send: "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n"},
				{expect: "STLS", send: "+OK Begin TLS negotiation now.\r\n", tls: true},
				{expect: "CAPA", send: "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n"},
				{expect: "QUIT", send: "+OK Logging out.\r\n"},
			},
			client:   "CAPA\r\nSTLS\r\nCAPA\r\nQUIT\r\n",
			status:   StatusSuccess,
			greeting: "+OK Dovecot ready.",
			before:   []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER", "SASL PLAIN"},
			after:    []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN"},
			starttls: &StartTLS{Offered: true, Attempted: true, Response: "+OK Begin TLS negotiation now."},
			tlsDone:  true,
			findings: map[string]Finding{
				"cleartext_login":  {true, "cleartext CAPA lists USER, SASL PLAIN"},
				"starttls_offered": {true, "cleartext capabilities list STLS"},
				"tls_only":         {false, "STLS offered, but login is possible before it"},
				"cert_expired":     {false, ""},
				"cert_self_signed": {false, ""},
				"tls_legacy":       {false, "negotiated TLSv1.3"},
			},
		},
		{
			name:  "pop3 qpopper apop, no CAPA, byte-stuffed nothing",
			proto: POP3,
			steps: []step{
				{send: "+OK Qpopper (version 4.1.0) at mail.example.test starting.  <21646.1262304000@mail.example.test>\r\n"},
				{expect: "CAPA", send: "-ERR Unknown command: \"CAPA\".\r\n"},
				{expect: "QUIT", send: "+OK Pop server at mail.example.test signing off.\r\n"},
			},
			client:   "CAPA\r\nQUIT\r\n",
			status:   StatusSuccess,
			greeting: "+OK Qpopper (version 4.1.0) at mail.example.test starting.  <21646.1262304000@mail.example.test>",
			probes:   &Probes{Error: "-ERR Unknown command: \"CAPA\".", Goodbye: "+OK Pop server at mail.example.test signing off."},
			apop:     "<21646.1262304000@mail.example.test>",
		},
		{
			name:  "pop3 byte-stuffed CAPA line",
			proto: POP3,
			steps: []step{
				{send: "+OK hi\r\n"},
				{expect: "CAPA", send: "+OK List follows\r\nUSER\r\n..odd\r\n.\r\n"},
				{expect: "QUIT", send: "+OK bye\r\n"},
			},
			client:   "CAPA\r\nQUIT\r\n",
			status:   StatusSuccess,
			greeting: "+OK hi",
			before:   []string{"USER", ".odd"},
			findings: map[string]Finding{
				"cleartext_login":  {true, "cleartext CAPA lists USER"},
				"starttls_offered": {false, "cleartext capabilities lack STLS"},
				"tls_only":         {false, "STLS not offered"},
			},
		},
		{
			name:      "pop3 -ERR greeting is closed",
			proto:     POP3,
			steps:     []step{{send: "-ERR [SYS/TEMP] Too many connections\r\n"}},
			status:    StatusClosed,
			greeting:  "-ERR [SYS/TEMP] Too many connections",
			errSubstr: "server refused",
		},
		{
			name:     "pop3s",
			proto:    POP3S,
			implicit: true,
			steps: []step{
				{send: "+OK Dovecot ready. <1b2f.3.5f0c1a2b.abcDEF==@mail.example.test>\r\n"},
				{expect: "CAPA", send: "+OK\r\nCAPA\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n"},
				{expect: "QUIT", send: "+OK Logging out.\r\n"},
			},
			client:   "CAPA\r\nQUIT\r\n",
			status:   StatusSuccess,
			greeting: "+OK Dovecot ready. <1b2f.3.5f0c1a2b.abcDEF==@mail.example.test>",
			apop:     "<1b2f.3.5f0c1a2b.abcDEF==@mail.example.test>",
			after:    []string{"CAPA", "USER", "SASL PLAIN LOGIN"},
			tlsDone:  true,
			findings: map[string]Finding{
				"cleartext_login":  {false, "implicit TLS"},
				"starttls_offered": {false, "implicit TLS"},
				"tls_only":         {true, "implicit TLS"},
				"cert_expired":     {false, ""},
				"cert_self_signed": {false, ""},
				"tls_legacy":       {false, "negotiated TLSv1.3"},
			},
		},
		{
			name:  "smtp postfix starttls",
			proto: SMTP,
			steps: []step{
				{send: "220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n"},
				{expect: "EHLO scanner.example.test", send: "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"},
				{expect: "STARTTLS", send: "220 2.0.0 Ready to start TLS\r\n", tls: true},
				{expect: "EHLO scanner.example.test", send: "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n"},
				{expect: "HELP", send: "500 5.5.2 Error: command not recognized\r\n"},
				{expect: "QUIT", send: "221 2.0.0 Bye\r\n"},
			},
			client:   "EHLO scanner.example.test\r\nSTARTTLS\r\nEHLO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes:   &Probes{Sent: []string{"HELP"}, Help: "500 5.5.2 Error: command not recognized", Goodbye: "221 2.0.0 Bye"},
			status:   StatusSuccess,
			greeting: "220 mx.example.test ESMTP Postfix (Debian/GNU)",
			before:   []string{"PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
			after:    []string{"PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "CHUNKING"},
			starttls: &StartTLS{Offered: true, Attempted: true, Response: "220 2.0.0 Ready to start TLS"},
			tlsDone:  true,
			findings: map[string]Finding{
				"cleartext_login":  {false, "cleartext EHLO lists no AUTH"},
				"starttls_offered": {true, "cleartext capabilities list STARTTLS"},
				"tls_only":         {true, "STARTTLS offered and no login before it"},
				"cert_expired":     {false, ""},
				"cert_self_signed": {false, ""},
				"tls_legacy":       {false, "negotiated TLSv1.3"},
			},
		},
		{
			name:  "submission exim multi-line greeting, AUTH in clear, STARTTLS refused",
			proto: Submission,
			steps: []step{
				{send: "220-mail.example.test ESMTP Exim 4.94\r\n220-We do not authorize the use of this system to transport unsolicited,\r\n220 and/or bulk e-mail.\r\n"},
				{expect: "EHLO scanner.example.test", send: "250-mail.example.test Hello scanner.example.test [198.18.0.7]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 HELP\r\n"},
				{expect: "STARTTLS", send: "454 TLS currently unavailable\r\n"},
				{expect: "QUIT", send: "221 mail.example.test closing connection\r\n"},
			},
			client:   "EHLO scanner.example.test\r\nSTARTTLS\r\nQUIT\r\n",
			status:   StatusSuccess,
			greeting: "220-mail.example.test ESMTP Exim 4.94\n220-We do not authorize the use of this system to transport unsolicited,\n220 and/or bulk e-mail.",
			before:   []string{"SIZE 52428800", "8BITMIME", "PIPELINING", "AUTH PLAIN LOGIN", "STARTTLS", "HELP"},
			starttls: &StartTLS{Offered: true, Attempted: true, Response: "454 TLS currently unavailable", Error: "refused: 454 TLS currently unavailable"},
			findings: map[string]Finding{
				"cleartext_login":  {true, "cleartext EHLO lists AUTH PLAIN LOGIN"},
				"starttls_offered": {true, "cleartext capabilities list STARTTLS"},
				"tls_only":         {false, "STARTTLS offered, but login is possible before it"},
			},
		},
		{
			name:  "smtp ehlo refused, helo fallback",
			proto: SMTP,
			steps: []step{
				{send: "220 old.example.test SMTP ready\r\n"},
				{expect: "EHLO scanner.example.test", send: "502 5.5.2 Error: command not recognized\r\n"},
				{expect: "HELO scanner.example.test", send: "250 old.example.test\r\n"},
				{expect: "HELP", send: "214 No help here\r\n"},
				{expect: "QUIT", send: "221 Bye\r\n"},
			},
			client:   "EHLO scanner.example.test\r\nHELO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes:   &Probes{Sent: []string{"HELP"}, Help: "214 No help here", Goodbye: "221 Bye"},
			status:   StatusSuccess,
			greeting: "220 old.example.test SMTP ready",
			before:   []string{},
			findings: map[string]Finding{
				"cleartext_login":  {false, "EHLO refused, HELO has no AUTH"},
				"starttls_offered": {false, "cleartext capabilities lack STARTTLS"},
				"tls_only":         {false, "STARTTLS not offered"},
			},
		},
		{
			name:  "smtp 554 greeting is closed, says QUIT",
			proto: SMTP,
			steps: []step{
				{send: "554 5.7.1 Service unavailable; Client host [198.18.0.7] blocked using zen.spamhaus.example\r\n"},
				{expect: "QUIT", send: "221 Bye\r\n"},
			},
			client:    "QUIT\r\n",
			status:    StatusClosed,
			greeting:  "554 5.7.1 Service unavailable; Client host [198.18.0.7] blocked using zen.spamhaus.example",
			errSubstr: "server refused",
		},
		{
			name:      "smtp 421 on EHLO is closed",
			proto:     SMTP,
			steps:     []step{{send: "220 mx.example.test ESMTP\r\n"}, {expect: "EHLO scanner.example.test", send: "421 4.3.2 Service shutting down\r\n"}},
			client:    "EHLO scanner.example.test\r\n",
			status:    StatusClosed,
			greeting:  "220 mx.example.test ESMTP",
			errSubstr: "EHLO refused",
		},
		{
			name:     "smtps exchange",
			proto:    SMTPS,
			implicit: true,
			steps: []step{
				{send: "220 EX01.corp.example.test Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2024 12:00:00 +0000\r\n"},
				{expect: "EHLO scanner.example.test", send: "250-EX01.corp.example.test Hello [198.18.0.7]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-AUTH GSSAPI NTLM LOGIN\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250 CHUNKING\r\n"},
				{expect: "HELP", send: "214-This server supports the following commands:\r\n214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT\r\n"},
				{expect: "QUIT", send: "221 2.0.0 Service closing transmission channel\r\n"},
			},
			client: "EHLO scanner.example.test\r\nHELP\r\nQUIT\r\n",
			probes: &Probes{Sent: []string{"HELP"}, Help: "214-This server supports the following commands:\n214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT",
				Goodbye: "221 2.0.0 Service closing transmission channel"},
			status:   StatusSuccess,
			greeting: "220 EX01.corp.example.test Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2024 12:00:00 +0000",
			after:    []string{"SIZE 37748736", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "AUTH GSSAPI NTLM LOGIN", "8BITMIME", "BINARYMIME", "CHUNKING"},
			tlsDone:  true,
			findings: map[string]Finding{
				"cleartext_login":  {false, "implicit TLS"},
				"starttls_offered": {false, "implicit TLS"},
				"tls_only":         {true, "implicit TLS"},
				"cert_expired":     {false, ""},
				"cert_self_signed": {false, ""},
				"tls_legacy":       {false, "negotiated TLSv1.3"},
			},
		},
	}
}

func TestTranscripts(t *testing.T) {
	p := mustPKI(t)
	for _, tc := range transcriptCases() {
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
			if r.Status != tc.status {
				t.Errorf("status = %q (error %q), want %q", r.Status, r.Error, tc.status)
			}
			if tc.errSubstr == "" && r.Error != "" || tc.errSubstr != "" && !strings.Contains(r.Error, tc.errSubstr) {
				t.Errorf("error = %q, want it to contain %q", r.Error, tc.errSubstr)
			}
			if r.Greeting != tc.greeting {
				t.Errorf("greeting = %q, want %q", r.Greeting, tc.greeting)
			}
			if r.APOPTimestamp != tc.apop {
				t.Errorf("apop = %q, want %q", r.APOPTimestamp, tc.apop)
			}
			var before, after []string
			if r.Capabilities != nil {
				before, after = r.Capabilities.Before, r.Capabilities.After
			}
			if !reflect.DeepEqual(before, tc.before) || !reflect.DeepEqual(after, tc.after) {
				t.Errorf("capabilities = %q / %q, want %q / %q", before, after, tc.before, tc.after)
			}
			if !reflect.DeepEqual(r.StartTLS, tc.starttls) {
				t.Errorf("starttls = %+v, want %+v", r.StartTLS, tc.starttls)
			}
			if tc.tlsDone {
				if r.TLS == nil || r.TLS.HandshakeError != "" || r.TLS.Version != "TLSv1.3" || !r.TLS.ChainVerified || len(r.TLS.Certificates) != 2 {
					t.Errorf("tls = %+v, want a verified TLSv1.3 session with 2 certificates", r.TLS)
				}
			} else if r.TLS != nil {
				t.Errorf("tls = %+v, want none", r.TLS)
			}
			checkFindings(t, r.Findings, tc.findings)
			if tc.probes != nil && !reflect.DeepEqual(r.Probes, tc.probes) {
				t.Errorf("probes = %+v, want %+v", r.Probes, tc.probes)
			}
		})
	}
}

// checkFindings compares findings by JSON name; an empty wanted evidence
// means "any evidence" (certificate dates vary per run).
func checkFindings(t *testing.T, f *Findings, want map[string]Finding) {
	t.Helper()
	if f == nil {
		f = &Findings{}
	}
	got := map[string]*Finding{
		"cleartext_login":  f.CleartextLogin,
		"starttls_offered": f.StartTLSOffered,
		"tls_only":         f.TLSOnly,
		"cert_expired":     f.CertExpired,
		"cert_self_signed": f.CertSelfSigned,
		"tls_legacy":       f.TLSLegacy,
	}
	for name, g := range got {
		w, ok := want[name]
		switch {
		case !ok && g != nil:
			t.Errorf("finding %s = %+v, want absent", name, *g)
		case ok && g == nil:
			t.Errorf("finding %s absent, want %+v", name, w)
		case ok && (g.Value != w.Value || w.Evidence != "" && g.Evidence != w.Evidence):
			t.Errorf("finding %s = %+v, want %+v", name, *g, w)
		}
	}
}

// noCredentials fails if the client sent any command that carries or
// starts a login: the stage must never send one.
func noCredentials(t *testing.T, written string) {
	t.Helper()
	for line := range strings.SplitSeq(written, "\n") {
		words := strings.Fields(strings.ToUpper(line))
		for i, w := range words {
			if i > 1 {
				break // the verb is the first word, or the second after an IMAP tag
			}
			switch w {
			case "AUTH", "AUTHENTICATE", "LOGIN", "USER", "PASS", "APOP":
				t.Fatalf("client sent a login command: %q", line)
			}
		}
	}
}
