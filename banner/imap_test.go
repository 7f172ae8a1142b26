package banner

import (
	"reflect"
	"testing"
)

func TestParseIMAPGreeting(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantCond string
		wantCaps []string
		wantText string
		wantErr  bool
	}{
		{
			name:     "dovecot",
			line:     "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.",
			wantCond: "OK",
			wantCaps: []string{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS", "AUTH=PLAIN"},
			wantText: "Dovecot ready.",
		},
		{
			name:     "courier",
			line:     "* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS] Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc.  See COPYING for distribution information.",
			wantCond: "OK",
			wantCaps: []string{"IMAP4rev1", "UIDPLUS", "CHILDREN", "NAMESPACE", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "SORT", "QUOTA", "IDLE", "ACL", "ACL2=UNION", "STARTTLS"},
			wantText: "Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc.  See COPYING for distribution information.",
		},
		{
			name:     "exchange, no code",
			line:     "* OK The Microsoft Exchange IMAP4 service is ready. [TQBYADAAMgBQAFIAMAAxAEMAQQAwADAAMQA=]",
			wantCond: "OK",
			wantText: "The Microsoft Exchange IMAP4 service is ready. [TQBYADAAMgBQAFIAMAAxAEMAQQAwADAAMQA=]",
		},
		{
			name:     "cyrus",
			line:     "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS AUTH=PLAIN SASL-IR] mail.example.test Cyrus IMAP 3.0.13 server ready",
			wantCond: "OK",
			wantCaps: []string{"IMAP4rev1", "LITERAL+", "ID", "ENABLE", "STARTTLS", "AUTH=PLAIN", "SASL-IR"},
			wantText: "mail.example.test Cyrus IMAP 3.0.13 server ready",
		},
		{name: "gmail", line: "* OK Gimap ready for requests from 198.18.0.7 q10mb123456", wantCond: "OK", wantText: "Gimap ready for requests from 198.18.0.7 q10mb123456"},
		{name: "preauth", line: "* PREAUTH [CAPABILITY IMAP4rev1] Logged in as joe", wantCond: "PREAUTH", wantCaps: []string{"IMAP4rev1"}, wantText: "Logged in as joe"},
		{name: "bye", line: "* BYE Too many connections from your IP", wantCond: "BYE", wantText: "Too many connections from your IP"},
		{name: "lower case", line: "* ok [capability imap4rev1] hi", wantCond: "OK", wantCaps: []string{"imap4rev1"}, wantText: "hi"},
		{name: "empty code", line: "* OK [CAPABILITY] x", wantCond: "OK", wantCaps: []string{}, wantText: "x"},
		{name: "unterminated code", line: "* OK [CAPABILITY IMAP4rev1", wantCond: "OK", wantText: "[CAPABILITY IMAP4rev1"},
		{name: "smtp banner", line: "220 mx.example.test ESMTP Postfix", wantErr: true},
		{name: "pop3 banner", line: "+OK Dovecot ready.", wantErr: true},
		{name: "ssh", line: "SSH-2.0-OpenSSH_9.2p1 Debian-2", wantErr: true},
		{name: "tagged", line: "a001 OK done", wantErr: true},
		{name: "untagged NO", line: "* NO go away", wantErr: true},
		{name: "empty", line: "", wantErr: true},
		{name: "star only", line: "*", wantErr: true},
		{name: "star space", line: "* ", wantErr: true},
		{name: "continuation", line: "+ go ahead", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseIMAPGreeting(tt.line)
			if tt.wantErr {
				if err == nil || statusOf(err) != StatusProtocolError {
					t.Fatalf("parseIMAPGreeting(%q) = %+v, %v; want a protocol error", tt.line, r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIMAPGreeting(%q): %v", tt.line, err)
			}
			if r.Cond != tt.wantCond || r.Text != tt.wantText || !reflect.DeepEqual(r.capabilities(), tt.wantCaps) {
				t.Fatalf("parseIMAPGreeting(%q) = cond %q text %q caps %q; want %q %q %q",
					tt.line, r.Cond, r.Text, r.capabilities(), tt.wantCond, tt.wantText, tt.wantCaps)
			}
		})
	}
}

func TestParseIMAPLine(t *testing.T) {
	tests := []struct {
		line    string
		want    imapResponse
		wantErr bool
	}{
		{line: "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED", want: imapResponse{Tag: "*", Cond: "CAPABILITY", Text: "IMAP4rev1 STARTTLS LOGINDISABLED"}},
		{line: "a001 OK Pre-login capabilities listed, post-login capabilities have more.", want: imapResponse{Tag: "a001", Cond: "OK", Text: "Pre-login capabilities listed, post-login capabilities have more."}},
		{line: "a001 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Done", want: imapResponse{Tag: "a001", Cond: "OK", Code: "CAPABILITY IMAP4rev1 AUTH=PLAIN", Text: "Done"}},
		{line: "a002 BAD [CLIENTBUG] Unknown command", want: imapResponse{Tag: "a002", Cond: "BAD", Code: "CLIENTBUG", Text: "Unknown command"}},
		{line: "a002 NO STARTTLS disabled", want: imapResponse{Tag: "a002", Cond: "NO", Text: "STARTTLS disabled"}},
		{line: "* 23 EXISTS", want: imapResponse{Tag: "*", Cond: "23", Text: "EXISTS"}},
		{line: "* BYE Logging out", want: imapResponse{Tag: "*", Cond: "BYE", Text: "Logging out"}},
		{line: "a004 ok", want: imapResponse{Tag: "a004", Cond: "OK"}},
		{line: "+ Ready", want: imapResponse{Tag: "+", Text: "Ready"}},
		{line: "+", want: imapResponse{Tag: "+"}},
		{line: "* CAPABILITY [x] y", want: imapResponse{Tag: "*", Cond: "CAPABILITY", Text: "[x] y"}},
		{line: "a(1 OK", wantErr: true},
		{line: "a\x001 OK", wantErr: true},
		{line: "\xff OK", wantErr: true},
		{line: "a001", wantErr: true},
		{line: "a001 ", wantErr: true},
		{line: " OK", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := parseIMAPLine(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseIMAPLine(%q) error = %v, wantErr %v", tt.line, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("parseIMAPLine(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestIMAPLiteral(t *testing.T) {
	tests := []struct {
		line string
		n    int64
		ok   bool
	}{
		{"* LIST () \"/\" {5}", 5, true},
		{"* ID (\"name\" {7+}", 7, true},
		{"* LIST () \"/\" {0}", 0, true},
		{"* OK done", 0, false},
		{"* OK {abc}", 0, false},
		{"* OK {-1}", 0, false},
		{"* OK {+5}", 0, false},
		{"* OK {}", 0, false},
		{"}", 0, false},
		{"* OK {99999999999999999999}", 0, false},
	}
	for _, tt := range tests {
		n, ok := imapLiteral(tt.line)
		if n != tt.n || ok != tt.ok {
			t.Errorf("imapLiteral(%q) = %d, %v; want %d, %v", tt.line, n, ok, tt.n, tt.ok)
		}
	}
}

func TestIMAPCleartextLogin(t *testing.T) {
	tests := []struct {
		name string
		c    cleartextSide
		want Finding
	}{
		{
			name: "dovecot plaintext disabled",
			c:    cleartextSide{caps: []string{"IMAP4rev1", "STARTTLS", "LOGINDISABLED"}},
			want: Finding{false, "cleartext CAPABILITY lists LOGINDISABLED: IMAP4rev1 STARTTLS LOGINDISABLED"},
		},
		{
			name: "courier",
			c:    cleartextSide{caps: []string{"IMAP4rev1", "STARTTLS"}},
			want: Finding{true, "cleartext CAPABILITY lacks LOGINDISABLED: IMAP4rev1 STARTTLS"},
		},
		{
			name: "lower case",
			c:    cleartextSide{caps: []string{"imap4rev1", "logindisabled"}},
			want: Finding{false, "cleartext CAPABILITY lists LOGINDISABLED: imap4rev1 logindisabled"},
		},
		{
			name: "preauth",
			c:    cleartextSide{caps: []string{"IMAP4rev1"}, preauth: true},
			want: Finding{false, "PREAUTH greeting: the session is authenticated without a login"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := imapCleartextLogin(tt.c); *got != tt.want {
				t.Fatalf("imapCleartextLogin = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
