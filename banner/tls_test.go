package banner

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

// smtpTLSSteps is a Postfix-like STARTTLS dialogue announcing name.
func smtpTLSSteps(name string) []step {
	return []step{
		{send: "220 " + name + " ESMTP Postfix\r\n"},
		{expect: "EHLO", send: "250-" + name + "\r\n250-PIPELINING\r\n250 STARTTLS\r\n"},
		{expect: "STARTTLS", send: "220 2.0.0 Ready to start TLS\r\n", tls: true},
		{expect: "EHLO", send: "250-" + name + "\r\n250 AUTH PLAIN\r\n"},
		{expect: "QUIT", send: "221 2.0.0 Bye\r\n"},
	}
}

// scanTLS runs the SMTP STARTTLS dialogue against a server using cfg.
func scanTLS(t *testing.T, srvCfg *tls.Config, roots *x509.CertPool, name string) *Result {
	t.Helper()
	srv := &scriptServer{steps: smtpTLSSteps(name), tlsCfg: srvCfg}
	m := &memNet{serve: srv.serve}
	cfg := testConfig(m)
	cfg.RootCAs = roots
	return scanOne(t, cfg, m, SMTP)
}

func sha256Hex(der []byte) string {
	d := sha256.Sum256(der)
	return hex.EncodeToString(d[:])
}

func TestTLSChainSummary(t *testing.T) {
	p := mustPKI(t)
	r := scanTLS(t, serverTLS(p.leaf), p.roots, "mx.example.test")
	if r.Status != StatusSuccess {
		t.Fatalf("status %q: %s", r.Status, r.Error)
	}
	yes := true
	want := &TLSSummary{
		Version:          "TLSv1.3",
		CipherSuite:      r.TLS.CipherSuite, // depends on the CPU's AES support; checked below
		ChainVerified:    true,
		Hostname:         "mx.example.test",
		HostnameVerified: &yes,
		Certificates: []Certificate{
			{
				Subject:            "CN=mx.example.test,O=Mailscan Test",
				Issuer:             "CN=Mailscan Test Intermediate,O=Mailscan Test",
				SANs:               []string{"mx.example.test", "mail.example.test", "198.18.64.1"},
				NotBefore:          p.notBefore,
				NotAfter:           p.notAfter,
				Serial:             "3003",
				KeyType:            "ECDSA",
				KeyBits:            256,
				SignatureAlgorithm: "ECDSA-SHA256",
				SHA256:             sha256Hex(p.leafCert.Raw),
			},
			{
				Subject:            "CN=Mailscan Test Intermediate,O=Mailscan Test",
				Issuer:             "CN=Mailscan Test Root,O=Mailscan Test",
				NotBefore:          p.notBefore,
				NotAfter:           p.notAfter.Add(12 * time.Hour),
				Serial:             "2002",
				KeyType:            "ECDSA",
				KeyBits:            256,
				SignatureAlgorithm: "ECDSA-SHA256",
				SHA256:             sha256Hex(p.inter.Raw),
			},
		},
	}
	if !reflect.DeepEqual(r.TLS, want) {
		t.Fatalf("tls =\n%+v\nwant\n%+v", r.TLS, want)
	}
	switch r.TLS.CipherSuite {
	case "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256":
	default:
		t.Fatalf("cipher suite %q is not a TLS 1.3 suite", r.TLS.CipherSuite)
	}
	checkFindings(t, r.Findings, map[string]Finding{
		"cleartext_login":  {false, "cleartext EHLO lists no AUTH"},
		"starttls_offered": {true, "cleartext capabilities list STARTTLS"},
		"tls_only":         {true, "STARTTLS offered and no login before it"},
		"cert_expired":     {false, "leaf not_after " + p.notAfter.Format(time.RFC3339)},
		"cert_self_signed": {false, "leaf issued by CN=Mailscan Test Intermediate,O=Mailscan Test"},
		"tls_legacy":       {false, "negotiated TLSv1.3"},
	})
}

func TestTLSSystemRootsDoNotTrustTestCA(t *testing.T) {
	p := mustPKI(t)
	r := scanTLS(t, serverTLS(p.leaf), nil, "mx.example.test")
	if r.Status != StatusSuccess || r.TLS == nil {
		t.Fatalf("status %q: %s", r.Status, r.Error)
	}
	if r.TLS.ChainVerified || r.TLS.VerifyError == "" {
		t.Fatalf("chain_verified = %v, verify_error %q; want false with a reason", r.TLS.ChainVerified, r.TLS.VerifyError)
	}
	// The name check is independent of the chain.
	if r.TLS.HostnameVerified == nil || !*r.TLS.HostnameVerified {
		t.Fatalf("hostname_verified = %v, want true", r.TLS.HostnameVerified)
	}
}

