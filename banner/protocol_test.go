package banner

import (
	"reflect"
	"strings"
	"testing"
)

func TestProtocolForPort(t *testing.T) {
	overrides := map[uint16]Protocol{2525: SMTP, 10143: IMAP, 25: POP3}
	tests := []struct {
		port uint16
		ov   map[uint16]Protocol
		want Protocol
		ok   bool
	}{
		{143, nil, IMAP, true},
		{993, nil, IMAPS, true},
		{110, nil, POP3, true},
		{995, nil, POP3S, true},
		{25, nil, SMTP, true},
		{587, nil, Submission, true},
		{465, nil, SMTPS, true},
		{2525, nil, "", false},
		{80, nil, "", false},
		{0, nil, "", false},
		{2525, overrides, SMTP, true},
		{10143, overrides, IMAP, true},
		{25, overrides, POP3, true},
		{143, overrides, IMAP, true},
	}
	for _, tt := range tests {
		got, ok := ProtocolForPort(tt.port, tt.ov)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ProtocolForPort(%d, %v) = %q, %v; want %q, %v", tt.port, tt.ov, got, ok, tt.want, tt.ok)
		}
	}
	for _, p := range Protocols() {
		if got, ok := ProtocolForPort(p.DefaultPort(), nil); !ok || got != p {
			t.Errorf("ProtocolForPort(%s.DefaultPort()) = %q, %v", p, got, ok)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	tests := []struct {
		in      string
		want    map[uint16]Protocol
		wantErr string
	}{
		{in: "", want: map[uint16]Protocol{}},
		{in: "  ", want: map[uint16]Protocol{}},
		{in: "2525=smtp,10143=imap", want: map[uint16]Protocol{2525: SMTP, 10143: IMAP}},
		{in: " 2525 = SMTP , 10995=pop3s ", want: map[uint16]Protocol{2525: SMTP, 10995: POP3S}},
		{in: "25=pop3", want: map[uint16]Protocol{25: POP3}},
		{in: "2525", wantErr: `banner: port mapping "2525": want PORT=PROTOCOL`},
		{in: "2525=smtp,", wantErr: `banner: port mapping "": want PORT=PROTOCOL`},
		{in: "2525=smtpx", wantErr: `banner: port mapping "2525=smtpx": unknown protocol "smtpx" (want one of imap, imaps, pop3, pop3s, smtp, submission, smtps)`},
		{in: "0=smtp", wantErr: `banner: port mapping "0=smtp": port "0" is not in 1-65535`},
		{in: "65536=smtp", wantErr: `banner: port mapping "65536=smtp": port "65536" is not in 1-65535`},
		{in: "-1=smtp", wantErr: `banner: port mapping "-1=smtp": port "-1" is not in 1-65535`},
		{in: "x=smtp", wantErr: `banner: port mapping "x=smtp": port "x" is not in 1-65535`},
		{in: "2525=smtp,2525=imap", wantErr: `banner: port mapping "2525=imap": port 2525 given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOverrides(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseOverrides(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseOverrides(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestProtocolMethods(t *testing.T) {
	tests := []struct {
		p        Protocol
		valid    bool
		implicit bool
		family   string
		port     uint16
	}{
		{IMAP, true, false, "imap", 143},
		{IMAPS, true, true, "imap", 993},
		{POP3, true, false, "pop3", 110},
		{POP3S, true, true, "pop3", 995},
		{SMTP, true, false, "smtp", 25},
		{Submission, true, false, "smtp", 587},
		{SMTPS, true, true, "smtp", 465},
		{"", false, false, "", 0},
		{"IMAP", false, false, "", 0},
		{"http", false, false, "", 0},
	}
	for _, tt := range tests {
		if tt.p.Base() != Family(tt.family) {
			t.Errorf("%q: Base() = %q, want %q", tt.p, tt.p.Base(), tt.family)
		}
		if tt.p.Valid() != tt.valid || tt.p.ImplicitTLS() != tt.implicit || tt.p.Family() != tt.family || tt.p.DefaultPort() != tt.port {
			t.Errorf("%q: valid %v implicit %v family %q port %d", tt.p, tt.p.Valid(), tt.p.ImplicitTLS(), tt.p.Family(), tt.p.DefaultPort())
		}
	}
	if p, err := ParseProtocol(" IMAPS "); err != nil || p != IMAPS {
		t.Errorf("ParseProtocol(IMAPS) = %q, %v", p, err)
	}
	if _, err := ParseProtocol("gopher"); err == nil || !strings.HasPrefix(err.Error(), `banner: unknown protocol "gopher"`) {
		t.Errorf("ParseProtocol(gopher) error = %v", err)
	}
}
