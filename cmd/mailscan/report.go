package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"mailscan/banner/report"
)

var cmdReport = &command{
	name:  "report",
	short: "exposure tables from banner results",
	usage: "[flags] [-i results.jsonl ...] [--baseline old.jsonl]",
	long: `
Report reads the banner stage's results (one JSON object per line) from stdin
or -i and prints the tables of an exposure report: hosts per protocol in
cleartext and over TLS, targets by status, services per port, cleartext and
TLS per protocol, STARTTLS offered, cleartext login exposure, TLS versions,
expired and self-signed certificates, fingerprint coverage, vendor families
by port and by version, and, given MaxMind databases, countries and
providers by port and their cleartext login exposure.

-i may be given several times: the shards of one scan are counted as one, a
target found in several counts once. Each input may be plain, gzip or zstd
(told by its first bytes, not its name); "-i -" is stdin.

--baseline FILE compares with an earlier scan: its results, or the JSON an
earlier "report --format json" wrote. Every number gets the earlier one and
the change beside it, and a "What changed" table lists the ports,
countries, providers and families that appeared, went or moved most.

What is counted: a target is a distinct (ip, port); a service is a target
whose status is success or that sent a greeting; a host is an ip with at
least one service. Hosts flagged answers_all_ports and records the
exclusion policy refused (status excluded) are counted apart and left out
of every other table. Duplicate records of a target count once. Bad lines
(a torn last line, say) are skipped, counted and listed with their
file:line.

Countries come from --country (GeoLite2-Country.mmdb or a City database),
providers from --asn (GeoLite2-ASN.mmdb): the AS organisation is mapped to a
provider name (OVHcloud, DigitalOcean, Google, Amazon, Hetzner, ...) by a
built-in table, after the "pattern = Provider" lines of --providers FILE
(pattern: a case-insensitive regular expression, or an AS number as AS16509).

Formats: text (aligned tables), markdown, csv (one block per table), json,
html (one self-contained page with bar charts: no script, nothing loaded
from elsewhere).

Example:

	mailscan banner -i hits.csv -o results.jsonl
	mailscan report -i results.jsonl --country GeoLite2-Country.mmdb \
		--asn GeoLite2-ASN.mmdb --format html -o report.html
	mailscan report -i shard0.jsonl.zst -i shard1.jsonl.zst \
		--baseline last-year.json --format markdown
`,
}

func init() { cmdReport.run = runReport }

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(cmdReport, e)
	var ins listFlag
	var opts report.Options
	out, format := registerReport(fs, &ins, &opts)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q: report reads stdin or -i FILE", fs.Args())
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if opts.Top < 1 {
		return usagef("--top %d: want at least 1", opts.Top)
	}
	if opts.Country == "" || opts.ASN == "" {
		e.log.Info("countries and providers come from MaxMind databases: add --country GeoLite2-Country.mmdb and --asn GeoLite2-ASN.mmdb to count hosts by country and by provider")
	}
	if opts.Providers != "" && opts.ASN == "" {
		return usagef("--providers maps AS organisations: it needs --asn")
	}

	inputs, err := reportInputs(e, ins)
	if err != nil {
		return err
	}
	rep, err := buildReport(ctx, inputs, &opts)
	if err != nil {
		return err
	}
	if n := rep.Summary.BadLines; n > 0 {
		e.log.Warn("skipped bad input lines", "count", n, "first", rep.BadLines[0].String())
	}

	w, closeOut, err := openOutput(e, *out)
	if err != nil {
		return err
	}
	if err := rep.Write(w, f); err != nil {
		closeOut()
		return err
	}
	return closeOut()
}

// buildReport builds the report aside, so that an interrupt ends a report
// stuck on a terminal's stdin; on a file or pipe it simply finishes first.
func buildReport(ctx context.Context, inputs []report.Input, opts *report.Options) (*report.Report, error) {
	type built struct {
		rep *report.Report
		err error
	}
	done := make(chan built, 1)
	go func() {
		rep, err := report.BuildInputs(inputs, opts)
		done <- built{rep, err}
	}()
	var b built
	select {
	case b = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	var oe *report.OptionError
	if errors.As(b.err, &oe) {
		return nil, usageError{b.err}
	}
	return b.rep, b.err
}

// registerReport registers report's flags.
func registerReport(fs *flag.FlagSet, ins *listFlag, opts *report.Options) (out, format *string) {
	fs.Var(ins, "i", "read banner results from `file` (repeatable: shards of one scan; - is stdin; gzip and zstd read directly; default: stdin)")
	out = fs.String("o", "", "write the report to `file` (default: stdout)")
	format = fs.String("format", "text", "output `format`: text, markdown, csv, json or html")
	fs.IntVar(&opts.Top, "top", report.DefaultTop, "rows of the vendor, version, country and provider tables before \"other\"")
	fs.StringVar(&opts.Country, "country", "", "MaxMind country database `file` (GeoLite2-Country.mmdb)")
	fs.StringVar(&opts.ASN, "asn", "", "MaxMind ASN database `file` (GeoLite2-ASN.mmdb)")
	fs.StringVar(&opts.Providers, "providers", "", "`file` of \"pattern = Provider\" lines tried before the built-in mapping")
	fs.StringVar(&opts.Baseline, "baseline", "", "earlier scan to compare with: a results `file` or an earlier report's JSON")
	return out, format
}

// reportInputs turns the -i values into report inputs: "-" (or none) is
// stdin, once; every file is checked now, so that a missing shard is a
// usage error before anything is read.
func reportInputs(e *env, ins listFlag) ([]report.Input, error) {
	if len(ins) == 0 {
		ins = listFlag{"-"}
	}
	var inputs []report.Input
	stdin := 0
	for _, path := range ins {
		if path == "-" {
			if stdin++; stdin > 1 {
				return nil, usagef("-i -: stdin can be read only once")
			}
			inputs = append(inputs, report.ReaderInput(e.stdin, "stdin"))
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, usageError{err}
		}
		f.Close()
		inputs = append(inputs, report.FileInput(path))
	}
	return inputs, nil
}
