package blocklist_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"mailscan/blocklist"
)

func TestReserved(t *testing.T) {
	want := []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"255.255.255.255/32",
	}
	// 224/4 and 240/4 touch and merge; so does 255.255.255.255/32 with 240/4.
	wantRanges := "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, " +
		"172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.88.99.0/24, 192.168.0.0/16, " +
		"198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/3"
	const wantLen = 1<<24 + 1<<24 + 1<<22 + 1<<24 + 1<<16 + 1<<20 + 256 + 256 + 256 + 1<<16 +
		1<<17 + 256 + 256 + 1<<28 + 1<<28

	var got []string
	for _, r := range blocklist.ReservedRanges {
		got = append(got, r.Prefix.String())
		if r.Name == "" || !strings.Contains(r.Name, "RFC ") {
			t.Errorf("%v: name %q does not cite an RFC", r.Prefix, r.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ReservedRanges = %v\nwant %v", got, want)
	}
	s := blocklist.Reserved()
	checkInvariants(t, s)
	if s.String() != wantRanges {
		t.Fatalf("Reserved() = %s\nwant %s", s, wantRanges)
	}
	if s.Len() != wantLen {
		t.Fatalf("Reserved().Len() = %d, want %d", s.Len(), wantLen)
	}
	if s != blocklist.Reserved() {
		t.Error("Reserved() builds a new set on every call")
	}
	if got := blocklist.ReservedRanges[10].String(); got != "198.18.0.0/15 (benchmarking, RFC 2544)" {
		t.Errorf("ReservedRanges[10].String() = %q", got)
	}
}

// TestReservedRangesIsACopy edits the exported slice itself, as a careless
// caller would: if it shared its array with the table behind Reserved and
// ReservedName (ReservedRanges = reserved[:]), the edit would rename or open
// 198.18.0.0/15. Reserved() may have been built before this test, so the
// names, read from the table on every call, are what can fail.
func TestReservedRangesIsACopy(t *testing.T) {
	i := slices.IndexFunc(blocklist.ReservedRanges, func(r blocklist.ReservedRange) bool {
		return r.Prefix == netip.MustParsePrefix("198.18.0.0/15")
	})
	if i < 0 {
		t.Fatal("198.18.0.0/15 missing from ReservedRanges")
	}
	saved := blocklist.ReservedRanges[i]
	t.Cleanup(func() { blocklist.ReservedRanges[i] = saved })
	blocklist.ReservedRanges[i].Name = "changed"
	blocklist.ReservedRanges[i].Prefix = netip.MustParsePrefix("198.18.0.0/32")
	r, _ := blocklist.ParseEntry("198.18.0.0/15")
	if !blocklist.Reserved().Contains(r.Last) {
		t.Fatal("editing ReservedRanges changed Reserved()")
	}
	if got := blocklist.ReservedName(r); !slices.Equal(got, []string{"198.18.0.0/15 (benchmarking, RFC 2544)"}) {
		t.Fatalf("ReservedName = %q after editing ReservedRanges", got)
	}
}

func TestReservedName(t *testing.T) {
	tests := []struct {
		entry string
		want  []string
	}{
		{"198.18.16.0/20", []string{"198.18.0.0/15 (benchmarking, RFC 2544)"}},
		{"8.8.8.8", nil},
		{"192.0.0.0/16", []string{
			"192.0.0.0/24 (IETF protocol assignments, RFC 6890)",
			"192.0.2.0/24 (documentation TEST-NET-1, RFC 5737)",
		}},
		{"223.255.255.255-224.0.0.0", []string{"multicast, RFC 5771"}},
		{"255.255.255.254/31", []string{
			"240.0.0.0/4 (reserved for future use, RFC 1112)",
			"255.255.255.255/32 (limited broadcast, RFC 919)",
		}},
		{"11.0.0.0-100.63.255.255", nil},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			r, err := blocklist.ParseEntry(tt.entry)
			if err != nil {
				t.Fatal(err)
			}
			got := blocklist.ReservedName(r)
			if len(tt.want) == 1 && !strings.Contains(tt.want[0], "/") {
				tt.want[0] = "224.0.0.0/4 (" + tt.want[0] + ")"
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ReservedName(%s) = %q, want %q", tt.entry, got, tt.want)
			}
		})
	}
}
