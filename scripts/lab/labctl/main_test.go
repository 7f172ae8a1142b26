package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailscan/scripts/lab"
)

// writeLab draws the truth of seed 1 into a directory, as lab.sh up does.
func writeLab(t *testing.T) (string, *lab.Truth) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-dir", dir, "-prefix", "ms", "-seed", "1", "-target", "198.18.16.0/20", "-pseudo", "198.18.32.0/28",
		"-clear-allowed", "198.18.16.0/21", "-clear-disabled", "198.18.24.0/21", "-dovecot-ports", "110,143,993,995", "-smtp-ports", "25,465,587"}
	if err := gen(args); err != nil {
		t.Fatal(err)
	}
	tr, err := lab.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, tr
}

func hitsFile(t *testing.T, keys []string, status string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("ip,port,status,ttl,window,time\n")
	for _, k := range keys {
		ap := netip.MustParseAddrPort(k)
		fmt.Fprintf(&b, "%s,%d,%s,64,64240,2026-01-01T00:00:00Z\n", ap.Addr(), ap.Port(), status)
	}
	path := filepath.Join(t.TempDir(), "hits.csv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	return path
}

func TestCheck(t *testing.T) {
	dir, tr := writeLab(t)
	want := lab.Keys(tr.Expected())
	var out strings.Builder
	if err := check([]string{"-dir", dir, hitsFile(t, want, "open")}, &out); err != nil {
		t.Fatalf("exact hits: %v", err)
	}
	if got := out.String(); got != "ground truth (open pairs outside the blocklist): 380; found: 380; missed: 0; false: 0\n" {
		t.Errorf("summary %q", got)
	}
	// A blocklisted open pair found, one truth pair missed, one found twice.
	blockedPair := ""
	for _, ap := range tr.Open {
		if tr.Blocked(ap.Addr()) {
			blockedPair = ap.String()
			break
		}
	}
	for name, keys := range map[string][]string{
		"blocklisted": append(append([]string{}, want...), blockedPair),
		"missing":     want[1:],
		"twice":       append(append([]string{}, want...), want[0]),
	} {
		out.Reset()
		if err := check([]string{"-dir", dir, hitsFile(t, keys, "open")}, &out); err == nil {
			t.Errorf("%s: check passed: %s", name, out.String())
		}
	}
	// Only the ports asked for count.
	out.Reset()
	if err := check([]string{"-dir", dir, "-ports", "143", hitsFile(t, lab.Keys(tr.Expected(143)), "open")}, &out); err != nil {
		t.Errorf("-ports 143: %v", err)
	}
}

func TestCheckRange(t *testing.T) {
	in := []string{"198.18.128.1:1", "198.18.200.7:128"}
	args := func(count string, keys []string) []string {
		return []string{"-within", "198.18.128.0/17", "-ports", "1-128", "-status", "closed", "-count", count, hitsFile(t, keys, "closed")}
	}
	var out strings.Builder
	if err := check(args("2", in), &out); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for name, a := range map[string][]string{
		"too few":      args("3", in),
		"outside":      args("3", append(in, "198.18.0.1:5")),
		"port outside": args("3", append(in, "198.18.128.9:129")),
		"twice":        args("3", append(in, in[0])),
	} {
		if err := check(a, &out); err == nil {
			t.Errorf("%s: check passed", name)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := parsePorts("25,110-112")
	if err != nil || fmt.Sprint(got) != "[25 110 111 112]" {
		t.Errorf("parsePorts = %v, %v", got, err)
	}
	for _, bad := range []string{"0", "5-3", "x", "70000", "1,"} {
		if _, err := parsePorts(bad); err == nil {
			t.Errorf("parsePorts(%q) accepted", bad)
		}
	}
}
