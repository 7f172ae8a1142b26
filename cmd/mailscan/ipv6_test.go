package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailscan/syn/targets"
)

// planOf parses syn's flags and arguments and plans the scan.
func planOf(t *testing.T, args ...string) (*scanPlan, error) {
	t.Helper()
	var f synFlags
	fs := newFlagSet(cmdSyn, &env{stderr: io.Discard})
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return f.plan(&env{stderr: io.Discard, log: slog.New(slog.DiscardHandler)}, fs.Args())
}

// TestSynPlanIPv6: IPv6 targets as arguments and in -w files reach the
// scanner with their own blocklist; IPv6 exclusions are counted; -S takes
// one address per family; more than 2^32 IPv6 targets need --force.
func TestSynPlanIPv6(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "bl.txt")
	os.WriteFile(bl, []byte("198.18.16.0/25\n2001:db8:16::/120\n"), 0o644)
	wl := filepath.Join(dir, "mx.txt")
	os.WriteFile(wl, []byte("2001:db8:25::1\n2001:db8:25::7 # mx2\nfe80::1\n"), 0o644)
	p, err := planOf(t, "-b", bl, "--allow-reserved", "198.18.0.0/15", "--allow-reserved", "2001:db8::/32", "-p", "143,993",
		"-w", wl, "-S", "198.18.0.2", "-S", "2001:db8::2", "-G", "02:00:00:00:00:01", "198.18.16.0/24", "2001:db8:16::/118")
	if err != nil {
		t.Fatal(err)
	}
	c := p.cfg
	if c.Allowed.Len() != 128 || c.Allowed6.Len() != 1024-256+2 {
		t.Errorf("allowed %d IPv4 and %d IPv6 addresses, want 128 and 770", c.Allowed.Len(), c.Allowed6.Len())
	}
	if !c.Deny6.Contains(mustAddr("2001:db8:16::5")) || !c.Deny6.Contains(mustAddr("fe80::1")) || c.Deny6.Contains(mustAddr("2001:db8:25::1")) {
		t.Error("the IPv6 blocklist the scanner checks before sending is wrong")
	}
	if c.Source != mustAddr("198.18.0.2") || c.Source6 != mustAddr("2001:db8::2") || c.GatewayMAC6.String() != "02:00:00:00:00:01" {
		t.Errorf("sources %v, %v, IPv6 gateway MAC %v", c.Source, c.Source6, c.GatewayMAC6)
	}
	want := "targets: 898 addresses (770 IPv6) × 2 ports; excluded 385 of 1283 addresses (IPv6: 257 of 1027): 384 by user blocklist, 1 reserved " +
		"(fe80::/10 (link-local unicast, RFC 4291): 1); blocklist " + bl + " removed 384"
	if got := p.exclusionSummary(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-S", "2001:db8::2", "-S", "2001:db8::3"}, "one source address per family"},
		{[]string{"-S", "fe80::1%eth0"}, "want an IPv4 or IPv6 address"},
		{[]string{"--gateway-mac6", "nope"}, "--gateway-mac6"},
		{[]string{"2001:db8:16::/64"}, "2^64 addresses or more"},
	} {
		_, err := planOf(t, append(append([]string{"--allow-reserved", "2001:db8::/32"}, tc.args...), "2001:db8:16::1")...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	// A /96 on two ports: 2^33 targets, refused without --force.
	_, err = planOf(t, "--allow-reserved", "2001:db8::/32", "-p", "25,143", "2001:db8:16::/96")
	if !errors.Is(err, targets.ErrTooLarge) {
		t.Errorf("2^33 IPv6 targets without --force: %v", err)
	}
	if _, err := planOf(t, "--allow-reserved", "2001:db8::/32", "-p", "25,143", "--force", "2001:db8:16::/96"); err != nil {
		t.Errorf("with --force: %v", err)
	}
	// IPv6 targets without --allow-reserved for the documentation prefix:
	// all excluded, with the reason.
	_, err = planOf(t, "2001:db8:16::/120")
	if err == nil || !strings.Contains(err.Error(), "2001:db8::/32 (documentation, RFC 3849): 256") {
		t.Errorf("reserved IPv6 targets: %v", err)
	}
}
