package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The fault-injection suite: each subtest runs `mailscan run` or `mailscan
// syn` with a resume file, injects one fault, then runs the same command
// again until it completes, and checks the union of what the runs wrote:
// every open target of the lab's truth exactly once, nothing else.

// faultPorts keeps each scan of the suite short: three ports of the lab.
const faultPorts = "25,143,993"

// faultScan is one command line of the suite and where its outputs go.
type faultScan struct {
	l       *labEnv
	dir     string
	command string // run or syn
	args    []string
}

func (l *labEnv) faultScan(t *testing.T, command string, extra ...string) *faultScan {
	dir := nobodyDir(t)
	f := &faultScan{l: l, dir: dir, command: command}
	f.args = []string{command, "-q", "-p", faultPorts, "-r", "4000", "--allow-reserved", "198.18.0.0/15", "-b", l.get("LAB_BLOCKLIST"),
		"--cooldown", "1", "--checkpoint", "1", "--resume", filepath.Join(dir, "scan.state"), "--metadata", filepath.Join(dir, "meta.json")}
	if command == "run" {
		f.args = append(f.args, "--hits", filepath.Join(dir, "hits.csv"), "-o", filepath.Join(dir, "results.jsonl"), "--user", "nobody", "--concurrency", "50")
	} else {
		f.args = append(f.args, "-o", filepath.Join(dir, "hits.csv"))
	}
	f.args = append(append(f.args, extra...), l.get("LAB_TARGET_RANGE"))
	return f
}

// with returns a copy of f whose outputs and state live in dir.
func (f *faultScan) with(dir string) *faultScan {
	g := *f
	g.args = slices.Clone(f.args)
	for i, a := range g.args {
		if strings.HasPrefix(a, f.dir+"/") && !strings.HasSuffix(a, "meta.json") {
			g.args[i] = filepath.Join(dir, filepath.Base(a))
		}
	}
	return &g
}

// start starts the command in the scanner namespace; stdout goes to out
// (nil: discarded).
func (f *faultScan) start(t *testing.T, out io.Writer) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", f.l.get("LAB_SCAN_NS"), f.l.bin}, f.args...)...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &stderr
}

// complete runs the command until it exits 0 (each run resumes the last),
// failing on any other status.
func (f *faultScan) complete(t *testing.T) {
	t.Helper()
	r := f.l.mailscanIn(t, f.l.get("LAB_SCAN_NS"), f.args...)
	if r.code != 0 {
		t.Fatalf("resumed %s: exit %d\n%s", f.command, r.code, r.stderr)
	}
}

// killAfter starts the command and kill -9's mailscan once ready() holds.
func (f *faultScan) killWhen(t *testing.T, ready func() bool) {
	t.Helper()
	cmd, stderr := f.start(t, nil)
	for deadline := time.Now().Add(60 * time.Second); !ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the moment to kill never came:\n%s", stderr)
		}
		if cmd.ProcessState != nil {
			t.Fatalf("ended before the kill:\n%s", stderr)
		}
	}
	syscall.Kill(childPID(t, cmd.Process.Pid), syscall.SIGKILL)
	cmd.Wait()
}