func TestTLSSelfSignedAndNameMismatch(t *testing.T) {
	p := mustPKI(t)
	r := scanTLS(t, serverTLS(p.selfSigned), p.roots, "mx.example.test")
	if r.Status != StatusSuccess {
		t.Fatalf("status %q: %s", r.Status, r.Error)
	}
	no := false
	wantCert := Certificate{
		Subject:            "CN=localhost.localdomain,O=Dovecot mail server",
		Issuer:             "CN=localhost.localdomain,O=Dovecot mail server",
		SANs:               []string{"localhost.localdomain"},
		NotBefore:          p.notBefore,
		NotAfter:           p.notAfter,
		Serial:             "4004",
		KeyType:            "RSA",
		KeyBits:            2048,
		SignatureAlgorithm: "SHA256-RSA",
		SHA256:             sha256Hex(p.selfCert.Raw),
		SelfSigned:         true,
	}
	if len(r.TLS.Certificates) != 1 || !reflect.DeepEqual(r.TLS.Certificates[0], wantCert) {
		t.Fatalf("certificates = %+v\nwant [%+v]", r.TLS.Certificates, wantCert)
	}
	if r.TLS.ChainVerified || !strings.Contains(r.TLS.VerifyError, "unknown authority") {
		t.Fatalf("chain_verified %v, verify_error %q", r.TLS.ChainVerified, r.TLS.VerifyError)
	}
	if r.TLS.Hostname != "mx.example.test" || !reflect.DeepEqual(r.TLS.HostnameVerified, &no) || r.TLS.HostnameError == "" {
		t.Fatalf("hostname %q verified %v error %q; want a mismatch", r.TLS.Hostname, r.TLS.HostnameVerified, r.TLS.HostnameError)
	}
	checkFindings(t, r.Findings, map[string]Finding{
		"cleartext_login":  {false, ""},
		"starttls_offered": {true, ""},
		"tls_only":         {true, ""},
		"cert_expired":     {false, ""},
		"cert_self_signed": {true, "leaf issued and signed by itself: CN=localhost.localdomain,O=Dovecot mail server"},
		"tls_legacy":       {false, ""},
	})
}

func TestTLSExpired(t *testing.T) {
	p := mustPKI(t)
	r := scanTLS(t, serverTLS(p.expired), p.roots, "old.example.test")
	if r.Status != StatusSuccess {
		t.Fatalf("status %q: %s", r.Status, r.Error)
	}
	leaf := r.TLS.Certificates[0]
	if !leaf.Expired || leaf.SelfSigned || leaf.Serial != "5005" || !leaf.NotAfter.Equal(p.expAfterAt) {
		t.Fatalf("leaf = %+v, want the expired one", leaf)
	}
	if r.TLS.ChainVerified || !strings.Contains(r.TLS.VerifyError, "expired") {
		t.Fatalf("chain_verified %v, verify_error %q; want an expiry error", r.TLS.ChainVerified, r.TLS.VerifyError)
	}
	checkFindings(t, r.Findings, map[string]Finding{
		"cleartext_login":  {false, ""},
		"starttls_offered": {true, ""},
		"tls_only":         {true, ""},
		"cert_expired":     {true, "leaf not_after " + p.expAfterAt.Format(time.RFC3339)},
		"cert_self_signed": {false, ""},
		"tls_legacy":       {false, ""},
	})
}

