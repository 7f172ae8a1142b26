package banner

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// readBufferSize is the bufio buffer of one connection. Replies are short;
// the rare longer line is accumulated in session.long up to MaxLineBytes, so
// 10,000 waiting connections hold 10 MiB of buffers, not the 640 MiB of a
// 64 KiB buffer each.
const readBufferSize = 1024

// goodbyeTimeout caps the wait for the reply to LOGOUT/QUIT: the facts are
// in by then, and a server that stalls here must not hold a worker for a
// whole ReadTimeout.
const goodbyeTimeout = 2 * time.Second

// quoteMax bounds how much of a server's reply an error message quotes.
const quoteMax = 96

// Sentinel errors of the reader. They are always wrapped by an error that
// names the exchange and carries the "banner:" prefix.
var (
	// errLineTooLong: a reply line longer than Config.MaxLineBytes.
	errLineTooLong = errors.New("reply line too long")
	// errReadLimit: the target sent more than Config.MaxBytes in all.
	errReadLimit = errors.New("read limit reached")
	// errCanceled: the caller's context ended the scan.
	errCanceled = errors.New("scan canceled")
)

// statusError carries the Status a failure maps to when the phase, not the
// error's kind, decides it (a TLS handshake, a refusal, a protocol
// violation), as zgrab2's ScanError does.
type statusError struct {
	status Status
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(st Status, err error) error {
	if err == nil {
		return nil
	}
	return &statusError{status: st, err: err}
}

// protocolErrorf returns an error that is StatusProtocolError.
func protocolErrorf(format string, args ...any) error {
	return withStatus(StatusProtocolError, fmt.Errorf(format, args...))
}

// refusedf returns an error that is StatusClosed: the server said no.
func refusedf(format string, args ...any) error {
	return withStatus(StatusClosed, fmt.Errorf(format, args...))
}

// statusOf maps the error that ended a dialogue to its Status. Errors are
// told apart with errors.Is/As, never by their text.
func statusOf(err error) Status {
	if err == nil {
		return StatusSuccess
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	var pe textproto.ProtocolError
	switch {
	case errors.Is(err, errLineTooLong), errors.Is(err, errReadLimit), errors.As(err, &pe):
		return StatusProtocolError
	case errors.Is(err, errCanceled), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return StatusIOTimeout
	}
	// io.EOF, io.ErrUnexpectedEOF, ECONNRESET, EPIPE, io.ErrClosedPipe and
	// anything else that breaks an established connection: it is gone.
	return StatusClosed
}

// dialStatus maps a failed dial to its Status.
func dialStatus(err error) Status {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return StatusConnectionRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETDOWN), errors.Is(err, syscall.EHOSTDOWN):
		return StatusUnreachable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return StatusConnectionTimeout
	}
	return StatusConnectionRefused
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// limitConn counts the bytes read from the connection and fails once
// MaxBytes have been read, whatever sits above it (bufio, crypto/tls): the
// one place that bounds what a server can make us read.
type limitConn struct {
	net.Conn
	n, max int
}

func (c *limitConn) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, errReadLimit
	}
	if room := c.max - c.n; len(p) > room {
		p = p[:room]
	}
	n, err := c.Conn.Read(p)
	c.n += n
	return n, err
}