// checkExactlyOnce checks the union of the outputs: each open target of
// the truth exactly once in the hit list and, for run, in the results.
func (f *faultScan) checkExactlyOnce(t *testing.T) {
	t.Helper()
	want := f.l.expectedOpenOn(t, faultPorts)
	keys := func(name string, lines []string, key func(string) (string, bool)) {
		count := map[string]int{}
		var got []string
		for _, line := range lines {
			if k, ok := key(line); ok {
				if count[k]++; count[k] == 1 {
					got = append(got, k)
				}
			}
		}
		var dups []string
		for k, n := range count {
			if n > 1 {
				dups = append(dups, fmt.Sprintf("%s×%d", k, n))
			}
		}
		slices.Sort(got)
		if d := diff(got, want); d != "" || len(dups) > 0 {
			t.Errorf("%s over all runs: %s; written more than once: %v", name, d, head(dups))
		}
	}
	hits := fileLines(t, filepath.Join(f.dir, "hits.csv"))
	keys("hit list", hits, func(l string) (string, bool) {
		fs := strings.Split(l, ",")
		if fs[0] == "ip" {
			return "", false
		}
		if len(fs) < 6 {
			t.Errorf("hit list line %q is not whole", l)
			return "", false
		}
		return fs[0] + ":" + fs[1], fs[2] == "open"
	})
	if n := strings.Count(strings.Join(hits, "\n"), "ip,port,"); n != 1 {
		t.Errorf("the hit list has %d header lines, want 1", n)
	}
	if f.command != "run" {
		return
	}
	keys("results", fileLines(t, filepath.Join(f.dir, "results.jsonl")), func(l string) (string, bool) {
		var r struct {
			IP     string `json:"ip"`
			Port   int    `json:"port"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Errorf("results line is not whole JSON: %q", l)
			return "", false
		}
		if r.Status != "success" {
			t.Errorf("%s:%d: %s", r.IP, r.Port, r.Status)
		}
		return fmt.Sprintf("%s:%d", r.IP, r.Port), true
	})
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

func lineCount(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// stateWrites reports how many times the state file has been replaced, by
// its inode: each atomic write makes a new one.
type stateWatch struct {
	path  string
	inode uint64
	n     int
}

func (w *stateWatch) changed() bool {
	var st syscall.Stat_t
	if syscall.Stat(w.path, &st) != nil {
		return false
	}
	if st.Ino != w.inode {
		w.inode = st.Ino
		w.n++
		return true
	}
	return false
}

func TestIntegrationFaults(t *testing.T) {
	l := needLab(t)

	// kill -9 at moments drawn from several seeds, in the first second,
	// just after a checkpoint, and twice in a row, for run and syn.
	for _, tc := range []struct {
		name    string
		command string
		kills   []func(f *faultScan) func() bool
	}{
		{"kill9/run/first-second", "run", []func(*faultScan) func() bool{afterMS(300)}},
		{"kill9/run/after-checkpoint", "run", []func(*faultScan) func() bool{afterCheckpoints(2)}},
		{"kill9/run/seed-1-twice", "run", []func(*faultScan) func() bool{afterHits(randHits(1)), afterHits(randHits(2))}},
		{"kill9/run/seed-3", "run", []func(*faultScan) func() bool{afterHits(randHits(3))}},
		{"kill9/syn/seed-4", "syn", []func(*faultScan) func() bool{afterHits(randHits(4))}},
		{"kill9/syn/after-checkpoint-twice", "syn", []func(*faultScan) func() bool{afterCheckpoints(1), afterCheckpoints(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := l.faultScan(t, tc.command)
			for _, k := range tc.kills {
				f.killWhen(t, k(f))
			}
			f.complete(t)
			f.checkExactlyOnce(t)
		})
	}

	// The outputs and the resume file on a small tmpfs that fills in the
	// middle of the scan: exit 1 and a message; then space is freed.
	for _, command := range []string{"run", "syn"} {
		t.Run("disk-full/"+command, func(t *testing.T) {
			f := l.faultScan(t, command)
			small := filepath.Join(f.dir, "small")
			os.Mkdir(small, 0o777)
			size := map[string]string{"run": "48k", "syn": "8k"}[command]
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0777", "tmpfs", small).CombinedOutput(); err != nil {
				t.Fatalf("mount tmpfs: %v %s", err, out)
			}
			t.Cleanup(func() { exec.Command("umount", small).Run() })
			g := f.with(small)
			r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), g.args...)
			if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "run the same command again") {
				t.Fatalf("on a full disk: exit %d, want 1 with how to resume:\n%s", r.code, r.stderr)
			}
			if out, err := exec.Command("mount", "-o", "remount,size=64m", small).CombinedOutput(); err != nil {
				t.Fatalf("remount: %v %s", err, out)
			}
			g.complete(t)
			g.dir = small
			g.checkExactlyOnce(t)
		})
	}

	// An output that cannot be opened: refused before the first probe, and
	// an existing output is not truncated.
	t.Run("unopenable-output", func(t *testing.T) {
		f := l.faultScan(t, "run")
		hits := filepath.Join(f.dir, "hits.csv")
		os.WriteFile(hits, []byte("keep me\n"), 0o644)
		args := slices.Clone(f.args)
		for i, a := range args {
			if strings.HasSuffix(a, "results.jsonl") {
				args[i] = filepath.Join(f.dir, "no-such-dir", "results.jsonl")
			}
		}
		c := l.startCapture(t)
		r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), args...)
		syns := c.stopAll(t)
		if r.code != 2 || !strings.Contains(r.stderr, "no-such-dir") {
			t.Errorf("exit %d, want 2 naming the output:\n%s", r.code, r.stderr)
		}
		if len(syns) > 0 {
			t.Errorf("%d targets probed before the output failed to open", len(syns))
		}
		if b, _ := os.ReadFile(hits); string(b) != "keep me\n" {
			t.Errorf("the other output was truncated: %q", b)
		}
	})

	// A reader that stops reading: syn's hit list on a pipe whose reader
	// goes away after three lines. syn stops with exit 1; resumed, the
	// lines read over both runs hold no hit twice.
	t.Run("reader-stops/syn", func(t *testing.T) {
		f := l.faultScan(t, "syn")
		for i, a := range f.args {
			if strings.HasSuffix(a, "hits.csv") {
				f.args[i] = "-"
			}
		}
		pr, pw, _ := os.Pipe()
		cmd, stderr := f.start(t, pw)
		pw.Close()
		br := bufio.NewReader(pr)
		var read []string
		for range 3 {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the pipe: %v\n%s", err, stderr)
			}
			read = append(read, strings.TrimSpace(line))
		}
		pr.Close()
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "broken pipe") {
			t.Fatalf("after the reader left: exit %d, want 1:\n%s", code, stderr)
		}
		r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), f.args...)
		if r.code != 0 {
			t.Fatalf("resumed: exit %d\n%s", r.code, r.stderr)
		}
		count := map[string]int{}
		for _, line := range append(read, strings.Split(strings.TrimSpace(r.stdout), "\n")...) {
			fs := strings.Split(line, ",")
			if fs[0] != "ip" {
				count[fs[0]+":"+fs[1]]++
			}
		}
		for k, n := range count {
			if n > 1 {
				t.Errorf("%s written %d times", k, n)
			}
		}
	})

	// SIGINT and SIGTERM at rates where the next packet is minutes away:
	// the scan ends (a hang would time the test out), exit 3, and the
	// resumed scan completes exactly once.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(fmt.Sprintf("signal/%v", sig), func(t *testing.T) {
			f := l.faultScan(t, "syn")
			slow := slices.Clone(f.args)
			slow[slices.Index(slow, "-r")+1] = map[syscall.Signal]string{syscall.SIGINT: "0.05", syscall.SIGTERM: "1e-9"}[sig]
			g := *f
			g.args = slow
			cmd, stderr := g.start(t, nil)
			w := &stateWatch{path: filepath.Join(f.dir, "scan.state")}
			for deadline := time.Now().Add(30 * time.Second); !w.changed(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no first state:\n%s", stderr)
				}
			}
			time.Sleep(500 * time.Millisecond) // the first packet has gone; the next is far off
			syscall.Kill(childPID(t, cmd.Process.Pid), sig)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("%v did not end the scan", sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != 3 {
				t.Fatalf("exit %d, want 3:\n%s", code, stderr)
			}
			f.complete(t)
			f.checkExactlyOnce(t)
		})
	}

	// --max-results and --max-runtime stop a scan on purpose: exit 3, a
	// metadata status "stopped", and the same command continues it.
	for _, tc := range []struct{ name, flag, value string }{
		{"max-results", "--max-results", "10"},
		{"max-runtime", "--max-runtime", "1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := l.faultScan(t, "run")
			first := append(slices.Clone(f.args[:len(f.args)-1]), tc.flag, tc.value, "--status-json", filepath.Join(f.dir, "status.jsonl"), f.args[len(f.args)-1])
			r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), first...)
			if r.code != 3 || !strings.Contains(r.stderr, "stopped at "+tc.flag) {
				t.Fatalf("exit %d, want 3 saying %s:\n%s", r.code, tc.flag, r.stderr)
			}
			var m struct {
				Status   string
				ExitCode int `json:"exit_code"`
				Version  string
				Args     []string
				Syn      struct{ Summary struct{ Open int } }
			}
			b, _ := os.ReadFile(filepath.Join(f.dir, "meta.json"))
			if err := json.Unmarshal(b, &m); err != nil || m.Status != "stopped" || m.ExitCode != 3 || m.Version == "" || !slices.Contains(m.Args, tc.flag) {
				t.Errorf("metadata: %v %+v", err, m)
			}
			if tc.flag == "--max-results" && m.Syn.Summary.Open < 10 {
				t.Errorf("stopped with %d hits, want at least 10", m.Syn.Summary.Open)
			}
			if lines := fileLines(t, filepath.Join(f.dir, "status.jsonl")); tc.flag == "--max-runtime" && len(lines) == 0 {
				t.Error("--status-json wrote nothing in a second of scanning")
			} else {
				for _, line := range lines {
					var v struct {
						Time   time.Time
						Status map[string]any
					}
					if err := json.Unmarshal([]byte(line), &v); err != nil || v.Time.IsZero() || v.Status["banner"] == nil {
						t.Errorf("status line %q: %v", line, err)
					}
				}
			}
			f.complete(t)
			f.checkExactlyOnce(t)
		})
	}

	// A resume file edited by hand: pending hits in the blocklist, on
	// loopback, and a --proto that the resumed command does not give. The
	// resume is refused, and nothing reaches the edited addresses.
	t.Run("tampered-resume", func(t *testing.T) {
		f := l.faultScan(t, "run")
		f.killWhen(t, afterCheckpoints(1)(f))
		path := filepath.Join(f.dir, "scan.state")
		orig, _ := os.ReadFile(path)
		blocked := l.blocklistedOpen(t)
		for _, tc := range []struct {
			name, pending, proto, want string
		}{
			{"blocklisted", fmt.Sprintf(`[{"ip":"%s","port":%d}]`, blocked.Addr(), blocked.Port()), "", "not a target of this scan or is excluded"},
			{"loopback", `[{"ip":"::1","port":143}]`, "", "not a target of this scan or is excluded"},
			{"proto", `[]`, "2143=imap", `--proto "2143=imap"`},
			{"other seed", `[]`, "", "it is for another scan"},
		} {
			var st map[string]any
			dec := json.NewDecoder(strings.NewReader(string(orig)))
			dec.UseNumber() // the seed is a uint64: a float64 would change it
			dec.Decode(&st)
			var p []any
			json.Unmarshal([]byte(tc.pending), &p)
			st["pending"] = p
			if tc.proto != "" {
				st["proto"] = tc.proto
			}
			if tc.name == "other seed" {
				st["scan"].(map[string]any)["seed"] = json.Number("12345")
			}
			b, _ := json.Marshal(st)
			os.WriteFile(path, b, 0o644)
			c := l.startCapture(t)
			r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), f.args...)
			syns := c.stopAll(t)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: exit %d, want 2 with %q:\n%s", tc.name, r.code, tc.want, r.stderr)
			}
			if n := syns[blocked.String()]; n > 0 {
				t.Errorf("%s: %d SYNs to the blocklisted %s", tc.name, n, blocked)
			}
			if len(syns) > 0 {
				t.Errorf("%s: %d targets probed by a refused resume", tc.name, len(syns))
			}
		}
		os.WriteFile(path, orig, 0o644)
		f.complete(t)
		f.checkExactlyOnce(t)
	})
}

// blocklistedOpen returns an open pair of the lab's truth on faultPorts
// that the lab's blocklist excludes.
func (l *labEnv) blocklistedOpen(t *testing.T) netip.AddrPort {
	bl := l.blocklist(t)
	for _, k := range readLines(t, l.get("LAB_TRUTH")) {
		ap := netip.MustParseAddrPort(k)
		if blocked(bl, ap.Addr()) && strings.Contains(","+faultPorts+",", fmt.Sprintf(",%d,", ap.Port())) {
			return ap
		}
	}
	t.Fatal("no blocklisted open pair in the lab's truth")
	return netip.AddrPort{}
}

func afterMS(ms int) func(*faultScan) func() bool {
	return func(*faultScan) func() bool {
		at := time.Now().Add(time.Duration(ms) * time.Millisecond)
		return func() bool { return time.Now().After(at) }
	}
}

// afterCheckpoints is ready just after the state file's n-th replacement
// after the first (the start).
func afterCheckpoints(n int) func(*faultScan) func() bool {
	return func(f *faultScan) func() bool {
		w := &stateWatch{path: filepath.Join(f.dir, "scan.state")}
		return func() bool { w.changed(); return w.n > n }
	}
}

// afterHits is ready once the hit list has n lines.
func afterHits(n int) func(*faultScan) func() bool {
	return func(f *faultScan) func() bool {
		path := filepath.Join(f.dir, "hits.csv")
		return func() bool { return lineCount(path) > n }
	}
}

// randHits draws the moment of a kill, in hits found, from seed.
func randHits(seed uint64) int { return 5 + rand.New(rand.NewPCG(seed, 9)).IntN(60) }
