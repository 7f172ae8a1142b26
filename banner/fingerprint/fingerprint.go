package fingerprint

import (
	"regexp"
	"strings"
	"sync"
)

// Fingerprint is what a dialogue says about the software that answered it.
type Fingerprint struct {
	Vendor  string `json:"vendor,omitempty"`
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
	Family  string `json:"family,omitempty"`
	// OS is the operating system the server names (IMAP ID "os", a
	// distribution tag in a greeting), when it does.
	OS string `json:"os,omitempty"`
	// Rule names the rule that decided vendor and product, e.g.
	// "builtin:dovecot" or "recog:imap_banners.xml:42".
	Rule string `json:"rule,omitempty"`
	// Params holds further facts a Recog rule sets (os.vendor, host.name, ...).
	Params map[string]string `json:"params,omitempty"`
	// Evidence lists what each rule that contributed matched, first the
	// rule named in Rule.
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one fact a rule matched: the field and the matched text (cut
// to maxEvidence bytes).
type Evidence struct {
	Rule  string `json:"rule"`
	Field string `json:"field"`
	Text  string `json:"text"`
}

// maxEvidence bounds the text of one piece of evidence, maxEvidenceItems
// the built-in rules that add theirs to one fingerprint.
const (
	maxEvidence      = 160
	maxEvidenceItems = 6
)

func evidence(rule string, f Field, text string) Evidence {
	if len(text) > maxEvidence {
		text = text[:maxEvidence]
	}
	return Evidence{Rule: rule, Field: f.String(), Text: text}
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
	field  Field  // what re is matched against
	re     *regexp.Regexp

	// lit is a substring every match contains (see requiredLiteral); a line
	// without it is skipped before the regexp runs. litFold means the literal
	// was compiled case-insensitively. more are further required literals,
	// checked after lit (requiredLiterals).
	lit     string
	litFold bool
	more    []literal

	// also are further conditions on other fields, all of which must hold.
	also []*cond

	// Built-in rules: constant fields, the capture group holding the version
	// and an optional hook that may refine the result or reject the match.
	vendor, product, family, os string
	version                     int
	post                        postFunc

	// Recog rules carry their fingerprint instead.
	recog *recogFP
}

// cond is a further condition of a built-in rule: some line of field
// matches re.
type cond struct {
	field   Field
	re      *regexp.Regexp
	lit     string
	litFold bool
}

// postFunc refines a built-in match. m holds the submatch indexes of line; a
// false return rejects the match so that the next rule is tried.
type postFunc func(fp *Fingerprint, line string, m []int) bool

func prefilter(lit string, fold bool, line string) bool {
	if lit == "" {
		return true
	}
	if !fold {
		return strings.Contains(line, lit)
	}
	// Case folding in RE2 is Unicode-aware (K matches the Kelvin sign), so
	// the ASCII shortcut is only exact for ASCII lines.
	if !isASCII(line) {
		return true
	}
	return containsFoldASCII(line, lit)
}

func (r *rule) prefilter(line string) bool {
	if !prefilter(r.lit, r.litFold, line) {
		return false
	}
	for _, l := range r.more {
		if !prefilter(l.s, l.fold, line) {
			return false
		}
	}
	return true
}

// build turns a match of r against line into a Fingerprint.
func (r *rule) build(line string, m []int) (Fingerprint, bool) {
	if r.recog != nil {
		return r.recog.fingerprint(r.name, line, m), true
	}
	fp := Fingerprint{Vendor: r.vendor, Product: r.product, Family: r.family, OS: r.os, Rule: r.name}
	switch {
	case r.version > 0:
		fp.Version = group(line, m, r.version)
	case r.version == anyGroup:
		for i := 1; 2*i+1 < len(m) && fp.Version == ""; i++ {
			fp.Version = group(line, m, i)
		}
	}
	if r.post != nil && !r.post(&fp, line, m) {
		return Fingerprint{}, false
	}
	return fp, true
}

// match tries r on the facts of v: the first line of r.field that matches
// and passes post, with every further condition holding. skipPre disables
// the literal prefilter.
func (r *rule) match(v *view, skipPre bool) (Fingerprint, bool) {
	a, b := v.lines(r.field)
	for _, lines := range [2][]string{a, b} {
		for _, line := range lines {
			if !skipPre && !r.prefilter(line) || !r.re.MatchString(line) {
				continue
			}
			m := r.re.FindStringSubmatchIndex(line)
			fp, ok := r.build(line, m)
			if !ok {
				continue
			}
			fp.Evidence = append(make([]Evidence, 0, 1+len(r.also)), evidence(r.name, r.field, line[m[0]:m[1]]))
			for _, c := range r.also {
				seen, ok := c.find(v, skipPre)
				if !ok {
					return Fingerprint{}, false
				}
				fp.Evidence = append(fp.Evidence, evidence(r.name, c.field, seen))
			}
			return fp, true
		}
	}
	return Fingerprint{}, false
}

// find returns the text matching c in the first line of its field that
// has it.
func (c *cond) find(v *view, skipPre bool) (string, bool) {
	a, b := v.lines(c.field)
	for _, lines := range [2][]string{a, b} {
		for _, line := range lines {
			if !skipPre && !prefilter(c.lit, c.litFold, line) {
				continue
			}
			if loc := c.re.FindStringIndex(line); loc != nil {
				return line[loc[0]:loc[1]], true
			}
		}
	}
	return "", false
}

// group returns capture group i of line, or "" if it did not take part.
func group(line string, m []int, i int) string {
	if 2*i+1 >= len(m) || m[2*i] < 0 {
		return ""
	}
	return line[m[2*i]:m[2*i+1]]
}

// Matcher names the software behind a dialogue's facts from built-in rules
// and, optionally, Recog's patterns. It is safe for concurrent use once
// built; the With methods return new Matchers and leave the receiver
// unchanged.
type Matcher struct {
	builtin [numProtos][]*rule
	recog   [numProtos][]*rule

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
		add(&m.builtin, r)
	}
	return m
})

