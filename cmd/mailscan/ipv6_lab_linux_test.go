package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"mailscan/syn/afpacket"
)

// The IPv6 lab tests run on the package's lab with its IPv6 side up
// (scripts/lab/ipv6.sh): 2001:db8:16::/116 in the target namespace mirrors
// 198.18.16.0/20 address for address, with the same Dovecot and Postfix,
// an IPv6 ground truth and blocklist that are the IPv4 ones moved over,
// and a silent 2001:db8:19::/64. Every address is in 2001:db8::/32 or
// 198.18.0.0/15, inside the lab's namespaces.

var (
	lab6Once sync.Once
	lab6Vars map[string]string
	lab6Err  error
)

// needLab6 returns the lab with its IPv6 side, bringing that side up on
// first use.
func needLab6(t testing.TB) *labEnv {
	t.Helper()
	l := needLab(t)
	lab6Once.Do(func() {
		script := filepath.Join(repo, "scripts", "lab", "ipv6.sh")
		up := exec.Command(script, "up")
		up.Env = append(os.Environ(), "LAB_PREFIX="+labPrefix)
		if out, err := up.CombinedOutput(); err != nil {
			lab6Err = fmt.Errorf("ipv6.sh up: %v\n%s", err, out)
			return
		}
		env := exec.Command(script, "env")
		env.Env = append(os.Environ(), "LAB_PREFIX="+labPrefix)
		out, err := env.Output()
		if err != nil {
			lab6Err = fmt.Errorf("ipv6.sh env: %v", err)
			return
		}
		lab6Vars = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				lab6Vars[k] = v
			}
		}
	})
	if lab6Err != nil {
		t.Fatalf("lab: %v", lab6Err)
	}
	for k, v := range lab6Vars {
		l.vars[k] = v
	}
	return l
}

// scanArgs6 are the arguments of a scan of both target ranges with both
// blocklists: the IPv4 range, then the IPv6 one.
func (l *labEnv) scanArgs6(extra ...string) []string {
	args := []string{"syn", "-p", l.get("LAB_PORTS"), "-r", "50000", "--allow-reserved", "198.18.0.0/15",
		"--allow-reserved", l.get("LAB6_ALLOW_RESERVED"), "-b", l.get("LAB_BLOCKLIST"), "-b", l.get("LAB6_BLOCKLIST"),
		"--cooldown", "2", "-q"}
	return append(append(args, extra...), l.get("LAB_TARGET_RANGE"), l.get("LAB6_TARGET_RANGE"))
}

// prefixes reads a blocklist file into prefixes with netip, not with the
// code under test.
func prefixes(t testing.TB, path string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, line := range readLines(t, path) {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if !strings.Contains(line, "/") {
			a := netip.MustParseAddr(line)
			line = netip.PrefixFrom(a, a.BitLen()).String()
		}
		out = append(out, netip.MustParsePrefix(line))
	}
	return out
}

// blocklist46 is both lab blocklists.
func (l *labEnv) blocklist46(t testing.TB) []netip.Prefix {
	bl6 := prefixes(t, l.get("LAB6_BLOCKLIST"))
	if len(bl6) == 0 {
		t.Fatal("the lab's IPv6 blocklist is empty")
	}
	return append(l.blocklist(t), bl6...)
}

// canon returns "ip:port" keys in netip's canonical form ("[v6]:port").
func canon(t testing.TB, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = netip.MustParseAddrPort(k).String()
	}
	sort.Strings(out)
	return out
}

