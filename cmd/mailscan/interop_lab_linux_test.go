package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailscan/scripts/lab/labtest"
	"mailscan/syn/hitlist/zgrab2test"
)

// The interop lab tests run the real zmap, masscan and nmap in the lab's
// scanner namespace, against the lab's target range and ports only, with
// the lab's blocklist, and check that mailscan reads what they write and
// writes what they read: each tool's output in each of its formats, fed to
// `mailscan banner`, gives a success for exactly the lab's open pairs; the
// real nmap, run on `mailscan syn -O nmap`, finds exactly them too and
// probes nothing else; `mailscan syn -O zgrab2` with `mailscan zgrab2-ini`,
// read with ZGrab2's input rules, runs the right module on every one.

// needTool returns the path of a tool the test runs. It skips without
// the tool, except under CI=true, where scripts/install-deps.sh installs
// it (labtest decides).
func needTool(t *testing.T, name string) string {
	t.Helper()
	labtest.NeedTools(t, name)
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// gatewayMAC reads the MAC of the scanner's gateway from the neighbour
// table (lab.sh makes it permanent): zmap and masscan cannot find it in a
// namespace by themselves.
func (l *labEnv) gatewayMAC(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.get("LAB_SCAN_NS"), "neigh", "show", l.get("LAB_GATEWAY")).Output()
	if err != nil {
		t.Fatalf("ip neigh: %v", err)
	}
	f := strings.Fields(string(out))
	for i := range f {
		if f[i] == "lladdr" && i+1 < len(f) {
			return f[i+1]
		}
	}
	t.Fatalf("no MAC for the gateway %s in %q", l.get("LAB_GATEWAY"), out)
	return ""
}

// inScanNS runs a tool in the scanner namespace, in dir, and fails the
// test if it fails.
func (l *labEnv) inScanNS(t *testing.T, dir string, argv ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.get("LAB_SCAN_NS")}, argv...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// runMasscan runs masscan with one output option. masscan 1.3.2 does not
// exit by itself in the lab: once its --wait is over it blocks reading its
// capture socket until a packet arrives. After the scan (and the wait) one
// TCP connection from the scanner namespace to an open lab pair wakes it;
// if it still runs, it gets SIGINT, then SIGKILL, by its PID.
func (l *labEnv) runMasscan(t *testing.T, dir, mac, poke string, out ...string) {
	t.Helper()
	args := []string{"netns", "exec", l.get("LAB_SCAN_NS"), "masscan", "-p", l.get("LAB_ALL_PORTS"),
		"--adapter", l.get("LAB_SCAN_IF"), "--adapter-ip", l.get("LAB_SCAN_ADDR"), "--router-mac", mac,
		"--excludefile", l.get("LAB_BLOCKLIST"), "--rate", "20000", "--wait", "1",
		// A second SYN per target: on the shared 2-core machine masscan's
		// capture (libpcap) now and then misses a SYN-ACK of a single probe.
		"--retries", "1"}
	args = append(append(args, out...), l.get("LAB_TARGET_RANGE"))
	cmd := exec.Command("ip", args...)
	cmd.Dir = dir // masscan may leave a paused.conf where it runs
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// 2 × 26,754 probes at 20,000/s take under 3 s; then the 1 s wait.
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("masscan %v: %v\n%s", out, err, stderr.String())
			}
			return
		case <-tick.C:
			if time.Since(start) > 5*time.Second {
				exec.Command("ip", "netns", "exec", l.get("LAB_SCAN_NS"), "timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/"+strings.Replace(poke, ":", "/", 1)).Run()
			}
		case <-deadline:
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			t.Fatalf("masscan %v did not exit after its wait; stopped by PID %d", out, cmd.Process.Pid)
		}
	}
}

// bannerAllowsReserved: once banner enforces the exclusion policy it needs
// --allow-reserved for the lab's range; before, it has no such flag.
func (l *labEnv) bannerAllowsReserved(t *testing.T) bool {
	r := l.run(t, l.bin, "banner", "-h")
	return strings.Contains(r.stderr+r.stdout, "-allow-reserved")
}

