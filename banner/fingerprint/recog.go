package fingerprint

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// recogFiles are the Recog databases LoadRecog reads, in this order.
var recogFiles = []string{"imap_banners.xml", "pop_banners.xml", "smtp_banners.xml"}

// maxRecogFile bounds the bytes read from one Recog file. Rapid7's largest
// banner database is about 100 KB.
const maxRecogFile = 16 << 20

// RecogDB is a set of Recog fingerprints compiled for matching. It is
// immutable once loaded and safe for concurrent use.
type RecogDB struct {
	files []*recogFile
}

type recogFile struct {
	name     string // base name, used in rule names and reports
	dir      string // directory for <example _filename=...>; "" if unknown
	proto    proto
	matches  string
	fps      []*recogFP
	skipped  []SkippedPattern
	compiled []*rule
}

// recogFP is one <fingerprint> that compiled.
type recogFP struct {
	line        int
	pattern     string
	description string
	re          *regexp.Regexp
	params      []recogParam
	examples    []recogExample
}

type recogParam struct {
	pos         int
	name, value string
}

type recogExample struct {
	text  string
	attrs []xml.Attr
}

// LoadReport tells what a Recog load compiled and what it skipped.
type LoadReport struct {
	Files   []FileReport `json:"files"`
	Loaded  int          `json:"loaded"`
	Skipped int          `json:"skipped"`
}

// FileReport is the part of a LoadReport about one file.
type FileReport struct {
	Name     string           `json:"name"`
	Protocol string           `json:"protocol"`
	Matches  string           `json:"matches,omitempty"`
	Loaded   int              `json:"loaded"`
	Skipped  []SkippedPattern `json:"skipped,omitempty"`
}

// SkippedPattern is a fingerprint that was not loaded, and why.
type SkippedPattern struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
}

// String renders the report as the CLI prints it:
//
//	loaded 312 patterns, skipped 7:
//	  imap_banners.xml:42: RE2: lookahead (?=...) not supported: ...
func (r LoadReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loaded %d patterns, skipped %d", r.Loaded, r.Skipped)
	if r.Skipped > 0 {
		b.WriteByte(':')
	}
	for _, f := range r.Files {
		for _, s := range f.Skipped {
			fmt.Fprintf(&b, "\n  %s:%d: %s", s.File, s.Line, s.Reason)
		}
	}
	return b.String()
}

// Report returns what the load compiled and skipped, per file.
func (db *RecogDB) Report() LoadReport {
	var r LoadReport
	for _, f := range db.files {
		fr := FileReport{Name: f.name, Protocol: f.proto.String(), Matches: f.matches, Loaded: len(f.fps)}
		fr.Skipped = append(fr.Skipped, f.skipped...)
		r.Files = append(r.Files, fr)
		r.Loaded += len(f.fps)
		r.Skipped += len(f.skipped)
	}
	return r
}

func (db *RecogDB) rules() []*rule {
	if db == nil {
		return nil
	}
	var out []*rule
	for _, f := range db.files {
		out = append(out, f.compiled...)
	}
	return out
}

// LoadRecog reads the Recog banner databases in dir: imap_banners.xml,
// pop_banners.xml and smtp_banners.xml. A missing file is skipped; finding
// none of them is an error, and so is a file that cannot be parsed. Patterns
// Go's RE2 cannot compile do not fail the load: they are skipped and listed in
// Report.
func LoadRecog(dir string) (*RecogDB, error) {
	db := &RecogDB{}
	for _, name := range recogFiles {
		path := filepath.Join(dir, name)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fingerprint: recog: %w", err)
		}
		rf, err := parseRecogFile(f, path, name, dir)
		f.Close()
		if err != nil {
			return nil, err
		}
		db.files = append(db.files, rf)
	}
	if len(db.files) == 0 {
		return nil, fmt.Errorf("fingerprint: recog: %s holds none of %s", dir, strings.Join(recogFiles, ", "))
	}
	return db, nil
}

// ParseRecog parses one Recog XML database from r; name is the file's base
// name (e.g. "imap_banners.xml"), used in rule names, reports and errors and,
// when the XML does not say, to tell the protocol. Examples that refer to
// other files (_filename) cannot be checked by Verify.
func ParseRecog(r io.Reader, name string) (*RecogDB, error) {
	rf, err := parseRecogFile(r, name, filepath.Base(name), "")
	if err != nil {
		return nil, err
	}
	return &RecogDB{files: []*recogFile{rf}}, nil
}

