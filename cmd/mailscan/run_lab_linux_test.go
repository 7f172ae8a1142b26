package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mailscan/scripts/lab/labtest"
)

// runHits reads run's hit list (CSV with answers_all_ports) into sorted keys:
// the hits not flagged, and the flagged ones.
func runHits(t *testing.T, path string) (plain, flagged []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "ip,port,status,ttl,window,time,answers_all_ports" {
			continue // the header, once per run appended
		}
		f := strings.Split(line, ",")
		if len(f) != 7 {
			t.Fatalf("%s:%d: bad line %q", path, i+1, line)
		}
		k := f[0] + ":" + f[1]
		switch f[6] {
		case "true":
			flagged = append(flagged, k)
		case "false":
			plain = append(plain, k)
		default:
			t.Fatalf("%s:%d: answers_all_ports %q", path, i+1, f[6])
		}
	}
	slices.Sort(plain)
	slices.Sort(flagged)
	return plain, flagged
}

// nobodyDir is a temporary directory that user nobody, whom the run tests
// switch to, can write: run replaces its resume and metadata files there
// after dropping its privileges.
func nobodyDir(t *testing.T) string {
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o777)
	return dir
}

// pseudoKeys is every port run scans (LAB_ALL_PORTS) of every
// pseudo-service address.
func (l *labEnv) pseudoKeys(t *testing.T) []string {
	var out []string
	for _, a := range readLines(t, l.get("LAB_PSEUDO")) {
		for _, p := range strings.Split(l.get("LAB_ALL_PORTS"), ",") {
			out = append(out, a+":"+p)
		}
	}
	slices.Sort(out)
	return out
}

func (l *labEnv) runArgs(dir string, extra ...string) []string {
	args := []string{"run", "-q", "-p", l.get("LAB_ALL_PORTS"), "--allow-reserved", "198.18.0.0/15", "-b", l.get("LAB_BLOCKLIST"),
		"--cooldown", "2", "--hits", filepath.Join(dir, "hits.csv"), "-o", filepath.Join(dir, "results.jsonl"),
		"--metadata", filepath.Join(dir, "meta.json"), "--user", "nobody"}
	return append(append(args, extra...), l.get("LAB_TARGET_RANGE"), l.get("LAB_PSEUDO_RANGE"))
}