// bannerOn feeds one input to mailscan banner in the scanner namespace and
// returns the result file's "ip:port" keys of the successes and of all
// results, sorted, with the run.
func (l *labEnv) bannerOn(t *testing.T, allowReserved bool, input string, extra ...string) (success, all []string, r result) {
	t.Helper()
	out := input + ".results.jsonl"
	args := []string{"banner", "-q", "-i", input, "-o", out, "--concurrency", "200"}
	if allowReserved {
		args = append(args, "--allow-reserved", "198.18.0.0/15", "-b", l.get("LAB_BLOCKLIST"))
	}
	r = l.mailscanIn(t, l.get("LAB_SCAN_NS"), append(args, extra...)...)
	if _, err := os.Stat(out); err != nil {
		return nil, nil, r
	}
	for _, res := range readResults(t, out) {
		k := fmt.Sprintf("%s:%d", res.IP, res.Port)
		all = append(all, k)
		if res.Status == "success" {
			success = append(success, k)
		}
	}
	slices.Sort(success)
	slices.Sort(all)
	return success, all, r
}

// TestIntegrationInteropReaders: real outputs of zmap 2.1, masscan 1.3 and
// nmap 7.9, in every format each writes, each fed as it is to mailscan
// banner, give a success for exactly the lab's open pairs and no result for
// anything else: no closed or filtered port grabbed, no pair twice, none
// missed. zmap's default saddr-only files, one per port, are read with
// that port; concatenated, with several ports, they are refused rather than
// multiplied.
func TestIntegrationInteropReaders(t *testing.T) {
	l := needLab(t)
	zmap, nmap := needTool(t, "zmap"), needTool(t, "nmap")
	needTool(t, "masscan")
	want := l.expectedOpenOn(t, l.get("LAB_ALL_PORTS"))
	mac := l.gatewayMAC(t)
	allow := l.bannerAllowsReserved(t)
	dir := t.TempDir()
	ports := strings.Split(l.get("LAB_ALL_PORTS"), ",")
	bl, rng := l.get("LAB_BLOCKLIST"), l.get("LAB_TARGET_RANGE")

	type input struct {
		name, file string
		extra      []string // banner flags
	}
	var inputs []input
	path := func(name string) string { return filepath.Join(dir, name) }

	// masscan: one scan per output format, closed ports shown.
	for _, f := range []struct{ opt, file string }{
		{"-oL", "masscan.list"}, {"-oJ", "masscan.json"}, {"-oD", "masscan.ndjson"},
		{"-oX", "masscan.xml"}, {"-oG", "masscan.grepable"}, {"-oB", "masscan.bin"},
	} {
		l.runMasscan(t, dir, mac, want[0], "--show", "closed", f.opt, path(f.file))
		inputs = append(inputs, input{"masscan " + f.opt, path(f.file), nil})
	}

	// nmap: one SYN scan, grepable and XML at once; -Pn reports every
	// address, most of them filtered.
	l.inScanNS(t, dir, nmap, "-sS", "-Pn", "-n", "-p", l.get("LAB_ALL_PORTS"), "--min-rate", "3000", "--max-rate", "5000",
		"--max-retries", "1", "--min-hostgroup", "4096", "--max-rtt-timeout", "200ms", "--excludefile", bl,
		"-oG", path("nmap.gnmap"), "-oX", path("nmap.xml"), rng)
	inputs = append(inputs, input{"nmap -oG", path("nmap.gnmap"), nil}, input{"nmap -oX", path("nmap.xml"), nil})

	// zmap: one port per run. With fields (and two probes, so that repeat=1
	// rows and RSTs appear), the per-port files concatenated; and its
	// default output, one file of addresses per port.
	fields := "saddr,sport,classification,success,repeat,ttl,window,timestamp-str"
	var zcsv, zjson []byte
	for _, p := range ports {
		for _, mod := range []string{"csv", "json"} {
			f := path(fmt.Sprintf("zmap-%s.%s", p, mod))
			l.inScanNS(t, dir, zmap, "-q", "-p", p, "-i", l.get("LAB_SCAN_IF"), "-G", mac, "-b", bl, "-r", "20000", "-c", "1", "-P", "2",
				"-O", mod, "-f", fields, "--output-filter", "success = 0 || success = 1", "-o", f, rng)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if mod == "csv" {
				zcsv = append(zcsv, b...)
			} else {
				zjson = append(zjson, b...)
			}
		}
		l.inScanNS(t, dir, zmap, "-q", "-p", p, "-i", l.get("LAB_SCAN_IF"), "-G", mac, "-b", bl, "-r", "20000", "-c", "1",
			"-o", path("zmap-default-"+p+".txt"), rng)
		if p == "110" || p == "143" {
			l.inScanNS(t, dir, zmap, "-q", "-p", p, "-i", l.get("LAB_SCAN_IF"), "-G", mac, "-b", bl, "-r", "20000", "-c", "1",
				"-O", "json", "--output-filter", "success = 1 && repeat = 0", "-o", path("zmap-default-"+p+".json"), rng)
		}
	}
	os.WriteFile(path("zmap-fields.csv"), zcsv, 0o644)
	os.WriteFile(path("zmap-fields.json"), zjson, 0o644)
	inputs = append(inputs, input{"zmap -O csv -f " + fields + " (7 files concatenated)", path("zmap-fields.csv"), nil},
		input{"zmap -O json -f " + fields + " (7 files concatenated)", path("zmap-fields.json"), nil})

	// Each input once more, with a second blocklist that opts a quarter of
	// the range out: whatever the format, a capture on the target side
	// holds no SYN at all to those addresses, and the rest is grabbed.
	optout := path("optout.txt")
	os.WriteFile(optout, []byte("# asked never to be contacted\n198.18.16.0/22\n"), 0o644)
	out := netip.MustParsePrefix("198.18.16.0/22")
	var wantIn []string
	for _, k := range want {
		if !out.Contains(netip.MustParseAddrPort(k).Addr()) {
			wantIn = append(wantIn, k)
		}
	}
	c := l.startCapture(t)
	for _, in := range inputs {
		success, all, r := l.bannerOn(t, allow, in.file, append([]string{"-b", optout}, in.extra...)...)
		if r.code != 0 {
			t.Errorf("%s with the opt-out list: banner exit %d: %s", in.name, r.code, r.stderr)
			continue
		}
		if d := diff(success, wantIn); d != "" || len(all) != len(success) {
			t.Errorf("%s with the opt-out list: successes: %s; %d results", in.name, d, len(all))
		}
	}
	for k, n := range c.stopAll(t) {
		if out.Contains(netip.MustParseAddrPort(k).Addr()) {
			t.Errorf("%d SYNs to %s, opted out with -b", n, k)
		}
	}

	for _, in := range inputs {
		success, all, r := l.bannerOn(t, allow, in.file, in.extra...)
		if r.code != 0 {
			t.Errorf("%s: banner exit %d: %s", in.name, r.code, r.stderr)
			continue
		}
		if d := diff(success, want); d != "" {
			t.Errorf("%s: successes: %s", in.name, d)
		}
		if d := diff(all, want); d != "" {
			t.Errorf("%s: results (a closed or filtered port grabbed, or a pair twice?): %s", in.name, d)
		}
		t.Logf("interop %-60s → mailscan banner: %d of %d open pairs grabbed with success, %d results", in.name, len(success), len(want), len(all))
	}

	// zmap's default output: each port's file with its own -p.
	var perPort []string
	for _, p := range ports {
		success, all, r := l.bannerOn(t, allow, path("zmap-default-"+p+".txt"), "-p", p)
		if r.code != 0 || len(success) != len(all) {
			t.Errorf("zmap default -p %s: exit %d, %d successes of %d results: %s", p, r.code, len(success), len(all), r.stderr)
		}
		perPort = append(perPort, success...)
	}
	slices.Sort(perPort)
	if d := diff(perPort, want); d != "" {
		t.Errorf("zmap default output, one file per port: %s", d)
	}
	t.Logf("interop %-60s → mailscan banner: %d of %d", "zmap default (saddr lines), each port's file with its -p", len(perPort), len(want))
	var cat []byte
	for _, p := range []string{"110", "143"} {
		success, _, _ := l.bannerOn(t, allow, path("zmap-default-"+p+".json"), "-p", p)
		if d := diff(success, onPort(want, p)); d != "" {
			t.Errorf("zmap -O json default fields -p %s: %s", p, d)
		}
		b, _ := os.ReadFile(path("zmap-default-" + p + ".json"))
		cat = append(cat, b...)
	}

	// Concatenated, with both ports: refused, nothing grabbed.
	os.WriteFile(path("zmap-default-both.json"), cat, 0o644)
	_, all, r := l.bannerOn(t, allow, path("zmap-default-both.json"), "-p", "110,143")
	if len(all) != 0 || !strings.Contains(r.stderr, "no port field") {
		t.Errorf("concatenated saddr-only zmap JSON with -p 110,143: %d results, stderr %s; want none and ErrPortUnknown's message", len(all), r.stderr)
	}
}