// Recog's XML schema (xml/fingerprints.xsd in rapid7/recog).
type (
	xmlFingerprint struct {
		Pattern     *string      `xml:"pattern,attr"`
		Flags       string       `xml:"flags,attr"`
		Description string       `xml:"description"`
		Examples    []xmlExample `xml:"example"`
		Params      []xmlParam   `xml:"param"`
	}
	xmlExample struct {
		Text  string     `xml:",chardata"`
		Attrs []xml.Attr `xml:",any,attr"`
	}
	xmlParam struct {
		Pos   string `xml:"pos,attr"`
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
)

// limitedReader fails instead of stopping silently at its limit, so that a
// truncated file is not taken for a complete one.
type limitedReader struct {
	r io.Reader
	n int64
}

var errTooLarge = fmt.Errorf("file larger than %d bytes", maxRecogFile)

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func parseRecogFile(r io.Reader, path, name, dir string) (*recogFile, error) {
	d := xml.NewDecoder(&limitedReader{r: r, n: maxRecogFile})
	rf := &recogFile{name: name, dir: dir}
	depth := 0
	var rootSeen bool
	var protocolAttr string
	line := 1
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fingerprint: recog %s:%d: %w", path, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if rootSeen {
					return nil, fmt.Errorf("fingerprint: recog %s:%d: second root element <%s>", path, line, t.Name.Local)
				}
				if t.Name.Local != "fingerprints" {
					return nil, fmt.Errorf("fingerprint: recog %s:%d: root element is <%s>, want <fingerprints>", path, line, t.Name.Local)
				}
				rootSeen = true
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "matches":
						rf.matches = a.Value
					case "protocol":
						protocolAttr = a.Value
					}
				}
				if rf.proto, err = recogProto(protocolAttr, rf.matches, name); err != nil {
					return nil, fmt.Errorf("fingerprint: recog %s:%d: %w", path, line, err)
				}
			case depth == 2 && t.Name.Local == "fingerprint":
				// line is where the previous token ended: the '<' of this
				// element.
				fpLine := line
				var x xmlFingerprint
				if err := d.DecodeElement(&x, &t); err != nil {
					return nil, fmt.Errorf("fingerprint: recog %s:%d: %w", path, fpLine, err)
				}
				depth--
				rf.add(fpLine, &x)
			default:
				if err := d.Skip(); err != nil {
					return nil, fmt.Errorf("fingerprint: recog %s:%d: %w", path, line, err)
				}
				depth--
			}
		case xml.EndElement:
			depth--
		}
		line, _ = d.InputPos()
	}
	if !rootSeen {
		return nil, fmt.Errorf("fingerprint: recog %s: no <fingerprints> element", path)
	}
	return rf, nil
}

// recogProto tells which greetings a database is for: from the protocol
// attribute, else from the matches key (imap4.banner, pop3.banner,
// smtp.banner), else from the file name. Databases for other replies
// (smtp.ehlo, smtp.help, ...) are refused: their patterns describe other text.
func recogProto(protocol, matches, name string) (proto, error) {
	if matches != "" && !strings.HasSuffix(matches, ".banner") {
		return protoUnknown, fmt.Errorf("matches=%q is not a banner database", matches)
	}
	if p := parseProto(protocol); p != protoUnknown {
		return p, nil
	}
	if key, _, ok := strings.Cut(matches, "."); ok {
		if p := parseProto(key); p != protoUnknown {
			return p, nil
		}
	}
	if key, _, ok := strings.Cut(name, "_"); ok {
		if p := parseProto(key); p != protoUnknown {
			return p, nil
		}
	}
	return protoUnknown, fmt.Errorf("cannot tell the protocol (protocol=%q matches=%q)", protocol, matches)
}

