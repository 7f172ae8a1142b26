package banner

import (
	"net"
	"net/netip"
	"testing"
)

// TestDialPicksSourceByFamily: the default dialer binds an IPv4 target's
// connection to SourceIP and an IPv6 target's to SourceIP6; with only an
// IPv4 source, IPv6 targets are still dialled (the kernel picks). The
// listeners are the test's own, on loopback.
func TestDialPicksSourceByFamily(t *testing.T) {
	l4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l4.Close()
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatalf("IPv6 loopback: %v", err)
	}
	defer l6.Close()
	for _, l := range []net.Listener{l4, l6} {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	a4 := l4.Addr().(*net.TCPAddr).AddrPort()
	a6 := l6.Addr().(*net.TCPAddr).AddrPort()
	for _, tc := range []struct {
		name       string
		src4, src6 string
		target     netip.AddrPort
		want       string // local address of the connection
	}{
		{"IPv4 from SourceIP", "127.0.0.1", "::1", a4, "127.0.0.1"},
		{"IPv6 from SourceIP6", "127.0.0.1", "::1", a6, "::1"},
		{"IPv6 without SourceIP6", "127.0.0.1", "", a6, "::1"},
		{"IPv4 without SourceIP", "", "::1", a4, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{}
			if tc.src4 != "" {
				cfg.SourceIP = netip.MustParseAddr(tc.src4)
			}
			if tc.src6 != "" {
				cfg.SourceIP6 = netip.MustParseAddr(tc.src6)
			}
			s, err := NewScanner(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.dialer(t.Context(), tc.target)
			if err != nil {
				t.Fatalf("dial %v: %v", tc.target, err)
			}
			defer c.Close()
			if got := c.LocalAddr().(*net.TCPAddr).AddrPort().Addr().Unmap().String(); got != tc.want {
				t.Errorf("dial %v from %s, want %s", tc.target, got, tc.want)
			}
		})
	}
	for _, cfg := range []*Config{{SourceIP: netip.MustParseAddr("::1")}, {SourceIP6: netip.MustParseAddr("127.0.0.1")}} {
		if _, err := NewScanner(cfg); err == nil {
			t.Errorf("NewScanner accepted sources %v, %v of the wrong families", cfg.SourceIP, cfg.SourceIP6)
		}
	}
}