// prefixConn hands bytes the line reader had already buffered past a
// STARTTLS reply to the TLS client before the socket's, so that a server
// that sends early (or garbage) fails the handshake the same way however
// its bytes were segmented.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// session is one connection's line-oriented I/O: a small bufio reader over
// the byte-limited conn (or the TLS conn above it), an exchange deadline,
// and the target's total deadline.
type session struct {
	raw      net.Conn
	limit    limitConn
	conn     net.Conn // &limit, or the *tls.Conn above it
	br       *bufio.Reader
	long     []byte // accumulates a line longer than the bufio buffer
	wbuf     []byte // command scratch
	maxLine  int
	timeout  time.Duration
	deadline time.Time
	canceled atomic.Bool
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

func newSession(c net.Conn, cfg *Config, deadline time.Time) *session {
	s := &session{raw: c, maxLine: cfg.MaxLineBytes, timeout: cfg.ReadTimeout, deadline: deadline}
	s.limit = limitConn{Conn: c, max: cfg.MaxBytes}
	s.conn = &s.limit
	s.br = readerPool.Get().(*bufio.Reader)
	s.br.Reset(s.conn)
	return s
}

// close closes the connection and returns the buffers; the session must
// not be used afterwards. The TLS layer is not closed politely: the
// goodbye has been said in the application protocol, and a close_notify
// could block on a server that stopped reading.
func (s *session) close() {
	s.raw.Close()
	s.br.Reset(nil)
	readerPool.Put(s.br)
	s.br = nil
	s.long = nil
}

// cancel aborts any blocked read or write at once. It is safe to call from
// another goroutine (context.AfterFunc).
func (s *session) cancel() {
	s.canceled.Store(true)
	s.raw.SetDeadline(time.Unix(1, 0))
}

// arm sets the deadline for the next exchange: d from now, but never past
// the target's total deadline.
func (s *session) arm(d time.Duration) {
	t := time.Now().Add(d)
	if t.After(s.deadline) {
		t = s.deadline
	}
	s.raw.SetDeadline(t)
	// Checked after setting, so a cancel racing with us cannot be undone:
	// either we see the flag, or cancel's past deadline lands after ours.
	if s.canceled.Load() {
		s.raw.SetDeadline(time.Unix(1, 0))
	}
}

// err returns errCanceled in place of a timeout that cancel caused.
func (s *session) err(err error) error {
	if err != nil && s.canceled.Load() && !errors.Is(err, errCanceled) {
		return fmt.Errorf("%w: %w", errCanceled, err)
	}
	return err
}

// bytesRead is the number of bytes read from the socket so far.
func (s *session) bytesRead() int { return s.limit.n }

// send arms the exchange deadline and writes cmd followed by CRLF.
func (s *session) send(cmd string) error { return s.sendWithin(cmd, s.timeout) }

// sendWithin is send with an exchange deadline of d (at most ReadTimeout).
func (s *session) sendWithin(cmd string, d time.Duration) error {
	s.arm(min(d, s.timeout))
	s.wbuf = append(append(s.wbuf[:0], cmd...), '\r', '\n')
	_, err := s.conn.Write(s.wbuf)
	return s.err(err)
}

// readLine returns the next line without its CRLF (or bare LF). A line
// longer than maxLine bytes (terminator included) fails with errLineTooLong;
// on any error the part of the line read so far is returned with it, at
// most maxLine bytes.
func (s *session) readLine() (string, error) {
	frag, err := s.br.ReadSlice('\n')
	if err == nil && len(frag) <= s.maxLine {
		return string(trimEOL(frag)), nil // the common case: one piece, one copy
	}
	s.long = s.long[:0]
	for {
		if room := s.maxLine - len(s.long); len(frag) > room {
			s.long = append(s.long, frag[:room]...)
			return string(s.long), errLineTooLong
		}
		s.long = append(s.long, frag...)
		if err != bufio.ErrBufferFull {
			break
		}
		frag, err = s.br.ReadSlice('\n')
	}
	if err != nil {
		return string(s.long), s.err(err)
	}
	return string(trimEOL(s.long)), nil
}

// waitGreeting arms the greeting's exchange deadline and blocks until the
// server sends its first byte, the read fails, or the deadline passes. It
// consumes nothing: the dialogue then reads the greeting under the same
// deadline (and meets any error again). Its point is where it waits, see
// Scanner.Scan.
func (s *session) waitGreeting() {
	s.arm(s.timeout)
	s.br.Peek(1)
}

// discard skips n bytes (an IMAP literal).
func (s *session) discard(n int64) error {
	if n > int64(s.limit.max) {
		return errReadLimit
	}
	_, err := s.br.Discard(int(n))
	return s.err(err)
}

// startTLS runs a client handshake over the connection and switches the
// line reader to it. Bytes already buffered are replayed to the TLS layer.
// The returned conn is non-nil even when the handshake fails, so that the
// caller can report how far it got.
func (s *session) startTLS(cfg *tls.Config) (*tls.Conn, error) {
	var under net.Conn = &s.limit
	if n := s.br.Buffered(); n > 0 {
		pre, _ := s.br.Peek(n)
		under = &prefixConn{Conn: &s.limit, pre: append([]byte(nil), pre...)}
	}
	tc := tls.Client(under, cfg)
	s.conn = tc
	s.br.Reset(tc)
	s.arm(s.timeout)
	return tc, s.err(tc.Handshake())
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// quote renders server bytes for an error message: Go-quoted and cut short.
func quote(s string) string {
	if len(s) > quoteMax {
		return fmt.Sprintf("%q...", s[:quoteMax])
	}
	return fmt.Sprintf("%q", s)
}

var (
	_ net.Conn = (*limitConn)(nil)
	_ net.Conn = (*prefixConn)(nil)
)
