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
