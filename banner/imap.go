package banner

import (
	"fmt"
	"strconv"
	"strings"
)

// imapResponse is one parsed IMAP response line (RFC 3501 §7, §9
// "response-*"). Parsing is pure: parseIMAPLine over a line without CRLF.
type imapResponse struct {
	// Tag is "*" for untagged data, "+" for a continuation request, else the
	// tag of the command completed.
	Tag string
	// Cond is the first atom after the tag, upper-cased: a condition (OK,
	// NO, BAD, PREAUTH, BYE), a data name (CAPABILITY), or a number
	// ("* 23 EXISTS"). Empty for a continuation.
	Cond string
	// Code is the response code without its brackets ("CAPABILITY IMAP4rev1
	// STARTTLS"), for status responses only.
	Code string
	// Text is what follows the condition and code: human-readable text for
	// status responses, the data for others ("IMAP4rev1 STARTTLS" after
	// "* CAPABILITY").
	Text string
}

// isStatus reports whether Cond is a status condition, which may carry a
// response code.
func (r imapResponse) isStatus() bool {
	switch r.Cond {
	case "OK", "NO", "BAD", "PREAUTH", "BYE":
		return true
	}
	return false
}

// capabilities returns the capability atoms the response carries: the data
// of "* CAPABILITY ...", or a [CAPABILITY ...] response code; nil if none.
func (r imapResponse) capabilities() []string {
	if r.Tag == "*" && r.Cond == "CAPABILITY" {
		return nonNil(strings.Fields(r.Text))
	}
	if name, rest, _ := strings.Cut(r.Code, " "); strings.EqualFold(name, "CAPABILITY") {
		return nonNil(strings.Fields(rest))
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parseIMAPLine parses one response line. It fails with a
// textproto.ProtocolError-compatible error when the line is not IMAP: no
// tag, a tag with characters RFC 3501 forbids, or no space after the tag.
func parseIMAPLine(line string) (imapResponse, error) {
	var r imapResponse
	tag, rest, ok := strings.Cut(line, " ")
	if tag == "+" {
		r.Tag, r.Text = "+", rest
		return r, nil
	}
	if !ok || !validIMAPTag(tag) {
		return r, protocolErrorf("banner: not an IMAP response: %s", quote(line))
	}
	r.Tag = tag
	cond, rest, _ := strings.Cut(rest, " ")
	if cond == "" {
		return r, protocolErrorf("banner: IMAP response without a condition: %s", quote(line))
	}
	r.Cond = strings.ToUpper(cond)
	if r.isStatus() && strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			r.Code = rest[1:end]
			rest = strings.TrimPrefix(rest[end+1:], " ")
		}
	}
	r.Text = rest
	return r, nil
}

