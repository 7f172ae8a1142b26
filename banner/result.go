package banner

import (
	"net/netip"
	"time"

	"mailscan/banner/fingerprint"
)

// Status is the outcome of one target, a closed set of strings that reuses
// zgrab2's names where they fit.
type Status string

// The statuses. Each result has exactly one.
const (
	// StatusSuccess: the dialogue ran to the end (greeting, capabilities and,
	// where offered, STARTTLS and the capabilities after it).
	StatusSuccess Status = "success"
	// StatusConnectionRefused: the connection could not be made for a reason
	// other than a timeout: a RST, an ICMP unreachable, a local dial error.
	StatusConnectionRefused Status = "connection-refused"
	// StatusConnectionTimeout: no answer to the SYN within the connect timeout.
	StatusConnectionTimeout Status = "connection-timeout"
	// StatusIOTimeout: connected, but the server did not complete a reply
	// within the read timeout or the target's total deadline.
	StatusIOTimeout Status = "io-timeout"
	// StatusTLSError: the TLS handshake (implicit or after STARTTLS) failed,
	// for any reason including a timeout in the middle of it.
	StatusTLSError Status = "tls-error"
	// StatusProtocolError: the server sent bytes that are not the protocol,
	// a line longer than MaxLineBytes, or more than MaxBytes in all.
	StatusProtocolError Status = "protocol-error"
	// StatusClosed: the server refused us (IMAP "* BYE", POP3 "-ERR", SMTP
	// 4xx/5xx greeting or EHLO) or closed the connection mid-dialogue.
	StatusClosed Status = "closed"
	// StatusExcluded: the exclusion policy (a blocklist or a reserved range)
	// forbids the address; nothing was sent to it.
	StatusExcluded Status = "excluded"
	// StatusUnreachable: no route to the address (network or host
	// unreachable, locally or by an ICMP message on the way).
	StatusUnreachable Status = "unreachable"
)

// statuses lists every Status; its order gives Stats its counter indexes.
var statuses = [...]Status{
	StatusSuccess, StatusConnectionRefused, StatusConnectionTimeout,
	StatusIOTimeout, StatusTLSError, StatusProtocolError, StatusClosed,
	StatusExcluded, StatusUnreachable,
}

// numStatuses is the number of distinct Status values.
const numStatuses = len(statuses)

// Statuses returns every valid Status. The slice is a fresh copy.
func Statuses() []Status { return append([]Status(nil), statuses[:]...) }

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool { return s.index() >= 0 }

func (s Status) index() int {
	switch s {
	case StatusSuccess:
		return 0
	case StatusConnectionRefused:
		return 1
	case StatusConnectionTimeout:
		return 2
	case StatusIOTimeout:
		return 3
	case StatusTLSError:
		return 4
	case StatusProtocolError:
		return 5
	case StatusClosed:
		return 6
	case StatusExcluded:
		return 7
	case StatusUnreachable:
		return 8
	}
	return -1
}

// Result is everything learned about one target: one JSON object per line
// of the banner stage's output. Optional parts are pointers or omitted when
// empty, so a result carries exactly the facts the dialogue reached before
// it ended.
type Result struct {
	IP       netip.Addr `json:"ip"`
	Port     uint16     `json:"port"`
	Protocol Protocol   `json:"protocol"`
	Status   Status     `json:"status"`
	// Greeting is the server's first reply as sent, lines joined with "\n"
	// (SMTP lines keep their "220-"/"220 " codes). For implicit TLS it is the
	// first reply inside TLS. At most MaxBytes long.
	Greeting string `json:"greeting,omitempty"`
	// APOPTimestamp is the RFC 1939 "<...@...>" timestamp of a POP3 greeting
	// (the server offers APOP).
	APOPTimestamp string `json:"apop_timestamp,omitempty"`
	// Capabilities are the announced capabilities before and after TLS.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	// StartTLS is the STARTTLS/STLS exchange; nil on implicit-TLS ports and
	// when capabilities were never read.
	StartTLS *StartTLS `json:"starttls,omitempty"`
	// TLS holds the handshake and certificate facts, also those of a failed
	// handshake, as far as it got.
	TLS *TLSSummary `json:"tls,omitempty"`
	// Probes are the extra pre-login commands the stage sent to tell the
	// software apart, and the replies it read: IMAP "ID NIL" where ID is
	// announced, SMTP HELP; with the replies to LOGOUT/QUIT and the POP3
	// server's answer when it lacks CAPA.
	Probes *Probes `json:"probes,omitempty"`
	// Fingerprint is what the dialogue says about the software (greeting,
	// capabilities, probes, certificate), if a rule matched.
	Fingerprint *fingerprint.Fingerprint `json:"fingerprint,omitempty"`
	// Findings are the security-relevant conclusions; nil when none can be
	// drawn (e.g. the greeting was never read).
	Findings *Findings `json:"findings,omitempty"`
	// Time is when the scan of the target started (UTC, RFC 3339).
	Time time.Time `json:"time"`
	// DurationMS is the wall time of the whole scan of the target.
	DurationMS int64 `json:"duration_ms"`
	// Error says why the dialogue stopped short of success ("" on success).
	Error string `json:"error,omitempty"`
	// AnswersAllPorts is set by a later pipeline stage for hosts that accept
	// connections on every port probed (middleboxes, tarpits).
	AnswersAllPorts bool `json:"answers_all_ports,omitempty"`
}

