package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestIntegrationSynFindsTruth: a scan of the lab's target range finds
// exactly the ground truth outside the blocklist (recall and precision 100%),
// and the target side sees exactly one SYN for every allowed target and none
// for a blocklisted address.
func TestIntegrationSynFindsTruth(t *testing.T) {
	l := needLab(t)
	cap := l.startCapture(t)
	meta := filepath.Join(t.TempDir(), "meta.json")
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("--metadata", meta)...)
	syns := cap.stop(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := l.expectedOpen(t)
	got := hitKeys(t, r.stdout, "open")
	if d := diff(got, want); d != "" {
		t.Errorf("hits differ from the ground truth: %s", d)
	}
	allowed := l.allowedTargets(t)
	for k, n := range syns {
		if !allowed[k] {
			t.Errorf("a SYN reached %s, which is blocklisted or outside the targets (%d times)", k, n)
		} else if n != 1 {
			t.Errorf("%s got %d SYNs, want 1", k, n)
		}
	}
	if len(syns) != len(allowed) {
		t.Errorf("the target side saw SYNs for %d targets, want %d", len(syns), len(allowed))
	}
	var m struct {
		Summary struct {
			Probed, Sent, Open, Blocked, Invalid uint64
			Complete                             bool
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
	if s.Probed != uint64(len(allowed)) || s.Sent != s.Probed || s.Open != uint64(len(want)) || s.Blocked != 0 || !s.Complete {
		t.Errorf("metadata summary %+v; want probed=sent=%d open=%d", s, len(allowed), len(want))
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("blocklist %s removed", l.get("LAB_BLOCKLIST"))) {
		t.Errorf("stderr does not say what the blocklist removed:\n%s", r.stderr)
	}
	t.Logf("recall and precision 100%%: %d hits of %d targets", len(got), len(allowed))
}

// TestIntegrationSynShards: two shards with one seed give disjoint hit lists
// whose union is the unsharded scan.
func TestIntegrationSynShards(t *testing.T) {
	l := needLab(t)
	whole := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("--seed", "7")...)
	if whole.code != 0 {
		t.Fatalf("exit %d: %s", whole.code, whole.stderr)
	}
	var union []string
	seen := map[string]int{}
	for i := range 2 {
		// Each shard runs from its own scanner namespace, as two machines would.
		ns := []string{l.get("LAB_SCAN_NS"), l.get("LAB_SCAN_NS2")}[i]
		r := l.mailscanIn(t, ns, l.scanArgs("--seed", "7", "--shards", "2", "--shard", fmt.Sprint(i))...)
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, r.code, r.stderr)
		}
		hits := hitKeys(t, r.stdout, "open")
		if len(hits) == 0 {
			t.Errorf("shard %d found nothing", i)
		}
		for _, k := range hits {
			if j, dup := seen[k]; dup {
				t.Errorf("%s found by shard %d and shard %d", k, j, i)
			}
			seen[k] = i
		}
		union = append(union, hits...)
	}
	sort.Strings(union)
	if d := diff(union, hitKeys(t, whole.stdout, "open")); d != "" {
		t.Errorf("union of the shards differs from the whole scan: %s", d)
	}
	if d := diff(union, l.expectedOpen(t)); d != "" {
		t.Errorf("union of the shards differs from the ground truth: %s", d)
	}
}

// TestIntegrationSynClosed: with --closed, every other mail port of an up
// host is reported closed (the lab answers those with RST), and nothing else.
func TestIntegrationSynClosed(t *testing.T) {
	l := needLab(t)
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("--closed", "-O", "csv")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	open := map[string]bool{}
	for _, k := range readLines(t, l.get("LAB_TRUTH")) {
		open[k] = true
	}
	bl := l.blocklist(t)
	var want []string
	for _, host := range readLines(t, l.get("LAB_UP")) {
		if blocked(bl, netip.MustParseAddr(host)) {
			continue
		}
		for _, p := range strings.Split(l.get("LAB_PORTS"), ",") {
			if k := host + ":" + p; !open[k] {
				want = append(want, k)
			}
		}
	}
	sort.Strings(want)
	if d := diff(hitKeys(t, r.stdout, "closed"), want); d != "" {
		t.Errorf("closed ports differ: %s", d)
	}
	if d := diff(hitKeys(t, r.stdout, "open"), l.expectedOpen(t)); d != "" {
		t.Errorf("open ports differ: %s", d)
	}
}

// TestIntegrationSynLoss: with 5% random loss at the router each way and two
// probes per target, recall is at least 98% and precision stays 100%.
func TestIntegrationSynLoss(t *testing.T) {
	l := needLab(t)
	if out, err := labScript("loss", "5").CombinedOutput(); err != nil {
		t.Fatalf("lab.sh loss 5: %v\n%s", err, out)
	}
	t.Cleanup(func() { labScript("loss", "0").Run() })
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("--probes", "2")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := l.expectedOpen(t)
	truth := map[string]bool{}
	for _, k := range want {
		truth[k] = true
	}
	got := hitKeys(t, r.stdout, "open")
	for _, k := range got {
		if !truth[k] {
			t.Errorf("false positive under loss: %s", k)
		}
	}
	recall := float64(len(got)) / float64(len(want))
	if recall < 0.98 {
		t.Errorf("recall %.4f (%d of %d), want at least 0.98", recall, len(got), len(want))
	}
	// The loss was real: the router dropped about 5% of what it forwarded
	// (lab.sh loss resets both counters). Binomial noise over tens of
	// thousands of packets is a tenth of a point; the band allows 1.5.
	forwarded, lost := routerCounters(t)
	share := float64(lost) / float64(forwarded)
	if forwarded < 10000 || share < 0.035 || share > 0.065 {
		t.Errorf("the router dropped %d of %d packets (%.2f%%), want about 5%% of at least 10000", lost, forwarded, 100*share)
	}
	t.Logf("5%% loss each way (router: %d of %d dropped, %.2f%%), 2 probes: recall %.4f (%d of %d), precision 1",
		lost, forwarded, 100*share, recall, len(got), len(want))
}

// routerCounters reads the lab router's counters from lab.sh status: the
// packets it forwarded, and those it dropped for lab.sh loss.
func routerCounters(t *testing.T) (forwarded, lost int64) {
	t.Helper()
	out, _ := labScript("status").Output() // exit 1 only says something is missing; the line says what
	m := regexp.MustCompile(`router forwarded (\d+) packets, dropped (\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no router counters in lab.sh status:\n%s", out)
	}
	forwarded, _ = strconv.ParseInt(m[1], 10, 64)
	lost, _ = strconv.ParseInt(m[2], 10, 64)
	return forwarded, lost
}

// TestIntegrationSynUserErrors: a missing privilege and an interface that
// does not exist are the user's to fix: exit status 2 and a message that
// says what to do.
func TestIntegrationSynUserErrors(t *testing.T) {
	l := needLab(t)
	args := []string{"syn", "-q", "--allow-reserved", "198.18.0.0/15", "--cooldown", "0", "-p", "143", "198.18.16.0/28"}
	// As an unprivileged user inside the scanner namespace.
	r := l.run(t, append([]string{"ip", "netns", "exec", l.get("LAB_SCAN_NS"), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", l.bin}, args...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "root or the CAP_NET_RAW capability") {
		t.Errorf("unprivileged: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = l.mailscanIn(t, l.get("LAB_SCAN_NS"), append([]string{"syn", "-i", "nosuch0"}, args[1:]...)...)
	if r.code != 2 || !strings.Contains(r.stderr, `"nosuch0"`) {
		t.Errorf("missing interface: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