// add compiles one fingerprint or records why it was skipped.
func (rf *recogFile) add(line int, x *xmlFingerprint) {
	pattern := ""
	if x.Pattern != nil {
		pattern = *x.Pattern
	}
	skip := func(reason string) {
		rf.skipped = append(rf.skipped, SkippedPattern{File: rf.name, Line: line, Pattern: pattern, Reason: reason})
	}
	if x.Pattern == nil {
		skip("no pattern attribute")
		return
	}
	if pattern == "" {
		// An empty pattern matches every greeting.
		skip("empty pattern")
		return
	}
	re, reason := compileRecog(pattern, x.Flags)
	if re == nil {
		skip(reason)
		return
	}
	fp := &recogFP{line: line, pattern: pattern, description: strings.Join(strings.Fields(x.Description), " "), re: re}
	for _, p := range x.Params {
		pos, err := strconv.Atoi(strings.TrimSpace(p.Pos))
		switch {
		case p.Name == "":
			skip("param without a name")
			return
		case err != nil || pos < 0:
			skip(fmt.Sprintf("param %q: pos %q is not a capture group number", p.Name, p.Pos))
			return
		case pos > re.NumSubexp():
			skip(fmt.Sprintf("param %q: pos %d but the pattern has %d capture groups", p.Name, pos, re.NumSubexp()))
			return
		}
		fp.params = append(fp.params, recogParam{pos: pos, name: p.Name, value: p.Value})
	}
	for _, e := range x.Examples {
		fp.examples = append(fp.examples, recogExample{text: e.Text, attrs: e.Attrs})
	}
	rf.fps = append(rf.fps, fp)
	lit, fold, more := literalsOf(re.String())
	rf.compiled = append(rf.compiled, &rule{
		name:   fmt.Sprintf("recog:%s:%d", rf.name, line),
		protos: 1 << rf.proto,
		field:  FieldGreeting,
		re:     re, lit: lit, litFold: fold, more: more,
		recog: fp,
	})
}

// compileRecog compiles a Recog pattern with Ruby's meaning where RE2 can
// express it (see the package documentation). It returns nil and the reason
// when it cannot.
func compileRecog(pattern, flags string) (*regexp.Regexp, string) {
	mode := "m"
	for _, f := range strings.FieldsFunc(flags, func(r rune) bool { return r == ',' || r == '|' }) {
		switch strings.TrimSpace(f) {
		case "":
		case "REG_ICASE", "IGNORECASE":
			if !strings.Contains(mode, "i") {
				mode += "i"
			}
		case "REG_DOT_NEWLINE", "REG_MULTILINE", "REG_LINE_ANY_CRLF":
			if !strings.Contains(mode, "s") {
				mode += "s"
			}
		default:
			return nil, fmt.Sprintf("unsupported flag %q", strings.TrimSpace(f))
		}
	}
	re, err := regexp.Compile("(?" + mode + ")" + pattern)
	if err != nil {
		// Report the error against the pattern as written, without the
		// flag prefix.
		if _, perr := syntax.Parse(pattern, syntax.Perl); perr != nil {
			err = perr
		}
		if feature := rubyOnly(pattern); feature != "" {
			return nil, "RE2: " + feature + " not supported: " + err.Error()
		}
		return nil, "RE2: " + err.Error()
	}
	return re, ""
}