// Builtin returns a Matcher holding only the built-in rules. The rules are
// compiled on the first call; later calls return the same Matcher.
func Builtin() *Matcher { return builtin() }

func add(set *[numProtos][]*rule, r *rule) {
	for p := protoIMAP; p < numProtos; p++ {
		if r.protos&(1<<p) != 0 {
			set[p] = append(set[p], r)
		}
	}
}

func (m *Matcher) clone() *Matcher {
	c := &Matcher{noPrefilter: m.noPrefilter}
	for p := range m.builtin {
		c.builtin[p] = append([]*rule(nil), m.builtin[p]...)
		c.recog[p] = append([]*rule(nil), m.recog[p]...)
	}
	return c
}

// WithRecog returns a Matcher that consults db's patterns beside m's rules.
// Where both match, the answers are merged and the more specific one wins
// (see Merge): Recog's vendor and product, the longer of two versions that
// extend each other, the built-in family name the report counts by.
func (m *Matcher) WithRecog(db *RecogDB) *Matcher {
	c := m.clone()
	for _, r := range db.rules() {
		add(&c.recog, r)
	}
	return c
}

// WithRecogFirst is WithRecog. It was the way to let Recog's answer win over
// the built-in rules; merging by specificity makes the order irrelevant.
func (m *Matcher) WithRecogFirst(db *RecogDB) *Matcher { return m.WithRecog(db) }

// Match returns the fingerprint of greeting, the server's full first reply
// line(s) as sent (e.g. "* OK [CAPABILITY IMAP4rev1] Dovecot ready."), for
// protocol proto ("imap", "pop3" or "smtp"; "imaps", "pop3s", "smtps" and
// "submission" are read as their base protocol, and "" means guess from the
// greeting's prefix). It is MatchFacts with the greeting as the only fact.
func (m *Matcher) Match(proto, greeting string) (Fingerprint, bool) {
	return m.MatchFacts(&Facts{Protocol: proto, Greeting: greeting})
}

// MatchFacts returns the fingerprint of a dialogue's facts. The first
// built-in rule that matches (table order: specific before general) names
// vendor, product and family; later built-in rules of the same family add
// their evidence, and a version or OS the first did not have. The first
// Recog pattern matching the greeting is merged in (see Merge). It returns
// false when nothing matches or the protocol is unknown.
func (m *Matcher) MatchFacts(f *Facts) (Fingerprint, bool) {
	if m == nil || f == nil {
		return Fingerprint{}, false
	}
	p := parseProto(f.Protocol)
	if f.Protocol == "" {
		p = parseProto(DetectProto(f.Greeting))
	}
	if p == protoUnknown {
		return Fingerprint{}, false
	}
	var v view
	v.init(f, p)
	var b Fingerprint
	bok := false
	for _, r := range m.builtin[p] {
		if bok && (r.family != b.Family || len(b.Evidence) >= maxEvidenceItems) {
			continue
		}
		fp, ok := r.match(&v, m.noPrefilter)
		if !ok {
			continue
		}
		if !bok {
			b, bok = fp, true
			continue
		}
		if fp.Family != b.Family {
			continue
		}
		if b.Version == "" {
			b.Version = fp.Version
		}
		if b.OS == "" {
			b.OS = fp.OS
		}
		b.Evidence = append(b.Evidence, fp.Evidence...)
	}
	var rf Fingerprint
	rok := false
	for _, r := range m.recog[p] {
		if rf, rok = r.match(&v, m.noPrefilter); rok {
			break
		}
	}
	switch {
	case bok && rok:
		return Merge(b, rf), true
	case bok:
		return b, true
	case rok:
		return rf, true
	}
	return Fingerprint{}, false
}

// Merge combines a built-in rule's answer b with a Recog pattern's answer r
// for the same dialogue, keeping the most specific of each: Recog's vendor
// and product where it states them (it tells old releases of products that
// changed hands apart: IBM's Domino from HCL's, Qpopper modified by Sphera
// from Qualcomm's), the longer of two versions when one extends the other
// ("4.90_RC3" over "4.90") and Recog's when they disagree, the built-in
// family (the stable name reports count by), and every param and piece of
// evidence of both. Rule names the Recog pattern.
func Merge(b, r Fingerprint) Fingerprint {
	out := r
	if out.Vendor == "" {
		out.Vendor = b.Vendor
	}
	if out.Product == "" {
		out.Product = b.Product
	}
	switch {
	case r.Version == "":
		out.Version = b.Version
	case b.Version != "" && len(b.Version) > len(r.Version) && strings.HasPrefix(b.Version, r.Version):
		out.Version = b.Version
	}
	if b.Family != "" {
		out.Family = b.Family
	}
	if out.OS == "" {
		out.OS = b.OS
	}
	if len(b.Params) > 0 {
		params := make(map[string]string, len(b.Params)+len(r.Params))
		for k, v := range b.Params {
			params[k] = v
		}
		for k, v := range r.Params {
			params[k] = v
		}
		out.Params = params
	}
	out.Evidence = append(append(make([]Evidence, 0, len(r.Evidence)+len(b.Evidence)), r.Evidence...), b.Evidence...)
	return out
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
		// Text copied without its status may still start with the code.
		if strings.HasPrefix(line, "[") {
			if i := strings.IndexByte(line, ']'); i >= 0 {
				return strings.TrimLeft(line[i+1:], " ")
			}
		}
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
