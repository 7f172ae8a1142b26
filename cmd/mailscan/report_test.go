package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// reportInput has three hosts with four services, one target without a
// service, one pseudo-service host and one bad line (line 4).
const reportInput = `{"ip":"198.18.5.1","port":143,"protocol":"imap","status":"success","greeting":"* OK Dovecot ready.","fingerprint":{"family":"Dovecot"},"tls":{"version":"TLSv1.3"}}
{"ip":"198.18.5.1","port":25,"protocol":"smtp","status":"success","greeting":"220 mx ESMTP Postfix","fingerprint":{"family":"Postfix"},"findings":{"cleartext_login":{"value":false,"evidence":"x"}}}
{"ip":"198.18.5.2","port":143,"protocol":"imap","status":"success","greeting":"* OK","findings":{"cleartext_login":{"value":true,"evidence":"x"}}}
{"ip":"198.18.5.2","port":
{"ip":"198.18.5.5","port":110,"protocol":"pop3","status":"closed","greeting":"-ERR go away"}
{"ip":"198.18.5.4","port":110,"protocol":"pop3","status":"connection-refused"}
{"ip":"198.18.6.1","port":143,"protocol":"imap","status":"success","greeting":"* OK","answers_all_ports":true}
`

// writeReportDBs writes a tiny GeoLite2-Country and GeoLite2-ASN pair:
// 198.18.5.0/30 is DE and Hetzner, the rest of 198.18.5.0/24 FR and an
// unmapped organisation.
func writeReportDBs(t *testing.T) (country, asn string) {
	t.Helper()
	dir := t.TempDir()
	write := func(dbType, file string, recs map[string]mmdbtype.Map) string {
		tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, BuildEpoch: 1714521600})
		if err != nil {
			t.Fatal(err)
		}
		for _, cidr := range []string{"198.18.5.0/24", "198.18.5.0/30"} { // wider first: the narrower overrides
			_, n, err := net.ParseCIDR(cidr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tree.Insert(n, recs[cidr]); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, file)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tree.WriteTo(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cc := func(code, name string) mmdbtype.Map {
		return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code), "names": mmdbtype.Map{"en": mmdbtype.String(name)}}}
	}
	as := func(n uint32, org string) mmdbtype.Map {
		return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
	}
	country = write("GeoLite2-Country", "GeoLite2-Country.mmdb", map[string]mmdbtype.Map{
		"198.18.5.0/24": cc("FR", "France"), "198.18.5.0/30": cc("DE", "Germany")})
	asn = write("GeoLite2-ASN", "GeoLite2-ASN.mmdb", map[string]mmdbtype.Map{
		"198.18.5.0/24": as(64500, "Example Net"), "198.18.5.0/30": as(24940, "Hetzner Online GmbH")})
	return country, asn
}

// TestReportStdin: text by default, with the hint about the databases and
// a warning naming the bad line.
func TestReportStdin(t *testing.T) {
	code, out, stderr := runMain(t, reportInput, "report")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Column widths depend on the longest cell: compare with white space
	// collapsed.
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"mailscan report: stdin 2 hosts run cleartext IMAP on TCP/143.",
		"* Countries and providers are left out: no country database (GeoLite2-Country) and no ASN database",
		"services (success or a greeting) 4 hosts (distinct ips with a service) 3",
		"pseudo-service hosts (answers_all_ports) 1",
		"imap 143 2 66.7%",
		"stdin:4 unexpected end of JSON input",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Top countries") || strings.Contains(out, "Top providers") {
		t.Error("geo tables without databases")
	}
	if !strings.Contains(stderr, "skipped bad input lines") || !strings.Contains(stderr, "stdin:4: unexpected end of JSON input") {
		t.Errorf("stderr lacks the bad-line warning: %q", stderr)
	}
}

