package banner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"time"

	"mailscan/banner/fingerprint"
	"mailscan/blocklist"
)

// Defaults applied by NewScanner to zero Config fields.
const (
	DefaultReadTimeout    = 10 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultTargetTimeout  = 30 * time.Second
	// DefaultMaxLineBytes follows RFC 7162 §4, which asks IMAP clients to
	// accept lines of 8192 octets; SMTP and POP3 lines are far shorter.
	DefaultMaxLineBytes = 8192
	// DefaultMaxBytes bounds everything read from one target, TLS records
	// included: room for a greeting, two capability lists and a
	// certificate chain of a dozen kilobytes.
	DefaultMaxBytes = 64 << 10

	// minLineBytes is the smallest MaxLineBytes accepted: below it real
	// greetings do not fit.
	minLineBytes = 128
)

// Target is one service to scan.
type Target struct {
	Addr netip.Addr
	Port uint16
	// Protocol is the dialogue to run; empty means the port's well-known
	// protocol (ProtocolForPort without overrides).
	Protocol Protocol
}

// Config configures a Scanner. A nil *Config, and any zero field, applies
// the default.
type Config struct {
	// ReadTimeout bounds each exchange: the greeting, a command with its
	// whole reply, a TLS handshake. Default 10s.
	ReadTimeout time.Duration
	// TargetTimeout bounds the whole scan of a target, connect included.
	// Default 30s.
	TargetTimeout time.Duration
	// ConnectTimeout bounds the TCP connect (never beyond TargetTimeout).
	// Default 10s.
	ConnectTimeout time.Duration
	// EHLOName is the name sent with EHLO/HELO. Default: os.Hostname(), or
	// "localhost" when that fails. It must not hold spaces or control
	// characters.
	EHLOName string
	// SourceIP is the local address to dial IPv4 targets from, SourceIP6
	// the one to dial IPv6 targets from; the zero Addr lets the kernel
	// choose.
	SourceIP  netip.Addr
	SourceIP6 netip.Addr
	// MaxLineBytes bounds one reply line, CRLF included. Default 8192,
	// minimum 128.
	MaxLineBytes int
	// MaxBytes bounds all bytes read from one target. Default 64 KiB; at
	// least MaxLineBytes.
	MaxBytes int
	// Matcher names the software from the facts of the dialogue
	// (Result.Facts). Default fingerprint.Builtin().
	Matcher *fingerprint.Matcher
	// RootCAs are the roots chains are verified against. Default: the
	// system roots.
	RootCAs *x509.CertPool
	// Dial opens the TCP connection. Default (nil): a net.Dialer bound to
	// SourceIP. Tests inject in-memory transports here.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Policy is the exclusion policy, checked right before every dial
	// (also with a custom Dial): a target it denies gets StatusExcluded and
	// no packet. Default: blocklist.DefaultPolicy(), the reserved ranges.
	Policy *blocklist.Policy
}

// Scanner runs dialogues. It is safe for concurrent use; one Scanner serves
// a whole scan.
type Scanner struct {
	cfg       Config
	tlsConfig *tls.Config
	dialer    func(ctx context.Context, raddr netip.AddrPort) (net.Conn, error)
}

