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

// eachLine calls fn with every line field offers to rules, stopping when fn
// returns true; it reports whether fn did. It allocates nothing.
func (f *Facts) eachLine(p proto, field Field, fn func(string) bool) bool {
	switch field {
	case FieldGreeting:
		return eachSplit(f.Greeting, func(l string) bool {
			if s := normalizeLine(p, l); s != "" {
				return fn(s)
			}
			return false
		})
	case FieldCapabilities:
		n := 0
		for _, list := range [2][]string{f.CapsBefore, f.CapsAfter} {
			for _, c := range list {
				if n++; n > 2*maxFieldLines {
					return false
				}
				if fn(c) {
					return true
				}
			}
		}
		return false
	case FieldHelp:
		return eachSplit(f.Help, func(l string) bool {
			if s := normalizeLine(protoSMTP, l); s != "" {
				return fn(s)
			}
			return false
		})
	case FieldID:
		return eachSplit(f.ID, fn)
	case FieldError:
		return eachSplit(f.Error, fn)
	case FieldGoodbye:
		return eachSplit(f.Goodbye, fn)
	case FieldStartTLS:
		return eachSplit(f.StartTLS, fn)
	case FieldCertificate:
		return (f.CertSubject != "" && fn(f.CertSubject)) || (f.CertIssuer != "" && fn(f.CertIssuer))
	case FieldAPOP:
		return f.APOP != "" && fn(f.APOP)
	}
	return false
}

// eachSplit calls fn on each non-empty line of s (at most maxFieldLines),
// trailing CR and blanks removed.
func eachSplit(s string, fn func(string) bool) bool {
	for n := 0; s != "" && n < maxFieldLines; n++ {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		line = strings.TrimRight(line, " \t\r")
		if line != "" && fn(line) {
			return true
		}
	}
	return false
}
