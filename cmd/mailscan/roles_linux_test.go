package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Helper roles for the banner stage's lab tests and benchmarks. Each runs in
// the lab's target or scanner namespace (the test binary re-executed under
// `ip netns exec`), prints "ready" once listening, and runs until stdin
// closes.

// raiseNoFile lifts this process's open-files limit to its hard limit.
func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// untilStdinCloses returns a channel closed when the parent closes our stdin.
func untilStdinCloses() <-chan struct{} {
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	return done
}

// greeter is a lightweight IMAP server: cleartext on MAILSCAN_GREET_PLAIN,
// implicit TLS on MAILSCAN_GREET_TLS (a self-signed ECDSA certificate made
// at start), on every address of the namespace. It answers CAPABILITY and
// LOGOUT, which is all a banner grab asks of a server that does not offer
// STARTTLS: a server cheap enough that it measures the grabber, not itself.
func greeter() error {
	raiseNoFile()
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	plain, err := net.Listen("tcp4", ":"+os.Getenv("MAILSCAN_GREET_PLAIN"))
	if err != nil {
		return err
	}
	tl, err := net.Listen("tcp4", ":"+os.Getenv("MAILSCAN_GREET_TLS"))
	if err != nil {
		return err
	}
	tl = tls.NewListener(tl, &tls.Config{Certificates: []tls.Certificate{cert}})
	for _, l := range []net.Listener{plain, tl} {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go serveIMAP(c)
			}
		}()
	}
	fmt.Println("ready")
	<-untilStdinCloses()
	plain.Close()
	tl.Close()
	return nil
}

func serveIMAP(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	const caps = "IMAP4rev1 SASL-IR ID ENABLE IDLE AUTH=PLAIN"
	w := bufio.NewWriter(c)
	fmt.Fprintf(w, "* OK [CAPABILITY %s] greeter ready.\r\n", caps)
	w.Flush()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(cmd) {
		case "CAPABILITY":
			fmt.Fprintf(w, "* CAPABILITY %s\r\n%s OK done\r\n", caps, tag)
		case "LOGOUT":
			fmt.Fprintf(w, "* BYE bye\r\n%s OK done\r\n", tag)
			w.Flush()
			return
		default:
			fmt.Fprintf(w, "%s BAD unknown\r\n", tag)
		}
		w.Flush()
	}
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "greeter.lab.mailscan.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"greeter.lab.mailscan.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// tarpit accepts every connection on MAILSCAN_TARPIT_PORT and never says a
// word, holding each until the client gives up.
func tarpit() error {
	raiseNoFile()
	l, err := net.Listen("tcp4", ":"+os.Getenv("MAILSCAN_TARPIT_PORT"))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	fmt.Println("ready")
	<-untilStdinCloses()
	l.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	return nil
}

// refClient is the reference client for Dovecot's own rate: the dialogue
// mailscan banner runs on each lab port (greeting, capabilities, STARTTLS
// where offered, TLS, capabilities, goodbye), written plainly with the
// standard library, with MAILSCAN_REF_CONCURRENCY connections in flight over
// the "ip:port" targets read from stdin. It prints one JSON line: targets,
// successes, seconds.
func refClient() error {
	raiseNoFile()
	var targets []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			targets = append(targets, t)
		}
	}
	conc := 200
	fmt.Sscan(os.Getenv("MAILSCAN_REF_CONCURRENCY"), &conc)
	var ok atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for t := range work {
				if refDialogue(t) == nil {
					ok.Add(1)
				}
			}
		})
	}
	for _, t := range targets {
		work <- t
	}
	close(work)
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"targets": len(targets), "success": ok.Load(), "seconds": time.Since(start).Seconds(),
	})
}

func refDialogue(target string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp4", target)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	_, port, _ := net.SplitHostPort(target)
	tcfg := &tls.Config{InsecureSkipVerify: true}
	var conn net.Conn = c
	if port == "993" || port == "995" {
		tc := tls.Client(c, tcfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		conn = tc
	}
	r := bufio.NewReader(conn)
	readLine := func() (string, error) { return r.ReadString('\n') }
	// readUntil reads lines until one starts with prefix.
	readUntil := func(prefix string) error {
		for {
			l, err := readLine()
			if err != nil {
				return err
			}
			if strings.HasPrefix(l, prefix) {
				return nil
			}
		}
	}
	send := func(s string) error { _, err := io.WriteString(conn, s+"\r\n"); return err }
	if _, err := readLine(); err != nil { // greeting
		return err
	}
	imap := port == "143" || port == "993"
	caps := func(tag string) error {
		if imap {
			if err := send(tag + " CAPABILITY"); err != nil {
				return err
			}
			return readUntil(tag + " ")
		}
		if err := send("CAPA"); err != nil {
			return err
		}
		return readUntil(".")
	}
	if err := caps("a001"); err != nil {
		return err
	}
	if port == "143" || port == "110" {
		if imap {
			send("a002 STARTTLS")
			if err := readUntil("a002 "); err != nil {
				return err
			}
		} else {
			send("STLS")
			if err := readUntil("+OK"); err != nil {
				return err
			}
		}
		tc := tls.Client(c, tcfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		conn, r = tc, bufio.NewReader(tc)
		if err := caps("a003"); err != nil {
			return err
		}
	}
	if imap {
		send("a004 LOGOUT")
		return readUntil("a004 ")
	}
	send("QUIT")
	if _, err := readLine(); err != nil {
		return err
	}
	return nil
}

// roleProc is a helper role started by a test in a lab namespace.
type roleProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startRole starts the test binary as role in namespace ns with extra
// environment, waits for its "ready" line and stops it at the end of the
// test. Use stop to end it earlier and read its output.
func startRole(t testing.TB, ns, role string, env ...string) *roleProc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &roleProc{cmd: exec.Command("ip", "netns", "exec", ns, self)}
	p.cmd.Env = append(append(os.Environ(), "MAILSCAN_TEST_ROLE="+role), env...)
	p.stdin, _ = p.cmd.StdinPipe()
	stdout, _ := p.cmd.StdoutPipe()
	p.out = bufio.NewReader(stdout)
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	if line, _ := p.out.ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("role %s did not start: %q", role, line)
	}
	return p
}

// stop closes the role's stdin (its signal to end), waits for it and
// returns the error of its exit.
func (p *roleProc) stop() error {
	if p.stdin == nil {
		return nil
	}
	p.stdin.Close()
	p.stdin = nil
	return p.cmd.Wait()
}
