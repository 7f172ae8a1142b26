package banner

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hostileConfig has short timeouts and small limits so that hostile
// servers hit them quickly.
func hostileConfig() Config {
	return Config{
		ReadTimeout:    300 * time.Millisecond,
		TargetTimeout:  3 * time.Second,
		ConnectTimeout: 500 * time.Millisecond,
		MaxLineBytes:   1024,
		MaxBytes:       8192,
		EHLOName:       "scanner.example.test",
		Policy:         labPolicy(),
	}
}

// dialMode says how the transport should make the connection fail, if at all.
type dialMode int

const (
	dialServe     dialMode = iota // connect and run serve
	dialRefuse                    // the port refuses (RST)
	dialBlackhole                 // the SYN goes unanswered
)

type hostileCase struct {
	name  string
	proto Protocol
	mode  dialMode
	serve func(c net.Conn)
	want  Status
	// check asserts more; read is what the client read from the socket.
	check func(t *testing.T, r *Result, read int64, cfg Config)
}

// drain reads until the client hangs up.
func drain(c net.Conn) { io.Copy(io.Discard, c) }

// miniIMAP answers CAPABILITY and LOGOUT on c after the greeting was sent;
// starttls, when set, answers STARTTLS and hands the raw conn to it.
func miniIMAP(c net.Conn, caps string, starttls func(c net.Conn, tag string)) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(cmd) {
		case "CAPABILITY":
			io.WriteString(c, "* CAPABILITY "+caps+"\r\n"+tag+" OK done\r\n")
		case "STARTTLS":
			if starttls != nil {
				starttls(c, tag)
				return
			}
			io.WriteString(c, tag+" BAD no\r\n")
		case "LOGOUT":
			io.WriteString(c, "* BYE bye\r\n"+tag+" OK done\r\n")
			return
		default:
			io.WriteString(c, tag+" BAD what\r\n")
		}
	}
}

