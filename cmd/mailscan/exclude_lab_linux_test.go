package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestIntegrationBannerNeverContactsExcluded feeds banner hit lists, in each
// input format it reads, that name open services of the lab which the
// exclusion policy forbids: addresses of the lab's blocklist (-b) and
// addresses of a reserved range left closed (--allow-reserved opens only
// 198.18.16.0/21 of the lab's 198.18.16.0/20). A capture on the target side
// must hold no SYN at all to any of them, and the allowed services must all
// be grabbed.
func TestIntegrationBannerNeverContactsExcluded(t *testing.T) {
	l := needLab(t)
	bl := l.blocklist(t)
	opened := netip.MustParsePrefix("198.18.16.0/21")
	var allowed, excluded []netip.AddrPort
	for _, k := range readLines(t, l.get("LAB_TRUTH")) {
		ap := netip.MustParseAddrPort(k)
		switch {
		case blocked(bl, ap.Addr()) || !opened.Contains(ap.Addr()):
			excluded = append(excluded, ap)
		case len(allowed) < 25:
			allowed = append(allowed, ap)
		}
	}
	nBlocked := 0
	for _, ap := range excluded {
		if blocked(bl, ap.Addr()) {
			nBlocked++
		}
	}
	if nBlocked == 0 || len(excluded)-nBlocked == 0 || len(allowed) == 0 {
		t.Fatalf("the lab's truth gives %d blocklisted and %d closed-reserved open pairs, %d allowed: the test would prove nothing",
			nBlocked, len(excluded)-nBlocked, len(allowed))
	}
	all := append(append([]netip.AddrPort(nil), excluded...), allowed...)
	formats := map[string]func(ap netip.AddrPort) string{
		"mailscan-csv": func(ap netip.AddrPort) string { return fmt.Sprintf("%s,%d,open,64,65535,", ap.Addr(), ap.Port()) },
		"mailscan-jsonl": func(ap netip.AddrPort) string {
			return fmt.Sprintf(`{"ip":"%s","port":%d,"status":"open"}`, ap.Addr(), ap.Port())
		},
		"list":       func(ap netip.AddrPort) string { return ap.String() },
		"masscan-oL": func(ap netip.AddrPort) string { return fmt.Sprintf("open tcp %d %s 1700000000", ap.Port(), ap.Addr()) },
		"zgrab2-csv": func(ap netip.AddrPort) string { return fmt.Sprintf("%s,,mail,%d", ap.Addr(), ap.Port()) },
	}
	headers := map[string]string{"mailscan-csv": "ip,port,status,ttl,window,time\n", "masscan-oL": "#masscan\n"}
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, "hits"), filepath.Join(dir, "results.jsonl")
			var b strings.Builder
			b.WriteString(headers[name])
			for _, ap := range all {
				b.WriteString(formats[name](ap) + "\n")
			}
			if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			c := l.startCapture(t)
			r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), "banner", "-q", "-i", in, "-o", out, "--report-excluded",
				"-b", l.get("LAB_BLOCKLIST"), "--allow-reserved", opened.String(), "--concurrency", "50")
			syns := c.stopAll(t)
			if r.code != 0 {
				t.Fatalf("banner: exit %d\n%s", r.code, r.stderr)
			}
			for _, ap := range excluded {
				for k, n := range syns {
					if strings.HasPrefix(k, ap.Addr().String()+":") {
						t.Errorf("%d SYN(s) reached excluded %s (port %s)", n, ap.Addr(), k[strings.LastIndex(k, ":")+1:])
					}
				}
			}
			got := map[string]string{}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var res struct {
					IP     string `json:"ip"`
					Port   int    `json:"port"`
					Status string `json:"status"`
				}
				if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
					t.Fatal(err)
				}
				got[fmt.Sprintf("%s:%d", res.IP, res.Port)] = res.Status
			}
			for _, ap := range excluded {
				if st := got[ap.String()]; st != "excluded" {
					t.Errorf("%s: status %q, want excluded", ap, st)
				}
			}
			for _, ap := range allowed {
				if st := got[ap.String()]; st != "success" {
					t.Errorf("%s: status %q, want success", ap, st)
				}
				if syns[ap.String()] == 0 {
					t.Errorf("%s: no SYN seen for an allowed service: the capture proves nothing", ap)
				}
			}
			if len(got) != len(all) {
				t.Errorf("%d results for %d targets", len(got), len(all))
			}
		})
	}
}
