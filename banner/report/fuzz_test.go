package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzBuild feeds arbitrary input to Build and every writer: nothing may
// panic, every line is a record or a bad line, and the tables add up.
func FuzzBuild(f *testing.F) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(fixture), "\n") {
		f.Add(line + "\n")
	}
	f.Add(string(fixture))
	f.Add("")
	f.Add("\n\r\n")
	f.Add(`{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","fingerprint":{"family":"\u202e<b>x"}}`)
	f.Add(`{"ip":"::ffff:198.18.0.1","port":65535,"protocol":"smtps","status":"tls-error","greeting":" ","tls":{"certificates":[]}}`)
	f.Fuzz(func(t *testing.T, in string) {
		rep, err := Build(strings.NewReader(in), "fuzz", nil)
		if err != nil {
			t.Fatalf("Build: %v", err) // only read errors and options fail
		}
		checkInvariants(t, rep)
		nonBlank := int64(0)
		for _, l := range strings.Split(in, "\n") {
			if len(bytes.TrimSpace([]byte(l))) > 0 {
				nonBlank++
			}
		}
		if rep.Summary.Lines != nonBlank {
			t.Errorf("lines %d, want %d", rep.Summary.Lines, nonBlank)
		}
		for _, f := range []Format{FormatText, FormatMarkdown, FormatCSV, FormatJSON, FormatHTML} {
			var b bytes.Buffer
			if err := rep.Write(&b, f); err != nil {
				t.Fatalf("Write %v: %v", f, err)
			}
		}
	})
}
