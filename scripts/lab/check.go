package lab

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Diff is how a scan's pairs differ from what was expected.
type Diff struct {
	Want, Got int      // how many pairs were expected, and found (each once)
	Missing   []string // expected, not found
	Extra     []string // found, not expected
	Repeated  []string // found more than once
}

// OK reports whether the scan found exactly what was expected, each pair
// once.
func (d Diff) OK() bool { return len(d.Missing) == 0 && len(d.Extra) == 0 && len(d.Repeated) == 0 }

// String says how the scan differs, with the first ten pairs of each kind,
// or "" when it does not.
func (d Diff) String() string {
	if d.OK() {
		return ""
	}
	s := fmt.Sprintf("got %d, want %d; missing %d %v; unexpected %d %v", d.Got, d.Want, len(d.Missing), head(d.Missing), len(d.Extra), head(d.Extra))
	if len(d.Repeated) > 0 {
		s += fmt.Sprintf("; repeated %d %v", len(d.Repeated), head(d.Repeated))
	}
	return s
}

// Summary is the line `lab.sh demo` ends with.
func (d Diff) Summary() string {
	return fmt.Sprintf("ground truth (open pairs outside the blocklist): %d; found: %d; missed: %d; false: %d",
		d.Want, d.Got, len(d.Missing), len(d.Extra))
}

func head(s []string) []string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// Compare tells how got differs from want; both are keys such as
// "198.18.16.0:143", in any order.
func Compare(got, want []string) Diff {
	w := map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
	g := map[string]int{}
	d := Diff{Want: len(w)}
	for _, k := range got {
		g[k]++
		switch {
		case g[k] == 2:
			d.Repeated = append(d.Repeated, k)
		case g[k] == 1 && !w[k]:
			d.Extra = append(d.Extra, k)
		}
	}
	d.Got = len(g)
	for k := range w {
		if g[k] == 0 {
			d.Missing = append(d.Missing, k)
		}
	}
	slices.Sort(d.Missing)
	slices.Sort(d.Extra)
	slices.Sort(d.Repeated)
	return d
}

// Keys are pairs as Compare's keys.
func Keys(aps []netip.AddrPort) []string {
	out := make([]string, len(aps))
	for i, ap := range aps {
		out[i] = ap.String()
	}
	return out
}

// ReadHits reads a mailscan CSV hit list (a header naming the ip, port and
// status columns, as `mailscan syn -O csv` and `run --hits` write it,
// repeated headers allowed) and returns the "ip:port" keys of the rows
// whose status is status, in file order, repeats kept.
func ReadHits(r io.Reader, status string) ([]string, error) {
	sc := bufio.NewScanner(r)
	ip, port, st := -1, -1, -1
	var out []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if f[0] == "ip" { // a header
			ip, port, st = slices.Index(f, "ip"), slices.Index(f, "port"), slices.Index(f, "status")
			if port < 0 || st < 0 {
				return nil, fmt.Errorf("lab: hit list line %d: header %q lacks port or status", n, line)
			}
			continue
		}
		if ip < 0 {
			return nil, fmt.Errorf("lab: hit list line %d: %q before any header", n, line)
		}
		if len(f) <= max(ip, port, st) {
			return nil, fmt.Errorf("lab: hit list line %d: %q has %d fields", n, line, len(f))
		}
		if f[st] != status {
			continue
		}
		a, err := netip.ParseAddr(f[ip])
		p, err2 := strconv.ParseUint(f[port], 10, 16)
		if err != nil || err2 != nil {
			return nil, fmt.Errorf("lab: hit list line %d: %q is no address and port", n, line)
		}
		out = append(out, netip.AddrPortFrom(a, uint16(p)).String())
	}
	return out, sc.Err()
}