// validIMAPTag reports whether tag is "*" or a non-empty run of
// ASTRING-CHAR other than '+' (RFC 3501 §9 "tag").
func validIMAPTag(tag string) bool {
	if tag == "*" {
		return true
	}
	if tag == "" {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return true
}

// parseIMAPGreeting parses an IMAP greeting (RFC 3501 §7.1: "* OK",
// "* PREAUTH" or "* BYE", each with an optional response code).
func parseIMAPGreeting(line string) (imapResponse, error) {
	r, err := parseIMAPLine(line)
	if err != nil {
		return r, protocolErrorf("banner: not an IMAP greeting: %s", quote(line))
	}
	if r.Tag != "*" || (r.Cond != "OK" && r.Cond != "PREAUTH" && r.Cond != "BYE") {
		return r, protocolErrorf("banner: not an IMAP greeting: %s", quote(line))
	}
	return r, nil
}

// imapLiteral returns the size of the literal a line announces at its end
// ("{123}" or the LITERAL+ "{123+}"), and whether it announces one.
func imapLiteral(line string) (int64, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	num := strings.TrimSuffix(line[open+1:len(line)-1], "+")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || num[0] == '+' {
		return 0, false
	}
	return n, true
}

// hasAtom reports whether caps holds want, compared case-insensitively as
// capability names are (RFC 3501 §7.2.1).
func hasAtom(caps []string, want string) bool {
	for _, c := range caps {
		if strings.EqualFold(c, want) {
			return true
		}
	}
	return false
}

// imapDialect is the IMAP dialect (RFC 3501): tagged commands, tags
// a001, a002, ... in order.
type imapDialect struct {
	tag int
}

func (d *imapDialect) nextTag() string {
	d.tag++
	return fmt.Sprintf("a%03d", d.tag)
}

// cmd sends "<tag> cmd" and reads the response up to the tagged line,
// which it returns parsed, with the raw line. Untagged lines go to
// onUntagged (may be nil); literals they announce are skipped.
func (d *imapDialect) cmd(x *scan, cmd string, onUntagged func(imapResponse)) (imapResponse, string, error) {
	tag := d.nextTag()
	if err := x.sess.send(tag + " " + cmd); err != nil {
		return imapResponse{}, "", fmt.Errorf("banner: send %s: %w", cmd, err)
	}
	return d.read(x, tag, cmd, onUntagged)
}

func (d *imapDialect) read(x *scan, tag, cmd string, onUntagged func(imapResponse)) (imapResponse, string, error) {
	var bye string
	for {
		line, err := x.sess.readLine()
		if err != nil {
			if bye != "" && statusOf(err) == StatusClosed {
				return imapResponse{}, "", refusedf("banner: server closed after %s: %s", cmd, quote(bye))
			}
			return imapResponse{}, "", fmt.Errorf("banner: read %s response: %w", cmd, err)
		}
		r, err := parseIMAPLine(line)
		if err != nil {
			return r, line, err
		}
		for lit, ok := imapLiteral(line); ok; lit, ok = imapLiteral(line) {
			if err := x.sess.discard(lit); err != nil {
				return r, line, fmt.Errorf("banner: read %s response: %w", cmd, err)
			}
			if line, err = x.sess.readLine(); err != nil {
				return r, line, fmt.Errorf("banner: read %s response: %w", cmd, err)
			}
		}
		switch {
		case r.Tag == "*":
			if r.Cond == "BYE" {
				bye = line
			}
			if onUntagged != nil {
				onUntagged(r)
			}
		case strings.EqualFold(r.Tag, tag):
			if !r.isStatus() || r.Cond == "PREAUTH" || r.Cond == "BYE" {
				return r, line, protocolErrorf("banner: bad tagged IMAP response to %s: %s", cmd, quote(line))
			}
			return r, line, nil
		default:
			return r, line, protocolErrorf("banner: unexpected IMAP response to %s: %s", cmd, quote(line))
		}
	}
}

// greeting reads "* OK", "* PREAUTH" (STARTTLS is then not allowed) or
// "* BYE" (refused), with its [CAPABILITY] code when present.
func (d *imapDialect) greeting(x *scan) (greetingFacts, error) {
	line, err := x.readGreetingLine()
	if err != nil {
		return greetingFacts{}, err
	}
	g, err := parseIMAPGreeting(line)
	if err != nil {
		return greetingFacts{}, err
	}
	x.greetingOK = true
	if g.Cond == "BYE" {
		return greetingFacts{}, refusedf("banner: server refused: %s", quote(line))
	}
	return greetingFacts{caps: g.capabilities(), preauth: g.Cond == "PREAUTH"}, nil
}

// capabilities runs CAPABILITY: the untagged CAPABILITY data or, failing
// that, a [CAPABILITY] code of the tagged reply, or else fallback (the
// greeting's code). CAPABILITY is mandatory in every IMAP4rev1 state, so
// the list is always known.
func (d *imapDialect) capabilities(x *scan, fallback []string) (capsFacts, error) {
	var caps []string
	resp, raw, err := d.cmd(x, "CAPABILITY", func(r imapResponse) {
		if c := r.capabilities(); c != nil {
			caps = c
		}
	})
	if err != nil {
		return capsFacts{}, err
	}
	if resp.Cond != "OK" {
		return capsFacts{}, protocolErrorf("banner: CAPABILITY failed: %s", quote(raw))
	}
	if caps == nil {
		caps = resp.capabilities()
	}
	if caps == nil {
		caps = fallback
	}
	return capsFacts{list: caps, known: true}, nil
}

func (d *imapDialect) startTLSOffered(caps []string) bool { return hasAtom(caps, "STARTTLS") }

func (d *imapDialect) startTLS(x *scan) (string, bool, error) {
	resp, raw, err := d.cmd(x, "STARTTLS", nil)
	return raw, err == nil && resp.Cond == "OK", err
}

func (d *imapDialect) quit(x *scan) {
	tag := d.nextTag()
	if x.sess.sendWithin(tag+" LOGOUT", goodbyeTimeout) != nil {
		return
	}
	d.goodbye(x, tag)
}

// goodbye reads the reply to LOGOUT (tag) and records it.
func (d *imapDialect) goodbye(x *scan, tag string) {
	var bye string
	_, raw, err := d.read(x, tag, "LOGOUT", func(r imapResponse) {
		if r.Cond == "BYE" && bye == "" {
			bye = "* BYE " + r.Text
		}
	})
	if bye != "" || err == nil {
		x.probes().Goodbye = strings.TrimPrefix(bye+"\n"+raw, "\n")
	}
}

// end ends a session whose capabilities are caps. Where they announce ID
// (RFC 2971), "ID NIL" goes out in one write with LOGOUT, so the probe
// costs no round trip: IMAP lets a client send commands before the replies
// to earlier ones (RFC 3501 §5.5), and ID NIL tells nothing about us.
func (d *imapDialect) end(x *scan, caps []string) {
	if !hasAtom(caps, "ID") {
		d.quit(x)
		return
	}
	idTag, outTag := d.nextTag(), d.nextTag()
	p := x.probes()
	p.Sent = append(p.Sent, idTag+" ID NIL")
	if x.sess.send(idTag+" ID NIL\r\n"+outTag+" LOGOUT") != nil {
		return
	}
	var id string
	_, raw, err := d.read(x, idTag, "ID", func(r imapResponse) {
		if r.Cond == "ID" && id == "" {
			id = "* ID " + r.Text
		}
	})
	switch {
	case id != "":
		p.ID = id
	case raw != "":
		p.ID = raw // the tagged refusal ("BAD ID Wrong state") tells software apart too
	}
	if err != nil {
		return
	}
	x.sess.arm(goodbyeTimeout)
	d.goodbye(x, outTag)
}

// imapCleartextLogin is the cleartext_login finding of an IMAP server from
// its cleartext capabilities: a client may send LOGIN unless LOGINDISABLED
// is announced (RFC 3501 §6.2.3).
func imapCleartextLogin(c cleartextSide) *Finding {
	if c.preauth {
		return &Finding{false, "PREAUTH greeting: the session is authenticated without a login"}
	}
	list := strings.Join(c.caps, " ")
	if hasAtom(c.caps, "LOGINDISABLED") {
		return &Finding{false, "cleartext CAPABILITY lists LOGINDISABLED: " + list}
	}
	return &Finding{true, "cleartext CAPABILITY lacks LOGINDISABLED: " + list}
}