// TestReportFormats runs -i FILE with every format, to stdout and -o.
func TestReportFormats(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "results.jsonl")
	if err := os.WriteFile(in, []byte(reportInput), 0o644); err != nil {
		t.Fatal(err)
	}
	country, asn := writeReportDBs(t)
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"text", func(t *testing.T, out string) {
			flat := strings.Join(strings.Fields(out), " ")
			for _, want := range []string{"Top countries by port", "country code hosts imap 143 pop3 110 smtp 25 services",
				"Germany DE 2 2 0 1 3 France FR 1 0 1 0 1", "Hetzner 2 2 0 1 3 Example Net 1 0 1 0 1",
				"Germany DE 2 1 1 50.0%"} {
				if !strings.Contains(flat, want) {
					t.Errorf("lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "are left out:") {
				t.Error("hint printed with both databases")
			}
		}},
		{"markdown", func(t *testing.T, out string) {
			for _, want := range []string{"## Services per port", "| imap | 143 | 2 | 66.7% |", "| France | FR | 1 | 0 | 1 | 0 | 1 |"} {
				if !strings.Contains(out, want) {
					t.Errorf("lacks %q:\n%s", want, out)
				}
			}
		}},
		{"csv", func(t *testing.T, out string) {
			r := csv.NewReader(strings.NewReader(out))
			r.FieldsPerRecord = -1
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"ports,imap,143,2,66.67": true, "ports,smtp,25,1,33.33": true, "ports,pop3,110,1,33.33": true,
				"ports,total,,4,": true, "providers,Hetzner,2,2,0,1,3": true, "login_providers,Hetzner,2,1,1,50": true, "summary,hosts (distinct ips with a service),3": true}
			for _, rec := range recs {
				delete(want, strings.Join(rec, ","))
			}
			if len(want) > 0 {
				t.Errorf("missing records %v in:\n%s", want, out)
			}
		}},
		{"json", func(t *testing.T, out string) {
			var v struct {
				Source  string
				Summary map[string]int64
				Tables  []struct {
					ID   string
					Rows []map[string]any
				}
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"lines": 7, "bad_lines": 1, "records": 6, "excluded": 0, "duplicates": 0, "targets": 6, "pseudo_hosts": 1,
				"pseudo_targets": 1, "no_service": 1, "services": 4, "hosts": 3, "hosts_ipv6": 0}
			if !reflect.DeepEqual(v.Summary, want) {
				t.Errorf("summary %v, want %v", v.Summary, want)
			}
			for _, tab := range v.Tables {
				if tab.ID == "countries" {
					if got := tab.Rows[0]; got["country"] != "Germany" || got["hosts"] != 2.0 || got["imap_143"] != 2.0 || got["smtp_25"] != 1.0 || got["services"] != 3.0 {
						t.Errorf("countries row 0: %v", got)
					}
					return
				}
			}
			t.Error("no countries table")
		}},
		{"html", func(t *testing.T, out string) {
			for _, want := range []string{"<!DOCTYPE html>", `<svg class="chart"`, "<title>imap 143: 2 services</title>", "<title>Germany DE, imap 143: 2 hosts</title>"} {
				if !strings.Contains(out, want) {
					t.Errorf("lacks %q", want)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			args := []string{"report", "-i", in, "--format", tt.format, "--country", country, "--asn", asn}
			code, out, stderr := runMain(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			tt.check(t, out)
			// -o writes the same bytes to a file and nothing to stdout.
			file := filepath.Join(t.TempDir(), "report."+tt.format)
			code, out2, stderr := runMain(t, "", append(args, "-o", file)...)
			if code != 0 || out2 != "" {
				t.Fatalf("-o: exit %d, stdout %q, stderr %s", code, out2, stderr)
			}
			if b, err := os.ReadFile(file); err != nil || string(b) != out {
				t.Errorf("-o file differs from stdout (%v)", err)
			}
		})
	}
}

// TestReportUsageErrors: bad flags and unreadable files exit 2 before any
// input is read.
func TestReportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	os.WriteFile(garbage, []byte("not a database"), 0o644)
	badProv := filepath.Join(dir, "providers.txt")
	os.WriteFile(badProv, []byte("hetzner = Hetzner\nnonsense\n"), 0o644)
	_, asn := writeReportDBs(t)
	missing := filepath.Join(dir, "missing.mmdb")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined: -nope"},
		{"bad format", []string{"--format", "pdf"}, `--format: report: unknown format "pdf"`},
		{"top zero", []string{"--top", "0"}, "--top 0: want at least 1"},
		{"argument", []string{"results.jsonl"}, `unexpected arguments ["results.jsonl"]`},
		{"missing input", []string{"-i", filepath.Join(dir, "nope.jsonl")}, "nope.jsonl: no such file or directory"},
		{"missing country", []string{"--country", missing}, "report: country database " + missing + ": open "},
		{"garbage country", []string{"--country", garbage}, "report: country database " + garbage},
		{"garbage asn", []string{"--asn", garbage}, "report: ASN database " + garbage},
		{"providers without asn", []string{"--providers", badProv}, "--providers maps AS organisations: it needs --asn"},
		{"bad providers", []string{"--asn", asn, "--providers", badProv}, badProv + `:2: "nonsense"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runMain(t, reportInput, append([]string{"report"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

// TestReportShardsAndBaseline: several -i (a file, a gzip file named like
// a plain one, stdin), counted as one scan; --baseline with the same scan
// changes nothing; bad uses of both are usage errors.
func TestReportShardsAndBaseline(t *testing.T) {
	dir := t.TempDir()
	lines := strings.SplitAfter(reportInput, "\n")
	first := filepath.Join(dir, "a.jsonl")
	os.WriteFile(first, []byte(strings.Join(lines[:4], "")), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines[2:6], ""))) // lines 3 and 4 in both
	zw.Close()
	second := filepath.Join(dir, "b.jsonl") // gzip whatever the name
	os.WriteFile(second, gz.Bytes(), 0o644)
	whole := filepath.Join(dir, "all.jsonl")
	os.WriteFile(whole, []byte(reportInput), 0o644)

	summary := func(args []string, stdin string) map[string]int64 {
		t.Helper()
		code, out, stderr := runMain(t, stdin, append([]string{"report", "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var v struct{ Summary map[string]int64 }
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		return v.Summary
	}
	all := summary([]string{"-i", whole}, "")
	got := summary([]string{"-i", first, "-i", second, "-i", "-"}, strings.Join(lines[6:], ""))
	for _, k := range []string{"targets", "services", "hosts", "pseudo_hosts", "no_service"} {
		if got[k] != all[k] {
			t.Errorf("shards: %s = %d, the whole file %d", k, got[k], all[k])
		}
	}
	// Lines 3 and 4 twice: the torn line 4 is bad twice, line 3 a duplicate.
	if got["duplicates"] != 1 || got["bad_lines"] != 2 {
		t.Errorf("shards: duplicates %d, bad lines %d; want 1 and 2", got["duplicates"], got["bad_lines"])
	}

	code, out, stderr := runMain(t, "", "report", "-i", whole, "--baseline", whole, "--format", "csv")
	if code != 0 {
		t.Fatalf("baseline: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "services_before") || !strings.Contains(out, "ports,imap,143,2,2,0,0,66.67,66.67,0") {
		t.Errorf("baseline csv lacks the before and change columns:\n%s", out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-i", "-", "-i", "-"}, "-i -: stdin can be read only once"},
		{[]string{"--baseline", filepath.Join(dir, "gone.json")}, "report: baseline " + filepath.Join(dir, "gone.json")},
		{[]string{"-i", whole, "-i", filepath.Join(dir, "nope.jsonl")}, "nope.jsonl: no such file or directory"},
	} {
		code, _, stderr := runMain(t, reportInput, append([]string{"report"}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