// expectedOpen46 is the ground truth of both families on ports outside
// both blocklists.
func (l *labEnv) expectedOpen46(t testing.TB, ports string) (v4, v6 []string) {
	bl := l.blocklist46(t)
	want := map[uint16]bool{}
	for _, p := range strings.Split(ports, ",") {
		var n uint16
		fmt.Sscan(p, &n)
		want[n] = true
	}
	for _, file := range []string{"LAB_TRUTH", "LAB6_TRUTH"} {
		for _, k := range readLines(t, l.get(file)) {
			ap := netip.MustParseAddrPort(k)
			if !want[ap.Port()] || blocked(bl, ap.Addr()) {
				continue
			}
			if ap.Addr().Is4() {
				v4 = append(v4, ap.String())
			} else {
				v6 = append(v6, ap.String())
			}
		}
	}
	sort.Strings(v4)
	sort.Strings(v6)
	if len(v4) < 50 || len(v6) != len(v4) {
		t.Fatalf("ground truth: %d IPv4 and %d IPv6 open pairs on %s; want a mirror of at least 50", len(v4), len(v6), ports)
	}
	return v4, v6
}

// hitKeys46 reads a CSV hit list into canonical keys of the given status,
// IPv4 and IPv6 apart.
func hitKeys46(t *testing.T, csv, status string) (v4, v6 []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) == 0 || lines[0] != "ip,port,status,ttl,window,time" {
		t.Fatalf("bad CSV header in %q", firstLine(csv))
	}
	for _, line := range lines[1:] {
		if line == lines[0] {
			continue // the header of an appended run
		}
		f := strings.Split(line, ",")
		if len(f) != 6 {
			t.Fatalf("bad CSV line %q", line)
		}
		if f[2] != status {
			continue
		}
		var port uint16
		fmt.Sscan(f[1], &port)
		a := netip.MustParseAddr(f[0])
		if a.Is4() {
			v4 = append(v4, netip.AddrPortFrom(a, port).String())
		} else {
			v6 = append(v6, netip.AddrPortFrom(a, port).String())
		}
	}
	sort.Strings(v4)
	sort.Strings(v6)
	return v4, v6
}

// allowed46 is every (address, port) of both target ranges on LAB_PORTS
// outside both blocklists, computed without the code under test.
func (l *labEnv) allowed46(t *testing.T) map[string]bool {
	bl := l.blocklist46(t)
	out := map[string]bool{}
	for _, r := range []string{l.get("LAB_TARGET_RANGE"), l.get("LAB6_TARGET_RANGE")} {
		pfx := netip.MustParsePrefix(r)
		for a := pfx.Addr(); pfx.Contains(a); a = a.Next() {
			if blocked(bl, a) {
				continue
			}
			for _, p := range strings.Split(l.get("LAB_PORTS"), ",") {
				var n uint16
				fmt.Sscan(p, &n)
				out[netip.AddrPortFrom(a, n).String()] = true
			}
		}
	}
	return out
}

// startCapture46 is startCapture for SYNs of both families. libpcap's
// tcp[] reads IPv4 only, so IPv6 SYNs are matched by the TCP flags at their
// fixed place after the 40-byte header: mailscan's probes carry no
// extension header.
func (l *labEnv) startCapture46(t *testing.T) *capture {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatal("tcpdump is needed for the capture (apt-get install tcpdump)")
	}
	c := &capture{file: filepath.Join(t.TempDir(), "syns.pcap")}
	c.cmd = exec.Command("ip", "netns", "exec", l.get("LAB_TARGET_NS"), "tcpdump", "-i", l.get("LAB_TARGET_IF"),
		"-n", "-U", "-B", "16384", "-w", c.file,
		"(tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)")
	stderr, _ := c.cmd.StderrPipe()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
		if st, err := os.Stat(c.file); err == nil && st.Size() > 24 {
			c.l = l
			return c
		}
		if i == 100 {
			t.Fatal("tcpdump never saw the canary SYN")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop46 ends the capture (after the IPv4 stop canary, as stop does) and
// returns the probes of both families: "ip:port" (canonical) → SYNs.
func (c *capture) stop46(t *testing.T) map[string]int {
	t.Helper()
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
			break
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.NoCopy)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || tcp.SrcPort < 61000 || tcp.DstPort >= 49152 {
			continue // not a probe: the canaries, the kernel's own connections
		}
		var dst netip.Addr
		if ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			dst, _ = netip.AddrFromSlice(ip6.DstIP)
		} else {
			continue
		}
		out[netip.AddrPortFrom(dst, uint16(tcp.DstPort)).String()]++
	}
	return out
}

