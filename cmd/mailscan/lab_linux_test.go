package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"mailscan/scripts/lab"
	"mailscan/scripts/lab/labtest"
)

// The lab tests run the real mailscan binary inside the network namespaces
// scripts/lab.sh builds: a scanner, a router, a target namespace with a real
// Dovecot on 4096 AnyIP addresses, nftables deciding which (address, port)
// pairs answer. Every packet stays in those namespaces and every address is
// in 198.18.0.0/15.
//
// One lab serves the whole package: it is built by the first test that needs
// it and removed after the last. Tests use it one at a time.

// labEnv is a running lab: the values `lab.sh env` prints, its ground
// truth, and the binary.
type labEnv struct {
	vars  lab.Env
	truth *lab.Truth // read from the lab's files, as every consumer does
	bin   string     // the mailscan binary under test
	dir   string     // temp directory for the binary and outputs
}

func (l *labEnv) get(k string) string { return l.vars[k] }

var (
	labOnce sync.Once
	labVal  *labEnv
	labErr  error
	repo    = lab.Root()
)

// needLab returns the package's lab, building it on first use. Without root
// the test skips, except under CI=true, where a skip would hide that the lab
// never ran: there it fails (labtest decides).
func needLab(t testing.TB) *labEnv {
	t.Helper()
	labtest.NeedRoot(t)
	labOnce.Do(func() { labVal, labErr = startLab() })
	if labErr != nil {
		t.Fatalf("lab: %v", labErr)
	}
	return labVal
}

// labPrefix is unique per test process so that labs of concurrent test runs
// never meet.
var labPrefix = fmt.Sprintf("mt%d", os.Getpid()%100000)

func labScript(args ...string) *exec.Cmd { return lab.Script(labPrefix, args...) }

func startLab() (*labEnv, error) {
	dir, err := os.MkdirTemp("", "mailscan-lab-test-")
	if err != nil {
		return nil, err
	}
	// Readable by all: one test runs the binary as an unprivileged user.
	os.Chmod(dir, 0o755)
	l := &labEnv{dir: dir, bin: filepath.Join(dir, "mailscan")}
	// The default build, as the README's: with cgo where there is a C
	// compiler (TestIntegrationRunWithoutUser checks that there was).
	build := exec.Command("go", "build", "-o", l.bin, ".")
	build.Dir = filepath.Join(repo, "cmd", "mailscan")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	if l.vars, err = lab.Up(labPrefix); err != nil {
		return nil, err
	}
	if l.truth, err = l.vars.Truth(); err != nil {
		return nil, err
	}
	return l, nil
}

func TestMain(m *testing.M) {
	if role := os.Getenv("MAILSCAN_TEST_ROLE"); role != "" {
		os.Exit(runRole(role))
	}
	code := m.Run()
	if labVal != nil {
		if err := lab.Down(labPrefix); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		os.RemoveAll(labVal.dir)
	}
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// mailscanIn runs the binary in namespace ns with args.
func (l *labEnv) mailscanIn(t *testing.T, ns string, args ...string) result {
	t.Helper()
	return l.run(t, append([]string{"ip", "netns", "exec", ns, l.bin}, args...)...)
}

func (l *labEnv) run(t *testing.T, argv ...string) result {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return r
}

// scanArgs are the arguments every lab scan shares.
func (l *labEnv) scanArgs(extra ...string) []string {
	args := []string{"syn", "-p", l.get("LAB_PORTS"), "-r", "50000", "--allow-reserved", "198.18.0.0/15",
		"-b", l.get("LAB_BLOCKLIST"), "--cooldown", "2", "-q"}
	return append(append(args, extra...), l.get("LAB_TARGET_RANGE"))
}

// readLines returns the non-empty lines of a file, sorted.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// blocklist is the lab's exclusion list as package lab read it from the
// lab's file (with net/netip: the test does not trust the code under test
// to read it).
func (l *labEnv) blocklist(t testing.TB) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, e := range l.truth.Blocklist {
		out = append(out, e.Prefix)
	}
	if len(out) == 0 {
		t.Fatal("the lab's blocklist is empty")
	}
	return out
}

func blocked(bl []netip.Prefix, a netip.Addr) bool {
	for _, p := range bl {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// expectedOpen is the ground truth a scan of LAB_PORTS must find: every
// open pair on those ports minus the blocklisted ones.
func (l *labEnv) expectedOpen(t testing.TB) []string {
	return l.expectedOpenOn(t, l.get("LAB_PORTS"))
}

// expectedOpenOn is expectedOpen for a comma-separated list of ports, as
// package lab's checker computes it, sorted.
func (l *labEnv) expectedOpenOn(t testing.TB, ports string) []string {
	var ps []uint16
	for _, p := range strings.Split(ports, ",") {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			t.Fatalf("port %q: %v", p, err)
		}
		ps = append(ps, uint16(n))
	}
	out := lab.Keys(l.truth.Expected(ps...))
	if len(out) < 50 {
		t.Fatalf("ground truth has only %d open pairs on ports %s", len(out), ports)
	}
	sort.Strings(out)
	return out
}

// hitKeys reads a CSV hit list into sorted "ip:port" keys of the given status.
func hitKeys(t *testing.T, csv, status string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) == 0 || lines[0] != "ip,port,status,ttl,window,time" {
		t.Fatalf("bad CSV header in %q", firstLine(csv))
	}
	var out []string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 6 {
			t.Fatalf("bad CSV line %q", l)
		}
		if f[2] == status {
			out = append(out, f[0]+":"+f[1])
		}
	}
	sort.Strings(out)
	return out
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// diff describes how got differs from want (missing, unexpected and
// repeated keys), or returns "".
func diff(got, want []string) string { return lab.Compare(got, want).String() }

