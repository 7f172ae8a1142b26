package banner

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"mailscan/blocklist"
	"math/big"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ---- test PKI ----

// testPKI is a certificate hierarchy generated once per test binary:
// root → intermediate → leaf (ECDSA P-256), a self-signed RSA-2048 leaf, and
// an expired leaf signed by the intermediate.
type testPKI struct {
	root, inter           *x509.Certificate
	rootKey, interKey     crypto.Signer
	leaf                  tls.Certificate // chain: leaf, intermediate
	selfSigned            tls.Certificate // RSA 2048, alone
	expired               tls.Certificate // chain: expired leaf, intermediate
	roots                 *x509.CertPool
	leafCert, selfCert    *x509.Certificate
	expiredCert           *x509.Certificate
	notBefore, notAfter   time.Time
	expBefore, expAfterAt time.Time
}

var (
	pkiOnce sync.Once
	pki     *testPKI
)

func mustPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		p := &testPKI{}
		now := time.Now().UTC().Truncate(time.Second)
		p.notBefore = now.Add(-time.Hour)
		p.notAfter = now.Add(24 * time.Hour)
		p.expBefore = now.Add(-48 * time.Hour)
		p.expAfterAt = now.Add(-24 * time.Hour)

		rootKey := mustECDSA()
		rootTmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1001),
			Subject:               pkix.Name{CommonName: "Mailscan Test Root", Organization: []string{"Mailscan Test"}},
			NotBefore:             p.notBefore,
			NotAfter:              p.notAfter.Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		p.root, _ = mustCert(rootTmpl, rootTmpl, rootKey.Public(), rootKey)
		p.rootKey = rootKey

		interKey := mustECDSA()
		interTmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(2002),
			Subject:               pkix.Name{CommonName: "Mailscan Test Intermediate", Organization: []string{"Mailscan Test"}},
			NotBefore:             p.notBefore,
			NotAfter:              p.notAfter.Add(12 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		p.inter, _ = mustCert(interTmpl, p.root, interKey.Public(), rootKey)
		p.interKey = interKey

		leafKey := mustECDSA()
		leafTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(3003),
			Subject:      pkix.Name{CommonName: "mx.example.test", Organization: []string{"Mailscan Test"}},
			DNSNames:     []string{"mx.example.test", "mail.example.test"},
			IPAddresses:  []net.IP{net.ParseIP("198.18.64.1")},
			NotBefore:    p.notBefore,
			NotAfter:     p.notAfter,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		var leafDER []byte
		p.leafCert, leafDER = mustCert(leafTmpl, p.inter, leafKey.Public(), interKey)
		p.leaf = tls.Certificate{Certificate: [][]byte{leafDER, p.inter.Raw}, PrivateKey: leafKey, Leaf: p.leafCert}

		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		selfTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(4004),
			Subject:      pkix.Name{CommonName: "localhost.localdomain", Organization: []string{"Dovecot mail server"}},
			DNSNames:     []string{"localhost.localdomain"},
			NotBefore:    p.notBefore,
			NotAfter:     p.notAfter,
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		var selfDER []byte
		p.selfCert, selfDER = mustCert(selfTmpl, selfTmpl, rsaKey.Public(), rsaKey)
		p.selfSigned = tls.Certificate{Certificate: [][]byte{selfDER}, PrivateKey: rsaKey, Leaf: p.selfCert}

		expKey := mustECDSA()
		expTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(5005),
			Subject:      pkix.Name{CommonName: "old.example.test"},
			DNSNames:     []string{"old.example.test"},
			NotBefore:    p.expBefore,
			NotAfter:     p.expAfterAt,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		var expDER []byte
		p.expiredCert, expDER = mustCert(expTmpl, p.inter, expKey.Public(), interKey)
		p.expired = tls.Certificate{Certificate: [][]byte{expDER, p.inter.Raw}, PrivateKey: expKey, Leaf: p.expiredCert}

		p.roots = x509.NewCertPool()
		p.roots.AddCert(p.root)
		pki = p
	})
	return pki
}

func mustECDSA() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func mustCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) (*x509.Certificate, []byte) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c, der
}

// serverTLS returns a server configuration presenting cert.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// ---- in-memory transport ----