// TestIntegrationIPv6SynFindsTruth: one scan of the IPv4 and the IPv6 target
// range finds exactly the ground truth of both families outside both
// blocklists (recall = precision = 1), and the target side sees exactly one
// SYN per allowed target of either family and none to a blocklisted
// address, the IPv6 blocklist's /120, /124 and /128s included.
func TestIntegrationIPv6SynFindsTruth(t *testing.T) {
	l := needLab6(t)
	cap := l.startCapture46(t)
	meta := filepath.Join(t.TempDir(), "meta.json")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs6("--metadata", meta)...)
	syns := cap.stop46(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want4, want6 := l.expectedOpen46(t, l.get("LAB_PORTS"))
	got4, got6 := hitKeys46(t, r.stdout, "open")
	if d := diff(got4, want4); d != "" {
		t.Errorf("IPv4 hits differ from the ground truth: %s", d)
	}
	if d := diff(got6, want6); d != "" {
		t.Errorf("IPv6 hits differ from the ground truth: %s", d)
	}
	allowed := l.allowed46(t)
	bl6 := prefixes(t, l.get("LAB6_BLOCKLIST"))
	var n6 int
	for k, n := range syns {
		a := netip.MustParseAddrPort(k).Addr()
		switch {
		case blocked(bl6, a):
			t.Errorf("a SYN reached %s, in the IPv6 blocklist (%d times)", k, n)
		case !allowed[k]:
			t.Errorf("a SYN reached %s, which is blocklisted or outside the targets (%d times)", k, n)
		case n != 1:
			t.Errorf("%s got %d SYNs, want 1", k, n)
		}
		if a.Is6() {
			n6++
		}
	}
	if len(syns) != len(allowed) || n6 != len(allowed)/2 {
		t.Errorf("the target side saw SYNs for %d targets (%d IPv6), want %d (%d)", len(syns), n6, len(allowed), len(allowed)/2)
	}
	var m struct {
		Excluded struct {
			Targets, Allowed, User uint64
			IPv6                   *struct{ Targets, Allowed, User uint64 }
		}
		Summary struct {
			Probed, Sent, Open, Blocked, Invalid uint64
			Complete                             bool
			Route                                struct{ Source, Source6 string }
		}
	}
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	s := m.Summary
	if s.Probed != uint64(len(allowed)) || s.Sent != s.Probed || s.Open != uint64(len(want4)+len(want6)) || s.Blocked != 0 || !s.Complete {
		t.Errorf("metadata summary %+v; want probed=sent=%d open=%d", s, len(allowed), len(want4)+len(want6))
	}
	if s.Route.Source != l.get("LAB_SCAN_ADDR") || s.Route.Source6 != l.get("LAB6_SCAN_ADDR") {
		t.Errorf("route sources %q and %q, want %s and %s", s.Route.Source, s.Route.Source6, l.get("LAB_SCAN_ADDR"), l.get("LAB6_SCAN_ADDR"))
	}
	if x := m.Excluded; x.IPv6 == nil || x.IPv6.Targets != 4096 || x.IPv6.Allowed != uint64(len(allowed)/2/4) || x.IPv6.User != x.User/2 {
		t.Errorf("metadata exclusions %+v (IPv6 %+v)", x, x.IPv6)
	}
	t.Logf("recall and precision 100%%: %d IPv4 and %d IPv6 hits of %d targets", len(got4), len(got6), len(allowed))
}

