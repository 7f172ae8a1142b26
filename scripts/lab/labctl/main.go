// Command labctl is the Go half of scripts/lab.sh: it draws the ground
// truth into the lab's directory (`lab.sh up` runs `labctl gen`), waits
// until the lab's servers answer as configured (`labctl ready`, run in a
// scanner namespace), and checks a scan's hit list against the truth
// (`lab.sh demo` and scripts/bench.sh run `labctl check`).
//
//	labctl gen -dir DIR -prefix P -seed N -target 198.18.16.0/20 -pseudo 198.18.32.0/28 \
//	    -clear-allowed 198.18.16.0/21 -clear-disabled 198.18.24.0/21 \
//	    -dovecot-ports 110,143,993,995 -smtp-ports 25,465,587
//	labctl ready [-timeout 5s] ADDR:PORT...
//	labctl check -dir DIR [-ports LIST] [-status open] HITS.csv
//	labctl check -within CIDR -ports LIST -status closed -count N HITS.csv
//
// check prints the line `lab.sh demo` ends with ("ground truth (open pairs
// outside the blocklist): N; found: N; missed: 0; false: 0") and exits 1
// when the hits differ from the truth outside the blocklist on the ports
// (every port of the truth by default). Without -dir it checks a scan of a
// range with no truth (bench.sh's, where every SYN is answered): every hit
// within the range and on the ports, none twice, and -count of them.
// Exit status 2 means bad usage or unreadable input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"mailscan/scripts/lab"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "check":
		err = check(os.Args[2:], os.Stdout)
	case "ready":
		err = ready(os.Args[2:])
	default:
		usage()
	}
	var ue usageError
	switch {
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(os.Stderr, "labctl: %v\n", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "labctl: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: labctl gen -dir DIR -prefix P -seed N -target CIDR -pseudo CIDR -clear-allowed CIDR -clear-disabled CIDR -dovecot-ports LIST -smtp-ports LIST\n"+
		"       labctl ready [-timeout D] ADDR:PORT...\n"+
		"       labctl check [-dir DIR | -within CIDR -count N] [-ports LIST] [-status open] HITS.csv")
	os.Exit(2)
}

// usageError is bad usage or input: exit status 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func gen(args []string) error {
	fs := flag.NewFlagSet("labctl gen", flag.ContinueOnError)
	dir := fs.String("dir", "", "the lab's directory (LAB_DIR)")
	prefix := fs.String("prefix", "", "the lab's prefix (LAB_PREFIX), named in the blocklist's header")
	seed := fs.Uint64("seed", 1, "the seed (LAB_SEED)")
	var l lab.Layout
	var dports, sports string
	fs.Func("target", "the target range, a /20", prefixFlag(&l.TargetRange))
	fs.Func("pseudo", "the pseudo-service range", prefixFlag(&l.PseudoRange))
	fs.Func("clear-allowed", "Dovecot's cleartext-allowed range", prefixFlag(&l.ClearAllowed))
	fs.Func("clear-disabled", "Dovecot's cleartext-disabled range", prefixFlag(&l.ClearDisabled))
	fs.StringVar(&dports, "dovecot-ports", "", "Dovecot's four ports, in the order of a host's port mask")
	fs.StringVar(&sports, "smtp-ports", "", "Postfix's three ports")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *dir == "" || *prefix == "" || fs.NArg() != 0 {
		return usagef("gen: -dir and -prefix are needed, and nothing else")
	}
	dp, err := parsePorts(dports)
	if err != nil || len(dp) != 4 {
		return usagef("gen: -dovecot-ports %q: want four ports", dports)
	}
	sp, err := parsePorts(sports)
	if err != nil || len(sp) != 3 {
		return usagef("gen: -smtp-ports %q: want three ports", sports)
	}
	l.DovecotPorts, l.SMTPPorts = [4]uint16(dp), [3]uint16(sp)
	t, err := lab.Generate(l, *prefix, *seed)
	if err != nil {
		return usageError{err}
	}
	if err := t.WriteFiles(*dir); err != nil {
		return err
	}
	// lab.sh logs these.
	fmt.Printf("%d %d\n", len(t.Up), len(t.Open))
	return nil
}

func ready(args []string) error {
	fs := flag.NewFlagSet("labctl ready", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Second, "how long the servers may take")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	var targets []netip.AddrPort
	for _, a := range fs.Args() {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return usagef("ready: %v", err)
		}
		targets = append(targets, ap)
	}
	if len(targets) == 0 {
		return usagef("ready: no ADDR:PORT to wait for")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	return lab.Ready(ctx, targets)
}

func check(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("labctl check", flag.ContinueOnError)
	dir := fs.String("dir", "", "the lab's directory (LAB_DIR): check against its truth")
	portList := fs.String("ports", "", "the ports scanned (default: every port of the truth)")
	status := fs.String("status", "open", "the hit-list status to count")
	var within netip.Prefix
	fs.Func("within", "without -dir: the range scanned", prefixFlag(&within))
	count := fs.Int("count", -1, "without -dir: how many hits there must be")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usagef("check: want one hit list")
	}
	ports, err := parsePorts(*portList)
	if err != nil {
		return usagef("check: -ports %q: %v", *portList, err)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	got, err := lab.ReadHits(f, *status)
	if err != nil {
		return usagef("%s: %v", fs.Arg(0), err)
	}
	if *dir == "" {
		return checkRange(got, within, ports, *count, stdout)
	}
	t, err := lab.Load(*dir)
	if err != nil {
		return usageError{err}
	}
	d := lab.Compare(got, lab.Keys(t.Expected(ports...)))
	fmt.Fprintln(stdout, d.Summary())
	if !d.OK() {
		return fmt.Errorf("the scan does not match the ground truth: %s", d)
	}
	return nil
}

// checkRange checks hits of a scan without a truth: within the range, on
// the ports, none twice, count of them.
func checkRange(got []string, within netip.Prefix, ports []uint16, count int, stdout io.Writer) error {
	if !within.IsValid() || len(ports) == 0 || count < 0 {
		return usagef("check: without -dir, -within, -ports and -count are needed")
	}
	seen := map[string]bool{}
	var outside, repeated []string
	for _, k := range got {
		ap := netip.MustParseAddrPort(k) // ReadHits made it
		if !within.Contains(ap.Addr()) || !containsPort(ports, ap.Port()) {
			outside = append(outside, k)
		}
		if seen[k] {
			repeated = append(repeated, k)
		}
		seen[k] = true
	}
	fmt.Fprintf(stdout, "hits: %d, want %d; outside %s on the ports: %d; repeated: %d\n", len(got), count, within, len(outside), len(repeated))
	if len(got) != count || len(outside) > 0 || len(repeated) > 0 {
		return fmt.Errorf("the hits are not %d distinct targets of the scan (outside: %v; repeated: %v)", count, first(outside), first(repeated))
	}
	return nil
}

func containsPort(ports []uint16, p uint16) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}

func first(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func prefixFlag(p *netip.Prefix) func(string) error {
	return func(s string) error {
		v, err := netip.ParsePrefix(s)
		*p = v
		return err
	}
}

// parsePorts reads "25,110" or "1-128" lists; "" is none.
func parsePorts(s string) ([]uint16, error) {
	var out []uint16
	if s == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 16)
		}
		if err != nil || a == 0 || b < a {
			return nil, fmt.Errorf("bad port or range %q", f)
		}
		for p := a; p <= b; p++ {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}