func hostileCases() []hostileCase {
	bounded := func(t *testing.T, r *Result, read int64, cfg Config) {
		t.Helper()
		if read > int64(cfg.MaxBytes) {
			t.Errorf("client read %d bytes, above MaxBytes %d", read, cfg.MaxBytes)
		}
		if len(r.Greeting) > cfg.MaxLineBytes {
			t.Errorf("greeting holds %d bytes, above MaxLineBytes %d", len(r.Greeting), cfg.MaxLineBytes)
		}
	}
	return []hostileCase{
		{
			name: "accepts and never speaks", proto: IMAP, serve: drain, want: StatusIOTimeout,
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Greeting != "" || r.Capabilities != nil || r.Findings != nil || read != 0 {
					t.Errorf("result holds facts from a silent server: %+v", r)
				}
			},
		},
		{
			name: "greeting in three segments with pauses", proto: IMAP, want: StatusSuccess,
			serve: func(c net.Conn) {
				for _, part := range []string{"* OK [CAPABILITY IMAP4rev1 ", "STARTTLS LOGINDISABLED] Dovecot", " ready.\r\n"} {
					if _, err := io.WriteString(c, part); err != nil {
						return
					}
					time.Sleep(60 * time.Millisecond)
				}
				miniIMAP(c, "IMAP4rev1 LOGINDISABLED", nil)
			},
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Greeting != "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready." {
					t.Errorf("greeting = %q", r.Greeting)
				}
			},
		},
		{
			name: "1 MiB without a newline", proto: SMTP, want: StatusProtocolError,
			serve: func(c net.Conn) {
				chunk := []byte(strings.Repeat("A", 64<<10))
				for range 16 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
				drain(c)
			},
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				bounded(t, r, read, cfg)
				if !strings.Contains(r.Error, "line too long") {
					t.Errorf("error = %q, want a line-too-long error", r.Error)
				}
			},
		},
		{
			name: "endless short lines", proto: SMTP, want: StatusProtocolError,
			serve: func(c net.Conn) {
				line := []byte("220-spam spam spam spam spam\r\n")
				for {
					if _, err := c.Write(line); err != nil {
						return
					}
				}
			},
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				bounded2 := read <= int64(cfg.MaxBytes) && len(r.Greeting) <= cfg.MaxBytes
				if !bounded2 || !strings.Contains(r.Error, "read limit") {
					t.Errorf("read %d, greeting %d bytes, error %q; want the read limit", read, len(r.Greeting), r.Error)
				}
			},
		},
		{
			name: "IMAP literal larger than the limit", proto: IMAP, want: StatusProtocolError,
			serve: func(c net.Conn) {
				io.WriteString(c, "* OK ready\r\n")
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "* ID (\"name\" {999999999}\r\n")
				drain(c)
			},
			check: func(t *testing.T, r *Result, read int64, cfg Config) { bounded(t, r, read, cfg) },
		},
		{
			name: "closes at once", proto: IMAP, serve: func(net.Conn) {}, want: StatusClosed,
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Greeting != "" || r.Error == "" {
					t.Errorf("greeting %q error %q", r.Greeting, r.Error)
				}
			},
		},
		{
			name: "closes after the greeting", proto: POP3, want: StatusClosed,
			serve: func(c net.Conn) { io.WriteString(c, "+OK Dovecot ready.\r\n") },
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Greeting != "+OK Dovecot ready." {
					t.Errorf("greeting = %q", r.Greeting)
				}
			},
		},
		{
			name: "drips the greeting slower than the read timeout", proto: IMAP, want: StatusIOTimeout,
			serve: func(c net.Conn) {
				for _, b := range []byte("* OK [CAPABILITY IMAP4rev1] slowly, slowly\r\n") {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				drain(c)
			},
		},
		{
			name: "garbage after STARTTLS", proto: IMAP, want: StatusTLSError,
			serve: func(c net.Conn) {
				io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
				miniIMAP(c, "IMAP4rev1 STARTTLS LOGINDISABLED", func(c net.Conn, tag string) {
					io.WriteString(c, tag+" OK Begin TLS negotiation now.\r\nthis is not TLS at all\r\n")
					drain(c)
				})
			},
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Greeting != "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready" || r.Capabilities == nil ||
					strings.Join(r.Capabilities.Before, " ") != "IMAP4rev1 STARTTLS LOGINDISABLED" {
					t.Errorf("cleartext facts lost: %q %+v", r.Greeting, r.Capabilities)
				}
				if r.StartTLS == nil || !r.StartTLS.Attempted || r.TLS == nil || r.TLS.HandshakeError == "" {
					t.Errorf("starttls %+v tls %+v; want an attempted upgrade and a handshake error", r.StartTLS, r.TLS)
				}
				if f := r.Findings; f == nil || f.CleartextLogin == nil || f.CleartextLogin.Value || f.TLSLegacy != nil {
					t.Errorf("findings = %+v", f)
				}
			},
		},
		{
			name: "TLS handshake stalls", proto: SMTP, want: StatusTLSError,
			serve: func(c net.Conn) {
				br := bufio.NewReader(c)
				io.WriteString(c, "220 mx.example.test ESMTP\r\n")
				br.ReadString('\n')
				io.WriteString(c, "250-mx.example.test\r\n250 STARTTLS\r\n")
				br.ReadString('\n')
				io.WriteString(c, "220 Ready to start TLS\r\n")
				drain(c)
			},
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.TLS == nil || !strings.Contains(r.TLS.HandshakeError, "timeout") || r.Capabilities == nil {
					t.Errorf("tls %+v capabilities %+v; want a timed-out handshake and the cleartext facts", r.TLS, r.Capabilities)
				}
			},
		},
		{
			name: "implicit TLS port that never speaks", proto: IMAPS, serve: drain, want: StatusTLSError,
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Findings != nil {
					t.Errorf("findings %+v from a port that never did TLS", r.Findings)
				}
			},
		},
		{
			name: "cleartext on an implicit TLS port", proto: POP3S, want: StatusTLSError,
			serve: func(c net.Conn) { io.WriteString(c, "+OK Dovecot ready.\r\n"); drain(c) },
		},
		{
			name: "TLS server sends garbage records", proto: SMTPS, want: StatusTLSError,
			serve: func(c net.Conn) {
				bufio.NewReader(c).Peek(1)
				c.Write([]byte{0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3})
				drain(c)
			},
		},
		{
			name: "not the protocol", proto: IMAP, want: StatusProtocolError,
			serve: func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); drain(c) },
			check: func(t *testing.T, r *Result, read int64, cfg Config) {
				if r.Greeting != "SSH-2.0-OpenSSH_9.2p1 Debian-2" || r.Fingerprint != nil || r.Findings != nil {
					t.Errorf("result = %+v", r)
				}
			},
		},
		{name: "refuses the connection", proto: SMTP, mode: dialRefuse, want: StatusConnectionRefused},
		{name: "drops the SYN", proto: SMTP, mode: dialBlackhole, want: StatusConnectionTimeout},
	}
}

