package vethlab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"mailscan/scripts/lab/labtest"
)

// The addresses of the two ends.
const (
	AddrA = "198.18.250.1" // va, in namespace A
	AddrB = "198.18.250.2" // vb, in namespace B
	// AddrA6 and AddrB6 are their IPv6 addresses (EnableIPv6), in the
	// documentation prefix 2001:db8::/32.
	AddrA6 = "2001:db8:250::1"
	AddrB6 = "2001:db8:250::2"
)

// Lab is two network namespaces joined by a veth pair: va (AddrA/24) in A
// and vb (AddrB/24) in B.
type Lab struct {
	A, B       string // namespace names, hd-<random>-a / -b
	IdxA, IdxB int    // interface indexes of va (in A) and vb (in B)
	MacA, MacB net.HardwareAddr
}

// SkipOrFail skips a test that cannot run here, except under CI=true, where
// a skipped integration test means the lab did not run and must fail.
func SkipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	labtest.SkipOrFail(tb, format, args...)
}

// RequireRoot skips (or, under CI=true, fails) a test that cannot make
// namespaces.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	labtest.NeedRoot(tb, "ip")
}

// Run runs a command and fails the test if it fails.
func Run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// New makes a Lab, removed when the test ends; each of routes (a CIDR) is
// routed in A via B.
func New(tb testing.TB, routes ...string) *Lab {
	tb.Helper()
	RequireRoot(tb)
	var rnd [4]byte
	rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	l := &Lab{A: "hd-" + id + "-a", B: "hd-" + id + "-b"}
	for _, ns := range []string{l.A, l.B} {
		Run(tb, "ip", "netns", "add", ns)
		tb.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		// No IPv6: router solicitations and DAD would add frames of their own.
		Run(tb, "ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		Run(tb, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	Run(tb, "ip", "-n", l.A, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", l.B)
	Run(tb, "ip", "-n", l.A, "addr", "add", AddrA+"/24", "dev", "va")
	Run(tb, "ip", "-n", l.B, "addr", "add", AddrB+"/24", "dev", "vb")
	Run(tb, "ip", "-n", l.A, "link", "set", "va", "up")
	Run(tb, "ip", "-n", l.B, "link", "set", "vb", "up")
	for _, r := range routes {
		Run(tb, "ip", "-n", l.A, "route", "add", r, "via", AddrB)
	}
	l.IdxA, l.MacA = l.linkInfo(tb, l.A, "va")
	l.IdxB, l.MacB = l.linkInfo(tb, l.B, "vb")
	return l
}

// EnableIPv6 turns IPv6 on in both namespaces, gives va AddrA6/64 and vb
// AddrB6/64 (no duplicate address detection, no link-local addresses, no
// router solicitations: the link carries only what a test sends, and the
// kernel's own neighbour discovery), and routes each of routes (an IPv6
// CIDR) in A via B.
func (l *Lab) EnableIPv6(tb testing.TB, routes ...string) {
	tb.Helper()
	for _, e := range []struct{ ns, ifname, addr string }{{l.A, "va", AddrA6}, {l.B, "vb", AddrB6}} {
		Run(tb, "ip", "netns", "exec", e.ns, "sysctl", "-qw",
			"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
			"net.ipv6.conf."+e.ifname+".accept_dad=0", "net.ipv6.conf."+e.ifname+".router_solicitations=0",
			"net.ipv6.conf."+e.ifname+".addr_gen_mode=1",
			"net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.lo.disable_ipv6=0", "net.ipv6.conf."+e.ifname+".disable_ipv6=0")
		Run(tb, "ip", "-n", e.ns, "addr", "add", e.addr+"/64", "dev", e.ifname, "nodad")
	}
	for _, r := range routes {
		Run(tb, "ip", "-n", l.A, "-6", "route", "add", r, "via", AddrB6)
	}
}

func (l *Lab) linkInfo(tb testing.TB, ns, ifname string) (idx int, mac net.HardwareAddr) {
	tb.Helper()
	l.MustIn(tb, ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		idx, mac = ifi.Index, ifi.HardwareAddr
		return nil
	})
	return idx, mac
}

// In runs fn on an OS thread that has entered the namespace ns. The thread
// is never unlocked, so it dies with the goroutine and no other goroutine
// ever runs in ns; sockets fn opens stay in ns and can be used from
// anywhere.
func (*Lab) In(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// MustIn is In, failing the test on an error.
func (l *Lab) MustIn(tb testing.TB, ns string, fn func() error) {
	tb.Helper()
	if err := l.In(ns, fn); err != nil {
		tb.Fatal(err)
	}
}

// Counter reads /sys/class/net/IF/statistics/NAME as seen from namespace ns.
func (*Lab) Counter(tb testing.TB, ns, ifname, name string) uint64 {
	tb.Helper()
	out := Run(tb, "ip", "netns", "exec", ns, "cat", "/sys/class/net/"+ifname+"/statistics/"+name)
	v, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// Unprivileged runs test (a test of the calling binary) again inside
// namespace A as uid 65534 with no capabilities, with env set to 1 so that
// it knows it is the child, and fails unless the child passes.
func (l *Lab) Unprivileged(tb testing.TB, test, env string) {
	tb.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		SkipOrFail(tb, "skipping, needs util-linux's setpriv: %v", err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.A, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps=-all", "--bounding-set=-all", os.Args[0], "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		tb.Fatalf("unprivileged child: %v\n%s", err, out)
	}
}
