package main

import (
	"context"
	"fmt"

	"mailscan/banner/fingerprint"
)

var cmdFingerprint = &command{
	name:  "fingerprint",
	short: "name the software behind greeting lines read on stdin",
	usage: "[--proto imap|pop3|smtp] [--recog DIR]",
	long: `
Fingerprint reads one server greeting per line on stdin (the full line as
sent, e.g. "* OK [CAPABILITY ...] Dovecot ready.") and prints one JSON object
per line with the vendor, product, version and family, using the matcher the
banner stage uses. Without --proto, each line's protocol is guessed from its
prefix ("* OK", "+OK", "220"). In SMTP lines, the two characters \n separate
the lines of a multi-line greeting.
`,
}

func init() { cmdFingerprint.run = runFingerprint }

func runFingerprint(ctx context.Context, e *env, args []string) error {
	var proto, recog string
	var verify bool
	fs := newFlagSet(cmdFingerprint, e)
	fs.StringVar(&proto, "proto", "", "protocol of every line: imap, pop3 or smtp (default: guess per line)")
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
	if verify {
		if recog == "" {
			return usagef("--verify needs --recog DIR")
		}
		db, err := fingerprint.LoadRecog(recog)
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
	m, err := matcher(e, recog)
	if err != nil {
		return err
	}
	return m.MatchLines(e.stdout, e.stdin, proto)
}
