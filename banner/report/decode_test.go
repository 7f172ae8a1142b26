package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// slowRecord decodes a line with encoding/json alone: the reference the
// hand-written scanner must agree with.
func slowRecord(line []byte) (record, string) {
	var f fields
	if err := f.slow(line); err != nil {
		return record{}, err.Error()
	}
	var r record
	return r, f.record(&r)
}

// sameRecord compares two records as the report reads them: names after
// cleanName, which is how they reach any table.
func sameRecord(a, b record) bool {
	return a.ip == b.ip && a.port == b.port && a.proto == b.proto && a.status == b.status && a.flags == b.flags &&
		a.pseudo == b.pseudo && (a.family == nil) == (b.family == nil) && (a.version == nil) == (b.version == nil) &&
		cleanName(string(a.tlsVer)) == cleanName(string(b.tlsVer)) && cleanName(string(a.family)) == cleanName(string(b.family)) &&
		cleanName(string(a.version)) == cleanName(string(b.version))
}

// decodeCases are lines whose fields the scanner must read exactly as
// encoding/json does, each aimed at one way a hand-written scanner goes
// wrong.
var decodeCases = []string{
	// Field order, unknown fields, nested unknown objects and arrays.
	`{"status":"success","fingerprint":{"os":"Debian","evidence":["a",{"b":[1,2,{"c":null}]}],"family":"Dovecot","rule":"x","version":"2.3"},"port":143,"ip":"198.18.0.1","protocol":"imap"}`,
	// Escapes: in a skipped string, before a quote, in a name.
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","greeting":"220 \"quoted\\\" \\\\","fingerprint":{"family":"Post\u0066ix","version":"3.7\n"}}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"closed","greeting":"\u0020\t"}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"closed","greeting":" \u00a0 "}`,
	// Keys that differ only in case, and escaped keys: encoding/json takes them.
	`{"IP":"198.18.0.1","Port":25,"protocol":"smtp","STATUS":"success"}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","fingerprint":{"Family":"Exim"}}`,
	`{"\u0069p":"198.18.0.1","port":25,"protocol":"smtp","status":"success"}`,
	// Repeated keys: the last scalar wins; objects merge.
	`{"ip":"198.18.0.9","ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","tls":{"version":"TLSv1.2"},"tls":{"handshake_error":"x"}}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","findings":{"cleartext_login":{"value":true}},"findings":{"starttls_offered":{"value":true}}}`,
	// Nulls.
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","tls":null,"fingerprint":null,"findings":{"cleartext_login":null},"starttls":null}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","tls":{"certificates":[null,{"expired":true}]}}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","tls":{"certificates":[{"expired":true,"self_signed":true},{"expired":"no"}]}}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","starttls":{}}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","answers_all_ports":true}`,
	// Addresses.
	`{"ip":"::ffff:198.18.0.1","port":25,"protocol":"smtp","status":"success"}`,
	`{"ip":"2001:db8::1","port":25,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.018.0.1","port":25,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.18.0.256","port":25,"protocol":"smtp","status":"success"}`,
	`{"ip":"","port":25,"protocol":"smtp","status":"success"}`,
	`{"ip":1,"port":25,"protocol":"smtp","status":"success"}`,
	// Ports.
	`{"ip":"198.18.0.1","port":65535,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.18.0.1","port":65536,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.18.0.1","port":1e2,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.18.0.1","port":-1,"protocol":"smtp","status":"success"}`,
	`{"ip":"198.18.0.1","port":"25","protocol":"smtp","status":"success"}`,
	// Statuses: excluded, unknown.
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"excluded"}`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"great"}`,
	// Torn, trailing garbage, not an object, deep nesting.
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","tls":{"version":"TLS`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success"}x`,
	`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success"} `,
	`null`, `[]`, `"x"`, `{}`,
	`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success"}`,
}

// TestDecodeAgreesWithJSON: for every case, the fast path (with its own
// fallback) gives the record encoding/json gives, or both call the line
// bad.
func TestDecodeAgreesWithJSON(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cases := append(strings.Split(strings.TrimSpace(string(fixture)), "\n"), decodeCases...)
	for _, c := range cases {
		var got record
		why := decodeLine([]byte(c), &got)
		want, wantWhy := slowRecord([]byte(c))
		if (why == "") != (wantWhy == "") {
			t.Errorf("%s\n bad %q, encoding/json says %q", c, why, wantWhy)
			continue
		}
		if why == "" && !sameRecord(got, want) {
			t.Errorf("%s\n got %+v\nwant %+v", c, got, want)
		}
	}
}

// TestScanTakesRealLines: the fast path itself (no fallback) reads the
// fixture's valid lines; a scanner that gave up on everything would still
// pass TestDecodeAgreesWithJSON.
func TestScanTakesRealLines(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range bytes.Split(fixture, []byte("\n")) {
		if !json.Valid(l) {
			continue
		}
		var f fields
		if !f.scan(l) {
			t.Errorf("scan gave up on %s", l)
		}
		n++
	}
	if n < 25 {
		t.Errorf("only %d valid lines", n)
	}
	if line := benchLine(0); !new(fields).scan(line) {
		t.Errorf("scan gave up on the benchmark line %s", line)
	}
}

// FuzzDecodeLine: any bytes: no panic; for valid JSON the fields read
// agree with encoding/json's.
func FuzzDecodeLine(f *testing.F) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(fixture), "\n") {
		f.Add([]byte(l))
	}
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var got record
		why := decodeLine(line, &got)
		if !json.Valid(line) {
			return
		}
		want, wantWhy := slowRecord(line)
		if (why == "") != (wantWhy == "") {
			t.Fatalf("%q: bad %q, encoding/json says %q", line, why, wantWhy)
		}
		if why == "" && !sameRecord(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", line, got, want)
		}
	})
}

// BenchmarkDecodeLine measures the fast path on a line shaped like real
// results (about 1.3 KB); it must not allocate.
func BenchmarkDecodeLine(b *testing.B) {
	line := benchLine(7)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var r record
	for b.Loop() {
		if why := decodeLine(line, &r); why != "" {
			b.Fatal(why)
		}
	}
}

// BenchmarkDecodeLineJSON is encoding/json on the same line, for scale.
func BenchmarkDecodeLineJSON(b *testing.B) {
	line := benchLine(7)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, why := slowRecord(line); why != "" {
			b.Fatal(why)
		}
	}
}
