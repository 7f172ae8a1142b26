package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"mailscan/banner"
	"mailscan/banner/fingerprint"
)

var cmdFingerprint = &command{
	name:  "fingerprint",
	short: "name the software behind stored results or greeting lines",
	usage: "[-i results.jsonl] [-o file] [--proto imap|pop3|smtp] [--recog DIR]",
	long: `
With -i, fingerprint reads results of mailscan banner or run (JSON lines)
and writes them again with every fingerprint derived anew from the facts
each result holds (greeting, capabilities before and after TLS, the ID,
HELP, goodbye and CAPA replies, the STARTTLS reply, the certificate, the
APOP timestamp), with today's rules and, with --recog, a Recog database:
improved rules need no new scan. Every other field is written back as it
was read. "-i -" reads stdin.

Without -i, it reads one server greeting per line on stdin (the full line
as sent, e.g. "* OK [CAPABILITY ...] Dovecot ready.") and prints one JSON
object per line with the vendor, product, version, family, rule and
evidence. Without --proto, each line's protocol is guessed from its prefix
("* OK", "+OK", "220"). In SMTP lines, the two characters \n separate the
lines of a multi-line greeting. A line longer than 64 KiB is skipped and
reported by number after every other line is written (exit 2).
`,
}

func init() { cmdFingerprint.run = runFingerprint }

func runFingerprint(ctx context.Context, e *env, args []string) error {
	var proto, recog, in, out string
	var verify bool
	fs := newFlagSet(cmdFingerprint, e)
	fs.StringVar(&in, "i", "", "re-derive the fingerprints of the banner results in `file` (JSON lines; - for stdin)")
	fs.StringVar(&out, "o", "", "write to `file` instead of stdout")
	fs.StringVar(&proto, "proto", "", "protocol of every greeting line: imap, pop3 or smtp (default: guess per line)")
	fs.StringVar(&recog, "recog", "", "also match against the Recog XML database in `dir`")
	fs.BoolVar(&verify, "verify", false, "with --recog: check every <example> of the database against its own fingerprint, print failures and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if proto != "" {
		if _, ok := fingerprint.CanonicalProto(proto); !ok {
			return usagef("--proto %q: want imap, pop3 or smtp", proto)
		}
	}
	if in != "" && proto != "" {
		return usagef("--proto applies to greeting lines; results carry their protocol (drop --proto or -i)")
	}
	if verify {
		return verifyRecog(e, recog)
	}
	m, err := matcher(e, recog)
	if err != nil {
		return err
	}
	w := e.stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return usagef("-o: %v", err)
		}
		defer f.Close()
		w = f
	}
	if in == "" {
		err := m.MatchLines(w, e.stdin, proto)
		var tl *fingerprint.LineTooLongError
		if errors.As(err, &tl) {
			return usageError{err}
		}
		return err
	}
	r, name, closeIn, err := openInput(e, in)
	if err != nil {
		return err
	}
	defer closeIn()
	st, err := refingerprint(w, r, name, m)
	e.log.Info("fingerprint done", "results", st.results, "named", st.named, "changed", st.changed, "bad_lines", st.bad)
	return err
}

// verifyRecog checks every <example> of the Recog database in dir against
// its own fingerprint and prints the failures.
func verifyRecog(e *env, dir string) error {
	if dir == "" {
		return usagef("--verify needs --recog DIR")
	}
	db, err := fingerprint.LoadRecog(dir)
	if err != nil {
		return usagef("--recog: %v", err)
	}
	fmt.Fprintln(e.stderr, db.Report().String())
	errs := db.Verify()
	for _, err := range errs {
		fmt.Fprintln(e.stdout, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d example(s) failed", len(errs))
	}
	return nil
}

// maxResultLine bounds one result line of -i: a result holds at most the
// banner stage's MaxBytes of server text (64 KiB by default), escaped.
const maxResultLine = 1 << 20

// refingerprintStats counts what refingerprint did.
type refingerprintStats struct {
	results, named, changed, bad int
}

// refingerprint reads banner results as JSON lines from r and writes each
// one to w with its "fingerprint" derived again from its facts
// (banner.Result.Facts) by m; all other fields are written back unchanged.
// A result without a greeting keeps no fingerprint. Lines that are not a
// result are reported with their number and skipped; the others are all
// written (exit 2 at the end, as for bad input).
func refingerprint(w io.Writer, r io.Reader, name string, m *fingerprint.Matcher) (refingerprintStats, error) {
	var st refingerprintStats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxResultLine)
	bw := bufio.NewWriter(w)
	var bad []string
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		var res banner.Result
		if err := json.Unmarshal(line, &fields); err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %v", name, n, err))
			continue
		}
		if err := json.Unmarshal(line, &res); err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %v", name, n, err))
			continue
		}
		st.results++
		old := fields["fingerprint"]
		delete(fields, "fingerprint")
		if res.Greeting != "" {
			facts := res.Facts()
			if fp, ok := m.MatchFacts(&facts); ok {
				b, err := json.Marshal(fp)
				if err != nil {
					return st, fmt.Errorf("fingerprint: %s:%d: %w", name, n, err)
				}
				fields["fingerprint"] = b
				st.named++
			}
		}
		if !bytes.Equal(old, fields["fingerprint"]) {
			st.changed++
		}
		b, err := marshalNoEscape(fields)
		if err != nil {
			return st, fmt.Errorf("fingerprint: %s:%d: %w", name, n, err)
		}
		if _, err := bw.Write(b); err != nil {
			return st, fmt.Errorf("fingerprint: write: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("fingerprint: write: %w", err)
	}
	if err := sc.Err(); err != nil {
		return st, usagef("%s:%d: %v (lines before it were written)", name, n+1, err)
	}
	st.bad = len(bad)
	if len(bad) > 0 {
		return st, usagef("%d line(s) are not results, skipped: %s", len(bad), bad[0])
	}
	return st, nil
}

// marshalNoEscape encodes v as one JSON line, leaving <, > and & as they
// are (server text is full of them).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
