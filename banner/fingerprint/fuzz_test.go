package fingerprint

import (
	"bytes"
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
