package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"time"
)

// Ready waits, up to ctx's deadline, until each of targets answers as the
// lab's servers are configured to, seen from where it runs (lab.sh runs it
// in the first scanner namespace, through the router): POP3 (110) and IMAP
// (143) greet with OK; SMTP on 25 greets, and its EHLO offers STARTTLS and
// no AUTH; submission on 587 offers STARTTLS and AUTH (an AUTH missing there
// means Postfix cannot reach Dovecot's auth socket, which it only logs). A
// refused connection is retried: the servers may still be starting.
func Ready(ctx context.Context, targets []netip.AddrPort) error {
	for _, ap := range targets {
		var err error
		for {
			if err = probe(ctx, ap); err == nil || ctx.Err() != nil {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		if err != nil {
			return fmt.Errorf("lab: %s not ready: %w", ap, err)
		}
	}
	return nil
}

func probe(ctx context.Context, ap netip.AddrPort) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	c.SetDeadline(deadline)
	tp := textproto.NewConn(c)
	switch ap.Port() {
	case 110, 143:
		line, err := tp.ReadLine()
		if err != nil {
			return err
		}
		if !strings.Contains(line, "OK") {
			return fmt.Errorf("greeting %q", line)
		}
		return nil
	case 25, 587:
		if _, msg, err := tp.ReadResponse(220); err != nil || !strings.Contains(msg, "ESMTP") {
			return fmt.Errorf("greeting %q: %v", msg, err)
		}
		id, err := tp.Cmd("EHLO scanner.lab.mailscan.test")
		if err != nil {
			return err
		}
		tp.StartResponse(id)
		_, msg, err := tp.ReadResponse(250)
		tp.EndResponse(id)
		if err != nil {
			return fmt.Errorf("EHLO: %q: %v", msg, err)
		}
		tp.PrintfLine("QUIT")
		ext := map[string]bool{}
		for _, l := range strings.Split(msg, "\n") {
			kw, _, _ := strings.Cut(l, " ")
			ext[strings.ToUpper(kw)] = true
		}
		if !ext["STARTTLS"] || ext["AUTH"] != (ap.Port() == 587) {
			return fmt.Errorf("EHLO reply %q: want STARTTLS, and AUTH on 587 only", msg)
		}
		return nil
	}
	return nil // any other port: a connection is all it promises
}
