package main

import (
	"context"
	"io"
	"os"

	"mailscan/syn/hitlist"
)

var cmdZGrab2INI = &command{
	name:  "zgrab2-ini",
	short: "the zgrab2 multiple configuration for -O zgrab2 hit lists",
	usage: "[-o file]",
	long: `
Zgrab2-ini prints the configuration file of ZGrab2's "multiple" command for
a hit list written with -O zgrab2 ("ip,,tag,port", the tag naming the mail
protocol of the port): one section per protocol (smtp, submission, smtps,
imap, imaps, pop3, pop3s) with ZGrab2's module, trigger, port and TLS flags.
ZGrab2 runs on each line only the section whose trigger equals its tag.

Example:

	mailscan syn -p 25,110,143,465,587,993,995 -O zgrab2 -o hits.csv 198.18.16.0/20
	mailscan zgrab2-ini -o mail.ini
	zgrab2 multiple -c mail.ini -f hits.csv -o results.jsonl
`,
}

func init() { cmdZGrab2INI.run = runZGrab2INI }

func runZGrab2INI(ctx context.Context, e *env, args []string) error {
	var out string
	fs := newFlagSet(cmdZGrab2INI, e)
	fs.StringVar(&out, "o", "", "write the configuration to `file` (default stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	var w io.Writer = e.stdout
	if out != "" && out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		w = f
		if err := hitlist.WriteZGrab2INI(w); err != nil {
			return err
		}
		return f.Close()
	}
	return hitlist.WriteZGrab2INI(w)
}