// TestIntegrationIPv6List: an IPv6 list in a -w file (the up hosts, as from
// DNS, some addresses that answer nothing, some of the silent range and
// one of the blocklist) is probed address by address: exactly the listed
// addresses outside the blocklist, and the hits are exactly their truth.
func TestIntegrationIPv6List(t *testing.T) {
	l := needLab6(t)
	bl := l.blocklist46(t)
	up := readLines(t, l.get("LAB6_UP"))
	list := slices.Clone(up)
	for _, a := range []string{"2001:db8:16::7ff", "2001:db8:16::ffe", "2001:db8:19::1", "2001:db8:19::25:25"} {
		list = append(list, a)
	}
	var blockedUp string
	for _, a := range up {
		if blocked(bl, netip.MustParseAddr(a)) {
			blockedUp = a
			break
		}
	}
	if blockedUp == "" {
		t.Fatal("no up host of the IPv6 truth is blocklisted (bad lab)")
	}
	dir := t.TempDir()
	wl := filepath.Join(dir, "mx6.txt")
	os.WriteFile(wl, []byte("# IPv6 mail hosts\n"+strings.Join(list, "\n")+"\n"), 0o644)
	meta := filepath.Join(dir, "meta.json")
	cap := l.startCapture46(t)
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "syn", "-p", l.get("LAB_PORTS"), "-r", "20000", "--allow-reserved", l.get("LAB6_ALLOW_RESERVED"),
		"-b", l.get("LAB6_BLOCKLIST"), "--cooldown", "2", "-q", "--metadata", meta, "-w", wl)
	syns := cap.stop46(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, want6 := l.expectedOpen46(t, l.get("LAB_PORTS"))
	got4, got6 := hitKeys46(t, r.stdout, "open")
	if d := diff(got6, want6); d != "" || len(got4) != 0 {
		t.Errorf("hits of the list differ from its truth: %s (and %d IPv4 hits)", d, len(got4))
	}
	var probed []string
	for k, n := range syns {
		probed = append(probed, k)
		if n != 1 {
			t.Errorf("%s got %d SYNs", k, n)
		}
	}
	var want []string
	for _, a := range list {
		if blocked(bl, netip.MustParseAddr(a)) || strings.HasPrefix(a, "2001:db8:19:") {
			continue // blocklisted; or routed to the silent namespace, not the captured target side
		}
		for _, p := range strings.Split(l.get("LAB_PORTS"), ",") {
			want = append(want, "["+a+"]:"+p)
		}
	}
	sort.Strings(probed)
	if d := diff(probed, canon(t, want)); d != "" {
		t.Errorf("the target side's SYNs differ from the listed addresses: %s", d)
	}
	if _, ok := syns["["+blockedUp+"]:143"]; ok {
		t.Errorf("the blocklisted listed host %s was probed", blockedUp)
	}
	b, _ := os.ReadFile(meta)
	if !strings.Contains(string(b), fmt.Sprintf(`"probed": %d`, (len(list)-countBlocked(bl, list))*4)) {
		t.Errorf("metadata does not count %d probed targets:\n%s", (len(list)-countBlocked(bl, list))*4, b)
	}
}

func countBlocked(bl []netip.Prefix, addrs []string) int {
	n := 0
	for _, a := range addrs {
		if blocked(bl, netip.MustParseAddr(a)) {
			n++
		}
	}
	return n
}

