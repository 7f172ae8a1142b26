// Package zgrab2test reads hit lists and `zgrab2 multiple` configurations
// the way ZGrab2 does, for tests: ZGrab2 itself cannot be installed in CI
// (its module is not served by the Go proxy and Debian has no package).
//
// It follows ZGrab2's source at e8fbc9e: input.go (GetTargetsCSV,
// ParseCSVTarget: "ip, domain, tag, port", '#' comments, trailing fields
// optional, more than four an error), processing.go (grabTarget: a module
// runs on a target only if its trigger equals the target's tag),
// scanner.go (RunScanner: the target's port, else the module's;
// RegisterScan: two sections of one name end zgrab2), the modules' Flags
// (modules/smtp, imap, pop3 scanner.go, zgrab2.BaseFlags, TLSFlags), and
// zflags' ini.go (comments '#' or ';', repeated sections, "key=value" with
// quoted values unquoted).
package zgrab2test

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Target is one ScanTarget of ZGrab2's CSV input.
type Target struct {
	IP     net.IP
	Domain string
	Tag    string
	Port   uint // 0: the module's port
}

// ReadTargets reads a CSV input as GetTargetsCSV does. Lines ZGrab2 would
// log and skip are returned as errors; a CSV syntax error ends the input,
// as in ZGrab2. A CIDR in the ip field, which ZGrab2 expands, is reported
// as an error: a hit list has none.
func ReadTargets(r io.Reader) ([]Target, []error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	var out []Target
	var errs []error
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return out, errs
		}
		if err != nil {
			return out, append(errs, err)
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if len(fields) > 4 {
			errs = append(errs, fmt.Errorf("too many fields: %q", fields))
			continue
		}
		var t Target
		if t.IP = net.ParseIP(fields[0]); t.IP == nil {
			errs = append(errs, fmt.Errorf("can't parse %q as an IP address", fields[0]))
			continue
		}
		if len(fields) > 1 {
			t.Domain = fields[1]
		}
		if len(fields) > 2 {
			t.Tag = fields[2]
		}
		if len(fields) > 3 && fields[3] != "" {
			p, err := strconv.Atoi(fields[3])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			t.Port = uint(p)
		}
		out = append(out, t)
	}
}

// Section is one module section of a `zgrab2 multiple` ini file.
type Section struct {
	Module  string
	Options map[string]string
}

// ReadINI reads an ini file as zflags does.
func ReadINI(r io.Reader) ([]Section, error) {
	var out []Section
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if line[len(line)-1] != ']' {
				return nil, fmt.Errorf("ini:%d: malformed section header", n)
			}
			out = append(out, Section{Module: strings.TrimSpace(line[1 : len(line)-1]), Options: map[string]string{}})
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("ini:%d: malformed key=value (%s)", n, line)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("ini:%d: %s outside a module section", n, line)
		}
		v = strings.TrimSpace(v)
		if v != "" && v[0] == '"' {
			var err error
			if v, err = strconv.Unquote(v); err != nil {
				return nil, fmt.Errorf("ini:%d: %v", n, err)
			}
		}
		out[len(out)-1].Options[strings.TrimSpace(k)] = v
	}
	return out, sc.Err()
}

// Flags are the long flags of ZGrab2's smtp, imap and pop3 modules
// (BaseFlags, the module's Flags, and of TLSFlags the few a mail scan may
// set): an option the module does not have makes zgrab2 refuse the ini.
var Flags = map[string][]string{
	"smtp": {"port", "name", "trigger", "connect-timeout", "target-timeout", "verbose",
		"send-help", "send-quit", "send-ehlo-override", "send-helo-override", "send-starttls-override", "smtps",
		"no-sni", "server-name", "tls-handshake-timeout"},
	"imap": {"port", "name", "trigger", "connect-timeout", "target-timeout", "verbose", "send-close", "imaps", "starttls",
		"no-sni", "server-name", "tls-handshake-timeout"},
	"pop3": {"port", "name", "trigger", "connect-timeout", "target-timeout", "verbose", "send-help", "send-noop", "send-quit", "pop3s", "starttls",
		"no-sni", "server-name", "tls-handshake-timeout"},
}