// NewScanner returns a Scanner for cfg (nil: all defaults). cfg is copied.
func NewScanner(cfg *Config) (*Scanner, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ReadTimeout", &c.ReadTimeout, DefaultReadTimeout},
		{"TargetTimeout", &c.TargetTimeout, DefaultTargetTimeout},
		{"ConnectTimeout", &c.ConnectTimeout, DefaultConnectTimeout},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("banner: %s %v is negative", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	c.ConnectTimeout = min(c.ConnectTimeout, c.TargetTimeout)
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = max(DefaultMaxBytes, c.MaxLineBytes)
	}
	if c.MaxLineBytes < minLineBytes {
		return nil, fmt.Errorf("banner: MaxLineBytes %d is below the minimum %d", c.MaxLineBytes, minLineBytes)
	}
	if c.MaxBytes < c.MaxLineBytes {
		return nil, fmt.Errorf("banner: MaxBytes %d is below MaxLineBytes %d", c.MaxBytes, c.MaxLineBytes)
	}
	if c.EHLOName == "" {
		c.EHLOName = defaultEHLOName()
	}
	if err := validEHLOName(c.EHLOName); err != nil {
		return nil, err
	}
	if c.Matcher == nil {
		c.Matcher = fingerprint.Builtin()
	}
	if c.Policy == nil {
		c.Policy = blocklist.DefaultPolicy()
	}
	if c.SourceIP.IsValid() && !c.SourceIP.Is4() || c.SourceIP6.IsValid() && (!c.SourceIP6.Is6() || c.SourceIP6.Is4In6()) {
		return nil, fmt.Errorf("banner: source addresses %v and %v: want an IPv4 and an IPv6 address", c.SourceIP, c.SourceIP6)
	}
	s := &Scanner{cfg: c, tlsConfig: newTLSConfig()}
	if c.Dial != nil {
		s.dialer = func(ctx context.Context, raddr netip.AddrPort) (net.Conn, error) {
			return c.Dial(ctx, "tcp", raddr.String())
		}
	} else {
		// Dialer.DialTCP takes the address as it is, without the resolver
		// and the parallel-dial machinery of DialContext: less work and a
		// shallower stack for each of thousands of goroutines.
		d := &net.Dialer{KeepAlive: -1, ControlContext: dialControl} // nothing lives long enough for keepalives
		laddr, laddr6 := netip.AddrPortFrom(c.SourceIP, 0), netip.AddrPortFrom(c.SourceIP6, 0)
		s.dialer = func(ctx context.Context, raddr netip.AddrPort) (net.Conn, error) {
			l := laddr
			if raddr.Addr().Is6() && !raddr.Addr().Is4In6() {
				l = laddr6
			}
			tc, err := d.DialTCP(ctx, "tcp", l, raddr)
			if err != nil {
				return nil, err // not tc: a nil *TCPConn in a net.Conn is not nil
			}
			return tc, nil
		}
	}
	return s, nil
}

func defaultEHLOName() string {
	h, err := os.Hostname()
	if err != nil || validEHLOName(h) != nil {
		return "localhost"
	}
	return h
}

// validEHLOName rejects names that would break the command line or smuggle
// a second command (net/smtp's validateLine, stricter: no spaces either).
func validEHLOName(name string) error {
	if len(name) > 255 {
		return fmt.Errorf("banner: EHLO name longer than 255 bytes")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("banner: EHLO name %q holds a space or control character", name)
		}
	}
	return nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Scanner) Config() Config { return s.cfg }

// Allows reports whether the exclusion policy lets the scanner contact a.
func (s *Scanner) Allows(a netip.Addr) bool { return s.cfg.Policy.Allows(a) }

// excluded returns the result of a target the policy denies.
func (s *Scanner) excluded(t Target) *Result {
	return &Result{
		IP: t.Addr, Port: t.Port, Protocol: t.Protocol, Status: StatusExcluded,
		Time:  time.Now().UTC().Truncate(time.Millisecond),
		Error: "banner: not contacted: " + s.cfg.Policy.Reason(t.Addr),
	}
}

// scan is the state of one target's dialogue.
type scan struct {
	s          *Scanner
	start      time.Time
	stop       func() bool // unregisters the cancel hook
	sess       *session
	r          *Result
	clear      cleartextSide // what the cleartext side announced, for findings
	greetingOK bool          // the greeting was the protocol's
	leaf       *x509.Certificate
	tlsVersion uint16
	announced  string // the host name the server announced (SMTP)
}

// cleartextSide is what a cleartext client learned before STARTTLS.
type cleartextSide struct {
	known    bool // the cleartext capabilities were read
	caps     []string
	starttls bool
	preauth  bool // IMAP PREAUTH greeting
	heloOnly bool // SMTP server without EHLO
}