// memNet is an in-memory network: Dial returns the client end of a
// net.Pipe and runs serve on the server end in a goroutine that the test
// waits for. No socket is opened.
type memNet struct {
	serve func(addr string, c net.Conn)
	// refuse makes every dial fail as a RST would; blackhole makes it hang
	// until the dial context ends, as a dropped SYN would.
	refuse, blackhole bool

	wg      sync.WaitGroup
	read    atomic.Int64 // bytes the client read, all connections
	dials   atomic.Int64
	open    atomic.Int64 // client connections not yet closed
	maxOpen atomic.Int64 // the most ever open at once
}

func (m *memNet) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	m.dials.Add(1)
	switch {
	case m.refuse:
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	case m.blackhole:
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	client, server := net.Pipe()
	m.wg.Go(func() {
		defer server.Close()
		m.serve(addr, server)
	})
	n := m.open.Add(1)
	for {
		old := m.maxOpen.Load()
		if n <= old || m.maxOpen.CompareAndSwap(old, n) {
			break
		}
	}
	return &countConn{Conn: client, n: &m.read, open: &m.open}, nil
}

// wait waits for every server goroutine to end.
func (m *memNet) wait() { m.wg.Wait() }

// countConn counts the bytes read through it.
type countConn struct {
	net.Conn
	n, open *atomic.Int64
	closed  atomic.Bool
}

func (c *countConn) Close() error {
	if c.open != nil && c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ---- scripted servers ----

// step is one turn of a scripted server: read one client line (when
// expect is set), write send, then start a server-side TLS handshake when
// tls is set.
type step struct {
	expect string
	send   string
	tls    bool
}

// scriptServer plays steps on c and records every byte the client wrote
// (after TLS, the plaintext). implicit starts with a TLS handshake.
type scriptServer struct {
	steps    []step
	tlsCfg   *tls.Config
	implicit bool

	mu  sync.Mutex
	got strings.Builder
}

func (s *scriptServer) transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.String()
}

func (s *scriptServer) serve(_ string, c net.Conn) {
	var conn net.Conn = c
	if s.implicit {
		tc := tls.Server(c, s.tlsCfg)
		if tc.Handshake() != nil {
			return
		}
		conn = tc
	}
	br := bufio.NewReader(conn)
	for _, st := range s.steps {
		if st.expect != "" {
			line, err := br.ReadString('\n')
			s.mu.Lock()
			s.got.WriteString(line)
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
		if st.send != "" {
			if _, err := io.WriteString(conn, st.send); err != nil {
				return
			}
		}
		if st.tls {
			tc := tls.Server(c, s.tlsCfg)
			if tc.Handshake() != nil {
				return
			}
			conn = tc
			br = bufio.NewReader(conn)
		}
	}
	// Record whatever else the client sends until it hangs up.
	rest, _ := io.ReadAll(br)
	s.mu.Lock()
	s.got.Write(rest)
	s.mu.Unlock()
}

// ---- scanning helpers ----

var testAddr = netip.MustParseAddr("198.18.64.1")

// labPolicy opens the lab's range, 198.18.0.0/15, which the default policy
// excludes as reserved.
func labPolicy() *blocklist.Policy {
	allow, err := blocklist.ParseAllowReserved([]string{"198.18.0.0/15"})
	if err != nil {
		panic(err)
	}
	return blocklist.NewPolicy(nil, allow)
}

// testConfig is a Config for fast tests over m.
func testConfig(m *memNet) *Config {
	return &Config{
		ReadTimeout:   2 * time.Second,
		TargetTimeout: 5 * time.Second,
		EHLOName:      "scanner.example.test",
		Dial:          m.Dial,
		Policy:        labPolicy(),
	}
}

// scanOne scans one target over serve and waits for the server to end.
func scanOne(t *testing.T, cfg *Config, m *memNet, proto Protocol) *Result {
	t.Helper()
	s, err := NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Scan(context.Background(), Target{Addr: testAddr, Port: proto.DefaultPort(), Protocol: proto})
	m.wait()
	return r
}

// settleGoroutines waits until the number of goroutines is back to base
// (goroutines end asynchronously), failing after a generous grace period.
func settleGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines leaked: %d now, %d before\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