// TestTLSLegacyServers proves old servers are reached without any GODEBUG:
// TLS 1.0 and 1.1, RSA key exchange, 3DES, RC4.
func TestTLSLegacyServers(t *testing.T) {
	p := mustPKI(t)
	tests := []struct {
		name    string
		cert    tls.Certificate
		version uint16
		suite   uint16
		want    string
	}{
		{"tls1.0 ecdhe", p.leaf, tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "TLSv1.0"},
		{"tls1.0 rsa kex", p.selfSigned, tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA, "TLSv1.0"},
		{"tls1.1 rsa kex", p.selfSigned, tls.VersionTLS11, tls.TLS_RSA_WITH_AES_256_CBC_SHA, "TLSv1.1"},
		{"tls1.0 3des", p.selfSigned, tls.VersionTLS10, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, "TLSv1.0"},
		{"tls1.0 rc4", p.selfSigned, tls.VersionTLS10, tls.TLS_RSA_WITH_RC4_128_SHA, "TLSv1.0"},
		{"tls1.2 rsa kex gcm", p.selfSigned, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "TLSv1.2"},
		{"tls1.2 ecdhe cbc sha256", p.leaf, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "TLSv1.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serverTLS(tt.cert)
			srv.MinVersion, srv.MaxVersion = tt.version, tt.version
			srv.CipherSuites = []uint16{tt.suite}
			r := scanTLS(t, srv, p.roots, "mx.example.test")
			if r.Status != StatusSuccess {
				t.Fatalf("status %q: %s", r.Status, r.Error)
			}
			if r.TLS.Version != tt.want || r.TLS.CipherSuite != tls.CipherSuiteName(tt.suite) || r.TLS.HandshakeError != "" {
				t.Fatalf("tls = %s %s %q; want %s %s", r.TLS.Version, r.TLS.CipherSuite, r.TLS.HandshakeError, tt.want, tls.CipherSuiteName(tt.suite))
			}
			legacy := tt.version < tls.VersionTLS12
			if f := r.Findings.TLSLegacy; f == nil || *f != (Finding{legacy, "negotiated " + tt.want}) {
				t.Fatalf("tls_legacy = %+v, want %v", f, legacy)
			}
		})
	}
}

// TestTLSFailureAfterCertificate: a server whose key does not match its
// certificate fails the handshake after sending the chain; the chain is
// still reported, with the reason, and the cleartext facts stay.
func TestTLSFailureAfterCertificate(t *testing.T) {
	p := mustPKI(t)
	bad := p.leaf
	bad.PrivateKey = mustECDSA()
	r := scanTLS(t, serverTLS(bad), p.roots, "mx.example.test")
	if r.Status != StatusTLSError {
		t.Fatalf("status %q (%s), want tls-error", r.Status, r.Error)
	}
	if r.TLS == nil || r.TLS.HandshakeError == "" || r.TLS.Version != "TLSv1.3" || len(r.TLS.Certificates) != 2 ||
		r.TLS.Certificates[0].SHA256 != sha256Hex(p.leafCert.Raw) || !r.TLS.ChainVerified {
		t.Fatalf("tls = %+v; want the chain and the handshake error", r.TLS)
	}
	if r.Greeting != "220 mx.example.test ESMTP Postfix" || r.Capabilities == nil ||
		!reflect.DeepEqual(r.Capabilities.Before, []string{"PIPELINING", "STARTTLS"}) || r.Capabilities.After != nil {
		t.Fatalf("greeting %q capabilities %+v; want the cleartext facts kept", r.Greeting, r.Capabilities)
	}
	if r.StartTLS == nil || !r.StartTLS.Attempted || r.StartTLS.Response != "220 2.0.0 Ready to start TLS" {
		t.Fatalf("starttls = %+v", r.StartTLS)
	}
	if !strings.HasPrefix(r.Error, "banner: TLS handshake: ") {
		t.Fatalf("error = %q", r.Error)
	}
}

func TestIsSelfSignedSHA1(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(7),
		Subject:            pkix.Name{CommonName: "old.example.test"},
		NotBefore:          time.Unix(1262304000, 0),
		NotAfter:           time.Unix(1577836800, 0),
		SignatureAlgorithm: x509.SHA1WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("creating a SHA-1 certificate: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	got := summarizeCertificate(c, time.Unix(1600000000, 0))
	if !got.SelfSigned || !got.Expired || got.SignatureAlgorithm != "SHA1-RSA" || got.KeyBits != 1024 {
		t.Fatalf("summary = %+v; want self-signed, expired, SHA1-RSA, 1024 bits", got)
	}

	// Same subject, other key: names itself but is not self-signed.
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, other.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = x509.ParseCertificate(der)
	if isSelfSigned(c) {
		t.Fatal("a certificate signed by another key was called self-signed")
	}
}

func TestTLSVersionName(t *testing.T) {
	tests := map[uint16]string{
		tls.VersionTLS10: "TLSv1.0", tls.VersionTLS11: "TLSv1.1", tls.VersionTLS12: "TLSv1.2",
		tls.VersionTLS13: "TLSv1.3", 0x0300: "SSLv3", 0x7f1c: "0x7f1c",
	}
	for v, want := range tests {
		if got := tlsVersionName(v); got != want {
			t.Errorf("tlsVersionName(%#x) = %q, want %q", v, got, want)
		}
	}
}
