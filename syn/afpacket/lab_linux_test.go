package afpacket_test

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
)

// lab is two network namespaces joined by a veth pair: va (198.18.250.1/24)
// in A and vb (198.18.250.2/24) in B. Nothing in it can reach the host's own
// interfaces: the veth is created inside A and its peer moved straight to B.
type lab struct {
	A, B       string // namespace names, hd-<random>-a / -b
	IdxA, IdxB int    // interface indexes of va (in A) and vb (in B)
	MacA, MacB net.HardwareAddr
}

const (
	labAddrA = "198.18.250.1"
	labAddrB = "198.18.250.2"
)

// skipOrFail skips a test that cannot run here, except under CI=true, where
// a skipped integration test means the lab did not run and must fail.
func skipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true: "+format, args...)
	}
	tb.Skipf(format, args...)
}

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(tb, "skipping, needs root to create network namespaces (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(tb, "skipping, needs iproute2's ip: %v", err)
	}
}

func run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newLab(tb testing.TB) *lab {
	tb.Helper()
	requireRoot(tb)
	var rnd [4]byte
	rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	l := &lab{A: "hd-" + id + "-a", B: "hd-" + id + "-b"}
	for _, ns := range []string{l.A, l.B} {
		run(tb, "ip", "netns", "add", ns)
		tb.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		// No IPv6: router solicitations and DAD would add frames of their own.
		run(tb, "ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		run(tb, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(tb, "ip", "-n", l.A, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", l.B)
	run(tb, "ip", "-n", l.A, "addr", "add", labAddrA+"/24", "dev", "va")
	run(tb, "ip", "-n", l.B, "addr", "add", labAddrB+"/24", "dev", "vb")
	run(tb, "ip", "-n", l.A, "link", "set", "va", "up")
	run(tb, "ip", "-n", l.B, "link", "set", "vb", "up")
	l.IdxA, l.MacA = linkInfo(tb, l.A, "va")
	l.IdxB, l.MacB = linkInfo(tb, l.B, "vb")
	return l
}

func linkInfo(tb testing.TB, ns, ifname string) (int, net.HardwareAddr) {
	tb.Helper()
	var (
		idx int
		mac net.HardwareAddr
	)
	l := &lab{}
	if err := l.in(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		idx, mac = ifi.Index, ifi.HardwareAddr
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return idx, mac
}

// in runs fn on an OS thread that has entered the namespace ns. The thread is
// never unlocked, so it dies with the goroutine and no other goroutine ever
// runs in ns; sockets fn opens stay in ns and can be used from anywhere.
func (*lab) in(ns string, fn func() error) error {
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

func (l *lab) mustIn(tb testing.TB, ns string, fn func() error) {
	tb.Helper()
	if err := l.in(ns, fn); err != nil {
		tb.Fatal(err)
	}
}

// counter reads /sys/class/net/IF/statistics/NAME as seen from namespace ns.
func (l *lab) counter(tb testing.TB, ns, ifname, name string) uint64 {
	tb.Helper()
	out := run(tb, "ip", "netns", "exec", ns, "cat", "/sys/class/net/"+ifname+"/statistics/"+name)
	v, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