// TestIntegrationIPv6Shards: two shards of a mixed scan, each from its own
// scanner namespace, find disjoint hits of both families whose union is the
// unsharded scan and the ground truth.
func TestIntegrationIPv6Shards(t *testing.T) {
	l := needLab6(t)
	whole := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs6("--seed", "11")...)
	if whole.code != 0 {
		t.Fatalf("exit %d: %s", whole.code, whole.stderr)
	}
	w4, w6 := hitKeys46(t, whole.stdout, "open")
	var union []string
	seen := map[string]int{}
	for i := range 2 {
		ns := []string{l.get("LAB_SCAN_NS"), l.get("LAB_SCAN_NS2")}[i]
		r := l.mailscanIn(t, ns, l.scanArgs6("--seed", "11", "--shards", "2", "--shard", fmt.Sprint(i))...)
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, r.code, r.stderr)
		}
		h4, h6 := hitKeys46(t, r.stdout, "open")
		if len(h4) == 0 || len(h6) == 0 {
			t.Errorf("shard %d found %d IPv4 and %d IPv6 hits", i, len(h4), len(h6))
		}
		for _, k := range append(h4, h6...) {
			if j, dup := seen[k]; dup {
				t.Errorf("%s found by shard %d and shard %d", k, j, i)
			}
			seen[k] = i
			union = append(union, k)
		}
	}
	sort.Strings(union)
	all := slices.Concat(w4, w6)
	sort.Strings(all)
	if d := diff(union, all); d != "" {
		t.Errorf("union of the shards differs from the whole scan: %s", d)
	}
	e4, e6 := l.expectedOpen46(t, l.get("LAB_PORTS"))
	truth := slices.Concat(e4, e6)
	sort.Strings(truth)
	if d := diff(union, truth); d != "" {
		t.Errorf("union of the shards differs from the ground truth: %s", d)
	}
}

// TestIntegrationIPv6Resume: a mixed scan stopped by --max-runtime (exit 3)
// and run again with its resume file completes with every open target of
// both families in the hit list exactly once.
func TestIntegrationIPv6Resume(t *testing.T) {
	l := needLab6(t)
	dir := t.TempDir()
	hits, state := filepath.Join(dir, "hits.csv"), filepath.Join(dir, "scan.resume")
	args := l.scanArgs6("-r", "6000", "--seed", "5", "--resume", state, "-o", hits, "--checkpoint", "1")
	withLimit := slices.Insert(slices.Clone(args), 1, "--max-runtime", "1500ms")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), withLimit...)
	if r.code != 3 {
		t.Fatalf("first run: exit %d, want 3 (stopped by --max-runtime): %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(hits)
	first4, first6 := hitKeys46(t, string(b), "open")
	if len(first4)+len(first6) == 0 {
		t.Fatal("the first run found nothing before it stopped: the test proves nothing")
	}
	runs := 1
	for ; runs < 10; runs++ {
		r = l.mailscanIn(t, l.get("LAB_SCAN_NS"), args...)
		if r.code == 0 {
			break
		}
		if r.code != 3 {
			t.Fatalf("resumed run: exit %d: %s", r.code, r.stderr)
		}
	}
	b, err := os.ReadFile(hits)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "ip,port,status,ttl,window,time\n"); n != 1 {
		t.Errorf("the CSV header appears %d times", n)
	}
	got4, got6 := hitKeys46(t, string(b), "open")
	want4, want6 := l.expectedOpen46(t, l.get("LAB_PORTS"))
	if d := diff(got4, want4); d != "" {
		t.Errorf("IPv4 hits over %d runs: %s", runs+1, d)
	}
	if d := diff(got6, want6); d != "" {
		t.Errorf("IPv6 hits over %d runs: %s", runs+1, d)
	}
	t.Logf("%d hits before the stop (%d IPv6), %d after %d runs", len(first4)+len(first6), len(first6), len(got4)+len(got6), runs+1)
}

