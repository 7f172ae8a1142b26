package report

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchInput makes n records over n/3 hosts, each with a TLS version,
// findings and a fingerprint, about the size of real banner results.
func benchInput(n int) []byte {
	var b bytes.Buffer
	ports := []struct {
		port  int
		proto string
	}{{143, "imap"}, {993, "imaps"}, {25, "smtp"}}
	for i := 0; i < n; i++ {
		p := ports[i%3]
		h := i / 3
		fmt.Fprintf(&b, `{"ip":"198.18.%d.%d","port":%d,"protocol":%q,"status":"success","greeting":"* OK Dovecot ready.",`+
			`"tls":{"version":"TLSv1.3","cipher_suite":"TLS_AES_128_GCM_SHA256","chain_verified":true,"certificates":[{"subject":"CN=x","issuer":"CN=y",`+
			`"not_before":"2024-01-01T00:00:00Z","not_after":"2025-01-01T00:00:00Z","serial":"1","key_type":"RSA","key_bits":2048,"signature_algorithm":"SHA256-RSA","sha256":"00","self_signed":false,"expired":false}]},`+
			`"fingerprint":{"vendor":"Dovecot","product":"Dovecot","family":"Dovecot","version":"2.3.%d","rule":"builtin:dovecot"},`+
			`"findings":{"cleartext_login":{"value":false,"evidence":"LOGINDISABLED"},"starttls_offered":{"value":true,"evidence":"STARTTLS"}},`+
			`"time":"2024-05-01T10:00:00Z","duration_ms":12}`+"\n", (h>>8)&0xff, h&0xff, p.port, p.proto, h%20)
	}
	return b.Bytes()
}

// BenchmarkBuild measures reading and aggregating records; the figure that
// matters is the cost per record (ns/op and B/op divided by the records).
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{1000, 30000} {
		in := benchInput(n)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Build(bytes.NewReader(in), "bench", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite measures rendering a built report in each format.
func BenchmarkWrite(b *testing.B) {
	rep, err := Build(bytes.NewReader(benchInput(3000)), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{FormatText, FormatMarkdown, FormatCSV, FormatJSON, FormatHTML} {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rep.Write(io.Discard, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchLine is one result line of about 1.3 KB, shaped like the banner
// stage's: a two-certificate chain, findings, a fingerprint.
func benchLine(i int) []byte {
	return fmt.Appendf(nil, `{"ip":"198.18.%d.%d","port":143,"protocol":"imap","status":"success","greeting":"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.",`+
		`"capabilities":{"before":["IMAP4rev1","SASL-IR","LOGIN-REFERRALS","ID","ENABLE","IDLE","LITERAL+","STARTTLS","LOGINDISABLED"],"after":["IMAP4rev1","AUTH=PLAIN"]},"starttls":{"offered":true,"attempted":true,"response":"a002 OK Begin TLS negotiation now."},`+
		`"tls":{"version":"TLSv1.3","cipher_suite":"TLS_AES_128_GCM_SHA256","chain_verified":false,"certificates":[{"subject":"CN=mail.example.test","issuer":"CN=R3,O=Let's Encrypt,C=US","sans":["mail.example.test"],"not_before":"2024-01-01T00:00:00Z","not_after":"2025-01-01T00:00:00Z","serial":"123456789012345678901234567890","key_type":"RSA","key_bits":2048,"signature_algorithm":"SHA256-RSA","sha256":"00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff","self_signed":false,"expired":false},`+
		`{"subject":"CN=R3,O=Let's Encrypt,C=US","issuer":"CN=ISRG Root X1,O=Internet Security Research Group,C=US","not_before":"2020-09-04T00:00:00Z","not_after":"2025-09-15T16:00:00Z","serial":"192961496339968674994309121183282847578","key_type":"RSA","key_bits":2048,"signature_algorithm":"SHA256-RSA","sha256":"67add1166b020ae61b8f5fc96813c04c2aa589960796865572a3c7e737613dfd","self_signed":false,"expired":false}]},`+
		`"fingerprint":{"vendor":"Dovecot","product":"Dovecot","family":"Dovecot","version":"2.3.%d","rule":"builtin:dovecot"},`+
		`"findings":{"cleartext_login":{"value":false,"evidence":"cleartext CAPABILITY lists LOGINDISABLED"},"starttls_offered":{"value":true,"evidence":"cleartext capabilities list STARTTLS"},"tls_only":{"value":true,"evidence":"STARTTLS offered and no login before it"}},`+
		`"time":"2024-05-01T10:00:00Z","duration_ms":12}`, (i>>8)&0xff, i&0xff, i%20)
}
