package banner

import "testing"

func TestParsePOP3Status(t *testing.T) {
	tests := []struct {
		line    string
		ok      bool
		text    string
		wantErr bool
	}{
		{line: "+OK Dovecot ready.", ok: true, text: "Dovecot ready."},
		{line: "+OK Dovecot (Ubuntu) ready.", ok: true, text: "Dovecot (Ubuntu) ready."},
		{line: "+OK Hello there.", ok: true, text: "Hello there."},
		{line: "+OK The Microsoft Exchange POP3 service is ready. [UABBADIAUABSADAAMQBDAEEAMAAwADEA]", ok: true, text: "The Microsoft Exchange POP3 service is ready. [UABBADIAUABSADAAMQBDAEEAMAAwADEA]"},
		{line: "+OK Qpopper (version 4.1.0) at mail.example.test starting.  <21646.1262304000@mail.example.test>", ok: true, text: "Qpopper (version 4.1.0) at mail.example.test starting.  <21646.1262304000@mail.example.test>"},
		{line: "+OK", ok: true},
		{line: "+ok lower case", ok: true, text: "lower case"},
		{line: "-ERR [SYS/TEMP] Too many connections", text: "[SYS/TEMP] Too many connections"},
		{line: "-ERR", text: ""},
		{line: "+OKAY", wantErr: true},
		{line: "-ERROR", wantErr: true},
		{line: "* OK Dovecot ready.", wantErr: true},
		{line: "220 mx.example.test ESMTP", wantErr: true},
		{line: "", wantErr: true},
		{line: "+O", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			ok, text, err := parsePOP3Status(tt.line)
			if tt.wantErr {
				if err == nil || statusOf(err) != StatusProtocolError {
					t.Fatalf("parsePOP3Status(%q) = %v, %q, %v; want a protocol error", tt.line, ok, text, err)
				}
				return
			}
			if err != nil || ok != tt.ok || text != tt.text {
				t.Fatalf("parsePOP3Status(%q) = %v, %q, %v; want %v, %q", tt.line, ok, text, err, tt.ok, tt.text)
			}
		})
	}
}

func TestAPOPTimestamp(t *testing.T) {
	tests := []struct{ in, want string }{
		{"POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"},
		{"Dovecot ready. <1b2f.3.5f0c1a2b.abcDEF==@mail.example.test>", "<1b2f.3.5f0c1a2b.abcDEF==@mail.example.test>"},
		{"Qpopper (version 4.1.0) at mail.example.test starting.  <21646.1262304000@mail.example.test>", "<21646.1262304000@mail.example.test>"},
		{"ready <not a stamp> <12@host>", "<12@host>"},
		{"Dovecot ready.", ""},
		{"<@host>", ""},
		{"<user@>", ""},
		{"<a@b", ""},
		{"<<a@b>", "<a@b>"},
		{"<a b@c>", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := apopTimestamp(tt.in); got != tt.want {
			t.Errorf("apopTimestamp(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnstuffPOP3(t *testing.T) {
	tests := []struct {
		in   string
		want string
		end  bool
	}{
		{".", "", true},
		{"..", ".", false},
		{"..foo", ".foo", false},
		{"USER", "USER", false},
		{"", "", false},
		{". ", " ", false},
	}
	for _, tt := range tests {
		got, end := unstuffPOP3(tt.in)
		if got != tt.want || end != tt.end {
			t.Errorf("unstuffPOP3(%q) = %q, %v; want %q, %v", tt.in, got, end, tt.want, tt.end)
		}
	}
}

func TestPOP3CleartextLogin(t *testing.T) {
	tests := []struct {
		name string
		caps []string
		want Finding
	}{
		{"dovecot", []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER", "SASL PLAIN"}, Finding{true, "cleartext CAPA lists USER, SASL PLAIN"}},
		{"dovecot plaintext disabled", []string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "SASL"}, Finding{false, "cleartext CAPA lists neither USER nor SASL mechanisms: CAPA, TOP, UIDL, RESP-CODES, PIPELINING, AUTH-RESP-CODE, STLS, SASL"}},
		{"sasl only", []string{"STLS", "SASL CRAM-MD5"}, Finding{true, "cleartext CAPA lists SASL CRAM-MD5"}},
		{"lower case user", []string{"user"}, Finding{true, "cleartext CAPA lists USER"}},
		{"empty", []string{}, Finding{false, "cleartext CAPA lists neither USER nor SASL mechanisms: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pop3CleartextLogin(cleartextSide{caps: tt.caps}); *got != tt.want {
				t.Fatalf("pop3CleartextLogin = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
