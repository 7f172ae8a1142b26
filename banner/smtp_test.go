package banner

import (
	"errors"
	"io"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

func TestParseSMTPLine(t *testing.T) {
	tests := []struct {
		line    string
		code    int
		more    bool
		text    string
		wantErr bool
	}{
		{line: "220 mx.example.test ESMTP Postfix (Debian/GNU)", code: 220, text: "mx.example.test ESMTP Postfix (Debian/GNU)"},
		{line: "220-mail.example.test ESMTP Exim 4.96 Mon, 01 Jan 2024 12:00:00 +0000", code: 220, more: true, text: "mail.example.test ESMTP Exim 4.96 Mon, 01 Jan 2024 12:00:00 +0000"},
		{line: "250-PIPELINING", code: 250, more: true, text: "PIPELINING"},
		{line: "250 CHUNKING", code: 250, text: "CHUNKING"},
		{line: "250", code: 250},
		{line: "250 ", code: 250},
		{line: "554 5.7.1 Service unavailable; Client host [198.18.0.7] blocked", code: 554, text: "5.7.1 Service unavailable; Client host [198.18.0.7] blocked"},
		{line: "099 too low", wantErr: true},
		{line: "25", wantErr: true},
		{line: "2500 x", wantErr: true},
		{line: "abc def", wantErr: true},
		{line: "+OK Dovecot ready.", wantErr: true},
		{line: "* OK IMAP", wantErr: true},
		{line: "22a x", wantErr: true},
		{line: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			code, more, text, err := parseSMTPLine(tt.line)
			if tt.wantErr {
				var pe textproto.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("parseSMTPLine(%q) error = %v, want a textproto.ProtocolError", tt.line, err)
				}
				return
			}
			if err != nil || code != tt.code || more != tt.more || text != tt.text {
				t.Fatalf("parseSMTPLine(%q) = %d, %v, %q, %v; want %d, %v, %q", tt.line, code, more, text, err, tt.code, tt.more, tt.text)
			}
		})
	}
}

// lines returns a line source over s, as session.readLine would deliver
// it, ending with io.EOF.
func lines(s string) func() (string, error) {
	parts := strings.SplitAfter(s, "\n")
	return func() (string, error) {
		for len(parts) > 0 {
			p := parts[0]
			parts = parts[1:]
			if p == "" {
				continue
			}
			if !strings.HasSuffix(p, "\n") {
				return p, io.EOF
			}
			return string(trimEOL([]byte(p))), nil
		}
		return "", io.EOF
	}
}

func TestReadSMTPReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    smtpReply
		wantErr error
	}{
		{
			name: "postfix greeting",
			in:   "220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n",
			want: smtpReply{Code: 220, Lines: []string{"220 mx.example.test ESMTP Postfix (Debian/GNU)"}, Text: []string{"mx.example.test ESMTP Postfix (Debian/GNU)"}},
		},
		{
			name: "exim multi-line greeting",
			in:   "220-mail.example.test ESMTP Exim 4.94\r\n220-We do not authorize the use of this system to transport unsolicited,\r\n220 and/or bulk e-mail.\r\n",
			want: smtpReply{Code: 220,
				Lines: []string{"220-mail.example.test ESMTP Exim 4.94", "220-We do not authorize the use of this system to transport unsolicited,", "220 and/or bulk e-mail."},
				Text:  []string{"mail.example.test ESMTP Exim 4.94", "We do not authorize the use of this system to transport unsolicited,", "and/or bulk e-mail."}},
		},
		{
			name: "postfix ehlo",
			in:   "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
			want: smtpReply{Code: 250,
				Lines: []string{"250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-STARTTLS", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING"},
				Text:  []string{"mx.example.test", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}},
		},
		{
			name: "bare LF and bare code",
			in:   "250-a\n250\n",
			want: smtpReply{Code: 250, Lines: []string{"250-a", "250"}, Text: []string{"a", ""}},
		},
		{
			name: "RFC 959 code-less middle line kept",
			in:   "220-first\r\nno code here\r\n230-other code\r\n220 last\r\n",
			want: smtpReply{Code: 220, Lines: []string{"220-first", "no code here", "230-other code", "220 last"}, Text: []string{"first", "no code here", "230-other code", "last"}},
		},
		{
			name:    "not smtp",
			in:      "* OK IMAP ready\r\n",
			want:    smtpReply{Lines: []string{"* OK IMAP ready"}},
			wantErr: textproto.ProtocolError(""),
		},
		{
			name:    "eof mid reply keeps lines",
			in:      "220-one\r\n220-two",
			want:    smtpReply{Code: 220, Lines: []string{"220-one", "220-two"}, Text: []string{"one"}},
			wantErr: io.EOF,
		},
		{
			name:    "eof at once",
			in:      "",
			wantErr: io.EOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readSMTPReply(lines(tt.in))
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("readSMTPReply: %v", err)
				}
			case textproto.ProtocolError:
				var pe textproto.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("readSMTPReply error = %v, want a ProtocolError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("readSMTPReply error = %v, want %v", err, want)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("readSMTPReply = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestSMTPDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mx.example.test ESMTP Postfix", "mx.example.test"},
		{"EX01.corp.example.test Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2024 12:00:00 +0000", "EX01.corp.example.test"},
		{"mx.example.test. ESMTP", "mx.example.test"},
		{"[198.18.0.1] ESMTP", ""},
		{"localhost ESMTP", ""},
		{"ESMTP ready", ""},
		{"", ""},
		{"bad/name.example ESMTP", ""},
		{"  mx.example.test", "mx.example.test"},
	}
	for _, tt := range tests {
		if got := smtpDomain(tt.in); got != tt.want {
			t.Errorf("smtpDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSMTPCleartextLogin(t *testing.T) {
	tests := []struct {
		name string
		c    cleartextSide
		want Finding
	}{
		{"postfix port 25", cleartextSide{caps: []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"}}, Finding{false, "cleartext EHLO lists no AUTH"}},
		{"exim submission", cleartextSide{caps: []string{"SIZE 52428800", "8BITMIME", "PIPELINING", "AUTH PLAIN LOGIN", "STARTTLS"}}, Finding{true, "cleartext EHLO lists AUTH PLAIN LOGIN"}},
		{"old AUTH= form", cleartextSide{caps: []string{"AUTH LOGIN PLAIN", "AUTH=LOGIN PLAIN"}}, Finding{true, "cleartext EHLO lists AUTH LOGIN PLAIN, AUTH=LOGIN PLAIN"}},
		{"lower case", cleartextSide{caps: []string{"auth plain"}}, Finding{true, "cleartext EHLO lists auth plain"}},
		{"AUTHX is not AUTH", cleartextSide{caps: []string{"AUTHX"}}, Finding{false, "cleartext EHLO lists no AUTH"}},
		{"helo only", cleartextSide{caps: []string{}, heloOnly: true}, Finding{false, "EHLO refused, HELO has no AUTH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := smtpCleartextLogin(tt.c); *got != tt.want {
				t.Fatalf("smtpCleartextLogin = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