// TestIntegrationIPv6ForgedReplies: IPv6 SYN-ACKs and RSTs with a wrong ack
// or to the wrong port, injected in the lab, are not reported; a forged
// IPv6 reply carrying the right cookie (the positive control) is.
func TestIntegrationIPv6ForgedReplies(t *testing.T) {
	l := needLab6(t)
	up := map[string]bool{}
	for _, h := range readLines(t, l.get("LAB6_UP")) {
		up[h] = true
	}
	bl := l.blocklist46(t)
	var quiet []netip.Addr
	pfx := netip.MustParsePrefix(l.get("LAB6_TARGET_RANGE"))
	for a := pfx.Addr().Next(); pfx.Contains(a) && len(quiet) < 2; a = a.Next() {
		if !up[a.String()] && !blocked(bl, a) {
			quiet = append(quiet, a)
		}
	}
	wrong, control := quiet[0], quiet[1]
	inj := startRole(t, l.get("LAB_TARGET_NS"), "inject6",
		"MAILSCAN_INJECT_IF="+l.get("LAB_TARGET_IF"),
		"MAILSCAN_INJECT_WRONG="+wrong.String(), "MAILSCAN_INJECT_CONTROL="+control.String())
	meta := filepath.Join(t.TempDir(), "meta.json")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs6("--closed", "-p", "143", "--metadata", meta)...)
	if err := inj.stop(); err != nil {
		t.Fatalf("injector: %v", err)
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, open := hitKeys46(t, r.stdout, "open")
	_, closed := hitKeys46(t, r.stdout, "closed")
	for _, k := range append(open, closed...) {
		if netip.MustParseAddrPort(k).Addr() == wrong {
			t.Errorf("a forged reply from %s was reported: %s", wrong, k)
		}
	}
	controlKey := netip.AddrPortFrom(control, 143).String()
	if !slices.Contains(open, controlKey) {
		t.Errorf("the control reply from %s was not reported: the injection did not work, so the test proves nothing", controlKey)
	}
	b, _ := os.ReadFile(meta)
	if !strings.Contains(string(b), `"invalid": 3`) {
		t.Errorf("metadata should count exactly the 3 forged IPv6 replies as invalid:\n%s", b)
	}
}

// injector6 is injector for IPv6: to every SYN for MAILSCAN_INJECT_WRONG it
// sends a SYN-ACK and a RST with ack = seq+2 and a SYN-ACK with the right
// ack to the wrong port; to every SYN for MAILSCAN_INJECT_CONTROL a correct
// SYN-ACK.
func injector6() error {
	wrong := netip.MustParseAddr(os.Getenv("MAILSCAN_INJECT_WRONG"))
	control := netip.MustParseAddr(os.Getenv("MAILSCAN_INJECT_CONTROL"))
	return injectWith(func(frame []byte, send func([]byte)) {
		pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
		eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if eth == nil || ip == nil || tcp == nil || !tcp.SYN || tcp.ACK {
			return
		}
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		switch dst {
		case wrong:
			send(forge6(eth, ip, tcp, tcp.Seq+2, true, tcp.SrcPort))
			send(forge6(eth, ip, tcp, tcp.Seq+2, false, tcp.SrcPort))
			send(forge6(eth, ip, tcp, tcp.Seq+1, true, tcp.SrcPort^1))
		case control:
			send(forge6(eth, ip, tcp, tcp.Seq+1, true, tcp.SrcPort))
		}
	})
}

// forge6 is forge for IPv6.
func forge6(eth *layers.Ethernet, ip *layers.IPv6, tcp *layers.TCP, ack uint32, synack bool, dport layers.TCPPort) []byte {
	e := &layers.Ethernet{SrcMAC: eth.DstMAC, DstMAC: eth.SrcMAC, EthernetType: layers.EthernetTypeIPv6}
	i := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: ip.DstIP, DstIP: ip.SrcIP}
	t := &layers.TCP{SrcPort: tcp.DstPort, DstPort: dport, Ack: ack, ACK: true, Seq: 1000, Window: 64800}
	if synack {
		t.SYN = true
	} else {
		t.RST, t.Window = true, 0
	}
	t.SetNetworkLayerForChecksum(i)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, e, i, t)
	return buf.Bytes()
}

// twin6 is the IPv6 twin of an address of the IPv4 target range: address
// i of 198.18.16.0/20 is 2001:db8:16::i.
func twin6(a netip.Addr) netip.Addr {
	b := a.As4()
	i := uint16(b[2]-16)<<8 | uint16(b[3])
	c := netip.MustParseAddr("2001:db8:16::").As16()
	c[14], c[15] = byte(i>>8), byte(i)
	return netip.AddrFrom16(c)
}

