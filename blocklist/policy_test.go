package blocklist_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"mailscan/blocklist"
)

func mustList(t *testing.T, name, text string) *blocklist.List {
	t.Helper()
	l, err := blocklist.ParseList(strings.NewReader(text), name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseListTakesIPv6(t *testing.T) {
	l := mustList(t, "mixed.txt", "198.18.5.0/24 # v4\n2001:db8:5::/48\n2001:db8:7::1\n2001:db8:8::1-2001:db8:8::ff\n")
	if l.V4.Len() != 256 || l.V6Entries != 3 {
		t.Fatalf("V4 %v (%d), V6 %v (%d entries)", l.V4, l.V4.Len(), l.V6, l.V6Entries)
	}
	for a, want := range map[string]bool{"2001:db8:5:ffff::1": true, "2001:db8:7::1": true, "2001:db8:7::2": false, "2001:db8:8::80": true, "2001:db8:8::100": false} {
		if got := l.V6.Contains(netip.MustParseAddr(a)); got != want {
			t.Errorf("V6.Contains(%s) = %v, want %v", a, got, want)
		}
	}
	// Parse, for target lists, still refuses IPv6 lines by name.
	_, err := blocklist.Parse(strings.NewReader("2001:db8::/32\n"), "targets.txt")
	var le *blocklist.LineError
	if !errors.As(err, &le) || le.Line != 1 || !errors.Is(err, blocklist.ErrIPv6) {
		t.Errorf("Parse of an IPv6 line: %v", err)
	}
	// Bad IPv6 lines are named with file and line.
	_, err = blocklist.ParseList(strings.NewReader("2001:db8::/129\nfe80::1%eth0\n2001:db8::9-2001:db8::1\n::ffff:1.2.3.4\n"), "bad.txt")
	for _, want := range []string{`bad.txt:1: "2001:db8::/129"`, `bad.txt:2: "fe80::1%eth0"`, `bad.txt:3: "2001:db8::9-2001:db8::1": range is reversed`, `bad.txt:4: "::ffff:1.2.3.4"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestPolicy(t *testing.T) {
	user := mustList(t, "hosts.txt", "198.18.20.0/24\n2001:db8:bad::/48\n8.8.8.8\n")
	allow, err := blocklist.ParseAllowReserved([]string{"198.18.0.0/15", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	p := blocklist.NewPolicy([]*blocklist.List{user}, allow)
	def := blocklist.DefaultPolicy()
	for _, tt := range []struct {
		addr         string
		allows       bool
		reason       string
		allowsByDflt bool
	}{
		{"198.18.16.1", true, "", false},
		{"198.18.20.7", false, "blocklist hosts.txt", false}, // the user's list wins over --allow-reserved
		{"::ffff:198.18.20.7", false, "blocklist hosts.txt", false},
		{"::ffff:198.18.16.1", true, "", false},
		{"8.8.8.8", false, "blocklist hosts.txt", true},
		{"1.1.1.1", true, "", true},
		{"10.1.2.3", false, "reserved range 10.0.0.0/8 (private-use, RFC 1918)", false},
		{"127.0.0.1", false, "reserved range 127.0.0.0/8 (loopback, RFC 1122)", false},
		{"2001:db8::1", true, "", false},
		{"2001:db8:bad::1", false, "blocklist hosts.txt", false},
		{"::1", false, "reserved range ::/8 (reserved by IETF: unspecified, loopback, IPv4-mapped, RFC 4291)", false},
		{"fe80::1%eth0", false, "reserved range fe80::/10 (link-local unicast, RFC 4291)", false},
		{"64:ff9b::808:808", false, "reserved range 64:ff9b::/96 (IPv4-IPv6 translation, RFC 6052)", false},
		{"2a00:1450::1", true, "", true},
	} {
		a := netip.MustParseAddr(tt.addr)
		if got := p.Allows(a); got != tt.allows {
			t.Errorf("Allows(%s) = %v, want %v", tt.addr, got, tt.allows)
		}
		if got := p.Reason(a); got != tt.reason {
			t.Errorf("Reason(%s) = %q, want %q", tt.addr, got, tt.reason)
		}
		if got := def.Allows(a); got != tt.allowsByDflt {
			t.Errorf("DefaultPolicy().Allows(%s) = %v, want %v", tt.addr, got, tt.allowsByDflt)
		}
	}
	if p.Allows(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
	if n := testing.AllocsPerRun(100, func() { p.Allows(netip.MustParseAddr("198.18.16.1")) }); n != 0 {
		t.Errorf("Allows allocates %v times", n)
	}
	if _, err := blocklist.ParseAllowReserved([]string{"198.18.0.0/15\n10.0.0.0/8"}); err == nil {
		t.Error("a value with a newline is accepted")
	}
}

// TestReserved6IsACopy fails if ReservedRanges6 shares its array with the
// set the policy uses: editing it would open a reserved block.
func TestReserved6IsACopy(t *testing.T) {
	blocklist.ReservedRanges6[5].Prefix = netip.MustParsePrefix("2001:db8::/128")
	defer func() { blocklist.ReservedRanges6[5].Prefix = netip.MustParsePrefix("2001:db8::/32") }()
	// The set is built once, maybe before this test, so the names are the
	// check that can fail: they are read from the table on every call.
	p := blocklist.DefaultPolicy()
	a := netip.MustParseAddr("2001:db8::1")
	if p.Allows(a) {
		t.Fatal("editing ReservedRanges6 opened 2001:db8::/32")
	}
	if got, want := p.Reason(a), "reserved range 2001:db8::/32 (documentation, RFC 3849)"; got != want {
		t.Fatalf("after editing ReservedRanges6, Reason = %q, want %q", got, want)
	}
}

// TestPolicyDeny4 checks the effective IPv4 blocklist against hand-picked
// answers (not against another computation of it).
func TestPolicyDeny4(t *testing.T) {
	user := mustList(t, "u.txt", "8.8.8.8\n198.18.5.0/24\n")
	allow, _ := blocklist.ParseAllowReserved([]string{"198.18.0.0/15", "10.0.0.0/8"})
	bl := blocklist.NewPolicy([]*blocklist.List{user}, allow).Deny4()
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},         // user
		{"198.18.5.7", true},      // user beats allow-reserved
		{"198.18.6.1", false},     // allowed reserved
		{"10.1.2.3", false},       // allowed reserved
		{"192.168.1.1", true},     // reserved
		{"255.255.255.255", true}, // reserved
		{"1.1.1.1", false},
	} {
		if got := bl.ContainsAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Deny4 contains %s = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
