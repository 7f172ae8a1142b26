package fingerprint

import (
	"bufio"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The <example> elements of Rapid7 Recog's imap_banners.xml, pop_banners.xml
// and smtp_banners.xml, with the vendor, product, version and family Recog's
// own fingerprint gives each, are kept in testdata/recog_examples.tsv (see
// its header for the source). They are data: the patterns are not copied.
// Regenerate from a Recog checkout with
//
//	go test -run TestRecogExamplesFile -recog-dir ~/recog/xml -update-recog-examples ./banner/fingerprint
var (
	recogDir            = flag.String("recog-dir", os.Getenv("RECOG_DIR"), "directory with Recog's banner XML files (optional)")
	updateRecogExamples = flag.Bool("update-recog-examples", false, "rewrite testdata/recog_examples.tsv from -recog-dir")
)

const recogExamplesFile = "testdata/recog_examples.tsv"

// recogExample is one row: where the example is, its protocol and text, and
// what Recog's fingerprint says of it. rule is empty when the fingerprint
// uses syntax RE2 lacks (LoadRecog skips it).
type recogExampleRow struct {
	src, proto, text                 string
	vendor, product, version, family string
	rule                             string
}

func escapeTSV(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}

func unescapeTSV(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func loadRecogExamples(tb testing.TB) []recogExampleRow {
	tb.Helper()
	f, err := os.Open(recogExamplesFile)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []recogExampleRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 8 {
			tb.Fatalf("%s:%d: %d columns, want 8", recogExamplesFile, n, len(c))
		}
		if c[0] == "source" {
			continue
		}
		rows = append(rows, recogExampleRow{src: c[0], proto: c[1], text: unescapeTSV(c[2]),
			vendor: c[3], product: c[4], version: c[5], family: c[6], rule: c[7]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// TestRecogExamplesFile rewrites the examples file from -recog-dir when
// asked, and otherwise checks it against -recog-dir when one is given.
func TestRecogExamplesFile(t *testing.T) {
	if *recogDir == "" {
		t.Skip("no -recog-dir / RECOG_DIR: the checked-in examples are used as they are")
	}
	db, err := LoadRecog(*recogDir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`# The <example> elements of Rapid7 Recog's banner databases, one per row, with what Recog's
# fingerprint says of each (its fixed params and the example's attributes, as LoadRecog evaluates
# them). Source: https://github.com/rapid7/recog, xml/imap_banners.xml, xml/pop_banners.xml and
# xml/smtp_banners.xml at commit 14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5 (BSD 2-Clause licence,
# Copyright Rapid7). Only the example texts and their stated values are kept here, not the patterns.
# Columns: source (file:line of the <fingerprint>), proto, example text (\n \t \\ escaped), vendor,
# product, version, family, rule ("" when LoadRecog skips the pattern: RE2 lacks its syntax).
source	proto	text	vendor	product	version	family	rule
`)
	for _, f := range db.files {
		for _, fp := range f.fps {
			for _, ex := range fp.examples {
				text, err := f.exampleText(ex)
				if err != nil {
					t.Fatal(err)
				}
				m := fp.re.FindStringSubmatchIndex(text)
				if m == nil {
					t.Fatalf("%s:%d: example %q does not match", f.name, fp.line, text)
				}
				out := fp.fingerprint(fmt.Sprintf("recog:%s:%d", f.name, fp.line), text, m)
				fmt.Fprintf(&b, "%s:%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.name, fp.line, f.proto, escapeTSV(text),
					out.Vendor, out.Product, out.Version, out.Family, out.Rule)
			}
		}
		for _, s := range f.skipped {
			_ = s // examples of skipped patterns: written below from the raw XML
		}
	}
	skipped, err := skippedExamples(db, *recogDir)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString(skipped)
	if *updateRecogExamples {
		if err := os.WriteFile(recogExamplesFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(recogExamplesFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(old) != b.String() {
		t.Errorf("%s differs from what %s gives; run with -update-recog-examples", recogExamplesFile, *recogDir)
	}
}

// skippedExamples renders the examples of the patterns LoadRecog skipped,
// with the values their attributes state (fixed params cannot be evaluated
// without the pattern, so only attributes count there).
func skippedExamples(db *RecogDB, dir string) (string, error) {
	var b strings.Builder
	for _, f := range db.files {
		if len(f.skipped) == 0 {
			continue
		}
		raw, err := os.Open(filepath.Join(dir, f.name))
		if err != nil {
			return "", err
		}
		all, err := parseRecogFileAll(raw, f.name)
		raw.Close()
		if err != nil {
			return "", err
		}
		for _, s := range f.skipped {
			x := all[s.Line]
			if x == nil {
				continue
			}
			fixed := map[string]string{}
			for _, p := range x.Params {
				if p.Pos == "0" {
					fixed[p.Name] = p.Value
				}
			}
			for _, ex := range x.Examples {
				vals := map[string]string{}
				for k, v := range fixed {
					vals[k] = v
				}
				for _, a := range ex.Attrs {
					vals[a.Name.Local] = a.Value
				}
				text := ex.Text
				fam := canonicalFamily(vals["service.family"])
				if fam == "" {
					fam = deriveFamily(vals["service.vendor"], vals["service.product"])
				}
				fmt.Fprintf(&b, "%s:%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", f.name, s.Line, f.proto, escapeTSV(text),
					vals["service.vendor"], vals["service.product"], vals["service.version"], fam)
			}
		}
	}
	return b.String(), nil
}

// parseRecogFileAll returns every <fingerprint> of a Recog file by the line
// it starts on, compiled or not.
func parseRecogFileAll(r *os.File, name string) (map[int]*xmlFingerprint, error) {
	d := xml.NewDecoder(r)
	out := map[int]*xmlFingerprint{}
	line := 1
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "fingerprint" {
			var x xmlFingerprint
			if err := d.DecodeElement(&x, &se); err != nil {
				return nil, err
			}
			out[line] = &x
		}
		line, _ = d.InputPos()
	}
}

// TestRecogExamplesBuiltin: the built-in rules alone name vendor and
// product as Recog does (ASCII case aside: Recog spells Exim "exim") on at
// least 95% of Recog's examples. The misses are logged.
func TestRecogExamplesBuiltin(t *testing.T) {
	rows := loadRecogExamples(t)
	if len(rows) < 300 {
		t.Fatalf("%d examples, want the 303 of Recog's banner files", len(rows))
	}
	right := 0
	for _, r := range rows {
		fp, _ := Builtin().Match(r.proto, r.text)
		if strings.EqualFold(fp.Vendor, r.vendor) && strings.EqualFold(fp.Product, r.product) {
			right++
			continue
		}
		t.Logf("%s %q: built-in %q/%q (%s), Recog %q/%q", r.src, r.text, fp.Vendor, fp.Product, fp.Rule, r.vendor, r.product)
	}
	t.Logf("built-in rules: vendor and product right on %d of %d Recog examples (%.1f%%)", right, len(rows), 100*float64(right)/float64(len(rows)))
	if right*100 < 95*len(rows) {
		t.Errorf("vendor and product right on %d of %d examples, want at least 95%%", right, len(rows))
	}
}

// TestRecogExamplesMerged: with Recog's answer merged in (what --recog
// gives), vendor, product and version are Recog's on every example: the
// built-in rules never throw detail away (Exim 4.90_RC3, Sendmail forms,
// Zimbra 7.0.0_GA_3079, IBM's Domino 9, Qpopper modified by Sphera).
func TestRecogExamplesMerged(t *testing.T) {
	for _, r := range loadRecogExamples(t) {
		b, _ := Builtin().Match(r.proto, r.text)
		rec := Fingerprint{Vendor: r.vendor, Product: r.product, Version: r.version, Family: r.family, Rule: r.rule}
		got := Merge(b, rec)
		if got.Vendor != r.vendor || got.Product != r.product || got.Version != r.version {
			t.Errorf("%s %q: merged %q/%q/%q, Recog says %q/%q/%q (built-in %q/%q/%q)", r.src, r.text,
				got.Vendor, got.Product, got.Version, r.vendor, r.product, r.version, b.Vendor, b.Product, b.Version)
		}
	}
}

// TestRecogExamplesLive runs the real Recog database from -recog-dir on
// every example through WithRecog, when a directory is given.
func TestRecogExamplesLive(t *testing.T) {
	if *recogDir == "" {
		t.Skip("no -recog-dir / RECOG_DIR")
	}
	db, err := LoadRecog(*recogDir)
	if err != nil {
		t.Fatal(err)
	}
	m := Builtin().WithRecog(db)
	for _, r := range loadRecogExamples(t) {
		got, _ := m.Match(r.proto, r.text)
		if got.Vendor != r.vendor || got.Product != r.product || got.Version != r.version {
			t.Errorf("%s %q: %q/%q/%q (%s), want %q/%q/%q", r.src, r.text, got.Vendor, got.Product, got.Version, got.Rule, r.vendor, r.product, r.version)
		}
	}
}
