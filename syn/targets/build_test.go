package targets_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailscan/blocklist"
	"mailscan/syn/targets"
)

func TestBuild(t *testing.T) {
	tests := []struct {
		name                         string
		targets, userBlock, allowRes *blocklist.Set
		allowed                      string
		total, reserved, user        uint64
		byReserved                   string // ByReserved as "prefix=count;..."
	}{
		{
			name:     "public targets, nothing excluded",
			targets:  set(t, "8.8.8.0/24"),
			allowed:  "8.8.8.0/24",
			reserved: 0, user: 0,
		},
		{
			name:       "target entirely reserved",
			targets:    set(t, "198.18.16.0/20"),
			allowed:    "",
			total:      4096,
			reserved:   4096,
			byReserved: "198.18.0.0/15=4096",
		},
		{
			name:     "lab targets with the benchmarking range allowed",
			targets:  set(t, "198.18.16.0/20"),
			allowRes: set(t, "198.18.0.0/15"),
			allowed:  "198.18.16.0/20",
		},
		{
			name:     "allow-reserved covers part of the targets",
			targets:  set(t, "198.18.16.0/20"),
			allowRes: set(t, "198.18.16.0/21"),
			allowed:  "198.18.16.0/21",
			total:    2048, reserved: 2048,
			byReserved: "198.18.0.0/15=2048",
		},
		{
			name:      "user block inside allow-reserved wins",
			targets:   set(t, "198.18.16.0/20"),
			allowRes:  set(t, "198.18.0.0/15"),
			userBlock: set(t, "198.18.20.0/24"),
			allowed:   "198.18.16.0/22, 198.18.21.0-198.18.31.255",
			total:     256, user: 256,
		},
		{
			name:      "user block and reserved overlap: counted once, as user",
			targets:   set(t, "192.168.0.0/23", "8.8.8.0/24"),
			userBlock: set(t, "192.168.1.0/24", "8.8.8.128/25"),
			allowed:   "8.8.8.0/25",
			total:     640, reserved: 256, user: 384,
			byReserved: "192.168.0.0/16=256",
		},
		{
			name:    "targets over several reserved ranges",
			targets: set(t, "192.0.0.0/16"),
			allowed: "192.0.1.0/24, 192.0.3.0-192.0.255.255",
			total:   512, reserved: 512,
			byReserved: "192.0.0.0/24=256;192.0.2.0/24=256",
		},
		{
			name:    "whole space",
			targets: set(t, "0.0.0.0/0"),
			allowed: blocklist.NewSet(blocklist.Range{First: 0, Last: 1<<32 - 1}).Subtract(blocklist.Reserved()).String(),
			total:   blocklist.Reserved().Len(), reserved: blocklist.Reserved().Len(),
			byReserved: "0.0.0.0/8=16777216;10.0.0.0/8=16777216;100.64.0.0/10=4194304;127.0.0.0/8=16777216;" +
				"169.254.0.0/16=65536;172.16.0.0/12=1048576;192.0.0.0/24=256;192.0.2.0/24=256;192.88.99.0/24=256;" +
				"192.168.0.0/16=65536;198.18.0.0/15=131072;198.51.100.0/24=256;203.0.113.0/24=256;" +
				"224.0.0.0/4=268435456;240.0.0.0/4=268435455;255.255.255.255/32=1",
		},
		{
			name:    "nil targets",
			allowed: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, ex := targets.Build(tt.targets, policy(tt.userBlock, tt.allowRes))
			if got := allowed.String(); got != tt.allowed {
				t.Errorf("allowed = %q, want %q", got, tt.allowed)
			}
			if ex.Total() != tt.total || ex.Reserved != tt.reserved || ex.User != tt.user {
				t.Errorf("excluded total/reserved/user = %d/%d/%d, want %d/%d/%d",
					ex.Total(), ex.Reserved, ex.User, tt.total, tt.reserved, tt.user)
			}
			if ex.Targets != tt.targets.Len() || ex.Allowed != allowed.Len() || ex.Targets-ex.Allowed != ex.Total() {
				t.Errorf("targets %d, allowed %d, total %d do not add up", ex.Targets, ex.Allowed, ex.Total())
			}
			var parts []string
			var sum uint64
			for _, rc := range ex.ByReserved {
				parts = append(parts, rc.Range.Prefix.String()+"="+itoa(rc.Count))
				sum += rc.Count
			}
			if got := strings.Join(parts, ";"); got != tt.byReserved {
				t.Errorf("ByReserved = %q, want %q", got, tt.byReserved)
			}
			if sum != ex.Reserved {
				t.Errorf("ByReserved sums to %d, Reserved is %d", sum, ex.Reserved)
			}
			// Nothing allowed is ever in the effective blocklist.
			if inter := allowed.Intersect(ex.Blocklist); inter.Len() != 0 {
				t.Errorf("allowed overlaps the blocklist: %v", inter)
			}
			if tt.userBlock != nil && tt.userBlock.Intersect(allowed).Len() != 0 {
				t.Error("an address of the user blocklist is allowed")
			}
		})
	}
}

