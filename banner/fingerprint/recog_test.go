package fingerprint

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func loadTestRecog(t *testing.T) *RecogDB {
	t.Helper()
	db, err := LoadRecog("testdata/recog")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestLoadRecogReport(t *testing.T) {
	db := loadTestRecog(t)
	want := LoadReport{
		Files: []FileReport{
			{Name: "imap_banners.xml", Protocol: "imap", Matches: "imap4.banner", Loaded: 2, Skipped: []SkippedPattern{{
				File: "imap_banners.xml", Line: 26, Pattern: `^(?!.*Dovecot)(\S+) IMAP4rev1 server ready$`,
				Reason: "RE2: negative lookahead (?!...) not supported: error parsing regexp: invalid or unsupported Perl syntax: `(?!`",
			}}},
			{Name: "pop_banners.xml", Protocol: "pop3", Matches: "pop3.banner", Loaded: 1, Skipped: []SkippedPattern{{
				File: "pop_banners.xml", Line: 21, Pattern: `^(\S+) POP3 server ready <[^@>]+@\1>$`,
				Reason: "RE2: backreference \\1 not supported: error parsing regexp: invalid escape sequence: `\\1`",
			}}},
			{Name: "smtp_banners.xml", Protocol: "smtp", Matches: "smtp.banner", Loaded: 2, Skipped: []SkippedPattern{{
				File: "smtp_banners.xml", Line: 28, Pattern: `^(\S++) ESMTP ZMailer Server`,
				Reason: "RE2: possessive quantifier ++ not supported: error parsing regexp: invalid nested repetition operator: `++`",
			}, {
				File: "smtp_banners.xml", Line: 32, Pattern: `^(\S+) ESMTP Sophos Email Appliance v(\d+(?:\.\d+)+)$`,
				Reason: `unsupported flag "REG_NOSUB"`,
			}}},
		},
		Loaded:  5,
		Skipped: 4,
	}
	if got := db.Report(); !reflect.DeepEqual(got, want) {
		t.Errorf("Report() =\n%#v\nwant\n%#v", got, want)
	}
	wantText := "loaded 5 patterns, skipped 4:\n" +
		"  imap_banners.xml:26: RE2: negative lookahead (?!...) not supported: error parsing regexp: invalid or unsupported Perl syntax: `(?!`\n" +
		"  pop_banners.xml:21: RE2: backreference \\1 not supported: error parsing regexp: invalid escape sequence: `\\1`\n" +
		"  smtp_banners.xml:28: RE2: possessive quantifier ++ not supported: error parsing regexp: invalid nested repetition operator: `++`\n" +
		"  smtp_banners.xml:32: unsupported flag \"REG_NOSUB\""
	if got := db.Report().String(); got != wantText {
		t.Errorf("Report().String() =\n%s\nwant\n%s", got, wantText)
	}
}

// TestRecogVerify is Recog's own check on the test database: every example
// matches its fingerprint and yields the values its attributes state.
func TestRecogVerify(t *testing.T) {
	for _, err := range loadTestRecog(t).Verify() {
		t.Error(err)
	}
}

func TestRecogMatch(t *testing.T) {
	m := Builtin().WithRecog(loadTestRecog(t))
	tests := []struct {
		name, proto, greeting string
		want                  Fingerprint
	}{
		{"interpolation", "imap", "* OK IceWarp 9.4.0 IMAP4rev1 Tue, 22 May 2018 21:14:00 +0700", Fingerprint{
			Vendor: "IceWarp", Product: "Mail Server", Version: "9.4.0", Family: "IceWarp Mail Server",
			Rule: "recog:imap_banners.xml:10", Params: map[string]string{"service.cpe23": "cpe:/a:icewarp:mail_server:9.4.0"},
		}},
		{"REG_ICASE after a response code", "imap", "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS AUTH=PLAIN] WELCOME TO MAILENABLE IMAP SERVER", Fingerprint{
			Vendor: "MailEnable", Product: "MailEnable", Family: "MailEnable",
			Rule: "recog:imap_banners.xml:19", Params: map[string]string{"os.vendor": "Microsoft"},
		}},
		{"pop3 capture groups", "pop3", "+OK example.com IceWarp 9.2.1 POP3 Tue, 22 May 2018 17:24:54 +0300 <20180522172454@example.com>", Fingerprint{
			Vendor: "IceWarp", Product: "Mail Server", Version: "9.2.1", Family: "IceWarp Mail Server",
			Rule: "recog:pop_banners.xml:9", Params: map[string]string{"host.name": "example.com"},
		}},
		{"smtp fills a gap", "smtp", "220 mx.example.org ESMTP ExampleMTA/2.8.27 ready", Fingerprint{
			Vendor: "Example", Product: "ExampleMTA", Version: "2.8.27", Family: "ExampleMTA",
			Rule: "recog:smtp_banners.xml:10", Params: map[string]string{"host.name": "mx.example.org"},
		}},
		{"both match: merged, Recog's pattern named", "smtp", "220 foo.bar.com ESMTP Postfix (Debian/GNU)", Fingerprint{
			Vendor: "Postfix", Product: "Postfix", Family: "Postfix", Rule: "recog:smtp_banners.xml:18",
			Params: map[string]string{"host.name": "foo.bar.com", "os.product": "Debian/GNU", "service.family": "postfix"},
		}},
		{"skipped pattern never matches", "smtp", "220 mx ESMTP ZMailer Server 2.99", Fingerprint{}},
		{"database of another protocol", "smtp", "220 IceWarp 9.4.0 IMAP4rev1 now", Fingerprint{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.Match(tt.proto, tt.greeting)
			if ok && len(got.Evidence) == 0 {
				t.Errorf("Match(%q, %q): no evidence", tt.proto, tt.greeting)
			}
			got.Evidence = nil
			if ok != (tt.want.Rule != "") || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Match(%q, %q) =\n%#v, %v\nwant\n%#v", tt.proto, tt.greeting, got, ok, tt.want)
			}
		})
	}
}

