package banner

import (
	"crypto/tls"
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"mailscan/banner/fingerprint"
)

// TestResultJSON pins the output schema: names, order, omitted parts.
func TestResultJSON(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{
			name: "refused connection",
			r: Result{IP: netip.MustParseAddr("198.18.64.9"), Port: 25, Protocol: SMTP, Status: StatusConnectionRefused,
				Time: time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC), DurationMS: 1, Error: "banner: connect: refused"},
			want: `{"ip":"198.18.64.9","port":25,"protocol":"smtp","status":"connection-refused","time":"2024-01-02T03:04:05.006Z","duration_ms":1,"error":"banner: connect: refused"}`,
		},
		{
			name: "full",
			r: Result{
				IP: netip.MustParseAddr("198.18.64.1"), Port: 143, Protocol: IMAP, Status: StatusSuccess,
				Greeting:      "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.",
				APOPTimestamp: "",
				Capabilities:  &Capabilities{Before: []string{"IMAP4rev1", "STARTTLS", "LOGINDISABLED"}, After: []string{"IMAP4rev1", "AUTH=PLAIN"}},
				StartTLS:      &StartTLS{Offered: true, Attempted: true, Response: "a002 OK Begin TLS negotiation now."},
				TLS: &TLSSummary{Version: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ChainVerified: true,
					Hostname: "mx.example.test", HostnameVerified: &yes,
					Certificates: []Certificate{{Subject: "CN=mx.example.test", Issuer: "CN=R3,O=Let's Encrypt,C=US",
						SANs: []string{"mx.example.test"}, NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
						NotAfter: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), Serial: "42", KeyType: "ECDSA", KeyBits: 256,
						SignatureAlgorithm: "SHA256-RSA", SHA256: "00ff"}}},
				Fingerprint: &fingerprint.Fingerprint{Vendor: "Dovecot", Product: "Dovecot", Rule: "builtin:dovecot"},
				Findings: &Findings{
					CleartextLogin:  &Finding{false, "cleartext CAPABILITY lists LOGINDISABLED"},
					StartTLSOffered: &Finding{true, "cleartext capabilities list STARTTLS"},
					TLSOnly:         &Finding{true, "STARTTLS offered and no login before it"},
					CertExpired:     &Finding{false, "leaf not_after 2024-04-01T00:00:00Z"},
					CertSelfSigned:  &Finding{false, "leaf issued by CN=R3,O=Let's Encrypt,C=US"},
					TLSLegacy:       &Finding{false, "negotiated TLSv1.3"},
				},
				Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), DurationMS: 23, AnswersAllPorts: true,
			},
			want: `{"ip":"198.18.64.1","port":143,"protocol":"imap","status":"success",` +
				`"greeting":"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.",` +
				`"capabilities":{"before":["IMAP4rev1","STARTTLS","LOGINDISABLED"],"after":["IMAP4rev1","AUTH=PLAIN"]},` +
				`"starttls":{"offered":true,"attempted":true,"response":"a002 OK Begin TLS negotiation now."},` +
				`"tls":{"version":"TLSv1.3","cipher_suite":"TLS_AES_128_GCM_SHA256","chain_verified":true,"hostname":"mx.example.test","hostname_verified":true,` +
				`"certificates":[{"subject":"CN=mx.example.test","issuer":"CN=R3,O=Let's Encrypt,C=US","sans":["mx.example.test"],` +
				`"not_before":"2024-01-01T00:00:00Z","not_after":"2024-04-01T00:00:00Z","serial":"42","key_type":"ECDSA","key_bits":256,` +
				`"signature_algorithm":"SHA256-RSA","sha256":"00ff","self_signed":false,"expired":false}]},` +
				`"fingerprint":{"vendor":"Dovecot","product":"Dovecot","rule":"builtin:dovecot"},` +
				`"findings":{"cleartext_login":{"value":false,"evidence":"cleartext CAPABILITY lists LOGINDISABLED"},` +
				`"starttls_offered":{"value":true,"evidence":"cleartext capabilities list STARTTLS"},` +
				`"tls_only":{"value":true,"evidence":"STARTTLS offered and no login before it"},` +
				`"cert_expired":{"value":false,"evidence":"leaf not_after 2024-04-01T00:00:00Z"},` +
				`"cert_self_signed":{"value":false,"evidence":"leaf issued by CN=R3,O=Let's Encrypt,C=US"},` +
				`"tls_legacy":{"value":false,"evidence":"negotiated TLSv1.3"}},` +
				`"time":"2024-01-02T03:04:05Z","duration_ms":23,"answers_all_ports":true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(&tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
			var back Result
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("does not decode: %v", err)
			}
		})
	}
}

func TestFindings(t *testing.T) {
	okTLS := &TLSSummary{Version: "TLSv1.0", Certificates: []Certificate{{
		Subject: "CN=a", Issuer: "CN=a", NotAfter: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), SelfSigned: true, Expired: true}}}
	failedTLS := &TLSSummary{HandshakeError: "tls: first record does not look like a TLS handshake"}
	tests := []struct {
		name  string
		proto Protocol
		clear cleartextSide
		ver   uint16
		sum   *TLSSummary
		want  *Findings
	}{
		{name: "nothing known", proto: IMAP, want: nil},
		{name: "implicit TLS that failed proves nothing", proto: IMAPS, sum: failedTLS, want: nil},
		{
			name: "implicit TLS 1.0, self-signed and expired", proto: POP3S, ver: tls.VersionTLS10, sum: okTLS,
			want: &Findings{
				CleartextLogin:  &Finding{false, "implicit TLS"},
				StartTLSOffered: &Finding{false, "implicit TLS"},
				TLSOnly:         &Finding{true, "implicit TLS"},
				CertExpired:     &Finding{true, "leaf not_after 2020-01-01T00:00:00Z"},
				CertSelfSigned:  &Finding{true, "leaf issued and signed by itself: CN=a"},
				TLSLegacy:       &Finding{true, "negotiated TLSv1.0"},
			},
		},
		{
			name: "smtp without STARTTLS", proto: SMTP, clear: cleartextSide{known: true, caps: []string{"PIPELINING", "AUTH LOGIN"}},
			want: &Findings{
				CleartextLogin:  &Finding{true, "cleartext EHLO lists AUTH LOGIN"},
				StartTLSOffered: &Finding{false, "cleartext capabilities lack STARTTLS"},
				TLSOnly:         &Finding{false, "STARTTLS not offered"},
			},
		},
		{
			name: "pop3 stls, no login before it", proto: POP3, clear: cleartextSide{known: true, caps: []string{"STLS", "SASL"}, starttls: true},
			want: &Findings{
				CleartextLogin:  &Finding{false, "cleartext CAPA lists neither USER nor SASL mechanisms: STLS, SASL"},
				StartTLSOffered: &Finding{true, "cleartext capabilities list STLS"},
				TLSOnly:         &Finding{true, "STLS offered and no login before it"},
			},
		},
		{
			name: "a failed STARTTLS handshake adds no TLS findings", proto: IMAP, sum: failedTLS,
			clear: cleartextSide{known: true, caps: []string{"STARTTLS", "LOGINDISABLED"}, starttls: true},
			want: &Findings{
				CleartextLogin:  &Finding{false, "cleartext CAPABILITY lists LOGINDISABLED: STARTTLS LOGINDISABLED"},
				StartTLSOffered: &Finding{true, "cleartext capabilities list STARTTLS"},
				TLSOnly:         &Finding{true, "STARTTLS offered and no login before it"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findings(tt.proto, tt.clear, tt.ver, tt.sum)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if string(gb) != string(wb) {
				t.Fatalf("findings =\n%s\nwant\n%s", gb, wb)
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	want := []Status{"success", "connection-refused", "connection-timeout", "io-timeout", "tls-error", "protocol-error", "closed", "excluded", "unreachable"}
	got := Statuses()
	if len(got) != len(want) {
		t.Fatalf("Statuses() = %q", got)
	}
	for i, st := range want {
		if got[i] != st || !st.Valid() || st.index() != i {
			t.Errorf("status %d: %q valid %v index %d", i, got[i], st.Valid(), st.index())
		}
	}
	if Status("unknown-error").Valid() || Status("").Valid() {
		t.Error("an undefined status is valid")
	}
}

// TestResultFacts: every fact a stored result holds reaches the rules, each
// in its field (a mix-up would fingerprint HELP text as a greeting).
func TestResultFacts(t *testing.T) {
	r := &Result{
		Protocol: SMTPS, Greeting: "220 mx ESMTP", APOPTimestamp: "<1.2@mx>",
		Capabilities: &Capabilities{Before: []string{"PIPELINING"}, After: []string{"XVERP=Courier"}},
		Probes:       &Probes{Sent: []string{"HELP"}, ID: "* ID NIL", Help: "214 help", Error: "-ERR no", Goodbye: "221 bye"},
		StartTLS:     &StartTLS{Offered: true, Attempted: true, Response: "220 go ahead"},
		TLS:          &TLSSummary{Certificates: []Certificate{{Subject: "CN=leaf", Issuer: "CN=ca"}, {Subject: "CN=ca", Issuer: "CN=root"}}},
	}
	want := fingerprint.Facts{
		Protocol: "smtp", Greeting: "220 mx ESMTP", APOP: "<1.2@mx>",
		CapsBefore: []string{"PIPELINING"}, CapsAfter: []string{"XVERP=Courier"},
		ID: "* ID NIL", Help: "214 help", Error: "-ERR no", Goodbye: "221 bye", StartTLS: "220 go ahead",
		CertSubject: "CN=leaf", CertIssuer: "CN=ca",
	}
	if got := r.Facts(); !reflect.DeepEqual(got, want) {
		t.Errorf("Facts() = %+v\nwant %+v", got, want)
	}
	if got := (&Result{}).Facts(); !reflect.DeepEqual(got, fingerprint.Facts{}) {
		t.Errorf("empty result: %+v", got)
	}
}