// rubyOnly names the first construct in pattern that Ruby's Onigmo accepts
// and RE2 does not, or "" if it sees none. It only labels the compile error;
// the decision to skip is the compiler's.
func rubyOnly(p string) string {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return ""
			}
			n := p[i+1]
			i++
			switch {
			case n == 'Z':
				return `\Z (end of text or before a final newline)`
			case n == 'h' || n == 'H':
				return `\h (Ruby: hex digit)`
			case n == 'G':
				return `\G (start of previous match)`
			case n == 'R':
				return `\R (line break)`
			case n == 'X':
				return `\X (grapheme cluster)`
			case n == 'u':
				return `\u escape`
			case n == 'k' && i+1 < len(p) && (p[i+1] == '<' || p[i+1] == '\''):
				return `named backreference \k<...>`
			case !inClass && '1' <= n && n <= '9':
				return `backreference \` + string(n)
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A ']' right after '[' or '[^' is a literal.
			if strings.HasPrefix(p[i+1:], "^]") {
				i += 2
			} else if strings.HasPrefix(p[i+1:], "]") {
				i++
			}
		case c == '(' && strings.HasPrefix(p[i+1:], "?"):
			rest := p[i+2:]
			switch {
			case strings.HasPrefix(rest, "="):
				return "lookahead (?=...)"
			case strings.HasPrefix(rest, "!"):
				return "negative lookahead (?!...)"
			case strings.HasPrefix(rest, "<="):
				return "lookbehind (?<=...)"
			case strings.HasPrefix(rest, "<!"):
				return "negative lookbehind (?<!...)"
			case strings.HasPrefix(rest, ">"):
				return "atomic group (?>...)"
			case strings.HasPrefix(rest, "("):
				return "conditional (?(...)...)"
			case strings.HasPrefix(rest, "#"):
				return "comment (?#...)"
			}
			i++ // the '?' is not a quantifier
		case (c == '*' || c == '+' || c == '?' || c == '}') && strings.HasPrefix(p[i+1:], "+"):
			return "possessive quantifier " + p[i:i+2]
		}
	}
	return ""
}

// eval runs the fingerprint on text as Recog does: pos-0 params give their
// value, others their capture group (absent if the group did not take part),
// then "{name}" in values is replaced by that param's result. missing lists
// the interpolations that named no result, as "{ref} in param".
func (fp *recogFP) eval(text string, m []int) (vals map[string]string, missing []string) {
	vals = make(map[string]string, len(fp.params))
	for _, p := range fp.params {
		if p.pos == 0 {
			vals[p.name] = p.value
			continue
		}
		if 2*p.pos+1 < len(m) && m[2*p.pos] >= 0 {
			vals[p.name] = text[m[2*p.pos]:m[2*p.pos+1]]
		} else {
			delete(vals, p.name)
		}
	}
	for _, p := range fp.params {
		if p.pos != 0 || !strings.Contains(p.value, "{") {
			continue
		}
		v, miss := interpolate(p.name, p.value, vals)
		vals[p.name] = v
		for _, ref := range miss {
			missing = append(missing, fmt.Sprintf("{%s} in %s", ref, p.name))
		}
	}
	return vals, missing
}

// interpolate replaces each "{ref}" (ref without blanks or braces) in value.
// An unknown ref becomes "" except a version in a .cpe23 value, which CPE
// spells "-" as Recog does.
func interpolate(key, value string, vals map[string]string) (string, []string) {
	var b strings.Builder
	var missing []string
	for {
		i := strings.IndexByte(value, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(value[i+1:], '}')
		if j < 0 {
			break
		}
		ref := value[i+1 : i+1+j]
		if ref == "" || strings.ContainsAny(ref, " \t\r\n{") {
			b.WriteString(value[:i+1])
			value = value[i+1:]
			continue
		}
		b.WriteString(value[:i])
		if v, ok := vals[ref]; ok {
			b.WriteString(v)
		} else if strings.HasSuffix(key, ".cpe23") && strings.HasSuffix(ref, ".version") {
			b.WriteByte('-')
		} else {
			missing = append(missing, ref)
		}
		value = value[i+2+j:]
	}
	b.WriteString(value)
	return b.String(), missing
}

// fingerprint maps a match to our fields: service.vendor, service.product,
// service.version and service.family to Vendor, Product, Version and Family,
// every other non-empty param into Params.
func (fp *recogFP) fingerprint(name, line string, m []int) Fingerprint {
	vals, _ := fp.eval(line, m)
	out := Fingerprint{Rule: name}
	var family string
	for _, p := range fp.params {
		v, ok := vals[p.name]
		if !ok || v == "" {
			continue
		}
		switch p.name {
		case "service.vendor":
			out.Vendor = v
		case "service.product":
			out.Product = v
		case "service.version":
			out.Version = v
		case "service.family":
			family = v
		default:
			if out.Params == nil {
				out.Params = make(map[string]string)
			}
			out.Params[p.name] = v
		}
	}
	out.Family = canonicalFamily(family)
	if family == "" {
		out.Family = deriveFamily(out.Vendor, out.Product)
	} else if out.Family != family {
		// Keep Recog's own name beside the canonical one.
		if out.Params == nil {
			out.Params = make(map[string]string)
		}
		out.Params["service.family"] = family
	}
	return out
}

// familyNames maps Recog's family (or, lacking one, product) names to the
// family names the built-in rules use, so that a report counting families does
// not split Exchange into "Exchange Server" and "Microsoft Exchange".
var familyNames = map[string]string{
	"exchange server":    "Microsoft Exchange",
	"microsoft exchange": "Microsoft Exchange",
	"courier mta":        "Courier",
	"courier":            "Courier",
	"cyrus mta":          "Cyrus",
	"cyrus":              "Cyrus",
	"dovecot":            "Dovecot",
	"lotus domino":       "HCL Domino",
	"ibm domino":         "HCL Domino",
	"hcl domino":         "HCL Domino",
	"domino":             "HCL Domino",
	"exim":               "Exim",
	"postfix":            "Postfix",
	"sendmail":           "Sendmail",
	"qmail":              "qmail",
	"opensmtpd":          "OpenSMTPD",
	"qpopper":            "Qpopper",
	"ccproxy":            "CCProxy",
	"zimbra":             "Zimbra",
	"mdaemon":            "MDaemon",
	"kerio connect":      "Kerio Connect",
	"kerio mailserver":   "Kerio Connect",
	"hmailserver":        "hMailServer",
	"iis":                "Microsoft IIS",
}

// deriveFamily names the family of a Recog match that states none: the
// product's canonical name when it is a known family, else the product
// qualified by its vendor ("IceWarp" + "Mail Server"), else the vendor.
func deriveFamily(vendor, product string) string {
	if c, ok := familyNames[strings.ToLower(product)]; ok {
		return c
	}
	switch {
	case product == "":
		return canonicalFamily(vendor)
	case vendor != "" && !strings.Contains(strings.ToLower(product), strings.ToLower(vendor)):
		return vendor + " " + product
	}
	return product
}

func canonicalFamily(name string) string {
	if c, ok := familyNames[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// Verify runs Recog's own check on every loaded fingerprint: params are well
// formed (pos 0 has a value, a capture group has none), every <example>
// (base64-decoded when _encoding="base64") matches its pattern and yields the
// values its attributes state, no interpolation names a missing param, and
// every param taken from a capture group is checked by some example. It
// returns one error per failure, nil if all pass. Skipped patterns are not
// verified; Report lists them.
func (db *RecogDB) Verify() []error {
	var errs []error
	for _, f := range db.files {
		for _, fp := range f.fps {
			errs = append(errs, f.verify(fp)...)
		}
	}
	return errs
}

func (rf *recogFile) verify(fp *recogFP) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("fingerprint: recog %s:%d: %s", rf.name, fp.line, fmt.Sprintf(format, args...)))
	}
	for _, p := range fp.params {
		if p.pos > 0 && p.value != "" {
			fail("param %q takes capture group %d but also states value %q", p.name, p.pos, p.value)
		}
		if p.pos == 0 && p.value == "" {
			fail("param %q has pos 0 but no value", p.name)
		}
	}
	checked := make(map[string]bool)
	var missing []string
	for i, ex := range fp.examples {
		text, err := rf.exampleText(ex)
		if err != nil {
			fail("example %d: %v", i+1, err)
			continue
		}
		m := fp.re.FindStringSubmatchIndex(text)
		if m == nil {
			fail("example %d %q does not match %q", i+1, text, fp.pattern)
			continue
		}
		vals, miss := fp.eval(text, m)
		for _, ms := range miss {
			if !slices.Contains(missing, ms) {
				missing = append(missing, ms)
			}
		}
		for _, a := range ex.attrs {
			k := a.Name.Local
			if k == "_encoding" || k == "_filename" {
				continue
			}
			checked[k] = true
			got, ok := vals[k]
			switch {
			case !ok:
				fail("example %d %q: %s is not set, want %q", i+1, text, k, a.Value)
			case got != a.Value:
				fail("example %d %q: %s = %q, want %q", i+1, text, k, got, a.Value)
			}
		}
	}
	for _, ms := range missing {
		fail("interpolation %s names no param", ms)
	}
	var unchecked []string
	for _, p := range fp.params {
		if p.pos > 0 && !checked[p.name] {
			unchecked = append(unchecked, fmt.Sprintf("%s (group %d)", p.name, p.pos))
		}
	}
	sort.Strings(unchecked)
	for _, u := range unchecked {
		fail("no example checks param %s", u)
	}
	return errs
}

// exampleText returns an example's content: the element text, decoded from
// base64 when _encoding="base64", or the named file's bytes for _filename.
func (rf *recogFile) exampleText(ex recogExample) (string, error) {
	var encoding, filename string
	for _, a := range ex.attrs {
		switch a.Name.Local {
		case "_encoding":
			encoding = a.Value
		case "_filename":
			filename = a.Value
		}
	}
	if filename != "" {
		if rf.dir == "" {
			return "", fmt.Errorf("_filename=%q needs the database's directory", filename)
		}
		// Recog refuses paths that leave the examples directory.
		if !filepath.IsLocal(filename) {
			return "", fmt.Errorf("_filename=%q is outside %s", filename, rf.dir)
		}
		b, err := os.ReadFile(filepath.Join(rf.dir, filename))
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	switch encoding {
	case "":
		return ex.text, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(ex.text), ""))
		if err != nil {
			return "", fmt.Errorf("_encoding=base64: %w", err)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("unknown _encoding=%q", encoding)
}