func itoa(n uint64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// policy makes a policy of one user blocklist and allow-reserved set.
func policy(user, allow *blocklist.Set) *blocklist.Policy {
	var lists []*blocklist.List
	if user != nil {
		lists = append(lists, &blocklist.List{Name: "user.txt", V4: user, V6: blocklist.NewSet6()})
	}
	var ar *blocklist.List
	if allow != nil {
		ar = &blocklist.List{Name: "allow", V4: allow, V6: blocklist.NewSet6()}
	}
	return blocklist.NewPolicy(lists, ar)
}

func TestExcludedString(t *testing.T) {
	_, ex := targets.Build(set(t, "198.18.16.0/20"), policy(set(t, "198.18.20.0/24"), set(t, "198.18.16.0/21")))
	want := "excluded 2304 of 4096 addresses: 256 by user blocklist, 2048 reserved (198.18.0.0/15 (benchmarking, RFC 2544): 2048)"
	if got := ex.String(); got != want {
		t.Fatalf("String() = %q\nwant %q", got, want)
	}
	_, ex = targets.Build(set(t, "8.8.8.0/24"), policy(set(t, "8.8.8.0/25"), nil))
	if got, want := ex.String(), "excluded 128 of 256 addresses: 128 by user blocklist, 0 reserved"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestSpecBuild(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	allowlist := write("allow.txt", "198.18.16.0/24\n")
	bad := write("bad.txt", "198.18.16.0/24\n2001:db8::1%eth0\n")
	bl, err := blocklist.ParseListFile(write("block.txt", "198.18.16.0/25\n2001:db8:1::/48\n2001:db8:2::1\n"))
	if err != nil {
		t.Fatal(err)
	}
	allow, _ := blocklist.ParseAllowReserved([]string{"198.18.0.0/15"})
	p := blocklist.NewPolicy([]*blocklist.List{bl}, allow)

	got, ex, err := (&targets.Spec{Entries: []string{"198.18.17.0/24"}, Allowlists: []string{allowlist}, Policy: p}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "198.18.16.128-198.18.17.255" || !got.V6.Empty() || len(ex.ByFile) != 1 || ex.ByFile[0].Count != 128 || ex.ByFile[0].IPv6Entries != 2 {
		t.Errorf("allowed %v, by file %+v", got, ex.ByFile)
	}
	if _, _, err := (&targets.Spec{Allowlists: []string{bad}, Policy: p}).Build(); err == nil || !strings.Contains(err.Error(), "bad.txt:2") {
		t.Errorf("IPv6 address with a zone in an allowlist: %v", err)
	}
	if _, _, err := (&targets.Spec{Entries: []string{"198.18.300.1"}}).Build(); err == nil || !strings.Contains(err.Error(), `"198.18.300.1"`) {
		t.Errorf("bad entry: %v", err)
	}
	if _, _, err := (&targets.Spec{Policy: p}).Build(); !errors.Is(err, targets.ErrNoTargets) {
		t.Errorf("no targets: %v", err)
	}
	var ae *targets.AllExcludedError
	if _, _, err := (&targets.Spec{Entries: []string{"198.18.16.0/25"}, Policy: p}).Build(); !errors.As(err, &ae) || ae.Excluded.User != 128 {
		t.Errorf("all excluded: %v", err)
	}
}

// TestBuildAddrs: IPv6 targets are excluded and counted like IPv4 ones:
// user lines win over --allow-reserved, reserved ranges count for the most
// specific block (64:ff9b::/96 inside ::/8), totals cover both families and
// the IPv6 share adds up.
func TestBuildAddrs(t *testing.T) {
	user := &blocklist.List{Name: "user.txt", V4: set(t, "198.18.20.0/24"), V6: set6(t, "2001:db8:16::400/120", "2606:4700::/32"), V6Entries: 2}
	allow, err := blocklist.ParseAllowReserved([]string{"198.18.0.0/15", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	pol := blocklist.NewPolicy([]*blocklist.List{user}, allow)
	tgt := targets.Addrs{
		V4: set(t, "198.18.16.0/20", "10.0.0.0/30"),
		V6: set6(t, "2001:db8:16::/116", "2606:4700::1", "fe80::1-fe80::4", "64:ff9b::c612:1001", "2a00:1450::1", "3fff::1"),
	}
	allowed, ex := targets.BuildAddrs(tgt, pol)
	if got, want := allowed.V6.String(), "2001:db8:16::/118,2001:db8:16::500-2001:db8:16::fff,2a00:1450::1/128"; got != want {
		t.Errorf("allowed IPv6 %s, want %s", got, want)
	}
	if got, want := allowed.V4.String(), "198.18.16.0/22, 198.18.21.0-198.18.31.255"; got != want {
		t.Errorf("allowed IPv4 %s, want %s", got, want)
	}
	f := ex.IPv6
	if f == nil || *f != (targets.Family{Targets: 4096 + 8, Allowed: 4096 - 256 + 1, Reserved: 4 + 1 + 1, User: 256 + 1}) {
		t.Fatalf("IPv6 counts %+v", f)
	}
	if ex.Targets != 4096+4+4104 || ex.Allowed != 4096-256+3841 || ex.User != 256+257 || ex.Reserved != 4+6 {
		t.Errorf("totals %+v", ex)
	}
	if ex.Targets-ex.Allowed != ex.Total() {
		t.Errorf("targets %d - allowed %d != excluded %d", ex.Targets, ex.Allowed, ex.Total())
	}
	var parts []string
	var sum uint64
	for _, rc := range ex.ByReserved {
		parts = append(parts, rc.Range.Prefix.String()+"="+itoa(rc.Count))
		sum += rc.Count
	}
	if got, want := strings.Join(parts, ";"), "10.0.0.0/8=4;64:ff9b::/96=1;3fff::/20=1;fe80::/10=4"; got != want {
		t.Errorf("ByReserved %s, want %s", got, want)
	}
	if sum != ex.Reserved {
		t.Errorf("ByReserved sums to %d, Reserved is %d", sum, ex.Reserved)
	}
	if len(ex.ByFile) != 1 || ex.ByFile[0].Count != 256+257 || ex.ByFile[0].IPv6Entries != 2 {
		t.Errorf("ByFile %+v", ex.ByFile)
	}
	if ex.Blocklist6 == nil || !ex.Blocklist6.Contains(netip.MustParseAddr("fe80::1")) || ex.Blocklist6.Contains(netip.MustParseAddr("2001:db8:16::1")) {
		t.Error("Blocklist6 is not the policy's Deny6")
	}
	if inter := allowed.V6.Intersect(ex.Blocklist6); !inter.Empty() {
		t.Errorf("allowed overlaps the blocklist: %v", inter)
	}
	want := "excluded 523 of 8204 addresses (IPv6: 263 of 4104): 513 by user blocklist, 10 reserved (10.0.0.0/8 (private-use, RFC 1918): 4, " +
		"64:ff9b::/96 (IPv4-IPv6 translation, RFC 6052): 1, 3fff::/20 (documentation, RFC 9637): 1, fe80::/10 (link-local unicast, RFC 4291): 4)"
	if got := ex.String(); got != want {
		t.Errorf("String()\n got %s\nwant %s", got, want)
	}
	// Without IPv6 targets nothing about IPv6 is reported.
	_, ex = targets.BuildAddrs(targets.Addrs{V4: set(t, "198.18.16.0/20")}, pol)
	if ex.IPv6 != nil {
		t.Errorf("IPv6 counts %+v for IPv4 targets", ex.IPv6)
	}
}

// TestSpecBuildIPv6: IPv6 entries as arguments and in allowlists, mixed
// with IPv4; zones and too-large prefixes are refused by name.
func TestSpecBuildIPv6(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "hosts6.txt")
	if err := os.WriteFile(list, []byte("# from DNS\n2001:db8:25::1\n2001:db8:25::7  # mx2\n198.18.16.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	allow, _ := blocklist.ParseAllowReserved([]string{"198.18.0.0/15", "2001:db8::/32"})
	p := blocklist.NewPolicy(nil, allow)
	got, ex, err := (&targets.Spec{Entries: []string{"2001:db8:16::/124", "198.18.17.0/30"}, Allowlists: []string{list}, Policy: p}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "198.18.16.9/32, 198.18.17.0/30, 2001:db8:16::/124,2001:db8:25::1/128,2001:db8:25::7/128" || ex.IPv6.Allowed != 18 {
		t.Errorf("allowed %v, IPv6 %+v", got, ex.IPv6)
	}
	for _, tc := range []struct{ entry, want string }{
		{"2001:db8::/64", "2^64 addresses or more"},
		{"2001:db8::1%eth0", `bad target "2001:db8::1%eth0"`},
		{"2001:db8::/129", `bad target "2001:db8::/129"`},
		{"2001:db8::9-2001:db8::1", "reversed"},
	} {
		_, _, err := (&targets.Spec{Entries: []string{tc.entry}, Policy: p}).Build()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.entry, err, tc.want)
		}
	}
	// Only reserved IPv6 targets: all excluded, and said so.
	var ae *targets.AllExcludedError
	if _, _, err := (&targets.Spec{Entries: []string{"fe80::/120"}}).Build(); !errors.As(err, &ae) || ae.Excluded.IPv6.Reserved != 256 {
		t.Errorf("all excluded: %v", err)
	}
}
