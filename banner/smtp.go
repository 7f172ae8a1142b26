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

// smtpRead reads one reply for cmd.
func (x *scan) smtpRead(cmd string) (smtpReply, error) {
	r, err := readSMTPReply(x.sess.readLine)
	if err != nil {
		return r, fmt.Errorf("banner: read %s reply: %w", cmd, err)
	}
	return r, nil
}

// smtpCmd sends cmd and reads its reply.
func (x *scan) smtpCmd(cmd string) (smtpReply, error) {
	if err := x.sess.send(cmd); err != nil {
		verb, _, _ := strings.Cut(cmd, " ")
		return smtpReply{}, fmt.Errorf("banner: send %s: %w", verb, err)
	}
	verb, _, _ := strings.Cut(cmd, " ")
	return x.smtpRead(verb)
}

// smtpHello sends EHLO and returns the keyword lines of its reply; a server
// that rejects EHLO with 5xx gets HELO (RFC 5321 §4.1.4), and then has no
// extensions (heloOnly).
func (x *scan) smtpHello() (caps []string, heloOnly bool, err error) {
	r, err := x.smtpCmd("EHLO " + x.s.cfg.EHLOName)
	if err != nil {
		return nil, false, err
	}
	switch r.Code / 100 {
	case 2:
		if x.announced == "" {
			x.announced = smtpDomain(r.Text[0])
		}
		return append([]string{}, r.Text[1:]...), false, nil
	case 5:
		h, err := x.smtpCmd("HELO " + x.s.cfg.EHLOName)
		if err != nil {
			return nil, false, err
		}
		if h.Code/100 != 2 {
			return nil, false, refusedf("banner: EHLO and HELO refused: %s", quote(h.raw()))
		}
		return []string{}, true, nil
	}
	return nil, false, refusedf("banner: EHLO refused: %s", quote(r.raw()))
}

// smtp runs the SMTP dialogue (ports 25, 587, 465):
//
//  1. SMTPS only: the TLS handshake.
//  2. Read the greeting, possibly multi-line: 2xx goes on; 4xx/5xx is a
//     refusal (QUIT, then stop with status closed).
//  3. "EHLO <name>" (HELO if EHLO gets 5xx); the reply's lines after the
//     first are the capability list.
//  4. If STARTTLS is listed: "STARTTLS", on 220 the TLS handshake, and
//     "EHLO <name>" again.
//  5. "QUIT"; its reply is read briefly and ignored.
func (x *scan) smtp() error {
	implicit := x.r.Protocol.ImplicitTLS()
	if err := x.implicitHandshake(); err != nil {
		return err
	}
	g, err := x.smtpRead("greeting")
	x.r.Greeting = g.raw()
	if err != nil {
		return err
	}
	x.greetingOK = true
	x.announced = smtpDomain(g.Text[0])
	switch g.Code / 100 {
	case 2:
	case 4, 5:
		x.smtpQuit()
		return refusedf("banner: server refused: %s", quote(g.raw()))
	default:
		return protocolErrorf("banner: not an SMTP greeting: %s", quote(g.raw()))
	}

	caps, heloOnly, err := x.smtpHello()
	if err != nil {
		return err
	}
	if implicit {
		x.capsAfter(caps)
		x.smtpEnd(caps)
		return nil
	}
	x.capsBefore(caps)
	x.clear = cleartextSide{known: true, caps: caps, heloOnly: heloOnly,
		starttls: len(smtpExtension(caps, "STARTTLS")) > 0}
	if !x.clear.starttls {
		x.smtpEnd(caps)
		return nil
	}
	st := &StartTLS{Offered: true, Attempted: true}
	x.r.StartTLS = st
	r, err := x.smtpCmd("STARTTLS")
	st.Response = r.raw()
	if err != nil {
		return err
	}
	if r.Code != 220 {
		st.Error = "refused: " + r.raw()
		x.smtpQuit()
		return nil
	}
	if err := x.handshake(); err != nil {
		return err
	}
	caps, _, err = x.smtpHello()
	if err != nil {
		return err
	}
	x.capsAfter(caps)
	x.smtpEnd(caps)
	return nil
}

func (x *scan) smtpQuit() {
	if x.sess.sendWithin("QUIT", goodbyeTimeout) != nil {
		return
	}
	x.smtpGoodbye()
}

func (x *scan) smtpGoodbye() {
	if r, err := readSMTPReply(x.sess.readLine); err == nil {
		x.probes().Goodbye = r.raw()
	}
}

// smtpEnd ends a session whose EHLO keywords are caps with HELP, then QUIT.
// HELP is harmless before login and its text differs between
// implementations (some state their version). Where PIPELINING is announced
// the two go out in one write (RFC 2920 lets QUIT end a group), so the
// probe costs no round trip; elsewhere it costs one: servers without
// PIPELINING may refuse commands sent ahead of a reply (OpenSMTPD does).
func (x *scan) smtpEnd(caps []string) {
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
		x.smtpGoodbye()
		return
	}
	x.smtpQuit()
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