func TestRecogFirst(t *testing.T) {
	db := loadTestRecog(t)
	greeting := "220 foo.bar.com ESMTP Postfix (Debian/GNU)"
	got, _ := Builtin().WithRecogFirst(db).Match("smtp", greeting)
	if len(got.Evidence) != 2 || got.Evidence[0].Rule != "recog:smtp_banners.xml:18" || got.Evidence[1].Rule != "builtin:postfix" {
		t.Errorf("evidence %+v, want Recog's then the built-in rule's", got.Evidence)
	}
	got.Evidence = nil
	want := Fingerprint{
		Vendor: "Postfix", Product: "Postfix", Family: "Postfix", Rule: "recog:smtp_banners.xml:18",
		// Recog's lower-case family is kept beside the canonical one.
		Params: map[string]string{"host.name": "foo.bar.com", "os.product": "Debian/GNU", "service.family": "postfix"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithRecogFirst: %#v\nwant %#v", got, want)
	}
	// The receiver is not changed by either With method.
	if fp, _ := Builtin().Match("smtp", "220 mx.example.org ESMTP ExampleMTA/2.8.27 ready"); fp.Rule != "" {
		t.Errorf("Builtin() gained a Recog rule: %q", fp.Rule)
	}
	// A Recog-only Matcher.
	if fp, _ := (&Matcher{}).WithRecog(db).Match("smtp", greeting); fp.Rule != "recog:smtp_banners.xml:18" {
		t.Errorf("Recog-only Matcher: rule %q", fp.Rule)
	}
	var nilDB *RecogDB
	if fp, _ := Builtin().WithRecog(nilDB).Match("smtp", greeting); fp.Rule != "builtin:postfix" {
		t.Errorf("WithRecog(nil): rule %q", fp.Rule)
	}
}

const recogHead = `<?xml version="1.0"?>` + "\n" + `<fingerprints matches="smtp.banner" protocol="smtp">` + "\n"

func parse(t *testing.T, body string) *RecogDB {
	t.Helper()
	db, err := ParseRecog(strings.NewReader(recogHead+body+"</fingerprints>\n"), "smtp_banners.xml")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestParseRecogSkips(t *testing.T) {
	tests := []struct {
		name, body, reason string
	}{
		{"no pattern", `<fingerprint><description>x</description></fingerprint>`, "no pattern attribute"},
		{"empty pattern", `<fingerprint pattern=""/>`, "empty pattern"},
		{"lookbehind", `<fingerprint pattern="(?&lt;=a)b"/>`, "RE2: lookbehind (?<=...) not supported: error parsing regexp: invalid named capture: `(?<=a)b`"},
		{"negative lookbehind", `<fingerprint pattern="(?&lt;!a)b"/>`, "RE2: negative lookbehind (?<!...) not supported: error parsing regexp: invalid named capture: `(?<!a)b`"},
		{"lookahead", `<fingerprint pattern="a(?=b)"/>`, "RE2: lookahead (?=...) not supported: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"},
		{"atomic group", `<fingerprint pattern="(?>ab)c"/>`, "RE2: atomic group (?>...) not supported: error parsing regexp: invalid or unsupported Perl syntax: `(?>`"},
		{"end before newline", `<fingerprint pattern="ready\Z"/>`, "RE2: \\Z (end of text or before a final newline) not supported: error parsing regexp: invalid escape sequence: `\\Z`"},
		{"ruby hex digit", `<fingerprint pattern="v\h+"/>`, "RE2: \\h (Ruby: hex digit) not supported: error parsing regexp: invalid escape sequence: `\\h`"},
		{"unicode escape", `<fingerprint pattern="\u0000"/>`, "RE2: \\u escape not supported: error parsing regexp: invalid escape sequence: `\\u`"},
		{"named backreference", `<fingerprint pattern="(?&lt;h&gt;a)\k&lt;h&gt;"/>`, "RE2: named backreference \\k<...> not supported: error parsing regexp: invalid escape sequence: `\\k`"},
		{"plain syntax error", `<fingerprint pattern="(a"/>`, "RE2: error parsing regexp: missing closing ): `(a`"},
		{"unsupported flag", `<fingerprint pattern="a" flags="REG_EXTENDED"/>`, `unsupported flag "REG_EXTENDED"`},
		{"param without name", `<fingerprint pattern="a"><param pos="0" value="x"/></fingerprint>`, "param without a name"},
		{"param pos not a number", `<fingerprint pattern="a"><param pos="one" name="x"/></fingerprint>`, `param "x": pos "one" is not a capture group number`},
		{"param pos negative", `<fingerprint pattern="a"><param pos="-1" name="x"/></fingerprint>`, `param "x": pos "-1" is not a capture group number`},
		{"param pos too big", `<fingerprint pattern="(a)"><param pos="2" name="x"/></fingerprint>`, `param "x": pos 2 but the pattern has 1 capture groups`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parse(t, tt.body).Report()
			if r.Loaded != 0 || r.Skipped != 1 {
				t.Fatalf("loaded %d, skipped %d; want 0, 1", r.Loaded, r.Skipped)
			}
			s := r.Files[0].Skipped[0]
			if s.Reason != tt.reason || s.Line != 3 || s.File != "smtp_banners.xml" {
				t.Errorf("skipped %s:%d %q\nwant smtp_banners.xml:3 %q", s.File, s.Line, s.Reason, tt.reason)
			}
		})
	}
}

func TestParseRecogAccepts(t *testing.T) {
	// Syntax both Ruby and RE2 read the same way loads, with its flags.
	tests := []struct {
		name, body, text string
		match            bool
	}{
		{"named group", `<fingerprint pattern="^(?&lt;host&gt;\S+) ESMTP$"/>`, "mx ESMTP", true},
		{"escaped backslash then digit", `<fingerprint pattern="^a\\1$"/>`, `a\1`, true},
		{"lazy quantifier", `<fingerprint pattern="^a+?b$"/>`, "aab", true},
		{"class with ]", `<fingerprint pattern="^[]x]+$"/>`, "]x]", true},
		{"line anchors", `<fingerprint pattern="^second$"/>`, "first\nsecond\nthird", true},
		{"dot stops at newline", `<fingerprint pattern="^a.b$"/>`, "a\nb", false},
		{"REG_DOT_NEWLINE", `<fingerprint pattern="^a.b$" flags="REG_DOT_NEWLINE"/>`, "a\nb", true},
		{"REG_MULTILINE is Ruby's dot-all", `<fingerprint pattern="^a.b$" flags="REG_MULTILINE"/>`, "a\nb", true},
		{"REG_ICASE", `<fingerprint pattern="^esmtp$" flags="REG_ICASE"/>`, "ESMTP", true},
		{"case-sensitive by default", `<fingerprint pattern="^esmtp$"/>`, "ESMTP", false},
		{"flags with spaces and bars", `<fingerprint pattern="^a.b$" flags=" REG_ICASE | REG_DOT_NEWLINE "/>`, "A\nB", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := parse(t, tt.body)
			if r := db.Report(); r.Loaded != 1 {
				t.Fatalf("not loaded: %s", r)
			}
			if got := db.files[0].fps[0].re.MatchString(tt.text); got != tt.match {
				t.Errorf("match %q = %v, want %v", tt.text, got, tt.match)
			}
		})
	}
}