// TestIntegrationRun: one process finds the same hits as syn, grabs a result
// for every hit, flags the pseudo-service hosts, and ran its banner side
// without privileges.
func TestIntegrationRun(t *testing.T) {
	l := needLab(t)
	dir := nobodyDir(t)
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.runArgs(dir)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	plain, flagged := runHits(t, filepath.Join(dir, "hits.csv"))
	if d := diff(plain, l.expectedOpenOn(t, l.get("LAB_ALL_PORTS"))); d != "" {
		t.Errorf("unflagged hits differ from the ground truth: %s", d)
	}
	if d := diff(flagged, l.pseudoKeys(t)); d != "" {
		t.Errorf("hits flagged answers_all_ports differ from the pseudo-service range: %s", d)
	}
	// The same hits as mailscan syn over the same ranges.
	s := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "syn", "-q", "-p", l.get("LAB_ALL_PORTS"), "--allow-reserved", "198.18.0.0/15",
		"-b", l.get("LAB_BLOCKLIST"), "--cooldown", "2", l.get("LAB_TARGET_RANGE"), l.get("LAB_PSEUDO_RANGE"))
	if s.code != 0 {
		t.Fatalf("syn: exit %d: %s", s.code, s.stderr)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(plain), flagged...)))
	if d := diff(all, hitKeys(t, s.stdout, "open")); d != "" {
		t.Errorf("run's hits differ from syn's: %s", d)
	}
	results := readResults(t, filepath.Join(dir, "results.jsonl"))
	var got []string
	pseudo := map[string]bool{}
	for _, k := range flagged {
		pseudo[k] = true
	}
	raw := rawResults(t, filepath.Join(dir, "results.jsonl"))
	for i, res := range results {
		k := fmt.Sprintf("%s:%d", res.IP, res.Port)
		got = append(got, k)
		if raw[i].AnswersAllPorts != pseudo[k] {
			t.Errorf("%s: answers_all_ports %v in the results", k, raw[i].AnswersAllPorts)
		}
		if !pseudo[k] && res.Status != "success" {
			t.Errorf("%s: %s (%s)", k, res.Status, res.Error)
		}
	}
	slices.Sort(got)
	if d := diff(got, all); d != "" {
		t.Errorf("results do not match the hits one for one: %s", d)
	}
	var m struct {
		Privileges string
		Status     string
		Syn        struct {
			Summary struct {
				AnswersAllPorts uint64 `json:"answers_all_ports"`
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Privileges != "uid 65534, effective capabilities 0000000000000000" || m.Status != "complete" {
		t.Errorf("metadata: privileges %q, status %q", m.Privileges, m.Status)
	}
	if want := len(readLines(t, l.get("LAB_PSEUDO"))); m.Syn.Summary.AnswersAllPorts != uint64(want) {
		t.Errorf("metadata counts %d hosts answering all ports, want %d", m.Syn.Summary.AnswersAllPorts, want)
	}
	checkReport(t, l, filepath.Join(dir, "results.jsonl"))
}

// TestIntegrationRunWithoutUser: the default build (with cgo) of mailscan
// run, without --user, empties the capability sets of every one of its
// threads once its sockets are open, and its metadata says so. The threads
// are read from /proc while the scan runs; the run needs no privilege
// after the drop, so it still completes.
func TestIntegrationRunWithoutUser(t *testing.T) {
	l := needLab(t)
	if out, err := exec.Command("go", "version", "-m", l.bin).Output(); err != nil || !strings.Contains(string(out), "CGO_ENABLED=1") {
		labtest.SkipOrFail(t, "the lab's mailscan was not built with cgo (no C compiler?): %v\n%s", err, out)
	}
	dir := t.TempDir()
	args := []string{"run", "-q", "-p", "143,993", "--allow-reserved", "198.18.0.0/15", "-b", l.get("LAB_BLOCKLIST"),
		"--cooldown", "3", "--hits", filepath.Join(dir, "hits.csv"), "-o", filepath.Join(dir, "results.jsonl"),
		"--metadata", filepath.Join(dir, "meta.json"), "198.18.16.0/24"}
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.get("LAB_SCAN_NS"), l.bin}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// ip netns exec execs mailscan: the PID is mailscan's. Wait until one
	// thread has dropped its permitted set (a drop has begun), give the
	// broadcast to the other threads a moment, then read every thread.
	pid := cmd.Process.Pid
	var threads map[string]map[string]string
	for deadline := time.Now().Add(30 * time.Second); threads == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, st := range procThreads(pid) {
			if st["CapPrm"] == "0000000000000000" {
				time.Sleep(200 * time.Millisecond)
				threads = procThreads(pid)
				break
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mailscan run: %v\n%s", err, stderr.String())
	}
	if len(threads) < 2 {
		t.Fatalf("saw %d threads of mailscan after the drop, want several (the drop was not seen while it ran)", len(threads))
	}
	zero := "0000000000000000"
	for tid, st := range threads {
		for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			if st[k] != zero {
				t.Errorf("thread %s: %s %s, want %s", tid, k, st[k], zero)
			}
		}
		if st["NoNewPrivs"] != "1" || !strings.HasPrefix(st["Uid"], "0\t") {
			t.Errorf("thread %s: NoNewPrivs %q, Uid %q; want 1 and uid 0", tid, st["NoNewPrivs"], st["Uid"])
		}
	}
	var m struct{ Privileges, Status string }
	b, _ := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Privileges != "uid 0, effective capabilities 0000000000000000" || m.Status != "complete" {
		t.Errorf("metadata: privileges %q, status %q", m.Privileges, m.Status)
	}
	plain, _ := runHits(t, filepath.Join(dir, "hits.csv"))
	var want []string
	for _, k := range l.expectedOpenOn(t, "143,993") {
		if strings.HasPrefix(k, "198.18.16.") {
			want = append(want, k)
		}
	}
	if d := diff(plain, want); d != "" {
		t.Errorf("hits differ from the ground truth: %s", d)
	}
	t.Logf("%d threads after the drop, every capability set empty; %d hits", len(threads), len(plain))
}

// procThreads reads the status of every thread of process pid, by thread id.
func procThreads(pid int) map[string]map[string]string {
	out := map[string]map[string]string{}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, path := range tasks {
		if st := procStatus(path); st != nil {
			out[filepath.Base(filepath.Dir(path))] = st
		}
	}
	return out
}

// procStatus reads a /proc status file into its fields, or returns nil.
func procStatus(path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// checkReport runs mailscan report on a result file and checks its per-port
// and per-vendor counts against counts computed here from the raw results:
// a service is a result with status success or a greeting, on a host not
// flagged answers_all_ports; ports count distinct addresses.
func checkReport(t *testing.T, l *labEnv, results string) {
	t.Helper()
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		IP, Status, Greeting string
		Port                 int
		Protocol             string
		AnswersAllPorts      bool `json:"answers_all_ports"`
		Fingerprint          *struct{ Family string }
	}
	var recs []rec
	pseudoHosts := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		if r.AnswersAllPorts {
			pseudoHosts[r.IP] = true
		}
	}
	perPort := map[string]map[string]bool{} // "protocol/port" → ips
	families := map[string]int{}
	for _, r := range recs {
		if pseudoHosts[r.IP] || (r.Status != "success" && strings.TrimSpace(r.Greeting) == "") {
			continue
		}
		k := fmt.Sprintf("%s/%d", r.Protocol, r.Port)
		if perPort[k] == nil {
			perPort[k] = map[string]bool{}
		}
		perPort[k][r.IP] = true
		fam := "unknown"
		if r.Fingerprint != nil && r.Fingerprint.Family != "" {
			fam = r.Fingerprint.Family
		}
		families[fam]++
	}
	out := l.run(t, l.bin, "report", "-i", results, "--format", "json")
	if out.code != 0 {
		t.Fatalf("report: exit %d: %s", out.code, out.stderr)
	}
	var rep struct {
		Summary struct {
			PseudoHosts int `json:"pseudo_hosts"`
		}
		Tables []struct {
			ID   string
			Rows []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	gotPorts, gotFamilies := map[string]int{}, map[string]int{}
	for _, tb := range rep.Tables {
		for _, row := range tb.Rows {
			switch tb.ID {
			case "ports":
				gotPorts[fmt.Sprintf("%v/%v", row["protocol"], row["port"])] = int(row["services"].(float64))
			case "families":
				gotFamilies[fmt.Sprint(row["family"])] = int(row["services"].(float64))
			}
		}
	}
	for k, ips := range perPort {
		if gotPorts[k] != len(ips) {
			t.Errorf("report: %s has %d services, the results %d", k, gotPorts[k], len(ips))
		}
	}
	if len(gotPorts) != len(perPort) {
		t.Errorf("report lists %d ports, the results have %d: %v", len(gotPorts), len(perPort), gotPorts)
	}
	for fam, n := range families {
		if gotFamilies[fam] != n {
			t.Errorf("report: family %s has %d services, the results %d", fam, gotFamilies[fam], n)
		}
	}
	if len(pseudoHosts) == 0 || rep.Summary.PseudoHosts != len(pseudoHosts) {
		t.Errorf("report counts %d pseudo-service hosts, the results %d", rep.Summary.PseudoHosts, len(pseudoHosts))
	}
}

// rawResults reads the answers_all_ports field of each result, in order.
func rawResults(t *testing.T, path string) []struct {
	AnswersAllPorts bool `json:"answers_all_ports"`
} {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []struct {
		AnswersAllPorts bool `json:"answers_all_ports"`
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v struct {
			AnswersAllPorts bool `json:"answers_all_ports"`
		}
		json.Unmarshal([]byte(line), &v)
		out = append(out, v)
	}
	return out
}

// TestIntegrationRunResume: a run stopped by SIGINT half way leaves valid,
// complete output files and a resume file; the resumed run and the
// interrupted one together probe every target exactly once (a capture on
// the target side counts), find every hit and grab each once.
func TestIntegrationRunResume(t *testing.T) {
	l := needLab(t)
	dir := nobodyDir(t)
	resume := filepath.Join(dir, "resume.json")
	args := l.runArgs(dir, "-r", "3000", "--resume", resume)
	cap := l.startCapture(t)

	cmd := exec.Command("ip", append([]string{"netns", "exec", l.get("LAB_SCAN_NS"), l.bin}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once a quarter of the hits are in: half way or so through
	// the scan, whatever the machine's speed.
	hitsPath := filepath.Join(dir, "hits.csv")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(hitsPath)
		if strings.Count(string(b), "\n") > 90 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the scan found too little to interrupt: %s", stderr.String())
		}
	}
	// ip netns exec runs mailscan as its child: signal mailscan itself.
	pid := childPID(t, cmd.Process.Pid)
	syscall.Kill(pid, syscall.SIGINT)
	// Stopped before its end: exit status 3.
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("interrupted run: %v, want exit status 3\n%s", err, stderr.String())
	}
	var m1 struct {
		Status   string
		ExitCode int `json:"exit_code"`
		Pending  int
		Syn      struct{ Summary struct{ Complete bool } }
	}
	b, _ := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err := json.Unmarshal(b, &m1); err != nil || m1.Status != "interrupted" || m1.ExitCode != 3 || m1.Syn.Summary.Complete {
		t.Fatalf("metadata of the interrupted run: %v %+v", err, m1)
	}
	// The outputs are complete as they stand: every line whole.
	plain1, flagged1 := runHits(t, hitsPath)
	results1 := readResults(t, filepath.Join(dir, "results.jsonl"))
	t.Logf("interrupted after %d hits and %d results; %d pending", len(plain1)+len(flagged1), len(results1), m1.Pending)
	if len(results1)+m1.Pending != len(plain1)+len(flagged1) {
		t.Errorf("%d results + %d pending != %d hits", len(results1), m1.Pending, len(plain1)+len(flagged1))
	}

	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), args...)
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d: %s", r.code, r.stderr)
	}
	syns := cap.stop(t)
	allowed := l.allowedOn(t, l.get("LAB_ALL_PORTS"), l.get("LAB_TARGET_RANGE"), l.get("LAB_PSEUDO_RANGE"))
	for k, n := range syns {
		if n != 1 {
			t.Errorf("%s probed %d times over both runs", k, n)
		}
		if !allowed[k] {
			t.Errorf("%s probed, but it is not a target", k)
		}
	}
	var lost int
	for k := range allowed {
		if syns[k] == 0 {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d allowed targets never probed over both runs", lost)
	}
	plain, flagged := runHits(t, hitsPath)
	if d := diff(plain, l.expectedOpenOn(t, l.get("LAB_ALL_PORTS"))); d != "" {
		t.Errorf("hits over both runs differ from the ground truth: %s", d)
	}
	if d := diff(flagged, l.pseudoKeys(t)); d != "" {
		t.Errorf("flagged hits over both runs: %s", d)
	}
	var got []string
	for _, res := range readResults(t, filepath.Join(dir, "results.jsonl")) {
		got = append(got, fmt.Sprintf("%s:%d", res.IP, res.Port))
	}
	slices.Sort(got)
	if d := diff(got, slices.Sorted(slices.Values(append(plain, flagged...)))); d != "" {
		t.Errorf("results over both runs do not match the hits one for one: %s", d)
	}
}

