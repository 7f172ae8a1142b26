package banner

import (
	"fmt"
	"strconv"
	"strings"
)

// Protocol names the dialogue run against a port. Its zero value is invalid.
type Protocol string

// The protocols the banner stage speaks. Submission (587) runs the SMTP
// dialogue; it is a separate name so that results keep the port's role.
const (
	IMAP       Protocol = "imap"       // IMAP4rev1, STARTTLS where offered (143)
	IMAPS      Protocol = "imaps"      // IMAP over implicit TLS (993)
	POP3       Protocol = "pop3"       // POP3, STLS where offered (110)
	POP3S      Protocol = "pop3s"      // POP3 over implicit TLS (995)
	SMTP       Protocol = "smtp"       // SMTP, STARTTLS where offered (25)
	Submission Protocol = "submission" // message submission, SMTP dialogue (587)
	SMTPS      Protocol = "smtps"      // SMTP over implicit TLS (465)
)

// protocols lists every valid Protocol in the order help texts print them.
var protocols = [...]Protocol{IMAP, IMAPS, POP3, POP3S, SMTP, Submission, SMTPS}

// Protocols returns every valid Protocol. The slice is a fresh copy.
func Protocols() []Protocol { return append([]Protocol(nil), protocols[:]...) }

// Valid reports whether p is one of the protocols the package speaks.
func (p Protocol) Valid() bool {
	switch p {
	case IMAP, IMAPS, POP3, POP3S, SMTP, Submission, SMTPS:
		return true
	}
	return false
}

// ImplicitTLS reports whether the dialogue starts with a TLS handshake.
func (p Protocol) ImplicitTLS() bool {
	return p == IMAPS || p == POP3S || p == SMTPS
}

// Base returns the application protocol spoken on top of any TLS: the
// Family whose dialect runs on p ("" for an invalid p).
func (p Protocol) Base() Family {
	switch p {
	case IMAP, IMAPS:
		return FamilyIMAP
	case POP3, POP3S:
		return FamilyPOP3
	case SMTP, Submission, SMTPS:
		return FamilySMTP
	}
	return ""
}

// Family returns string(p.Base()): "imap", "pop3" or "smtp" ("" for an
// invalid p), the name fingerprint rules and reports are keyed by.
func (p Protocol) Family() string { return string(p.Base()) }

// DefaultPort returns the well-known port of p, 0 for an invalid p.
func (p Protocol) DefaultPort() uint16 {
	switch p {
	case IMAP:
		return 143
	case IMAPS:
		return 993
	case POP3:
		return 110
	case POP3S:
		return 995
	case SMTP:
		return 25
	case Submission:
		return 587
	case SMTPS:
		return 465
	}
	return 0
}

// ParseProtocol returns the Protocol named s (case-insensitive).
func ParseProtocol(s string) (Protocol, error) {
	p := Protocol(strings.ToLower(strings.TrimSpace(s)))
	if !p.Valid() {
		return "", fmt.Errorf("banner: unknown protocol %q (want one of %s)", s, protocolList())
	}
	return p, nil
}

func protocolList() string {
	var b strings.Builder
	for i, p := range protocols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(p))
	}
	return b.String()
}

// ProtocolForPort returns the protocol to speak on port: the override for
// the port when overrides has one, else the well-known assignment (143 imap,
// 993 imaps, 110 pop3, 995 pop3s, 25 smtp, 587 submission, 465 smtps).
// ok is false for any other port.
func ProtocolForPort(port uint16, overrides map[uint16]Protocol) (p Protocol, ok bool) {
	if p, ok := overrides[port]; ok {
		return p, true
	}
	switch port {
	case 143:
		return IMAP, true
	case 993:
		return IMAPS, true
	case 110:
		return POP3, true
	case 995:
		return POP3S, true
	case 25:
		return SMTP, true
	case 587:
		return Submission, true
	case 465:
		return SMTPS, true
	}
	return "", false
}

// ParseOverrides parses a --proto value such as "2525=smtp,10143=imap" into
// a port → Protocol map for ProtocolForPort. Spaces around items are
// ignored; an empty string gives an empty map. Errors name the bad item: a
// port outside 1–65535, an unknown protocol, or a port given twice.
func ParseOverrides(s string) (map[uint16]Protocol, error) {
	m := make(map[uint16]Protocol)
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		ps, name, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("banner: port mapping %q: want PORT=PROTOCOL", item)
		}
		port, err := strconv.ParseUint(strings.TrimSpace(ps), 10, 16)
		if err != nil || port == 0 {
			return nil, fmt.Errorf("banner: port mapping %q: port %q is not in 1-65535", item, strings.TrimSpace(ps))
		}
		p := Protocol(strings.ToLower(strings.TrimSpace(name)))
		if !p.Valid() {
			return nil, fmt.Errorf("banner: port mapping %q: unknown protocol %q (want one of %s)", item, strings.TrimSpace(name), protocolList())
		}
		if _, dup := m[uint16(port)]; dup {
			return nil, fmt.Errorf("banner: port mapping %q: port %d given twice", item, port)
		}
		m[uint16(port)] = p
	}
	return m, nil
}
