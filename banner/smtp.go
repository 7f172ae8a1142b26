package banner

import (
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
)

// smtpReply is one SMTP reply (RFC 5321 §4.2), possibly multi-line.
type smtpReply struct {
	Code int
	// Lines are the lines as sent, without CRLF.
	Lines []string
	// Text is the text of each line after its "250-"/"250 " prefix; a line
	// tolerated inside a multi-line reply without a proper prefix (see
	// readSMTPReply) is kept whole.
	Text []string
}

// raw returns the reply as sent, lines joined with "\n".
func (r smtpReply) raw() string { return strings.Join(r.Lines, "\n") }

// parseSMTPLine parses one reply line: a three-digit code ≥ 100, then ' '
// (last line), '-' (more follow) or nothing (RFC 5321 allows a bare code),
// then the text. It is net/textproto's parseCodeLine, but accepting the
// bare code; errors are textproto.ProtocolError.
func parseSMTPLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return 0, false, "", textproto.ProtocolError("short response: " + quote(line))
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", textproto.ProtocolError("invalid response code: " + quote(line))
		}
	}
	code, _ = strconv.Atoi(line[:3])
	if code < 100 {
		return 0, false, "", textproto.ProtocolError("invalid response code: " + quote(line))
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	return code, line[3] == '-', line[4:], nil
}

// readSMTPReply reads one reply, a line at a time from next, with
// textproto.Reader.ReadResponse's semantics: the first line must parse; the
// reply continues while lines read "code-"; inside it a line that does not
// parse or carries another code is kept as text (RFC 959 §4.2 code-less
// middle lines) and does not end the reply. What was read is returned also
// on error.
func readSMTPReply(next func() (string, error)) (smtpReply, error) {
	var r smtpReply
	line, err := next()
	if err != nil {
		if line != "" {
			r.Lines = append(r.Lines, line)
		}
		return r, err
	}
	r.Lines = append(r.Lines, line)
	code, more, text, err := parseSMTPLine(line)
	if err != nil {
		return r, err
	}
	r.Code = code
	r.Text = append(r.Text, text)
	for more {
		line, err := next()
		if line != "" || err == nil {
			r.Lines = append(r.Lines, line)
		}
		if err != nil {
			return r, err
		}
		code2, more2, text2, err := parseSMTPLine(line)
		if err != nil || code2 != code {
			r.Text = append(r.Text, line)
			continue
		}
		r.Text = append(r.Text, text2)
		more = more2
	}
	return r, nil
}

// smtpKeyword returns the EHLO keyword of a capability line, upper-cased
// ("SIZE 10240000" → "SIZE"). The pre-RFC "AUTH=LOGIN" form gives "AUTH".
func smtpKeyword(line string) string {
	kw, _, _ := strings.Cut(line, " ")
	kw = strings.ToUpper(kw)
	if strings.HasPrefix(kw, "AUTH=") {
		return "AUTH"
	}
	return kw
}

// smtpExtension returns the EHLO lines whose keyword is kw.
func smtpExtension(caps []string, kw string) []string {
	var out []string
	for _, c := range caps {
		if smtpKeyword(c) == kw {
			out = append(out, c)
		}
	}
	return out
}

// smtpDomain returns the host name an SMTP greeting or EHLO reply announces
// in its first word ("mx.example.com ESMTP Postfix"), "" when that word is
// not a host name (an address literal, junk).
func smtpDomain(text string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	return hostnameOf(first)
}

// smtpDialect is the SMTP dialect (RFC 5321, STARTTLS RFC 3207) of
// ports 25, 587 and 465. The host name the server announces is kept on
// the scan (x.announced): the TLS check needs it.
type smtpDialect struct{}

// read reads one reply for cmd.
func (smtpDialect) read(x *scan, cmd string) (smtpReply, error) {
	r, err := readSMTPReply(x.sess.readLine)
	if err != nil {
		return r, fmt.Errorf("banner: read %s reply: %w", cmd, err)
	}
	return r, nil
}

// cmd sends cmd and reads its reply.
func (d smtpDialect) cmd(x *scan, cmd string) (smtpReply, error) {
	verb, _, _ := strings.Cut(cmd, " ")
	if err := x.sess.send(cmd); err != nil {
		return smtpReply{}, fmt.Errorf("banner: send %s: %w", verb, err)
	}
	return d.read(x, verb)
}

