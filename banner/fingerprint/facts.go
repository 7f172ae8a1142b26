package fingerprint

import "strings"

// Field names a fact of the dialogue that a rule reads.
type Field uint8

// The fields rules match. Their zero value is invalid.
const (
	_ Field = iota
	// FieldGreeting: the server's first reply, cut per line as the package
	// documentation says (status and response code removed).
	FieldGreeting
	// FieldCapabilities: each capability line, before TLS and after it
	// (IMAP CAPABILITY atoms, POP3 CAPA lines, SMTP EHLO keyword lines).
	FieldCapabilities
	// FieldID: the reply to IMAP "ID NIL" (RFC 2971), as sent: the untagged
	// "* ID (...)" line, or the tagged reply when the server refused.
	FieldID
	// FieldHelp: the reply to SMTP HELP, each line without its code.
	FieldHelp
	// FieldError: the reply to a command the server does not support
	// (POP3 CAPA answered "-ERR ..."), as sent.
	FieldError
	// FieldGoodbye: the reply to LOGOUT or QUIT, each line as sent.
	FieldGoodbye
	// FieldStartTLS: the reply to STARTTLS/STLS, as sent.
	FieldStartTLS
	// FieldCertificate: the leaf certificate's subject, then its issuer
	// (RFC 2253 form), one line each.
	FieldCertificate
	// FieldAPOP: the APOP timestamp of a POP3 greeting ("<pid.clock@host>").
	FieldAPOP
	numFields
)

var fieldNames = [numFields]string{"", "greeting", "capabilities", "id", "help", "error", "goodbye", "starttls", "certificate", "apop"}

// String returns the field's name as results and rules spell it.
func (f Field) String() string {
	if f >= numFields {
		return ""
	}
	return fieldNames[f]
}

// Facts are the parts of one dialogue that can name the software. Every
// field is optional; rules that need an absent fact do not match. A
// banner.Result converts to Facts (banner.Result.Facts), so stored results
// can be fingerprinted again.
type Facts struct {
	// Protocol is "imap", "pop3" or "smtp" or an alias CanonicalProto
	// knows; "" guesses from the greeting's prefix.
	Protocol string `json:"protocol,omitempty"`
	Greeting string `json:"greeting,omitempty"`
	// CapsBefore and CapsAfter are the capability lists before and after
	// TLS, as the banner stage records them.
	CapsBefore  []string `json:"caps_before,omitempty"`
	CapsAfter   []string `json:"caps_after,omitempty"`
	ID          string   `json:"id,omitempty"`
	Help        string   `json:"help,omitempty"`
	Error       string   `json:"error,omitempty"`
	Goodbye     string   `json:"goodbye,omitempty"`
	StartTLS    string   `json:"starttls,omitempty"`
	CertSubject string   `json:"cert_subject,omitempty"`
	CertIssuer  string   `json:"cert_issuer,omitempty"`
	APOP        string   `json:"apop,omitempty"`
}

// maxFieldLines bounds the lines of one field a rule looks at.
const maxFieldLines = 64

// view is one MatchFacts call's look at the facts: every field cut into
// the lines rules read, once, into buffers on the caller's stack, so that
// trying a hundred rules costs no allocation and no repeated cutting.
type view struct {
	before, after                      []string
	apop                               [1]string
	na                                 int
	ng, nh, ni, ne, nb, ns, nc         int
	gbuf, hbuf, ibuf, ebuf, bbuf, sbuf [viewLines]string
	cbuf                               [2]string
}

// viewLines bounds the lines of one text field a rule looks at.
const viewLines = 16

func (v *view) init(f *Facts, p proto) {
	v.before, v.after = capped(f.CapsBefore), capped(f.CapsAfter)
	if f.APOP != "" {
		v.apop[0], v.na = f.APOP, 1
	}
	v.ng = splitInto(&v.gbuf, f.Greeting, p)
	v.nh = splitInto(&v.hbuf, f.Help, protoSMTP)
	v.ni = splitInto(&v.ibuf, f.ID, protoUnknown)
	v.ne = splitInto(&v.ebuf, f.Error, protoUnknown)
	v.nb = splitInto(&v.bbuf, f.Goodbye, protoUnknown)
	v.ns = splitInto(&v.sbuf, f.StartTLS, protoUnknown)
	for _, c := range [2]string{f.CertSubject, f.CertIssuer} {
		if c != "" {
			v.cbuf[v.nc] = c
			v.nc++
		}
	}
}

func capped(list []string) []string {
	if len(list) > maxFieldLines {
		return list[:maxFieldLines]
	}
	return list
}

// lines returns the lines of field, in up to two slices.
func (v *view) lines(field Field) (a, b []string) {
	switch field {
	case FieldGreeting:
		return v.gbuf[:v.ng], nil
	case FieldCapabilities:
		return v.before, v.after
	case FieldHelp:
		return v.hbuf[:v.nh], nil
	case FieldID:
		return v.ibuf[:v.ni], nil
	case FieldError:
		return v.ebuf[:v.ne], nil
	case FieldGoodbye:
		return v.bbuf[:v.nb], nil
	case FieldStartTLS:
		return v.sbuf[:v.ns], nil
	case FieldCertificate:
		return v.cbuf[:v.nc], nil
	case FieldAPOP:
		return v.apop[:v.na], nil
	}
	return nil, nil
}

// splitInto stores in dst the non-empty lines of s (as many as fit),
// trailing CR and blanks removed and, for a protocol, cut as normalizeLine
// cuts them; it returns how many.
func splitInto(dst *[viewLines]string, s string, p proto) int {
	n := 0
	for s != "" && n < len(dst) {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		line = strings.TrimRight(line, " \t\r")
		if p != protoUnknown {
			line = normalizeLine(p, line)
		}
		if line != "" {
			dst[n] = line
			n++
		}
	}
	return n
}