// Probes records the replies that tell software apart beyond greeting and
// capabilities. Every command sent for it is in Sent, as sent.
type Probes struct {
	// Sent are the extra commands, tags included ("a003 ID NIL", "HELP").
	Sent []string `json:"sent,omitempty"`
	// ID is the reply to IMAP "ID NIL" (RFC 2971): the untagged "* ID (...)"
	// line, or the tagged reply when the server refused the command.
	ID string `json:"id,omitempty"`
	// Help is the reply to SMTP HELP, lines joined with "\n".
	Help string `json:"help,omitempty"`
	// Error is a reply refusing a command of the dialogue that the server
	// does not implement (POP3 CAPA answered "-ERR ...").
	Error string `json:"error,omitempty"`
	// Goodbye is the reply to LOGOUT or QUIT, lines joined with "\n".
	Goodbye string `json:"goodbye,omitempty"`
}

// Facts returns what r holds that fingerprint rules read: greeting,
// capabilities, probe replies, the STARTTLS reply, the leaf certificate's
// subject and issuer, the APOP timestamp. Stored results give the same facts
// back, so their fingerprints can be derived again with newer rules.
func (r *Result) Facts() fingerprint.Facts {
	f := fingerprint.Facts{Protocol: r.Protocol.Family(), Greeting: r.Greeting, APOP: r.APOPTimestamp}
	if c := r.Capabilities; c != nil {
		f.CapsBefore, f.CapsAfter = c.Before, c.After
	}
	if p := r.Probes; p != nil {
		f.ID, f.Help, f.Error, f.Goodbye = p.ID, p.Help, p.Error, p.Goodbye
	}
	if r.StartTLS != nil {
		f.StartTLS = r.StartTLS.Response
	}
	if r.TLS != nil && len(r.TLS.Certificates) > 0 {
		f.CertSubject, f.CertIssuer = r.TLS.Certificates[0].Subject, r.TLS.Certificates[0].Issuer
	}
	return f
}

// Capabilities are the capability lists a server announced, each as sent and
// in order: IMAP CAPABILITY atoms, POP3 CAPA lines, SMTP EHLO keyword lines
// (the EHLO reply without its first, greeting, line).
//
// Before is what a cleartext client sees: the set before STARTTLS. After is
// what a client sees under TLS: after STARTTLS or, on an implicit-TLS port,
// the only set there is (Before is then absent). A list is absent when the
// dialogue did not get that far or the server does not announce
// capabilities (POP3 without CAPA).
type Capabilities struct {
	Before []string `json:"before,omitempty"`
	After  []string `json:"after,omitempty"`
}

// StartTLS records the upgrade of a cleartext port to TLS.
type StartTLS struct {
	// Offered: the cleartext capabilities announce STARTTLS (POP3: STLS).
	Offered bool `json:"offered"`
	// Attempted: the STARTTLS command was sent.
	Attempted bool `json:"attempted"`
	// Response is the server's reply to the command, as sent.
	Response string `json:"response,omitempty"`
	// Error says why the upgrade did not happen: the command was refused or
	// not attempted. A failed handshake is in TLSSummary.HandshakeError.
	Error string `json:"error,omitempty"`
}

