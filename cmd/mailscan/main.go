// Command mailscan finds the mail-access services of a network at line rate
// and tells what they are.
//
// Usage:
//
//	mailscan <command> [flags] [arguments]
//
// The commands are:
//
//	syn          stateless SYN scan: targets → hit list
//	banner       TCP/TLS dialogue with each hit: hit list → results (JSON lines)
//	run          both stages in one process, streaming
//	report       exposure tables from banner results
//	fingerprint  name the software behind greeting lines read on stdin
//	version      print the version of this build
//	help         help on a command
//
// Run "mailscan help <command>" for a command's flags.
//
// Exit status: 0 done; 1 failed (an output could not be written, a socket
// failed); 2 bad usage or input; 3 stopped before the end (SIGINT, SIGTERM,
// --max-runtime, --max-results): run again with --resume to continue.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its name, one-line summary, usage text and the
// function that parses its flags and runs it.
type command struct {
	name  string
	short string
	usage string // the synopsis after "mailscan NAME"
	long  string // further help text
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what commands share: standard streams and the logger. Tests swap
// them.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// commands is the command table, in the order help lists it.
var commands []*command

func init() {
	commands = []*command{cmdSyn, cmdBanner, cmdRun, cmdReport, cmdFingerprint, cmdZGrab2INI, cmdVersion, cmdHelp}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is an error in how the command was called or in its input:
// exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// stoppedError ends a scan stopped before its end, on purpose: exit status
// 3. Its message says how to continue.
type stoppedError struct {
	status string // statusInterrupted or statusStopped
	msg    string
}

func (e stoppedError) Error() string { return e.msg }

// Exit statuses; see the package doc.
const (
	exitFailed  = 1
	exitUsage   = 2
	exitStopped = 3
)

// exitCode maps an error to the process's exit status.
func exitCode(err error) int {
	var ue usageError
	var se stoppedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return exitUsage
	case errors.As(err, &se):
		return exitStopped
	}
	return exitFailed
}

// stopReason is the metadata status of a stoppedError.
func stopReason(err error) string {
	var se stoppedError
	if errors.As(err, &se) {
		return se.status
	}
	return statusFailed
}

func main() {
	// A closed pipe on stdout must be an error the command handles (stop,
	// keep the state, say so), not a signal that kills it mid-write.
	signal.Ignore(syscall.SIGPIPE)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	e.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first interrupt asks for a clean stop (outputs flushed, metadata
	// written); after it, signals have their default effect again, so a
	// second Ctrl-C ends the process at once.
	context.AfterFunc(ctx, stop)
	os.Exit(mainErr(ctx, e, os.Args[1:]))
}

// mainErr runs the command args name and prints its error, if any; it
// returns the exit status.
func mainErr(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(e.stdout)
		return 0
	case "-version", "--version":
		args = []string{"version"}
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(e.stderr, "mailscan: unknown command %q\nRun 'mailscan help' for usage.\n", args[0])
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0 // -h: the usage went to stderr as asked
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "mailscan "+c.name+": "+err.Error())
	}
	return exitCode(err)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "mailscan finds the mail-access services of a network and tells what they are.\n\nUsage:\n\n\tmailscan <command> [flags] [arguments]\n\nThe commands are:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-12s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, "\nRun 'mailscan help <command>' for a command's flags.\n")
	fmt.Fprint(w, "\nExit status: 0 done; 1 failed; 2 bad usage or input; 3 stopped before the end (resumable).\n")
}

// newFlagSet returns the flag set of c, printing usage to e.stderr.
func newFlagSet(c *command, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: mailscan %s %s\n\n%s\n", c.name, c.usage, strings.TrimSpace(c.long))
		fmt.Fprintln(e.stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs; a flag error is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

var cmdVersion = &command{
	name:  "version",
	short: "print the version of this build",
	usage: "",
	run: func(ctx context.Context, e *env, args []string) error {
		fmt.Fprintln(e.stdout, "mailscan "+version())
		return nil
	},
}

var cmdHelp = &command{
	name:  "help",
	short: "help on a command",
	usage: "[command]",
	run: func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 {
			printUsage(e.stdout)
			return nil
		}
		c := lookup(args[0])
		if c == nil || c.name == "help" || c.name == "version" {
			if c != nil {
				fmt.Fprintf(e.stdout, "usage: mailscan %s\n\n%s\n", c.name, c.short)
				return nil
			}
			return usagef("unknown command %q", args[0])
		}
		fs := newFlagSet(c, e)
		fs.SetOutput(e.stdout)
		e2 := *e
		e2.stderr = e.stdout
		// Running the command with -h prints its usage and flags.
		c.run(ctx, &e2, []string{"-h"})
		return nil
	},
}