// onPort returns the keys of pairs on port.
func onPort(keys []string, port string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasSuffix(k, ":"+port) {
			out = append(out, k)
		}
	}
	return out
}

// nmapOpen reads nmap's grepable output independently of the code under
// test: every (address, port, state) it reports.
func nmapOpen(t *testing.T, path string) (open, probed []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		host, rest, ok := strings.Cut(line, "\tPorts: ")
		if !ok || !strings.HasPrefix(host, "Host: ") {
			continue
		}
		addr, _, _ := strings.Cut(strings.TrimPrefix(host, "Host: "), " ")
		rest, _, _ = strings.Cut(rest, "\t")
		for _, e := range strings.Split(rest, ", ") {
			p := strings.Split(e, "/")
			if len(p) < 3 {
				t.Fatalf("bad nmap port entry %q", e)
			}
			k := addr + ":" + p[0]
			probed = append(probed, k)
			if p[1] == "open" && p[2] == "tcp" {
				open = append(open, k)
			}
		}
	}
	return open, probed
}

// TestIntegrationInteropNmap: the real nmap, run on each file of `mailscan
// syn -O nmap` with that file's port, finds every open pair of the lab's
// truth, no more, and probes nothing but the hits.
func TestIntegrationInteropNmap(t *testing.T) {
	l := needLab(t)
	nmap := needTool(t, "nmap")
	want := l.expectedOpenOn(t, l.get("LAB_ALL_PORTS"))
	dir := t.TempDir()
	prefix := filepath.Join(dir, "hits")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("-p", l.get("LAB_ALL_PORTS"), "-O", "nmap", "-o", prefix)...)
	if r.code != 0 {
		t.Fatalf("syn -O nmap: exit %d: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(prefix + ".*.txt")
	if len(files) != len(strings.Split(l.get("LAB_ALL_PORTS"), ",")) {
		t.Fatalf("files %v: want one per port", files)
	}
	var open, probed []string
	for _, f := range files {
		port := strings.TrimSuffix(strings.TrimPrefix(f, prefix+"."), ".txt")
		out := f + ".gnmap"
		l.inScanNS(t, dir, nmap, "-sS", "-Pn", "-n", "-p", port, "--max-rate", "5000", "-iL", f, "-oG", out)
		o, p := nmapOpen(t, out)
		open, probed = append(open, o...), append(probed, p...)
	}
	slices.Sort(open)
	slices.Sort(probed)
	if d := diff(open, want); d != "" {
		t.Errorf("nmap on -O nmap: open %s", d)
	}
	if d := diff(probed, want); d != "" {
		t.Errorf("nmap on -O nmap probed other pairs than the hits: %s", d)
	}
	t.Logf("interop mailscan -O nmap → nmap -sS -Pn -n -p PORT -iL hits.PORT.txt: %d of %d open pairs, %d pairs probed", len(open), len(want), len(probed))
}

// TestIntegrationInteropZGrab2: `mailscan syn -O zgrab2:NAME` on the lab
// and `mailscan zgrab2-ini`, read with ZGrab2's input rules (zgrab2test),
// run on every open pair exactly the module mailscan speaks there, with the
// EHLO name in the domain column, and nothing else.
func TestIntegrationInteropZGrab2(t *testing.T) {
	l := needLab(t)
	want := l.expectedOpenOn(t, l.get("LAB_ALL_PORTS"))
	dir := t.TempDir()
	list, ini := filepath.Join(dir, "hits.zgrab2.csv"), filepath.Join(dir, "mail.ini")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("-p", l.get("LAB_ALL_PORTS"), "-O", "zgrab2:scanner.lab.mailscan.test", "-o", list)...)
	if r.code != 0 {
		t.Fatalf("syn -O zgrab2: exit %d: %s", r.code, r.stderr)
	}
	if r := l.run(t, l.bin, "zgrab2-ini", "-o", ini); r.code != 0 {
		t.Fatalf("zgrab2-ini: exit %d: %s", r.code, r.stderr)
	}
	lf, _ := os.Open(list)
	defer lf.Close()
	inf, _ := os.Open(ini)
	defer inf.Close()
	runs, err := zgrab2test.Runs(lf, inf)
	if err != nil {
		t.Fatalf("zgrab2 would refuse: %v", err)
	}
	var wantRuns []string
	for _, k := range want {
		wantRuns = append(wantRuns, k+" "+zgrab2test.MailRun[netip.MustParseAddrPort(k).Port()])
	}
	slices.Sort(wantRuns)
	if d := diff(runs, wantRuns); d != "" {
		t.Errorf("zgrab2 runs: %s", d)
	}
	lf.Seek(0, 0)
	targets, _ := zgrab2test.ReadTargets(lf)
	for _, tg := range targets {
		if tg.Domain != "scanner.lab.mailscan.test" {
			t.Errorf("target %v: domain %q, want the EHLO name", tg.IP, tg.Domain)
			break
		}
	}
	t.Logf("interop mailscan -O zgrab2 + zgrab2-ini → ZGrab2's input rules: %d of %d open pairs run with the right module", len(runs), len(want))
}
