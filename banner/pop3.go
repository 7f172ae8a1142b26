package banner

import (
	"fmt"
	"strings"
)

// parsePOP3Status parses a POP3 status line (RFC 1939 §3): "+OK" or "-ERR",
// optionally followed by a space and text (matched case-insensitively, as
// some servers send "+ok"). ok tells which; anything else is a protocol
// error.
func parsePOP3Status(line string) (ok bool, text string, err error) {
	var rest string
	switch {
	case hasPrefixFold(line, "+OK"):
		ok, rest = true, line[3:]
	case hasPrefixFold(line, "-ERR"):
		rest = line[4:]
	default:
		return false, "", protocolErrorf("banner: not a POP3 status line: %s", quote(line))
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return false, "", protocolErrorf("banner: not a POP3 status line: %s", quote(line))
	}
	return ok, strings.TrimLeft(rest, " \t"), nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// apopTimestamp returns the RFC 1939 §7 APOP timestamp of a greeting, the
// first "<...>" holding an '@' (e.g. "<1896.697170952@dbc.mtview.ca.us>"),
// brackets included; "" when there is none.
func apopTimestamp(greeting string) string {
	for s := greeting; ; {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			return ""
		}
		s = s[open:]
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return ""
		}
		id := s[:end+1]
		if at := strings.IndexByte(id, '@'); at > 1 && at < end-1 && !strings.ContainsAny(id[1:end], "< \t") {
			return id
		}
		s = s[1:]
	}
}

// unstuffPOP3 undoes the byte-stuffing of one line of a multi-line POP3
// response (RFC 1939 §3), and reports whether the line ends the response.
func unstuffPOP3(line string) (string, bool) {
	if line == "." {
		return "", true
	}
	if strings.HasPrefix(line, ".") {
		return line[1:], false
	}
	return line, false
}

// pop3Capability returns the CAPA line for name (e.g. "SASL"), matched
// case-insensitively on its first word, and whether there is one.
func pop3Capability(caps []string, name string) (string, bool) {
	for _, c := range caps {
		if first, _, _ := strings.Cut(c, " "); strings.EqualFold(first, name) {
			return c, true
		}
	}
	return "", false
}

// pop3Dialect is the POP3 dialect (RFC 1939, CAPA RFC 2449, STLS RFC
// 2595). It has no state of its own.
type pop3Dialect struct{}

// status reads one status line.
func (pop3Dialect) status(x *scan, cmd string) (bool, string, error) {
	line, err := x.sess.readLine()
	if err != nil {
		return false, line, fmt.Errorf("banner: read %s response: %w", cmd, err)
	}
	ok, _, err := parsePOP3Status(line)
	return ok, line, err
}

// greeting reads "+OK" (its APOP timestamp noted) or "-ERR" (refused).
func (pop3Dialect) greeting(x *scan) (greetingFacts, error) {
	line, err := x.readGreetingLine()
	if err != nil {
		return greetingFacts{}, err
	}
	ok, text, err := parsePOP3Status(line)
	if err != nil {
		return greetingFacts{}, err
	}
	x.greetingOK = true
	x.r.APOPTimestamp = apopTimestamp(text)
	if !ok {
		return greetingFacts{}, refusedf("banner: server refused: %s", quote(line))
	}
	return greetingFacts{}, nil
}

// capabilities runs CAPA; the lines up to "." are the list. A server
// without CAPA (-ERR) announces nothing, STLS included; its refusal is
// recorded, since implementations word it differently.
func (d pop3Dialect) capabilities(x *scan, _ []string) (capsFacts, error) {
	if err := x.sess.send("CAPA"); err != nil {
		return capsFacts{}, fmt.Errorf("banner: send CAPA: %w", err)
	}
	ok, line, err := d.status(x, "CAPA")
	if err != nil {
		return capsFacts{}, err
	}
	if !ok {
		x.probes().Error = line
		return capsFacts{}, nil
	}
	caps := []string{}
	for {
		line, err := x.sess.readLine()
		if err != nil {
			return capsFacts{list: caps, known: true}, fmt.Errorf("banner: read CAPA response: %w", err)
		}
		c, end := unstuffPOP3(line)
		if end {
			return capsFacts{list: caps, known: true}, nil
		}
		caps = append(caps, c)
	}
}

func (pop3Dialect) startTLSOffered(caps []string) bool {
	_, ok := pop3Capability(caps, "STLS")
	return ok
}

func (d pop3Dialect) startTLS(x *scan) (string, bool, error) {
	if err := x.sess.send("STLS"); err != nil {
		return "", false, fmt.Errorf("banner: send STLS: %w", err)
	}
	ok, raw, err := d.status(x, "STLS")
	return raw, ok, err
}

// end says QUIT: POP3 needs no extra probe, CAPA and its refusal already
// tell implementations apart.
func (d pop3Dialect) end(x *scan, _ []string) { d.quit(x) }

func (pop3Dialect) quit(x *scan) {
	if x.sess.sendWithin("QUIT", goodbyeTimeout) != nil {
		return
	}
	if line, err := x.sess.readLine(); err == nil {
		x.probes().Goodbye = line
	}
}

// pop3CleartextLogin is the cleartext_login finding of a POP3 server from
// its cleartext CAPA: USER (RFC 2449 §6.3) or any SASL mechanism lets a
// client log in before STLS.
func pop3CleartextLogin(c cleartextSide) *Finding {
	var seen []string
	if _, ok := pop3Capability(c.caps, "USER"); ok {
		seen = append(seen, "USER")
	}
	if sasl, ok := pop3Capability(c.caps, "SASL"); ok && len(strings.Fields(sasl)) > 1 {
		seen = append(seen, sasl)
	}
	if len(seen) > 0 {
		return &Finding{true, "cleartext CAPA lists " + strings.Join(seen, ", ")}
	}
	return &Finding{false, "cleartext CAPA lists neither USER nor SASL mechanisms: " + strings.Join(c.caps, ", ")}
}
