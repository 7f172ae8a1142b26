package fingerprint

import (
	"regexp"
	"strings"
	"sync"
)

// Fingerprint is what a greeting says about the server that sent it.
type Fingerprint struct {
	Vendor  string `json:"vendor,omitempty"`
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
	Family  string `json:"family,omitempty"`
	// Rule names the rule that matched, e.g. "builtin:dovecot" or
	// "recog:imap_banners.xml:42".
	Rule string `json:"rule,omitempty"`
	// Params holds further facts a Recog rule sets (os.vendor, host.name, ...).
	Params map[string]string `json:"params,omitempty"`
}

// proto is a mail protocol whose greetings the rules know. Its zero value is
// invalid on purpose: an unknown protocol matches nothing.
type proto uint8

const (
	protoUnknown proto = iota
	protoIMAP
	protoPOP3
	protoSMTP
	numProtos
)

// protoNames are the canonical names, indexed by proto.
var protoNames = [numProtos]string{"", "imap", "pop3", "smtp"}

func (p proto) String() string { return protoNames[p] }

// parseProto maps a protocol or service name to the protocol whose greeting it
// sends; the implicit-TLS and submission services greet like their base.
func parseProto(name string) proto {
	switch strings.ToLower(name) {
	case "imap", "imap4", "imaps":
		return protoIMAP
	case "pop3", "pop", "pop3s", "pops":
		return protoPOP3
	case "smtp", "esmtp", "smtps", "submission", "submissions":
		return protoSMTP
	}
	return protoUnknown
}

// CanonicalProto returns the base protocol ("imap", "pop3" or "smtp") for a
// protocol or service name such as "imaps", "pop3s", "smtps" or "submission",
// and false if the name is not one of them.
func CanonicalProto(name string) (string, bool) {
	p := parseProto(name)
	return p.String(), p != protoUnknown
}

// DetectProto guesses the protocol from the start of a greeting: "* " is IMAP,
// "+OK" or "-ERR" POP3, a three-digit reply code SMTP. It returns "" when the
// greeting has none of these prefixes.
func DetectProto(greeting string) string {
	switch {
	case strings.HasPrefix(greeting, "* "):
		return "imap"
	case strings.HasPrefix(greeting, "+OK"), strings.HasPrefix(greeting, "-ERR"):
		return "pop3"
	case hasReplyCode(greeting):
		return "smtp"
	}
	return ""
}

// rule is one entry of a Matcher: a built-in table row or a Recog fingerprint.
type rule struct {
	name   string // Fingerprint.Rule
	protos uint8  // bit 1<<proto for each protocol the rule applies to
	re     *regexp.Regexp

	// lit is a substring every match contains (see requiredLiteral); a line
	// without it is skipped before the regexp runs. litFold means the literal
	// was compiled case-insensitively.
	lit     string
	litFold bool

	// Built-in rules: constant fields, the capture group holding the version
	// and an optional hook that may refine the result or reject the match.
	vendor, product, family string
	version                 int
	post                    postFunc

	// Recog rules carry their fingerprint instead.
	recog *recogFP
}

// postFunc refines a built-in match. m holds the submatch indexes of line; a
// false return rejects the match so that the next rule is tried.
type postFunc func(fp *Fingerprint, line string, m []int) bool

func (r *rule) prefilter(line string) bool {
	if r.lit == "" {
		return true
	}
	if !r.litFold {
		return strings.Contains(line, r.lit)
	}
	// Case folding in RE2 is Unicode-aware (K matches the Kelvin sign), so
	// the ASCII shortcut is only exact for ASCII lines.
	if !isASCII(line) {
		return true
	}
	return containsFoldASCII(line, r.lit)
}

// build turns a match of r against line into a Fingerprint.
func (r *rule) build(line string, m []int) (Fingerprint, bool) {
	if r.recog != nil {
		return r.recog.fingerprint(r.name, line, m), true
	}
	fp := Fingerprint{Vendor: r.vendor, Product: r.product, Family: r.family, Rule: r.name}
	if r.version > 0 {
		fp.Version = group(line, m, r.version)
	}
	if r.post != nil && !r.post(&fp, line, m) {
		return Fingerprint{}, false
	}
	return fp, true
}

// group returns capture group i of line, or "" if it did not take part.
func group(line string, m []int, i int) string {
	if 2*i+1 >= len(m) || m[2*i] < 0 {
		return ""
	}
	return line[m[2*i]:m[2*i+1]]
}

// Matcher matches greetings against an ordered list of rules. It is safe for
// concurrent use once built; the With methods return new Matchers and leave
// the receiver unchanged.
type Matcher struct {
	byProto [numProtos][]*rule

	// noPrefilter disables the literal prefilter; tests use it to prove the
	// prefilter never changes a result.
	noPrefilter bool
}

// builtin compiles the built-in table once; the table is tested, so a failure
// here is a programming error.
var builtin = sync.OnceValue(func() *Matcher {
	rules, err := compileBuiltins(builtinRules)
	if err != nil {
		panic(err)
	}
	m := &Matcher{}
	for _, r := range rules {
		m.add(r)
	}
	return m
})

// Builtin returns a Matcher holding only the built-in rules. The rules are
// compiled on the first call; later calls return the same Matcher.
func Builtin() *Matcher { return builtin() }