// childPID returns the pid of the only child of pid (ip netns exec execs
// mailscan in place, so that is pid itself).
func childPID(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 1 {
			var c int
			fmt.Sscan(f[0], &c)
			return c
		}
	}
	return pid
}

// TestIntegrationThreeShards: three scanner namespaces (three machines)
// scan one target range with one seed and shards 0, 1, 2 at once; their hits
// are disjoint and add up to a single run's, and no target is probed twice.
func TestIntegrationThreeShards(t *testing.T) {
	l := needLab(t)
	cap := l.startCapture(t)
	nss := []string{l.get("LAB_SCAN_NS"), l.get("LAB_SCAN_NS2"), l.get("LAB_SCAN_NS3")}
	outs := make([]result, 3)
	var wg sync.WaitGroup
	for i, ns := range nss {
		wg.Go(func() {
			outs[i] = l.mailscanIn(t, ns, l.scanArgs("--seed", "11", "--shards", "3", "--shard", fmt.Sprint(i))...)
		})
	}
	wg.Wait()
	syns := cap.stop(t)
	seen := map[string]int{}
	var union []string
	for i, r := range outs {
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, r.code, r.stderr)
		}
		for _, k := range hitKeys(t, r.stdout, "open") {
			if j, dup := seen[k]; dup {
				t.Errorf("%s found by shards %d and %d", k, j, i)
			}
			seen[k] = i
			union = append(union, k)
		}
	}
	slices.Sort(union)
	single := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("--seed", "11")...)
	if single.code != 0 {
		t.Fatalf("single run: exit %d: %s", single.code, single.stderr)
	}
	if d := diff(union, hitKeys(t, single.stdout, "open")); d != "" {
		t.Errorf("the shards' union differs from a single run: %s", d)
	}
	allowed := l.allowedTargets(t)
	for k, n := range syns {
		if n != 1 {
			t.Errorf("%s probed %d times by the shards", k, n)
		}
	}
	if len(syns) != len(allowed) {
		t.Errorf("the shards probed %d targets, want %d", len(syns), len(allowed))
	}
}