func TestParseRecogErrors(t *testing.T) {
	tests := []struct {
		name, name2, xml, want string
	}{
		{"not xml", "smtp_banners.xml", "not xml at all", "fingerprint: recog smtp_banners.xml: no <fingerprints> element"},
		{"broken xml", "smtp_banners.xml", "<fingerprints protocol='smtp'>\n<fingerprint pattern='a'>", "fingerprint: recog smtp_banners.xml:2: XML syntax error on line 2: unexpected EOF"},
		{"wrong root", "smtp_banners.xml", "<services/>", "fingerprint: recog smtp_banners.xml:1: root element is <services>, want <fingerprints>"},
		{"two roots", "smtp_banners.xml", "<fingerprints protocol='smtp'/>\n<fingerprints protocol='smtp'/>", "fingerprint: recog smtp_banners.xml:2: second root element <fingerprints>"},
		{"not a banner database", "smtp_ehlo.xml", `<fingerprints matches="smtp.ehlo" protocol="smtp"/>`, `fingerprint: recog smtp_ehlo.xml:1: matches="smtp.ehlo" is not a banner database`},
		{"unknown protocol", "http_servers.xml", `<fingerprints matches="http_header.server" protocol="http"/>`, `fingerprint: recog http_servers.xml:1: matches="http_header.server" is not a banner database`},
		{"no protocol at all", "db.xml", `<fingerprints/>`, `fingerprint: recog db.xml:1: cannot tell the protocol (protocol="" matches="")`},
		{"bad fingerprint element", "smtp_banners.xml", "<fingerprints protocol='smtp'>\n<fingerprint pattern='a'><param pos='0'></fingerprint></fingerprints>", "fingerprint: recog smtp_banners.xml:2: XML syntax error on line 2: element <param> closed by </fingerprint>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRecog(strings.NewReader(tt.xml), tt.name2)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParseRecog: %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestRecogProtoFallbacks(t *testing.T) {
	tests := []struct {
		file, xml string
		want      string
	}{
		{"x.xml", `<fingerprints matches="imap4.banner"/>`, "imap"},
		{"x.xml", `<fingerprints matches="pop3.banner"/>`, "pop3"},
		{"pop_banners.xml", `<fingerprints/>`, "pop3"},
		{"imap_banners.xml", `<fingerprints protocol="smtp"/>`, "smtp"},
	}
	for _, tt := range tests {
		db, err := ParseRecog(strings.NewReader(tt.xml), tt.file)
		if err != nil {
			t.Errorf("%s %s: %v", tt.file, tt.xml, err)
			continue
		}
		if got := db.Report().Files[0].Protocol; got != tt.want {
			t.Errorf("%s %s: protocol %q, want %q", tt.file, tt.xml, got, tt.want)
		}
	}
}

// endless yields 'a' forever.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestParseRecogTooLarge(t *testing.T) {
	r := io.MultiReader(strings.NewReader("<fingerprints protocol='smtp'><!--"), endless{})
	_, err := ParseRecog(r, "smtp_banners.xml")
	if !errors.Is(err, errTooLarge) {
		t.Errorf("ParseRecog of an endless file: %v, want %v", err, errTooLarge)
	}
}

func TestLoadRecogDirs(t *testing.T) {
	empty := t.TempDir()
	if _, err := LoadRecog(empty); err == nil || err.Error() != "fingerprint: recog: "+empty+" holds none of imap_banners.xml, pop_banners.xml, smtp_banners.xml" {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := LoadRecog(filepath.Join(empty, "missing")); err == nil {
		t.Error("missing dir: no error")
	}

	one := t.TempDir()
	src, err := os.ReadFile("testdata/recog/smtp_banners.xml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(one, "smtp_banners.xml"), string(src))
	db, err := LoadRecog(one)
	if err != nil {
		t.Fatal(err)
	}
	if r := db.Report(); len(r.Files) != 1 || r.Loaded != 2 {
		t.Errorf("one file: %s", r)
	}

	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "pop_banners.xml"), "<fingerprints protocol='pop3'>")
	if _, err := LoadRecog(bad); err == nil || !strings.HasPrefix(err.Error(), "fingerprint: recog "+filepath.Join(bad, "pop_banners.xml")+":") {
		t.Errorf("bad file: %v", err)
	}

	// A directory named like a database cannot be read as one.
	dirAsFile := t.TempDir()
	if err := os.Mkdir(filepath.Join(dirAsFile, "imap_banners.xml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRecog(dirAsFile); err == nil {
		t.Error("directory in place of a file: no error")
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecogVerifyFailures(t *testing.T) {
	db := parse(t, `
<fingerprint pattern="^(\S+) ESMTP Foo (\d+)$">
  <example host.name="mx">mx ESMTP Foo 1</example>
  <example host.name="mx" service.version="2">mx ESMTP Foo 1</example>
  <example>mx ESMTP Bar 1</example>
  <example _encoding="base64">!!!</example>
  <example _encoding="rot13">zk</example>
  <example _filename="ex.txt">unused</example>
  <example foo.extra="x">mx ESMTP Foo 1</example>
  <param pos="1" name="host.name"/>
  <param pos="2" name="service.version"/>
  <param pos="0" name="service.vendor"/>
  <param pos="1" name="host.alias" value="oops"/>
  <param pos="0" name="service.cpe23" value="cpe:/a:foo:foo:{service.version}"/>
  <param pos="0" name="service.product" value="Foo {service.edition}"/>
</fingerprint>`)
	want := []string{
		`fingerprint: recog smtp_banners.xml:4: param "service.vendor" has pos 0 but no value`,
		`fingerprint: recog smtp_banners.xml:4: param "host.alias" takes capture group 1 but also states value "oops"`,
		`fingerprint: recog smtp_banners.xml:4: example 2 "mx ESMTP Foo 1": service.version = "1", want "2"`,
		`fingerprint: recog smtp_banners.xml:4: example 3 "mx ESMTP Bar 1" does not match "^(\\S+) ESMTP Foo (\\d+)$"`,
		`fingerprint: recog smtp_banners.xml:4: example 4: _encoding=base64: illegal base64 data at input byte 0`,
		`fingerprint: recog smtp_banners.xml:4: example 5: unknown _encoding="rot13"`,
		`fingerprint: recog smtp_banners.xml:4: example 6: _filename="ex.txt" needs the database's directory`,
		`fingerprint: recog smtp_banners.xml:4: example 7 "mx ESMTP Foo 1": foo.extra is not set, want "x"`,
		`fingerprint: recog smtp_banners.xml:4: interpolation {service.edition} in service.product names no param`,
		`fingerprint: recog smtp_banners.xml:4: no example checks param host.alias (group 1)`,
	}
	var got []string
	for _, err := range db.Verify() {
		got = append(got, err.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Verify() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRecogExampleFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ex.txt"), "mx ESMTP Foo 7")
	writeFile(t, filepath.Join(dir, "smtp_banners.xml"), recogHead+`
<fingerprint pattern="^(\S+) ESMTP Foo (\d+)$">
  <example _filename="ex.txt" host.name="mx" service.version="7"/>
  <example _filename="../ex.txt" host.name="mx"/>
  <example _filename="absent.txt" host.name="mx"/>
  <param pos="1" name="host.name"/>
  <param pos="2" name="service.version"/>
</fingerprint>
</fingerprints>`)
	db, err := LoadRecog(dir)
	if err != nil {
		t.Fatal(err)
	}
	errs := db.Verify()
	if len(errs) != 2 {
		t.Fatalf("Verify() = %v, want 2 errors", errs)
	}
	if want := `fingerprint: recog smtp_banners.xml:4: example 2: _filename="../ex.txt" is outside ` + dir; errs[0].Error() != want {
		t.Errorf("Verify()[0] = %v\nwant %s", errs[0], want)
	}
	if !errors.Is(errs[1], os.ErrNotExist) && !strings.Contains(errs[1].Error(), "absent.txt") {
		t.Errorf("Verify()[1] = %v, want a missing-file error", errs[1])
	}
}

func TestInterpolate(t *testing.T) {
	vals := map[string]string{"service.version": "2.3.19", "host.name": "mx"}
	tests := []struct {
		key, value, want string
		missing          []string
	}{
		{"service.cpe23", "cpe:/a:dovecot:dovecot:{service.version}", "cpe:/a:dovecot:dovecot:2.3.19", nil},
		{"service.cpe23", "cpe:/a:x:y:{os.version}", "cpe:/a:x:y:-", nil},
		{"service.product", "Foo {os.version}", "Foo ", []string{"os.version"}},
		{"x", "{host.name}/{service.version}", "mx/2.3.19", nil},
		{"x", "no refs", "no refs", nil},
		{"x", "{}", "{}", nil},
		{"x", "{a b}", "{a b}", nil},
		{"x", "{unclosed", "{unclosed", nil},
		{"x", "{{host.name}}", "{mx}", nil},
	}
	for _, tt := range tests {
		got, missing := interpolate(tt.key, tt.value, vals)
		if got != tt.want || !reflect.DeepEqual(missing, tt.missing) {
			t.Errorf("interpolate(%q, %q) = %q, %q; want %q, %q", tt.key, tt.value, got, missing, tt.want, tt.missing)
		}
	}
}

func TestFamilies(t *testing.T) {
	tests := []struct{ vendor, product, want string }{
		{"IceWarp", "Mail Server", "IceWarp Mail Server"},
		{"Haraka", "Haraka", "Haraka"},
		{"Double Precision", "Courier", "Courier"},
		{"Microsoft", "Exchange Server", "Microsoft Exchange"},
		{"Sophos", "", "Sophos"},
		{"", "Thing", "Thing"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := deriveFamily(tt.vendor, tt.product); got != tt.want {
			t.Errorf("deriveFamily(%q, %q) = %q, want %q", tt.vendor, tt.product, got, tt.want)
		}
	}
	for in, want := range map[string]string{"Exchange Server": "Microsoft Exchange", "Cyrus MTA": "Cyrus", "Lotus Domino": "HCL Domino", "exim": "Exim", "Unknown": "Unknown"} {
		if got := canonicalFamily(in); got != want {
			t.Errorf("canonicalFamily(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRubyOnly(t *testing.T) {
	tests := map[string]string{
		`a(?=b)`:     "lookahead (?=...)",
		`[(?=]`:      "",
		`\(?=x`:      "",
		`a*+`:        "possessive quantifier *+",
		`a?+`:        "possessive quantifier ?+",
		`a{2}+`:      "possessive quantifier }+",
		`a+?`:        "",
		`\++`:        "",
		`[\1]`:       "",
		`(a)\1`:      `backreference \1`,
		`\\1`:        "",
		`(?(1)a|b)`:  "conditional (?(...)...)",
		`(?#note)a`:  "comment (?#...)",
		`\Gx`:        `\G (start of previous match)`,
		`\R`:         `\R (line break)`,
		`\X`:         `\X (grapheme cluster)`,
		`[^]\h]`:     `\h (Ruby: hex digit)`,
		`x\`:         "",
		`(?i:ab)\d+`: "",
	}
	for in, want := range tests {
		if got := rubyOnly(in); got != want {
			t.Errorf("rubyOnly(%q) = %q, want %q", in, got, want)
		}
	}
}