func (m *Matcher) add(r *rule) {
	for p := protoIMAP; p < numProtos; p++ {
		if r.protos&(1<<p) != 0 {
			m.byProto[p] = append(m.byProto[p], r)
		}
	}
}

func (m *Matcher) clone() *Matcher {
	c := &Matcher{noPrefilter: m.noPrefilter}
	for p := range m.byProto {
		c.byProto[p] = append([]*rule(nil), m.byProto[p]...)
	}
	return c
}

// WithRecog returns a Matcher that tries m's rules first and then db's
// patterns. This is the recommended order: the built-in rules are tested
// against real greetings and name families consistently, while Recog fills the
// gaps for software they do not cover.
func (m *Matcher) WithRecog(db *RecogDB) *Matcher {
	c := m.clone()
	for _, r := range db.rules() {
		c.add(r)
	}
	return c
}

// WithRecogFirst returns a Matcher that tries db's patterns before m's rules,
// for users who trust their own Recog database more than the built-ins.
func (m *Matcher) WithRecogFirst(db *RecogDB) *Matcher {
	c := &Matcher{noPrefilter: m.noPrefilter}
	for _, r := range db.rules() {
		c.add(r)
	}
	for p := range m.byProto {
		c.byProto[p] = append(c.byProto[p], m.byProto[p]...)
	}
	return c
}

// maxGreetingLines bounds the work for a hostile multi-line greeting.
const maxGreetingLines = 64

// Match returns the fingerprint of greeting, the server's full first reply
// line(s) as sent (e.g. "* OK [CAPABILITY IMAP4rev1] Dovecot ready."), for
// protocol proto ("imap", "pop3" or "smtp"; "imaps", "pop3s", "smtps" and
// "submission" are read as their base protocol, and "" means guess from the
// greeting's prefix). Rules are tried in order, each against every line of
// the greeting; the first match wins. It returns false when no rule matches or
// the protocol is unknown.
func (m *Matcher) Match(proto, greeting string) (Fingerprint, bool) {
	if m == nil {
		return Fingerprint{}, false
	}
	p := parseProto(proto)
	if proto == "" {
		p = parseProto(DetectProto(greeting))
	}
	if p == protoUnknown {
		return Fingerprint{}, false
	}
	var buf [8]string
	lines := splitGreeting(p, greeting, buf[:0])
	for _, r := range m.byProto[p] {
		for _, line := range lines {
			if !m.noPrefilter && !r.prefilter(line) {
				continue
			}
			if !r.re.MatchString(line) {
				continue
			}
			if fp, ok := r.build(line, r.re.FindStringSubmatchIndex(line)); ok {
				return fp, true
			}
		}
	}
	return Fingerprint{}, false
}

// splitGreeting appends to dst the text each line of greeting offers to the
// rules (see the package documentation), skipping empty lines.
func splitGreeting(p proto, greeting string, dst []string) []string {
	for n := 0; greeting != "" && n < maxGreetingLines; n++ {
		line, rest, _ := strings.Cut(greeting, "\n")
		greeting = rest
		if s := normalizeLine(p, line); s != "" {
			dst = append(dst, s)
		}
	}
	return dst
}

// normalizeLine strips the protocol's status prefix from one greeting line.
func normalizeLine(p proto, line string) string {
	line = strings.TrimRight(line, " \t\r")
	switch p {
	case protoIMAP:
		return imapText(line)
	case protoPOP3:
		for _, st := range [...]string{"+OK", "-ERR"} {
			if rest, ok := strings.CutPrefix(line, st); ok && (rest == "" || rest[0] == ' ') {
				return strings.TrimLeft(rest, " ")
			}
		}
		return line
	case protoSMTP:
		if hasReplyCode(line) {
			if len(line) == 3 {
				return ""
			}
			return line[4:]
		}
		return line
	}
	return line
}

// imapText removes "* OK " (or PREAUTH, BYE; IMAP keywords are
// case-insensitive) and a leading response code from an IMAP greeting line.
func imapText(line string) string {
	if !strings.HasPrefix(line, "* ") {
		return line
	}
	s := line[2:]
	for _, st := range [...]string{"OK", "PREAUTH", "BYE"} {
		if len(s) >= len(st) && strings.EqualFold(s[:len(st)], st) && (len(s) == len(st) || s[len(st)] == ' ') {
			s = strings.TrimLeft(s[len(st):], " ")
			if strings.HasPrefix(s, "[") {
				if i := strings.IndexByte(s, ']'); i >= 0 {
					s = strings.TrimLeft(s[i+1:], " ")
				}
			}
			return s
		}
	}
	return line
}

// hasReplyCode reports whether s starts with an SMTP reply code: three digits
// followed by the end, a space or a hyphen (RFC 5321, section 4.2).
func hasReplyCode(s string) bool {
	if len(s) < 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return false
	}
	return len(s) == 3 || s[3] == ' ' || s[3] == '-'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether s contains substr under ASCII case
// folding, without allocating.
func containsFoldASCII(s, substr string) bool {
	n := len(substr)
	for i := 0; i+n <= len(s); i++ {
		if equalFoldASCII(s[i:i+n], substr) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
