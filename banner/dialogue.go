package banner

import "fmt"

// Family is the application protocol of a dialogue, spoken on top of any
// TLS. Its zero value is invalid.
type Family string

// The families, one dialect each.
const (
	FamilyIMAP Family = "imap"
	FamilyPOP3 Family = "pop3"
	FamilySMTP Family = "smtp"
)

// dialect is one protocol's part of the dialogue: the steps the driver
// (scan.converse) runs in the same order for every protocol. A dialect
// holds its own per-connection state (IMAP's tag counter); a fresh one
// serves each target. Adding a probe is a change in one dialect's end.
type dialect interface {
	// greeting reads and records the server's first reply (x.r.Greeting,
	// x.greetingOK as soon as it is the protocol's). A refusal is a
	// refusedf error; the dialect says goodbye first where the protocol
	// expects it.
	greeting(x *scan) (greetingFacts, error)
	// capabilities asks for the capability list; fallback is what the
	// greeting announced. known is false when the server has no such
	// command (POP3 without CAPA).
	capabilities(x *scan, fallback []string) (capsFacts, error)
	// startTLSOffered reports whether caps announce the upgrade.
	startTLSOffered(caps []string) bool
	// startTLS sends the upgrade command and returns the reply as sent and
	// whether the server accepted.
	startTLS(x *scan) (reply string, ok bool, err error)
	// end closes a session that ran its course: the extra probes (recorded
	// in x.r.Probes), then the goodbye. It never fails the scan.
	end(x *scan, caps []string)
	// quit says goodbye after a refusal, without probes.
	quit(x *scan)
}

// greetingFacts is what a greeting tells the driver.
type greetingFacts struct {
	caps    []string // IMAP [CAPABILITY ...] code
	preauth bool     // IMAP PREAUTH: the session is authenticated already
}

// capsFacts is the outcome of asking for capabilities.
type capsFacts struct {
	list     []string
	known    bool // the server answered the command
	heloOnly bool // SMTP: EHLO refused, HELO accepted
}

// newDialect returns the dialect of family f.
func newDialect(f Family) dialect {
	switch f {
	case FamilyIMAP:
		return &imapDialect{}
	case FamilyPOP3:
		return pop3Dialect{}
	default:
		return smtpDialect{}
	}
}

// converse runs the dialogue with dialect d:
//
//  1. implicit-TLS ports: the TLS handshake;
//  2. the greeting (a refusal ends here, status closed);
//  3. the capabilities;
//  4. where STARTTLS is offered on a cleartext port (and the session is
//     not PREAUTH): the upgrade, the handshake, the capabilities again;
//  5. the end: extra probes and goodbye.
//
// It never sends a credential: the dialects send only what the package
// documentation lists.
func (x *scan) converse(d dialect) error {
	implicit := x.r.Protocol.ImplicitTLS()
	if err := x.implicitHandshake(); err != nil {
		return err
	}
	g, err := d.greeting(x)
	if err != nil {
		return err
	}
	c, err := d.capabilities(x, g.caps)
	if err != nil {
		return err
	}
	if implicit {
		if c.known {
			x.capsAfter(c.list)
		}
		d.end(x, c.list)
		return nil
	}
	if !c.known {
		d.end(x, c.list)
		return nil
	}
	x.capsBefore(c.list)
	x.clear = cleartextSide{known: true, caps: c.list, preauth: g.preauth, heloOnly: c.heloOnly,
		starttls: d.startTLSOffered(c.list)}
	if !x.clear.starttls {
		d.end(x, c.list)
		return nil
	}
	st := &StartTLS{Offered: true}
	x.r.StartTLS = st
	if g.preauth {
		st.Error = "not attempted: PREAUTH session (RFC 3501 allows STARTTLS only before authentication)"
		d.quit(x)
		return nil
	}
	st.Attempted = true
	reply, ok, err := d.startTLS(x)
	st.Response = reply
	if err != nil {
		return err
	}
	if !ok {
		st.Error = "refused: " + reply
		d.quit(x)
		return nil
	}
	if err := x.handshake(); err != nil {
		return err
	}
	if c, err = d.capabilities(x, nil); err != nil {
		return err
	}
	if c.known {
		x.capsAfter(c.list)
	}
	d.end(x, c.list)
	return nil
}

// readGreetingLine reads a one-line greeting and records it.
func (x *scan) readGreetingLine() (string, error) {
	line, err := x.sess.readLine()
	x.r.Greeting = line
	if err != nil {
		return line, fmt.Errorf("banner: read greeting: %w", err)
	}
	return line, nil
}

var (
	_ dialect = (*imapDialect)(nil)
	_ dialect = pop3Dialect{}
	_ dialect = smtpDialect{}
)