// TestIntegrationIPv6Banner: banner over the IPv6 hits of a mixed scan on
// every mail port gives, server by server, exactly what it gives over the
// IPv4 hits: the same statuses, greetings, capabilities, STARTTLS, TLS and
// certificate facts, fingerprints and findings (cleartext_login included,
// which Dovecot decides per local address range), every result but the
// address and timings equal to its IPv4 twin's.
func TestIntegrationIPv6Banner(t *testing.T) {
	l := needLab6(t)
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs6("-p", l.get("LAB_ALL_PORTS"))...)
	if r.code != 0 {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	h4, h6 := hitKeys46(t, r.stdout, "open")
	if len(h4) < 100 || len(h6) != len(h4) {
		t.Fatalf("%d IPv4 and %d IPv6 hits: want a mirror of at least 100", len(h4), len(h6))
	}
	dir := t.TempDir()
	grab := func(name string, keys []string) map[string]map[string]any {
		in, out := filepath.Join(dir, name+".txt"), filepath.Join(dir, name+".jsonl")
		os.WriteFile(in, []byte(strings.Join(keys, "\n")+"\n"), 0o644)
		r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "--allow-reserved", "198.18.0.0/15",
			"--allow-reserved", l.get("LAB6_ALLOW_RESERVED"), "-i", in, "-o", out, "--concurrency", "100",
			"--ehlo", "scanner.lab.mailscan.test")
		if r.code != 0 {
			t.Fatalf("banner %s: exit %d: %s", name, r.code, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		res := map[string]map[string]any{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			key := netip.AddrPortFrom(netip.MustParseAddr(m["ip"].(string)), uint16(m["port"].(float64))).String()
			delete(m, "ip")
			delete(m, "time")
			delete(m, "duration_ms")
			res[key] = m
		}
		return res
	}
	r4, r6 := grab("v4", h4), grab("v6", h6)
	if len(r4) != len(h4) || len(r6) != len(h6) {
		t.Fatalf("%d IPv4 results for %d hits, %d IPv6 results for %d", len(r4), len(h4), len(r6), len(h6))
	}
	status := map[string]int{}
	cleartext := 0
	for k4, res4 := range r4 {
		ap := netip.MustParseAddrPort(k4)
		k6 := netip.AddrPortFrom(twin6(ap.Addr()), ap.Port()).String()
		res6, ok := r6[k6]
		if !ok {
			t.Errorf("no IPv6 result for %s, twin of %s", k6, k4)
			continue
		}
		j4, _ := json.Marshal(res4)
		j6, _ := json.Marshal(res6)
		if string(j4) != string(j6) {
			t.Errorf("%s and its IPv4 twin %s differ:\n IPv6 %s\n IPv4 %s", k6, k4, j6, j4)
		}
		status[fmt.Sprint(res6["status"])]++
		if f, ok := res6["findings"].(map[string]any); ok {
			if cl, ok := f["cleartext_login"].(map[string]any); ok && cl["value"] == true {
				cleartext++
			}
		}
	}
	if status["success"] != len(r6) || cleartext == 0 || cleartext == len(r6) {
		t.Errorf("IPv6 statuses %v, %d of %d with cleartext_login: want every grab a success, and both cleartext policies seen", status, cleartext, len(r6))
	}
	t.Logf("%d IPv6 results equal to their IPv4 twins (%d with cleartext login)", len(r6), cleartext)
}

// injectWith runs an injector on MAILSCAN_INJECT_IF: handle sees every
// frame that arrives and may send forged frames back. It runs until stdin
// closes.
func injectWith(handle func(frame []byte, send func([]byte))) error {
	ifi, err := net.InterfaceByName(os.Getenv("MAILSCAN_INJECT_IF"))
	if err != nil {
		return err
	}
	rcv, err := afpacket.NewReceiver(ifi.Index, nil)
	if err != nil {
		return err
	}
	defer rcv.Close()
	snd, err := afpacket.NewSender(ifi.Index, &afpacket.SenderConfig{Mode: afpacket.ModeSendmmsg})
	if err != nil {
		return err
	}
	defer snd.Close()
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	fmt.Println("ready")
	var sendErr error
	send := func(b []byte) {
		buf, err := snd.Next()
		if err != nil {
			sendErr = err
			return
		}
		snd.Commit(copy(buf, b))
	}
	for {
		select {
		case <-done:
			return sendErr
		default:
		}
		if _, err := rcv.Poll(100*time.Millisecond, func(frame []byte) { handle(frame, send) }); err != nil {
			return err
		}
		if err := snd.Flush(); err != nil {
			return err
		}
	}
}

// TestIntegrationIPv6Run: mailscan run over the IPv6 target and
// pseudo-service ranges, its banner side without privileges: the hits are
// the IPv6 ground truth, the pseudo-service hosts (which answer on every
// port) are flagged by their control probes and nothing else is, and every
// hit gets one result, a success outside the pseudo range.
func TestIntegrationIPv6Run(t *testing.T) {
	l := needLab6(t)
	dir := nobodyDir(t)
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "run", "-q", "-p", l.get("LAB_ALL_PORTS"), "--allow-reserved", l.get("LAB6_ALLOW_RESERVED"),
		"-b", l.get("LAB6_BLOCKLIST"), "--cooldown", "2", "--hits", filepath.Join(dir, "hits.csv"), "-o", filepath.Join(dir, "results.jsonl"),
		"--metadata", filepath.Join(dir, "meta.json"), "--user", "nobody", l.get("LAB6_TARGET_RANGE"), l.get("LAB6_PSEUDO_RANGE"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	plain, flagged := runHits(t, filepath.Join(dir, "hits.csv"))
	_, want := l.expectedOpen46(t, l.get("LAB_ALL_PORTS"))
	if d := diff(canon(t, bracket(plain)), want); d != "" {
		t.Errorf("unflagged hits differ from the IPv6 ground truth: %s", d)
	}
	var pseudo []string
	for _, a := range readLines(t, l.get("LAB6_PSEUDO")) {
		for _, p := range strings.Split(l.get("LAB_ALL_PORTS"), ",") {
			pseudo = append(pseudo, "["+a+"]:"+p)
		}
	}
	flaggedKeys := canon(t, bracket(flagged))
	if d := diff(flaggedKeys, canon(t, pseudo)); d != "" {
		t.Errorf("hits flagged answers_all_ports differ from the IPv6 pseudo-service range: %s", d)
	}
	isPseudo := map[string]bool{}
	for _, k := range flaggedKeys {
		isPseudo[k] = true
	}
	var got []string
	for _, res := range readResults(t, filepath.Join(dir, "results.jsonl")) {
		k := netip.AddrPortFrom(netip.MustParseAddr(res.IP), uint16(res.Port)).String()
		got = append(got, k)
		if !isPseudo[k] && res.Status != "success" {
			t.Errorf("%s: %s (%s)", k, res.Status, res.Error)
		}
	}
	sort.Strings(got)
	all := slices.Concat(want, flaggedKeys)
	sort.Strings(all)
	if d := diff(got, all); d != "" {
		t.Errorf("results do not match the hits one for one: %s", d)
	}
}

// bracket turns the "ip:port" keys runHits makes (ip:port with a bare
// IPv6 address) into forms netip parses: [ip6]:port.
func bracket(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if j := strings.LastIndexByte(k, ':'); strings.Count(k, ":") > 1 {
			k = "[" + k[:j] + "]" + k[j:]
		}
		out[i] = k
	}
	return out
}
