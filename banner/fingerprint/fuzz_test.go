package fingerprint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzMatch feeds arbitrary greetings to the built-in and Recog rules: Match
// must not panic, must agree with a Matcher that never uses the literal
// prefilter, and must fill Rule whenever it reports a match.
func FuzzMatch(f *testing.F) {
	for _, row := range loadGreetings(f) {
		f.Add(row.proto, row.greeting)
	}
	f.Add("", "* OK [CAPABILITY")
	f.Add("imap", "* OK [")
	f.Add("smtp", "220-\n220")
	f.Add("pop3", "+OK \xff\xfe")
	db, err := LoadRecog("testdata/recog")
	if err != nil {
		f.Fatal(err)
	}
	m := Builtin().WithRecog(db)
	slow := withoutPrefilter(m)
	f.Fuzz(func(t *testing.T, proto, greeting string) {
		fp, ok := m.Match(proto, greeting)
		ref, refOK := slow.Match(proto, greeting)
		if ok != refOK || !reflect.DeepEqual(fp, ref) {
			t.Fatalf("Match(%q, %q): prefilter %+v %v, regexp only %+v %v", proto, greeting, fp, ok, ref, refOK)
		}
		if ok != (fp.Rule != "") {
			t.Fatalf("Match(%q, %q) = %+v, %v: Rule and ok disagree", proto, greeting, fp, ok)
		}
	})
}

// FuzzLoadRecog feeds arbitrary bytes to the Recog parser: it must return a
// database or an error, never panic; a database it returns must report,
// verify and match without panicking.
func FuzzLoadRecog(f *testing.F) {
	for _, name := range recogFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "recog", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<fingerprints protocol="smtp"><fingerprint pattern="^(a)$"><example _encoding="base64" p="a">YQ==</example><param pos="1" name="p"/><param pos="0" name="q" value="{p}{x}"/></fingerprint></fingerprints>`))
	f.Add([]byte(`<fingerprints protocol="imap"><fingerprint pattern="" flags="REG_ICASE"/></fingerprints>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><fingerprints/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := ParseRecog(bytes.NewReader(data), "smtp_banners.xml")
		if err != nil {
			if db != nil {
				t.Fatal("ParseRecog returned a database and an error")
			}
			if !strings.HasPrefix(err.Error(), "fingerprint: recog ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		r := db.Report()
		_ = r.String()
		_ = db.Verify()
		Builtin().WithRecog(db).Match("smtp", "220 mx.example ESMTP a\n220 b")
	})
}

// FuzzMatchFacts feeds arbitrary facts of every field to the built-in and
// Recog rules: MatchFacts must not panic, must agree with the Matcher that
// never uses the literal prefilter, must carry evidence exactly when it
// matches, and every piece of evidence must be text of the field it names.
func FuzzMatchFacts(f *testing.F) {
	for _, tr := range loadTranscripts(f) {
		ff := tr.facts
		f.Add(ff.Protocol, ff.Greeting, strings.Join(ff.CapsBefore, "\n"), ff.ID, ff.Help, ff.Error, ff.Goodbye, ff.CertSubject)
	}
	f.Add("imap", "* OK x", "ID", `* ID ("name" "Cyrus IMAPD" "version" "3`, "", "", "* BYE Session terminating.", "O=Courier Mail Server")
	f.Add("", "220 x", "PIPECONNECT\nXVERP=Courier", "", "214-2.0.0 This is OpenSMTPD", "-ERR", "", ",O=Dovecot mail server,")
	db, err := LoadRecog("testdata/recog")
	if err != nil {
		f.Fatal(err)
	}
	m := Builtin().WithRecog(db)
	slow := withoutPrefilter(m)
	f.Fuzz(func(t *testing.T, proto, greeting, caps, id, help, errText, goodbye, cert string) {
		facts := &Facts{Protocol: proto, Greeting: greeting, CapsBefore: strings.Split(caps, "\n"), ID: id,
			Help: help, Error: errText, Goodbye: goodbye, CertSubject: cert}
		fp, ok := m.MatchFacts(facts)
		ref, refOK := slow.MatchFacts(facts)
		if ok != refOK || !reflect.DeepEqual(fp, ref) {
			t.Fatalf("prefilter %+v %v, regexp only %+v %v", fp, ok, ref, refOK)
		}
		if ok != (len(fp.Evidence) > 0) || ok != (fp.Rule != "") {
			t.Fatalf("%+v, %v: rule, evidence and ok disagree", fp, ok)
		}
		for _, e := range fp.Evidence {
			if len(e.Text) > maxEvidence {
				t.Fatalf("evidence of %d bytes", len(e.Text))
			}
		}
		idValue(id, "version")
		idValue(id, greeting)
	})
}

// FuzzMatchLines feeds arbitrary input to the greeting-lines reader: one
// JSON object per non-blank line that fits, the rest reported by number.
func FuzzMatchLines(f *testing.F) {
	f.Add([]byte("* OK Dovecot ready.\n\n220 x ESMTP Exim 4.96\r\n+OK"))
	f.Add([]byte(strings.Repeat("a", 300) + "\nb\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := Builtin().MatchLines(&out, bytes.NewReader(data), "")
		var tl *LineTooLongError
		if err != nil && !errors.As(err, &tl) {
			t.Fatalf("MatchLines: %v", err)
		}
		want := 0
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(strings.TrimRight(l, "\r")) != "" && len(l) <= maxInputLine {
				want++
			}
		}
		if got := strings.Count(out.String(), "\n"); got != want {
			t.Fatalf("%d objects for %d lines", got, want)
		}
	})
}