// Scan runs the dialogue of t.Protocol against t and returns what it
// learned. It never panics and always returns a Result: on failure, with
// the status and error of the failure and every fact learned before it
// (greeting, cleartext capabilities, a failed handshake's certificates).
// It never sends a password, a user name or AUTH.
//
// ctx ends the scan early: a canceled scan returns at once with status
// connection-timeout, tls-error or io-timeout depending on its phase.
//
// A target the exclusion policy denies is never contacted: its result has
// StatusExcluded and says why.
func (s *Scanner) Scan(ctx context.Context, t Target) *Result {
	if !s.Allows(t.Addr) {
		return s.excluded(t)
	}
	// Scan's frame is kept tiny and the dial and the wait for a greeting
	// happen right below it, so that a goroutine dialing or waiting on a
	// silent server fits in a 4 KiB stack rather than 8: at 10,000
	// tarpitted connections that is 40 MiB.
	x := s.newScan(t)
	defer x.end()
	if x.connect(ctx, t) {
		if !x.r.Protocol.ImplicitTLS() {
			x.sess.waitGreeting()
		}
		x.dialogue()
	}
	return x.r
}

//go:noinline
func (s *Scanner) newScan(t Target) *scan {
	x := &scan{s: s, start: time.Now()}
	x.r = &Result{IP: t.Addr, Port: t.Port, Protocol: t.Protocol, Time: x.start.UTC().Truncate(time.Millisecond)}
	return x
}

// end, deferred by Scan, releases the connection and stamps the duration.
// It also turns a panic into a result: a bug must cost one result, not a
// scan of millions.
func (x *scan) end() {
	if p := recover(); p != nil {
		x.r.Status = StatusProtocolError
		x.r.Error = fmt.Sprintf("banner: internal error: %v\n%s", p, debug.Stack())
	}
	if x.stop != nil {
		x.stop()
	}
	if x.sess != nil {
		x.sess.close()
	}
	x.r.DurationMS = time.Since(x.start).Milliseconds()
}

// connect resolves the protocol and opens the session; on failure it
// records why and returns false.
//
//go:noinline
func (x *scan) connect(ctx context.Context, t Target) bool {
	r := x.r
	if r.Protocol == "" {
		r.Protocol, _ = ProtocolForPort(t.Port, nil)
	}
	if !r.Protocol.Valid() {
		x.fail(StatusProtocolError, fmt.Errorf("banner: no protocol for %s port %d", quote(string(t.Protocol)), t.Port))
		return false
	}
	conn, err := x.s.dial(ctx, t, x.start)
	if err != nil {
		x.fail(dialStatus(err), fmt.Errorf("banner: connect: %w", err))
		return false
	}
	x.sess = newSession(conn, &x.s.cfg, x.start.Add(x.s.cfg.TargetTimeout))
	if ctx.Done() != nil {
		x.stop = context.AfterFunc(ctx, x.sess.cancel)
	}
	return true
}

// dialogue runs the protocol's dialogue on the open session and records
// its outcome.
//
//go:noinline
func (x *scan) dialogue() {
	err := x.converse(newDialect(x.r.Protocol.Base()))
	x.r.Status = statusOf(err)
	if err != nil {
		x.r.Error = err.Error()
	}
	x.finish()
}

func (x *scan) fail(st Status, err error) {
	x.r.Status = st
	x.r.Error = err.Error()
}

func (s *Scanner) dial(ctx context.Context, t Target, start time.Time) (net.Conn, error) {
	dctx, cancel := context.WithDeadline(ctx, start.Add(s.cfg.ConnectTimeout))
	defer cancel()
	c, err := s.dialer(dctx, netip.AddrPortFrom(t.Addr, t.Port))
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("banner: Dial returned no connection")
	}
	return c, nil
}

// implicitHandshake runs the TLS handshake that opens an implicit-TLS port
// and arms the read deadline for the greeting that follows (on a cleartext
// port, waitGreeting armed it). On other ports it does nothing.
func (x *scan) implicitHandshake() error {
	if !x.r.Protocol.ImplicitTLS() {
		return nil
	}
	if err := x.handshake(); err != nil {
		return err
	}
	x.sess.arm(x.sess.timeout)
	return nil
}

// handshake runs a TLS handshake on the session and records its facts.
func (x *scan) handshake() error {
	tc, err := x.sess.startTLS(x.s.tlsConfig)
	st := tc.ConnectionState()
	x.r.TLS = summarizeTLS(st, err, x.s.cfg.RootCAs, time.Now())
	x.tlsVersion = st.Version
	if len(st.PeerCertificates) > 0 {
		x.leaf = st.PeerCertificates[0]
	}
	if err != nil {
		return withStatus(StatusTLSError, fmt.Errorf("banner: TLS handshake: %w", err))
	}
	return nil
}

