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

// pop3Status reads one status line.
func (x *scan) pop3Status(cmd string) (bool, string, error) {
	line, err := x.sess.readLine()
	if err != nil {
		return false, line, fmt.Errorf("banner: read %s response: %w", cmd, err)
	}
	ok, _, err := parsePOP3Status(line)
	return ok, line, err
}

// pop3Capa runs CAPA (RFC 2449). supported is false when the server
// answers -ERR: old servers lack the command.
func (x *scan) pop3Capa() (caps []string, supported bool, err error) {
	if err := x.sess.send("CAPA"); err != nil {
		return nil, false, fmt.Errorf("banner: send CAPA: %w", err)
	}
	ok, line, err := x.pop3Status("CAPA")
	if err != nil || !ok {
		if err == nil {
			// The server's wording for a command it lacks tells software apart.
			x.probes().Error = line
		}
		return nil, false, err
	}
	caps = []string{}
	for {
		line, err := x.sess.readLine()
		if err != nil {
			return caps, true, fmt.Errorf("banner: read CAPA response: %w", err)
		}
		c, end := unstuffPOP3(line)
		if end {
			return caps, true, nil
		}
		caps = append(caps, c)
	}
}

// pop3 runs the POP3 dialogue:
//
//  1. POP3S only: the TLS handshake.
//  2. Read the greeting: "+OK" (its APOP timestamp noted) or "-ERR"
//     (refused: stop, status closed).
//  3. "CAPA"; the lines up to "." are the capability list. A server
//     without CAPA (-ERR) announces nothing, STLS included.
//  4. If STLS is listed: "STLS", the TLS handshake, and "CAPA" again.
//  5. "QUIT"; its reply is read briefly and ignored.
func (x *scan) pop3() error {
	implicit := x.r.Protocol.ImplicitTLS()
	if err := x.implicitHandshake(); err != nil {
		return err
	}
	line, err := x.sess.readLine()
	x.r.Greeting = line
	if err != nil {
		return fmt.Errorf("banner: read greeting: %w", err)
	}
	ok, text, err := parsePOP3Status(line)
	if err != nil {
		return err
	}
	x.greetingOK = true
	x.r.APOPTimestamp = apopTimestamp(text)
	if !ok {
		return refusedf("banner: server refused: %s", quote(line))
	}

	caps, supported, err := x.pop3Capa()
	if err != nil {
		return err
	}
	if implicit {
		if supported {
			x.capsAfter(caps)
		}
		x.pop3Quit()
		return nil
	}
	if !supported {
		x.pop3Quit()
		return nil
	}
	x.capsBefore(caps)
	_, stls := pop3Capability(caps, "STLS")
	x.clear = cleartextSide{known: true, caps: caps, starttls: stls}
	if !stls {
		x.pop3Quit()
		return nil
	}
	st := &StartTLS{Offered: true, Attempted: true}
	x.r.StartTLS = st
	if err := x.sess.send("STLS"); err != nil {
		return fmt.Errorf("banner: send STLS: %w", err)
	}
	ok, raw, err := x.pop3Status("STLS")
	st.Response = raw
	if err != nil {
		return err
	}
	if !ok {
		st.Error = "refused: " + raw
		x.pop3Quit()
		return nil
	}
	if err := x.handshake(); err != nil {
		return err
	}
	caps, supported, err = x.pop3Capa()
	if err != nil {
		return err
	}
	if supported {
		x.capsAfter(caps)
	}
	x.pop3Quit()
	return nil
}

func (x *scan) pop3Quit() {
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