// greeting reads the greeting, possibly multi-line: 2xx goes on; 4xx/5xx
// is a refusal (QUIT first).
func (d smtpDialect) greeting(x *scan) (greetingFacts, error) {
	g, err := d.read(x, "greeting")
	x.r.Greeting = g.raw()
	if err != nil {
		return greetingFacts{}, err
	}
	x.greetingOK = true
	x.announced = smtpDomain(g.Text[0])
	switch g.Code / 100 {
	case 2:
		return greetingFacts{}, nil
	case 4, 5:
		d.quit(x)
		return greetingFacts{}, refusedf("banner: server refused: %s", quote(g.raw()))
	}
	return greetingFacts{}, protocolErrorf("banner: not an SMTP greeting: %s", quote(g.raw()))
}

// capabilities sends EHLO and returns the keyword lines of its reply; a
// server that rejects EHLO with 5xx gets HELO (RFC 5321 §4.1.4), and then
// has no extensions (heloOnly).
func (d smtpDialect) capabilities(x *scan, _ []string) (capsFacts, error) {
	r, err := d.cmd(x, "EHLO "+x.s.cfg.EHLOName)
	if err != nil {
		return capsFacts{}, err
	}
	switch r.Code / 100 {
	case 2:
		if x.announced == "" {
			x.announced = smtpDomain(r.Text[0])
		}
		return capsFacts{list: append([]string{}, r.Text[1:]...), known: true}, nil
	case 5:
		h, err := d.cmd(x, "HELO "+x.s.cfg.EHLOName)
		if err != nil {
			return capsFacts{}, err
		}
		if h.Code/100 != 2 {
			return capsFacts{}, refusedf("banner: EHLO and HELO refused: %s", quote(h.raw()))
		}
		return capsFacts{list: []string{}, known: true, heloOnly: true}, nil
	}
	return capsFacts{}, refusedf("banner: EHLO refused: %s", quote(r.raw()))
}

func (smtpDialect) startTLSOffered(caps []string) bool {
	return len(smtpExtension(caps, "STARTTLS")) > 0
}

func (d smtpDialect) startTLS(x *scan) (string, bool, error) {
	r, err := d.cmd(x, "STARTTLS")
	return r.raw(), err == nil && r.Code == 220, err
}

func (d smtpDialect) quit(x *scan) {
	if x.sess.sendWithin("QUIT", goodbyeTimeout) != nil {
		return
	}
	d.goodbye(x)
}

func (smtpDialect) goodbye(x *scan) {
	if r, err := readSMTPReply(x.sess.readLine); err == nil {
		x.probes().Goodbye = r.raw()
	}
}

// end sends HELP, then QUIT. HELP is harmless before login and its text
// differs between implementations (some state their version). Where
// PIPELINING is announced the two go out in one write (RFC 2920 lets QUIT
// end a group), so the probe costs no round trip; elsewhere it costs one:
// servers without PIPELINING may refuse commands sent ahead of a reply
// (OpenSMTPD does).
func (d smtpDialect) end(x *scan, caps []string) {
	p := x.probes()
	p.Sent = append(p.Sent, "HELP")
	pipelined := len(smtpExtension(caps, "PIPELINING")) > 0
	cmd := "HELP"
	if pipelined {
		cmd = "HELP\r\nQUIT"
	}
	if x.sess.send(cmd) != nil {
		return
	}
	r, err := readSMTPReply(x.sess.readLine)
	if len(r.Lines) > 0 {
		p.Help = r.raw()
	}
	if err != nil {
		return
	}
	if pipelined {
		x.sess.arm(goodbyeTimeout)
		d.goodbye(x)
		return
	}
	d.quit(x)
}

// smtpCleartextLogin is the cleartext_login finding of an SMTP server from
// its cleartext EHLO: AUTH offered before STARTTLS.
func smtpCleartextLogin(c cleartextSide) *Finding {
	if c.heloOnly {
		return &Finding{false, "EHLO refused, HELO has no AUTH"}
	}
	if auth := smtpExtension(c.caps, "AUTH"); len(auth) > 0 {
		return &Finding{true, "cleartext EHLO lists " + strings.Join(auth, ", ")}
	}
	return &Finding{false, "cleartext EHLO lists no AUTH"}
}