func head(s []string) []string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// capture records the SYNs that reach the target namespace, with tcpdump on
// its veth, until stop is called.
type capture struct {
	cmd  *exec.Cmd
	file string
	l    *labEnv
}

func (l *labEnv) startCapture(t *testing.T) *capture {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatal("tcpdump is needed for the capture (apt-get install tcpdump)")
	}
	c := &capture{file: filepath.Join(t.TempDir(), "syns.pcap")}
	c.cmd = exec.Command("ip", "netns", "exec", l.get("LAB_TARGET_NS"), "tcpdump", "-i", l.get("LAB_TARGET_IF"),
		"-n", "-U", "-B", "16384", "-w", c.file, "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")
	stderr, _ := c.cmd.StderrPipe()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says "listening on" before its ring sees every frame: a
	// scan started right after that line can lose its first SYNs. So the
	// capture is ready only once a canary SYN (a connect to a closed port
	// of an address no test scans: 198.18.127.254:9, in the open service
	// range) is in the file. (libpcap hands frames over a block at a time,
	// at the latest after its one-second block timeout.)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "listening on") {
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	for i := 0; ; i++ {
		l.canary(9)
		if st, err := os.Stat(c.file); err == nil && st.Size() > 24 { // 24: the pcap file header
			c.l = l
			return c
		}
		if i == 100 {
			t.Fatal("tcpdump never saw the canary SYN")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// captureCanary is the address the capture connects to until it sees
// the connection: on port 9 when it starts, on port 7 before it stops.
const captureCanary = "198.18.127.254"

// canary makes the kernel of the scanner namespace send a SYN to the
// canary address and port.
func (l *labEnv) canary(port int) {
	exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", captureCanary, port)).Run()
}

// stop ends tcpdump and returns every probe it saw as "ip:port" → count:
// SYNs from the probes' source ports (61000-65535) to the lab's ports, so
// that neither the banner stage's own connections nor control probes count.
func (c *capture) stop(t *testing.T) map[string]int {
	return c.stopWhere(t, func(tcp *layers.TCP) bool { return tcp.SrcPort >= 61000 && tcp.DstPort < 49152 })
}

// stopAll ends tcpdump and returns every SYN it saw, whatever its ports:
// probes and the banner stage's connections alike.
func (c *capture) stopAll(t *testing.T) map[string]int {
	return c.stopWhere(t, func(*layers.TCP) bool { return true })
}

func (c *capture) stopWhere(t *testing.T, keep func(*layers.TCP) bool) map[string]int {
	t.Helper()
	// The frames before a canary SYN reach the file before it does: once
	// the stop canary is in the file, everything sent before is too.
	stopKey := fmt.Sprintf("%s:7", captureCanary)
	for i := 0; ; i++ {
		c.l.canary(7)
		if c.read(t, func(*layers.TCP) bool { return true })[stopKey] > 0 {
			break
		}
		if i == 100 {
			t.Fatal("tcpdump never saw the stop canary")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	c.cmd.Wait()
	out := c.read(t, keep)
	delete(out, stopKey)
	delete(out, captureCanary+":9")
	return out
}

// read parses the capture file as it stands: "ip:port" → SYNs.
func (c *capture) read(t *testing.T, keep func(*layers.TCP) bool) map[string]int {
	t.Helper()
	f, err := os.Open(c.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break // io.EOF, or a packet still being written
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.NoCopy)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil || !keep(tcp) {
			continue
		}
		a, _ := netip.AddrFromSlice(ip.DstIP.To4())
		out[netip.AddrPortFrom(a, uint16(tcp.DstPort)).String()]++
	}
	return out
}

// allowedTargets is every (address, port) of the target range on LAB_PORTS
// outside the blocklist, computed without the code under test.
func (l *labEnv) allowedTargets(t *testing.T) map[string]bool {
	return l.allowedOn(t, l.get("LAB_PORTS"), l.get("LAB_TARGET_RANGE"))
}

// allowedOn is every (address, port) of the ranges on the ports outside the
// blocklist.
func (l *labEnv) allowedOn(t *testing.T, ports string, ranges ...string) map[string]bool {
	bl := l.blocklist(t)
	out := map[string]bool{}
	for _, r := range ranges {
		pfx := netip.MustParsePrefix(r)
		for a := pfx.Addr(); pfx.Contains(a); a = a.Next() {
			if blocked(bl, a) {
				continue
			}
			for _, p := range strings.Split(ports, ",") {
				out[a.String()+":"+p] = true
			}
		}
	}
	return out
}