// boolFlags are the Flags that take a boolean.
var boolFlags = []string{"verbose", "send-help", "send-quit", "send-ehlo-override", "send-helo-override", "send-starttls-override",
	"smtps", "send-close", "imaps", "starttls", "send-noop", "pop3s", "no-sni"}

// CheckSections reports what would make zgrab2 refuse the sections: a
// module other than smtp, imap, pop3; an option the module lacks; a boolean
// that is not one; a missing, repeated or empty name; a port that is not
// one; the mutually exclusive TLS modes of one module.
func CheckSections(sections []Section) []error {
	var errs []error
	names := map[string]bool{}
	for _, s := range sections {
		flags, ok := Flags[s.Module]
		if !ok {
			errs = append(errs, fmt.Errorf("[%s]: not a mail module of zgrab2", s.Module))
			continue
		}
		name := s.Options["name"]
		for k, v := range s.Options {
			switch {
			case !slices.Contains(flags, k):
				errs = append(errs, fmt.Errorf("[%s] %s: zgrab2's %s module has no flag --%s", s.Module, name, s.Module, k))
			case slices.Contains(boolFlags, k) && v != "true" && v != "false":
				errs = append(errs, fmt.Errorf("[%s] %s: %s=%q is not a boolean", s.Module, name, k, v))
			case k == "port":
				if p, err := strconv.Atoi(v); err != nil || p < 1 || p > 65535 {
					errs = append(errs, fmt.Errorf("[%s] %s: port %q", s.Module, name, v))
				}
			}
		}
		if name == "" || names[name] {
			errs = append(errs, fmt.Errorf("[%s]: name %q empty or used twice (zgrab2's RegisterScan exits)", s.Module, name))
		}
		names[name] = true
		if s.Options["starttls"] == "true" && (s.Options["imaps"] == "true" || s.Options["pop3s"] == "true") {
			errs = append(errs, fmt.Errorf("[%s] %s: starttls with implicit TLS", s.Module, name))
		}
		if s.Options["send-starttls-override"] == "true" && s.Options["smtps"] == "true" {
			errs = append(errs, fmt.Errorf("[%s] %s: --smtps with --send-starttls-override", s.Module, name))
		}
	}
	return errs
}

// Run describes what one section does with one target: "ip:port module
// tls", tls being implicit-tls, starttls, starttls-if-offered (the smtp
// module sends STARTTLS when EHLO offers it) or plain.
func Run(s Section, t Target) string {
	tls := "plain"
	switch {
	case s.Options["smtps"] == "true", s.Options["imaps"] == "true", s.Options["pop3s"] == "true":
		tls = "implicit-tls"
	case s.Options["starttls"] == "true", s.Options["send-starttls-override"] == "true":
		tls = "starttls"
	case s.Module == "smtp":
		tls = "starttls-if-offered"
	}
	port := t.Port
	if port == 0 {
		p, _ := strconv.Atoi(s.Options["port"])
		port = uint(p)
	}
	return net.JoinHostPort(t.IP.String(), strconv.Itoa(int(port))) + " " + s.Module + " " + tls
}

// Runs returns, sorted, what `zgrab2 multiple` does with the hit list and
// ini: one Run per (target, section whose trigger equals the target's tag).
// It fails on anything zgrab2 would refuse or skip.
func Runs(list, ini io.Reader) ([]string, error) {
	sections, err := ReadINI(ini)
	if err != nil {
		return nil, err
	}
	if errs := CheckSections(sections); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	targets, errs := ReadTargets(list)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var runs []string
	for _, t := range targets {
		for _, s := range sections {
			if s.Options["trigger"] == t.Tag {
				runs = append(runs, Run(s, t))
			}
		}
	}
	slices.Sort(runs)
	return runs, nil
}

// MailRun is what mailscan's banner stage does on each mail port, in Run's
// words: ZGrab2's module for the protocol and its TLS mode.
var MailRun = map[uint16]string{
	25:  "smtp starttls-if-offered",
	587: "smtp starttls-if-offered",
	465: "smtp implicit-tls",
	143: "imap starttls",
	993: "imap implicit-tls",
	110: "pop3 starttls",
	995: "pop3 implicit-tls",
}