// probes returns the result's Probes, made on first use.
func (x *scan) probes() *Probes {
	if x.r.Probes == nil {
		x.r.Probes = &Probes{}
	}
	return x.r.Probes
}

func (x *scan) capsBefore(c []string) {
	if x.r.Capabilities == nil {
		x.r.Capabilities = &Capabilities{}
	}
	x.r.Capabilities.Before = c
}

func (x *scan) capsAfter(c []string) {
	if x.r.Capabilities == nil {
		x.r.Capabilities = &Capabilities{}
	}
	x.r.Capabilities.After = c
}

// finish adds what is derived from the dialogue's facts: fingerprint, host
// name check, findings.
func (x *scan) finish() {
	r := x.r
	if x.greetingOK {
		facts := r.Facts()
		if fp, ok := x.s.cfg.Matcher.MatchFacts(&facts); ok {
			r.Fingerprint = &fp
		}
	}
	if r.TLS != nil {
		checkHostname(r.TLS, x.leaf, x.announced)
	}
	r.Findings = findings(r.Protocol, x.clear, x.tlsVersion, r.TLS)
}

// findings draws the conclusions of a dialogue; nil when there are none.
// It is pure: proto, the cleartext side, the negotiated TLS version (0:
// none) and the TLS summary. On an implicit-TLS port the login findings
// need a completed handshake: a port that does not speak TLS proves nothing.
func findings(proto Protocol, clear cleartextSide, tlsVersion uint16, sum *TLSSummary) *Findings {
	f := &Findings{}
	any := false
	switch {
	case proto.ImplicitTLS() && sum != nil && sum.HandshakeError == "" && tlsVersion != 0:
		f.CleartextLogin = &Finding{false, "implicit TLS"}
		f.StartTLSOffered = &Finding{false, "implicit TLS"}
		f.TLSOnly = &Finding{true, "implicit TLS"}
		any = true
	case clear.known:
		verb := "STARTTLS"
		if proto.Family() == "pop3" {
			verb = "STLS"
		}
		switch proto.Family() {
		case "imap":
			f.CleartextLogin = imapCleartextLogin(clear)
		case "pop3":
			f.CleartextLogin = pop3CleartextLogin(clear)
		default:
			f.CleartextLogin = smtpCleartextLogin(clear)
		}
		switch {
		case !clear.starttls:
			f.StartTLSOffered = &Finding{false, "cleartext capabilities lack " + verb}
			f.TLSOnly = &Finding{false, verb + " not offered"}
		case clear.preauth:
			f.StartTLSOffered = &Finding{true, "cleartext capabilities list " + verb}
			f.TLSOnly = &Finding{false, "PREAUTH greeting: the session is authenticated in cleartext"}
		case f.CleartextLogin.Value:
			f.StartTLSOffered = &Finding{true, "cleartext capabilities list " + verb}
			f.TLSOnly = &Finding{false, verb + " offered, but login is possible before it"}
		default:
			f.StartTLSOffered = &Finding{true, "cleartext capabilities list " + verb}
			f.TLSOnly = &Finding{true, verb + " offered and no login before it"}
		}
		any = true
	}
	if sum != nil && len(sum.Certificates) > 0 {
		leaf := sum.Certificates[0]
		if leaf.Expired {
			f.CertExpired = &Finding{true, "leaf not_after " + leaf.NotAfter.Format(time.RFC3339)}
		} else {
			f.CertExpired = &Finding{false, "leaf not_after " + leaf.NotAfter.Format(time.RFC3339)}
		}
		if leaf.SelfSigned {
			f.CertSelfSigned = &Finding{true, "leaf issued and signed by itself: " + leaf.Subject}
		} else {
			f.CertSelfSigned = &Finding{false, "leaf issued by " + leaf.Issuer}
		}
		any = true
	}
	if tlsVersion != 0 {
		f.TLSLegacy = &Finding{tlsVersion < tls.VersionTLS12, "negotiated " + tlsVersionName(tlsVersion)}
		any = true
	}
	if !any {
		return nil
	}
	return f
}