// hostileTransport connects a case to a server: it returns the Dial for
// the scanner, the target, a counter of bytes the client read, and a wait
// that returns when every server goroutine has ended.
type hostileTransport func(t *testing.T, hc hostileCase) (dial func(context.Context, string, string) (net.Conn, error), target Target, read func() int64, wait func())

func memTransport(t *testing.T, hc hostileCase) (func(context.Context, string, string) (net.Conn, error), Target, func() int64, func()) {
	m := &memNet{serve: func(_ string, c net.Conn) { hc.serve(c) }}
	m.refuse = hc.mode == dialRefuse
	m.blackhole = hc.mode == dialBlackhole
	return m.Dial, Target{Addr: testAddr, Port: hc.proto.DefaultPort(), Protocol: hc.proto}, m.read.Load, m.wait
}

// runHostile runs every hostile case over transport: the exact status,
// completion within the target deadline (plus slack, against hangs), no
// goroutine left behind, and the case's own checks.
func runHostile(t *testing.T, transport hostileTransport) {
	for _, hc := range hostileCases() {
		t.Run(hc.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			dial, target, read, wait := transport(t, hc)
			cfg := hostileConfig()
			cfg.Dial = dial
			s, err := NewScanner(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan *Result, 1)
			go func() { done <- s.Scan(context.Background(), target) }()
			var r *Result
			select {
			case r = <-done:
			case <-time.After(cfg.TargetTimeout + 5*time.Second):
				t.Fatalf("Scan did not return within its %v deadline", cfg.TargetTimeout)
			}
			wait()
			if r.Status != hc.want {
				t.Errorf("status = %q (error %q), want %q", r.Status, r.Error, hc.want)
			}
			if hc.want != StatusSuccess && r.Error == "" {
				t.Errorf("status %q without an error", r.Status)
			}
			if hc.check != nil {
				hc.check(t, r, read(), s.cfg)
			}
			settleGoroutines(t, base)
		})
	}
}

func TestHostileServers(t *testing.T) {
	runHostile(t, memTransport)
}

// TestScanCanceled: canceling the context ends a scan blocked on a silent
// server at once, and the result says so.
func TestScanCanceled(t *testing.T) {
	base := runtime.NumGoroutine()
	m := &memNet{serve: func(_ string, c net.Conn) { drain(c) }}
	cfg := testConfig(m)
	cfg.ReadTimeout = time.Hour
	cfg.TargetTimeout = time.Hour
	s, err := NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Bool
	done := make(chan *Result, 1)
	go func() { started.Store(true); done <- s.Scan(ctx, Target{Addr: testAddr, Port: 143}) }()
	for m.dials.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let it block in the greeting read
	cancel()
	select {
	case r := <-done:
		if r.Status != StatusIOTimeout || !strings.Contains(r.Error, "canceled") || r.Protocol != IMAP {
			t.Fatalf("status %q error %q protocol %q; want io-timeout, canceled, imap", r.Status, r.Error, r.Protocol)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Scan ignored the canceled context")
	}
	m.wait()
	settleGoroutines(t, base)
}

// TestTLSConfigShared checks that the handshake never modifies the one
// shared client configuration (it would race across workers).
func TestTLSConfigShared(t *testing.T) {
	c := newTLSConfig()
	if c.ServerName != "" || !c.InsecureSkipVerify || c.MinVersion != tls.VersionTLS10 || c.ClientSessionCache != nil {
		t.Fatalf("client config = %+v", c)
	}
	ids := map[uint16]bool{}
	for _, id := range c.CipherSuites {
		ids[id] = true
	}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !ids[cs.ID] {
			t.Errorf("cipher suite %s not offered", cs.Name)
		}
	}
}
