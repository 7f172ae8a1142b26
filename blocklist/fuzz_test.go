package blocklist_test

import (
	"bytes"
	"strings"
	"testing"

	"mailscan/blocklist"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		zmapStyle,
		"",
		"0.0.0.0/0\n",
		"192.0.2.1\r\n192.0.2.2\r\n",
		"198.51.100.10-198.51.100.20 # masscan style\n",
		"10.0.0.0/8\n10.0.0.0/33\n2001:db8::/32\nexample.com\n",
		"255.255.255.255/32\n0.0.0.0\n",
		"1.2.3.4 5.6.7.8\n",
		"\x00\xff#\n\n#",
		"1.2.3.4/24\n1.2.4.0-1.2.4.255\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := blocklist.Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a set with error %v", err)
			}
			return
		}
		checkInvariants(t, s)

		// String round trip: every element parses back and rebuilds s.
		var rs []blocklist.Range
		if str := s.String(); str != "" {
			for _, e := range strings.Split(str, ", ") {
				r, err := blocklist.ParseEntry(e)
				if err != nil {
					t.Fatalf("String element %q does not parse: %v", e, err)
				}
				rs = append(rs, r)
			}
		}
		if back := blocklist.NewSet(rs...); !back.Equal(s) {
			t.Fatalf("String round trip: %v != %v", back, s)
		}
		// Ranges round trip.
		if back := blocklist.NewSet(s.Ranges()...); !back.Equal(s) {
			t.Fatalf("Ranges round trip: %v != %v", back, s)
		}
		// WriteTo round trip, in ZMap's own format.
		var buf bytes.Buffer
		if _, err := s.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := blocklist.Parse(&buf, "fuzz-writeto")
		if err != nil || !back.Equal(s) {
			t.Fatalf("WriteTo round trip: %v, %v; want %v", back, err, s)
		}
		// Rank queries agree at the ends of every range.
		for _, r := range s.Ranges() {
			for _, a := range []uint32{r.First, r.Last} {
				i, ok := s.IndexOf(a)
				if !ok || s.At(i) != a {
					t.Fatalf("IndexOf/At disagree at %v", blocklist.AddrFromUint32(a))
				}
			}
		}
	})
}

func FuzzParseEntry(f *testing.F) {
	for _, seed := range []string{
		"1.2.3.4", "1.2.3.0/24", "1.2.3.77/24", "1.2.3.4-1.2.3.9", "0.0.0.0/0",
		"255.255.255.255", "1.2.3.9-1.2.3.4", "2001:db8::/32", "::ffff:1.2.3.4",
		"1.2.3.4/33", "1.2.3.4/08", "example.com", "", " ", "1.2.3.4-", "-", "/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := blocklist.ParseEntry(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "blocklist: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if r.First > r.Last {
			t.Fatalf("ParseEntry(%q) = %v: empty range", s, r)
		}
		back, err := blocklist.ParseEntry(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseEntry(%q) = %v; its String %q reads back as %v, %v", s, r, r.String(), back, err)
		}
		var n uint64
		for _, p := range r.Prefixes() {
			n += 1 << (32 - p.Bits())
		}
		if n != r.Len() {
			t.Fatalf("Prefixes of %v hold %d addresses, want %d", r, n, r.Len())
		}
	})
}
