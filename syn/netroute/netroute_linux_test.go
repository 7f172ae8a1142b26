package netroute_test

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mailscan/syn/netroute"
)

// peerMAC reads vb's address as namespace B sees it, independently of the
// package under test.
func peerMAC(t *testing.T, l *lab) net.HardwareAddr {
	t.Helper()
	s := strings.TrimSpace(run(t, "ip", "netns", "exec", l.B, "cat", "/sys/class/net/vb/address"))
	mac, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

func lookupIn(t *testing.T, l *lab, fn func() (*netroute.Route, error)) (*netroute.Route, error) {
	t.Helper()
	var (
		r   *netroute.Route
		err error
	)
	l.MustIn(t, l.A, func() error {
		r, err = fn()
		return nil
	})
	return r, err
}

var fakeMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}

func TestIntegrationLookup(t *testing.T) {
	l := newLab(t)
	real := peerMAC(t, l)
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		neigh   []string // `ip neigh` arguments run in A before the lookup; nil flushes
		dst     string
		gateway string // "" when on-link
		wantMAC net.HardwareAddr
	}{
		// With the table flushed only ARP can find the peer.
		{"via gateway, ARP", nil, "198.18.16.5", "198.18.250.2", real},
		{"on-link, ARP", nil, "198.18.250.2", "", real},
		// A fake address in a usable state proves the table is read first.
		{"via gateway, PERMANENT entry", []string{"replace", "198.18.250.2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "permanent"}, "198.18.16.5", "198.18.250.2", fakeMAC},
		{"on-link, STALE entry", []string{"replace", "198.18.250.2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "stale"}, "198.18.250.2", "", fakeMAC},
		{"REACHABLE entry", []string{"replace", "198.18.250.2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "reachable"}, "198.18.16.5", "198.18.250.2", fakeMAC},
		// NOARP and FAILED entries do not count: ARP answers with the real one.
		{"NOARP entry ignored", []string{"replace", "198.18.250.2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "noarp"}, "198.18.16.5", "198.18.250.2", real},
		{"FAILED entry ignored", []string{"replace", "198.18.250.2", "dev", "va", "nud", "failed"}, "198.18.16.5", "198.18.250.2", real},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, "ip", "-n", l.A, "neigh", "flush", "dev", "va", "nud", "all") // PERMANENT and NOARP too
			if tt.neigh != nil {
				run(t, append([]string{"ip", "-n", l.A, "neigh"}, tt.neigh...)...)
			}
			dst := a(tt.dst)
			r, err := lookupIn(t, l, func() (*netroute.Route, error) { return netroute.Lookup(dst) })
			if err != nil {
				t.Fatal(err)
			}
			var gw netip.Addr
			nextHop := dst
			if tt.gateway != "" {
				gw, nextHop = a(tt.gateway), a(tt.gateway)
			}
			if r.Interface.Name != "va" || r.Interface.Index != l.IdxA || r.Source != a("198.18.250.1") ||
				r.Gateway != gw || r.NextHop != nextHop || !bytes.Equal(r.SrcMAC, l.MacA) || !bytes.Equal(r.DstMAC, tt.wantMAC) {
				t.Fatalf("Lookup(%v) = %v (next hop %v), want dev va src 198.18.250.1 gateway %v next hop %v (%v -> %v)",
					dst, r, r.NextHop, gw, nextHop, l.MacA, tt.wantMAC)
			}
		})
	}
	t.Run("LookupVia", func(t *testing.T) {
		r, err := lookupIn(t, l, func() (*netroute.Route, error) { return netroute.LookupVia("va", a("198.18.16.5")) })
		if err != nil {
			t.Fatal(err)
		}
		if r.Interface.Name != "va" || r.Gateway != a("198.18.250.2") || r.DstMAC == nil {
			t.Fatalf("LookupVia = %v", r)
		}
	})
}

func TestIntegrationNeighbor(t *testing.T) {
	l := newLab(t)
	peer := netip.MustParseAddr("198.18.250.2")
	run(t, "ip", "-n", l.A, "neigh", "flush", "dev", "va", "nud", "all")
	var (
		mac net.HardwareAddr
		err error
	)
	l.MustIn(t, l.A, func() error { mac, err = netroute.Neighbor(l.IdxA, peer); return nil })
	if !errors.Is(err, netroute.ErrNotResolved) {
		t.Fatalf("Neighbor with an empty table = %v, %v; want ErrNotResolved", mac, err)
	}
	run(t, "ip", "-n", l.A, "neigh", "replace", "198.18.250.2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "reachable")
	l.MustIn(t, l.A, func() error { mac, err = netroute.Neighbor(l.IdxA, peer); return nil })
	if err != nil || !bytes.Equal(mac, fakeMAC) {
		t.Fatalf("Neighbor = %v, %v; want %v", mac, err, fakeMAC)
	}
	l.MustIn(t, l.A, func() error { mac, err = netroute.Neighbor(l.IdxA+100, peer); return nil })
	if !errors.Is(err, netroute.ErrNotResolved) {
		t.Fatalf("Neighbor on another interface = %v, %v; want ErrNotResolved", mac, err)
	}
}

func TestIntegrationLookupErrors(t *testing.T) {
	l := newLab(t)
	run(t, "ip", "-n", l.A, "route", "add", "unreachable", "198.18.99.0/24")
	run(t, "ip", "-n", l.A, "route", "add", "prohibit", "198.18.98.0/24")
	run(t, "ip", "-n", l.A, "route", "add", "blackhole", "198.18.97.0/24")
	run(t, "ip", "-n", l.A, "route", "add", "198.18.96.0/24", "dev", "lo")
	run(t, "ip", "-n", l.A, "tuntap", "add", "mode", "tun", "name", "tn0")
	run(t, "ip", "-n", l.A, "link", "set", "tn0", "up")
	run(t, "ip", "-n", l.A, "route", "add", "198.18.95.0/24", "dev", "tn0")
	a := netip.MustParseAddr
	tests := []struct {
		name   string
		lookup func() (*netroute.Route, error)
		is     error  // errors.Is target, or nil
		substr string // in the message
	}{
		{"no route at all", func() (*netroute.Route, error) { return netroute.Lookup(a("198.19.0.1")) }, netroute.ErrNoRoute, "network is unreachable"},
		{"unreachable route", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.99.1")) }, netroute.ErrNoRoute, "unreachable route"},
		{"prohibit route", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.98.1")) }, netroute.ErrNoRoute, "prohibit"},
		{"blackhole route", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.97.1")) }, netroute.ErrNoRoute, "blackhole"},
		{"route through loopback", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.96.1")) }, netroute.ErrNoHardwareAddr, "lo"},
		{"route through tun", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.95.1")) }, netroute.ErrNoHardwareAddr, "tn0"},
		{"LookupVia lo", func() (*netroute.Route, error) { return netroute.LookupVia("lo", a("198.18.16.5")) }, netroute.ErrNoHardwareAddr, "lo"},
		{"LookupVia missing interface", func() (*netroute.Route, error) { return netroute.LookupVia("nosuch0", a("198.18.16.5")) }, nil, `interface "nosuch0"`},
		{"own address", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.250.1")) }, nil, "address of this host"},
		{"broadcast", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.250.255")) }, nil, "broadcast"},
		// IPv6 is off in this lab: no IPv6 route at all.
		{"IPv6 without IPv6 routes", func() (*netroute.Route, error) { return netroute.Lookup(a("2001:db8::1")) }, netroute.ErrNoRoute, "network is unreachable"},
		{"zoned address", func() (*netroute.Route, error) { return netroute.Lookup(a("fe80::1%va")) }, nil, "not a destination address"},
		// The route exists, but nobody answers ARP for the next hop.
		{"silent next hop", func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.250.77")) }, netroute.ErrNotResolved, "198.18.250.77"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := lookupIn(t, l, tt.lookup)
			if err == nil {
				t.Fatalf("lookup succeeded: %v", r)
			}
			t.Log(err)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			if errors.Is(err, os.ErrPermission) {
				t.Errorf("error %q reads as a missing privilege", err)
			}
			if !strings.Contains(err.Error(), tt.substr) || !strings.HasPrefix(err.Error(), "netroute: ") {
				t.Errorf("error %q: want prefix \"netroute: \" and %q in it", err, tt.substr)
			}
		})
	}
}

// TestIntegrationFindOverrides shows the overrides a CLI applies: a forced
// source address goes into the ARP request, and a known gateway MAC skips
// resolution altogether.
func TestIntegrationFindOverrides(t *testing.T) {
	l := newLab(t)
	real := peerMAC(t, l)
	run(t, "ip", "-n", l.A, "neigh", "flush", "dev", "va", "nud", "all")
	var (
		r   *netroute.Route
		err error
	)
	l.MustIn(t, l.A, func() error {
		r, err = netroute.Find(netip.MustParseAddr("198.18.16.5"), "")
		if err != nil {
			return err
		}
		if r.DstMAC != nil {
			t.Errorf("Find set DstMAC %v", r.DstMAC)
		}
		r.Source = netip.MustParseAddr("198.18.250.50") // -S
		return r.Resolve(time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.DstMAC, real) {
		t.Fatalf("Resolve with -S source: DstMAC %v, want %v", r.DstMAC, real)
	}
	// B learnt our MAC for the forced source from the request.
	if out := run(t, "ip", "-n", l.B, "neigh", "show", "198.18.250.50"); !strings.Contains(out, l.MacA.String()) {
		t.Errorf("B's neighbour entry for the -S source is %q, want %v", out, l.MacA)
	}
}

// TestIntegrationARPRetries counts the requests ARP sends to a silent
// address: three, then ErrNotResolved.
func TestIntegrationARPRetries(t *testing.T) {
	l := newLab(t)
	var fd int
	l.MustIn(t, l.B, func() (err error) {
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: 0x0608, Ifindex: l.IdxB}) // ETH_P_ARP, network order
	})
	defer unix.Close(fd)
	var err error
	l.MustIn(t, l.A, func() error {
		ifi, e := net.InterfaceByName("va")
		if e != nil {
			return e
		}
		_, err = netroute.ARP(ifi, netip.MustParseAddr("198.18.250.1"), netip.MustParseAddr("198.18.250.77"), 300*time.Millisecond)
		return nil
	})
	if !errors.Is(err, netroute.ErrNotResolved) {
		t.Fatalf("ARP for a silent address = %v, want ErrNotResolved", err)
	}
	requests := 0
	buf := make([]byte, 2048)
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		// who-has 198.18.250.77: opcode 1, target protocol address at 38.
		if n >= 42 && buf[21] == 1 && net.IP(buf[38:42]).Equal(net.IPv4(198, 18, 250, 77)) {
			requests++
		}
	}
	if requests != 3 {
		t.Fatalf("B saw %d ARP requests for 198.18.250.77, want 3", requests)
	}
}

// TestIntegrationARPPermissionDenied runs this test binary again inside A as
// an unprivileged user: ARP must fail with os.ErrPermission.
func TestIntegrationARPPermissionDenied(t *testing.T) {
	if os.Getenv("NETROUTE_UNPRIVILEGED_CHILD") == "1" {
		ifi, err := net.InterfaceByName("va")
		if err != nil {
			t.Fatal(err)
		}
		_, err = netroute.ARP(ifi, netip.MustParseAddr("198.18.250.1"), netip.MustParseAddr("198.18.250.2"), time.Second)
		if !errors.Is(err, os.ErrPermission) {
			t.Fatalf("unprivileged ARP = %v, want os.ErrPermission", err)
		}
		return
	}
	newLab(t).Unprivileged(t, "TestIntegrationARPPermissionDenied", "NETROUTE_UNPRIVILEGED_CHILD")
}

// TestIntegrationLookup6 resolves IPv6 routes against the kernel: the
// route and source from RTM_GETROUTE, the next hop from the IPv6
// neighbour table, else by neighbour solicitation, which B's kernel
// answers.
func TestIntegrationLookup6(t *testing.T) {
	l := newLab(t)
	l.EnableIPv6(t, "2001:db8:16::/48")
	real := peerMAC(t, l)
	a := netip.MustParseAddr
	for _, tt := range []struct {
		name    string
		neigh   []string
		dst     string
		gateway string
		wantMAC net.HardwareAddr
	}{
		{"via gateway, neighbour solicitation", nil, "2001:db8:16::5", "2001:db8:250::2", real},
		{"on-link, neighbour solicitation", nil, "2001:db8:250::2", "", real},
		{"via gateway, PERMANENT entry", []string{"replace", "2001:db8:250::2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "permanent"}, "2001:db8:16::5", "2001:db8:250::2", fakeMAC},
		{"STALE entry", []string{"replace", "2001:db8:250::2", "lladdr", fakeMAC.String(), "dev", "va", "nud", "stale"}, "2001:db8:16::5", "2001:db8:250::2", fakeMAC},
		{"FAILED entry ignored", []string{"replace", "2001:db8:250::2", "dev", "va", "nud", "failed"}, "2001:db8:16::5", "2001:db8:250::2", real},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run(t, "ip", "-n", l.A, "-6", "neigh", "flush", "dev", "va", "nud", "all")
			if tt.neigh != nil {
				run(t, append([]string{"ip", "-n", l.A, "-6", "neigh"}, tt.neigh...)...)
			}
			dst := a(tt.dst)
			r, err := lookupIn(t, l, func() (*netroute.Route, error) { return netroute.Lookup(dst) })
			if err != nil {
				t.Fatal(err)
			}
			var gw netip.Addr
			nextHop := dst
			if tt.gateway != "" {
				gw, nextHop = a(tt.gateway), a(tt.gateway)
			}
			if r.Interface.Name != "va" || r.Source != a("2001:db8:250::1") || r.Gateway != gw || r.NextHop != nextHop ||
				!bytes.Equal(r.SrcMAC, l.MacA) || !bytes.Equal(r.DstMAC, tt.wantMAC) {
				t.Fatalf("Lookup(%v) = %v (next hop %v), want dev va src 2001:db8:250::1 gateway %v (%v -> %v)",
					dst, r, r.NextHop, gw, l.MacA, tt.wantMAC)
			}
		})
	}
	// The IPv4 side of the same lab still resolves by ARP.
	r, err := lookupIn(t, l, func() (*netroute.Route, error) { return netroute.Lookup(a("198.18.16.5")) })
	if err != nil || r.Source != a("198.18.250.1") || !bytes.Equal(r.DstMAC, real) {
		t.Fatalf("IPv4 lookup in a dual-stack lab: %v, %v", r, err)
	}
	// A silent IPv6 next hop: three solicitations, then ErrNotResolved.
	run(t, "ip", "-n", l.A, "-6", "route", "add", "2001:db8:77::/48", "via", "2001:db8:250::77")
	var fd int
	l.MustIn(t, l.B, func() (err error) {
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: 0xdd86, Ifindex: l.IdxB}) // ETH_P_IPV6, network order
	})
	defer unix.Close(fd)
	var rErr error
	l.MustIn(t, l.A, func() error {
		rt, err := netroute.Find(a("2001:db8:77::1"), "")
		if err != nil {
			return err
		}
		rErr = rt.Resolve(300 * time.Millisecond)
		return nil
	})
	if !errors.Is(rErr, netroute.ErrNotResolved) {
		t.Fatalf("Resolve of a silent IPv6 next hop = %v, want ErrNotResolved", rErr)
	}
	solicitations := 0
	buf := make([]byte, 2048)
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		// ICMPv6 type 135 at 54, its target at 62; hop limit 255 at 21.
		if n >= 78 && buf[20] == 58 && buf[21] == 255 && buf[54] == 135 && net.IP(buf[62:78]).Equal(net.ParseIP("2001:db8:250::77")) {
			solicitations++
		}
	}
	if solicitations != 3 {
		t.Fatalf("B saw %d neighbour solicitations for 2001:db8:250::77, want 3", solicitations)
	}
}