// TLSSummary describes a TLS session and the certificates the server
// presented. It is filled as far as the handshake got: a handshake that
// failed after the server's Certificate message still reports the chain.
type TLSSummary struct {
	// Version is the negotiated version: "TLSv1.0" … "TLSv1.3".
	Version string `json:"version,omitempty"`
	// CipherSuite is the negotiated suite, by its IANA name.
	CipherSuite string `json:"cipher_suite,omitempty"`
	// ChainVerified: the presented chain leads to a trusted root (the
	// system's, unless Config.RootCAs says otherwise) for server
	// authentication. No host name is part of this check: we dial an IP and
	// send no SNI.
	ChainVerified bool `json:"chain_verified"`
	// VerifyError is why the chain did not verify.
	VerifyError string `json:"verify_error,omitempty"`
	// Hostname is the name the server announced for itself (the SMTP
	// greeting or EHLO domain) that the leaf was checked against.
	Hostname string `json:"hostname,omitempty"`
	// HostnameVerified is whether the leaf is valid for Hostname; absent
	// when there was no name to check.
	HostnameVerified *bool `json:"hostname_verified,omitempty"`
	// HostnameError is why the leaf is not valid for Hostname.
	HostnameError string `json:"hostname_error,omitempty"`
	// Certificates are the presented certificates, leaf first, as sent.
	Certificates []Certificate `json:"certificates,omitempty"`
	// HandshakeError is why the handshake failed ("" when it completed).
	HandshakeError string `json:"handshake_error,omitempty"`
}

// Certificate summarises one X.509 certificate.
type Certificate struct {
	Subject string `json:"subject"` // RFC 2253 form
	Issuer  string `json:"issuer"`  // RFC 2253 form
	// SANs are the subject alternative names: DNS names, then IP
	// addresses, e-mail addresses and URIs.
	SANs      []string  `json:"sans,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// Serial is the serial number in decimal, as zgrab2 writes it.
	Serial string `json:"serial"`
	// KeyType is "RSA", "ECDSA", "Ed25519", "DSA" or Go's name of another
	// public-key algorithm; KeyBits its size (modulus, curve or key bits).
	KeyType            string `json:"key_type"`
	KeyBits            int    `json:"key_bits"`
	SignatureAlgorithm string `json:"signature_algorithm"`
	// SHA256 is the SHA-256 of the DER encoding, lowercase hex, no colons.
	SHA256 string `json:"sha256"`
	// SelfSigned: subject equals issuer and the signature verifies with the
	// certificate's own key.
	SelfSigned bool `json:"self_signed"`
	// Expired: the scan time is after NotAfter.
	Expired bool `json:"expired"`
}

// Finding is one security-relevant conclusion and what it rests on.
type Finding struct {
	Value    bool   `json:"value"`
	Evidence string `json:"evidence"`
}

// Findings are the conclusions drawn from a result. A finding is absent when
// it cannot be known: certificate findings without a certificate, login
// findings without the cleartext capabilities.
type Findings struct {
	// CleartextLogin: the cleartext side lets a client send a password
	// before TLS (IMAP without LOGINDISABLED, POP3 USER or SASL, SMTP AUTH
	// before STARTTLS). False with evidence "implicit TLS" on TLS ports.
	CleartextLogin *Finding `json:"cleartext_login,omitempty"`
	// StartTLSOffered: the cleartext capabilities announce STARTTLS/STLS.
	StartTLSOffered *Finding `json:"starttls_offered,omitempty"`
	// TLSOnly: a client cannot send a password without TLS (implicit TLS,
	// or STARTTLS offered and cleartext login disabled).
	TLSOnly *Finding `json:"tls_only,omitempty"`
	// CertExpired: the leaf certificate has expired.
	CertExpired *Finding `json:"cert_expired,omitempty"`
	// CertSelfSigned: the leaf certificate is self-signed.
	CertSelfSigned *Finding `json:"cert_self_signed,omitempty"`
	// TLSLegacy: the negotiated version is below TLS 1.2.
	TLSLegacy *Finding `json:"tls_legacy,omitempty"`
}
