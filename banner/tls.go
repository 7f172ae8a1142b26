package banner

import (
	"bytes"
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 old servers still present DSA keys; we only read their size
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// newTLSConfig returns the one client configuration every handshake shares.
//
// The aim is to record servers as they are, old ones included, so:
//   - MinVersion is TLS 1.0. Go's client default minimum is TLS 1.2; an
//     explicit MinVersion is honoured without any GODEBUG (tls10server
//     concerns servers only).
//   - CipherSuites lists every suite Go implements, insecure ones included.
//     An explicit list is used as given: the GODEBUG settings tlsrsakex
//     (RSA key exchange, off by default since Go 1.22) and tls3des (3DES,
//     since Go 1.23) only prune the default list.
//   - CurvePreferences are the classic groups only: the hybrid
//     post-quantum key shares Go offers by default make the ClientHello
//     larger than one segment, which old middleboxes and servers mishandle,
//     and cost CPU per handshake for no fact we report.
//   - No SNI (ServerName is empty: we only have an IP) and no session
//     resumption, so every target gets a full handshake.
//
// Go 1.25 also stopped offering SHA-1 signature algorithms in TLS 1.2; a
// server that can only sign with SHA-1 in TLS 1.2 fails unless the program
// runs with GODEBUG tlssha1=1 (TLS 1.0/1.1 use their own MD5+SHA-1
// signatures and are not affected).
//
// Verification is ours (verifyChain): InsecureSkipVerify lets a handshake
// with any certificate complete, so that its facts are recorded.
func newTLSConfig() *tls.Config {
	var suites []uint16
	for _, cs := range tls.CipherSuites() {
		suites = append(suites, cs.ID)
	}
	for _, cs := range tls.InsecureCipherSuites() {
		suites = append(suites, cs.ID)
	}
	return &tls.Config{
		InsecureSkipVerify:     true, // verified by verifyChain, without a name
		MinVersion:             tls.VersionTLS10,
		MaxVersion:             tls.VersionTLS13,
		CipherSuites:           suites,
		CurvePreferences:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
		SessionTicketsDisabled: true,
		Renegotiation:          tls.RenegotiateNever,
	}
}

// tlsVersionName returns "TLSv1.0" … "TLSv1.3" for a TLS version number.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionSSL30: //lint:ignore SA1019 named for completeness; Go cannot negotiate it
		return "SSLv3"
	case tls.VersionTLS10:
		return "TLSv1.0"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// summarizeTLS describes a client TLS session as far as its handshake got
// (hsErr is the handshake's error, nil if it completed), verifying the
// presented chain against roots (nil: the system roots) at time now.
func summarizeTLS(st tls.ConnectionState, hsErr error, roots *x509.CertPool, now time.Time) *TLSSummary {
	sum := &TLSSummary{}
	if st.Version != 0 {
		sum.Version = tlsVersionName(st.Version)
	}
	if st.CipherSuite != 0 {
		sum.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
	}
	if hsErr != nil {
		sum.HandshakeError = hsErr.Error()
	}
	if len(st.PeerCertificates) == 0 {
		return sum
	}
	sum.Certificates = make([]Certificate, len(st.PeerCertificates))
	for i, c := range st.PeerCertificates {
		sum.Certificates[i] = summarizeCertificate(c, now)
	}
	if err := verifyChain(st.PeerCertificates, roots, now); err != nil {
		sum.VerifyError = err.Error()
	} else {
		sum.ChainVerified = true
	}
	return sum
}

// verifyChain checks that certs[0] chains to a root in roots (nil: the
// system roots) through the other presented certificates, for server
// authentication, ignoring any host name.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(certs) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
	}
	_, err := certs[0].Verify(opts)
	return err
}

// checkHostname records in sum whether leaf is valid for name, the name the
// server announced for itself. An empty name leaves sum unchanged.
func checkHostname(sum *TLSSummary, leaf *x509.Certificate, name string) {
	if sum == nil || leaf == nil || name == "" {
		return
	}
	sum.Hostname = name
	ok := true
	if err := leaf.VerifyHostname(name); err != nil {
		ok = false
		sum.HostnameError = err.Error()
	}
	sum.HostnameVerified = &ok
}

// summarizeCertificate describes c as seen at time now.
func summarizeCertificate(c *x509.Certificate, now time.Time) Certificate {
	digest := sha256.Sum256(c.Raw)
	keyType, keyBits := publicKeyInfo(c)
	out := Certificate{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		SANs:               certSANs(c),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		KeyType:            keyType,
		KeyBits:            keyBits,
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SHA256:             hex.EncodeToString(digest[:]),
		SelfSigned:         isSelfSigned(c),
		Expired:            now.After(c.NotAfter),
	}
	if c.SerialNumber != nil {
		out.Serial = c.SerialNumber.String()
	}
	return out
}

func certSANs(c *x509.Certificate) []string {
	n := len(c.DNSNames) + len(c.IPAddresses) + len(c.EmailAddresses) + len(c.URIs)
	if n == 0 {
		return nil
	}
	sans := make([]string, 0, n)
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	sans = append(sans, c.EmailAddresses...)
	for _, u := range c.URIs {
		sans = append(sans, u.String())
	}
	return sans
}

func publicKeyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "ECDSA", 0
		}
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	case *dsa.PublicKey:
		if k.P == nil {
			return "DSA", 0
		}
		return "DSA", k.P.BitLen()
	}
	return c.PublicKeyAlgorithm.String(), 0
}

// isSelfSigned reports whether c names itself as issuer and its signature
// verifies with its own public key. crypto/x509 refuses SHA-1 signatures,
// which old self-signed certificates of mail servers often carry; those are
// checked here directly, since the question is who signed, not whether the
// signature is strong.
func isSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	if err == nil {
		return true
	}
	var weak x509.InsecureAlgorithmError
	if !errors.As(err, &weak) {
		return false
	}
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA:
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return false
		}
		h := sha1.Sum(c.RawTBSCertificate)
		return rsa.VerifyPKCS1v15(k, crypto.SHA1, h[:], c.Signature) == nil
	case x509.ECDSAWithSHA1:
		k, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		h := sha1.Sum(c.RawTBSCertificate)
		return ecdsa.VerifyASN1(k, h[:], c.Signature)
	}
	return false
}

// hostnameOf returns s when it looks like a DNS host name (letters, digits,
// '-', '.', at least one dot), "" otherwise: the name an SMTP server
// announces may be an address literal or junk, and only a name is worth
// checking a certificate against.
func hostnameOf(s string) string {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 || !strings.Contains(s, ".") {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_':
		default:
			return ""
		}
	}
	return s
}
