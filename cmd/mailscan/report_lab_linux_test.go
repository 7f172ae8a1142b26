package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// labGeo is the test databases' view of the lab: the target range split
// into countries and AS organisations, a part in no database, and the
// pseudo-service range somewhere that must never show.
var labGeo = []struct {
	cidr, code, country string
	asn                 uint32
	org, provider       string
}{
	{"198.18.16.0/22", "DE", "Germany", 24940, "Hetzner Online GmbH", "Hetzner"},
	{"198.18.20.0/22", "US", "United States", 16509, "AMAZON-02", "Amazon"},
	{"198.18.24.0/22", "FR", "France", 16276, "OVH SAS", "OVHcloud"},
	{"198.18.28.0/23", "NL", "Netherlands", 64500, "Example Hosting Ltd", "Example Hosting Ltd"},
	// 198.18.30.0/23: in no database.
	{"198.18.32.0/28", "CN", "China", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", "Microsoft"},
}

// writeLabDBs writes a GeoLite2-Country and a GeoLite2-ASN database of
// labGeo into dir.
func writeLabDBs(t *testing.T, dir string) (country, asn string) {
	t.Helper()
	write := func(dbType, file string, rec func(i int) mmdbtype.Map) string {
		tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, BuildEpoch: 1714521600})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range labGeo {
			_, n, err := net.ParseCIDR(g.cidr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tree.Insert(n, rec(i)); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, file)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tree.WriteTo(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	country = write("GeoLite2-Country", "GeoLite2-Country.mmdb", func(i int) mmdbtype.Map {
		return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(labGeo[i].code),
			"names": mmdbtype.Map{"en": mmdbtype.String(labGeo[i].country)}}}
	})
	asn = write("GeoLite2-ASN", "GeoLite2-ASN.mmdb", func(i int) mmdbtype.Map {
		return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(labGeo[i].asn),
			"autonomous_system_organization": mmdbtype.String(labGeo[i].org)}
	})
	return country, asn
}

// labPlace is the country (label and code) and provider of a lab address,
// from labGeo itself: the test does not trust the report's lookups.
func labPlace(ip netip.Addr) (country, code, provider string) {
	for _, g := range labGeo {
		if netip.MustParsePrefix(g.cidr).Contains(ip) {
			return g.country, g.code, g.provider
		}
	}
	return "unknown", "", "unknown"
}

// expectedGeo counts, from the raw results, what the country × port,
// provider × port and cleartext-login tables must say: per row label and
// column key, distinct hosts.
func expectedGeo(t *testing.T, path string) (countries, providers, loginC, loginP map[string]map[string]int) {
	t.Helper()
	type rec struct {
		IP, Protocol, Status, Greeting string
		Port                           int
		AnswersAllPorts                bool `json:"answers_all_ports"`
		Findings                       *struct {
			CleartextLogin *struct{ Value bool } `json:"cleartext_login"`
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []rec
	pseudo := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		if r.AnswersAllPorts {
			pseudo[r.IP] = true
		}
	}
	type hostFacts struct {
		ports map[string]bool
		login int
	}
	hosts := map[string]*hostFacts{}
	for _, r := range recs {
		if pseudo[r.IP] || (r.Status != "success" && strings.TrimSpace(r.Greeting) == "") {
			continue
		}
		h := hosts[r.IP]
		if h == nil {
			h = &hostFacts{ports: map[string]bool{}}
			hosts[r.IP] = h
		}
		k := fmt.Sprintf("%s_%d", r.Protocol, r.Port)
		if !h.ports[k] && r.Findings != nil && r.Findings.CleartextLogin != nil && r.Findings.CleartextLogin.Value {
			h.login++
		}
		h.ports[k] = true
	}
	countries, providers = map[string]map[string]int{}, map[string]map[string]int{}
	loginC, loginP = map[string]map[string]int{}, map[string]map[string]int{}
	add := func(m map[string]map[string]int, row string, h *hostFacts) {
		if m[row] == nil {
			m[row] = map[string]int{}
		}
		m[row]["hosts"]++
		for k := range h.ports {
			m[row][k]++
			m[row]["services"]++
		}
	}
	addLogin := func(m map[string]map[string]int, row string, h *hostFacts) {
		if m[row] == nil {
			m[row] = map[string]int{}
		}
		m[row]["hosts"]++
		if h.login > 0 {
			m[row]["exposed_hosts"]++
			m[row]["exposed_services"] += h.login
		}
	}
	for ip, h := range hosts {
		country, code, provider := labPlace(netip.MustParseAddr(ip))
		add(countries, country+"/"+code, h)
		add(providers, provider, h)
		addLogin(loginC, country+"/"+code, h)
		addLogin(loginP, provider, h)
	}
	return
}

// reportTables runs the report on args and returns its JSON tables as
// row label → column key → value (numbers only).
func reportTables(t *testing.T, l *labEnv, args ...string) (map[string]map[string]map[string]float64, []byte) {
	t.Helper()
	out := l.run(t, append([]string{l.bin, "report", "--format", "json"}, args...)...)
	if out.code != 0 {
		t.Fatalf("report %v: exit %d: %s", args, out.code, out.stderr)
	}
	var doc struct {
		Tables []struct {
			ID   string
			Rows []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out.stdout), &doc); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	tables := map[string]map[string]map[string]float64{}
	for _, tab := range doc.Tables {
		rows := map[string]map[string]float64{}
		for _, r := range tab.Rows {
			label := fmt.Sprint(r["country"]) + "/" + fmt.Sprint(r["code"])
			if _, ok := r["provider"]; ok {
				label = fmt.Sprint(r["provider"])
			}
			vals := map[string]float64{}
			for k, v := range r {
				if f, ok := v.(float64); ok {
					vals[k] = f
				}
			}
			rows[label] = vals
		}
		tables[tab.ID] = rows
	}
	return tables, []byte(out.stdout)
}

// TestIntegrationReportGeo scans the lab (mailscan run), then checks the
// report's country × port, provider × port and cleartext-login tables,
// built with MaxMind test databases of the lab's ranges, against counts
// made here from the raw results; then that the results split into
// overlapping shards, one gzip and one zstd, give the same report; then
// that the scan compared with itself changes nowhere.
// MAILSCAN_REPORT_LAB_MD=FILE keeps the Markdown report of the run.
func TestIntegrationReportGeo(t *testing.T) {
	l := needLab(t)
	// run drops to nobody, who must be able to write the outputs.
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o777)
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.runArgs(dir)...)
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	results := filepath.Join(dir, "results.jsonl")
	country, asn := writeLabDBs(t, dir)
	geo := []string{"--country", country, "--asn", asn}
	tables, js := reportTables(t, l, append([]string{"-i", results, "--top", "20"}, geo...)...)

	wantC, wantP, wantLC, wantLP := expectedGeo(t, results)
	if len(wantC) < 4 || len(wantP) < 4 {
		t.Fatalf("the lab's hosts fall in only %d countries and %d providers", len(wantC), len(wantP))
	}
	for _, c := range []struct {
		id   string
		want map[string]map[string]int
	}{{"countries", wantC}, {"providers", wantP}, {"login_countries", wantLC}, {"login_providers", wantLP}} {
		got := tables[c.id]
		if got == nil {
			t.Errorf("no table %s", c.id)
			continue
		}
		for row, cols := range c.want {
			for k, n := range cols {
				if int(got[row][k]) != n {
					t.Errorf("%s: %s %s = %v, the results say %d", c.id, row, k, got[row][k], n)
				}
			}
		}
		for row, cols := range got {
			if c.want[row] == nil {
				t.Errorf("%s: row %s (%v) is not in the results", c.id, row, cols)
			}
			for k, v := range cols {
				if v != 0 && c.want[row][k] == 0 && !strings.HasPrefix(k, "share") {
					t.Errorf("%s: %s %s = %v, the results say 0", c.id, row, k, v)
				}
			}
		}
	}
	if _, ok := tables["countries"]["China/CN"]; ok {
		t.Error("the pseudo-service range shows in the countries")
	}
	if md := os.Getenv("MAILSCAN_REPORT_LAB_MD"); md != "" {
		out := l.run(t, append([]string{l.bin, "report", "-i", results, "--format", "markdown", "-o", md}, geo...)...)
		if out.code != 0 {
			t.Fatalf("markdown: %s", out.stderr)
		}
		t.Logf("markdown report kept at %s", md)
	}

	// Shards: the first two thirds plain, the last two thirds gzip (so the
	// middle third is in both), and a zstd copy of everything: one scan.
	b, _ := os.ReadFile(results)
	lines := strings.SplitAfter(string(b), "\n")
	n := len(lines)
	s1 := filepath.Join(dir, "shard1.jsonl")
	os.WriteFile(s1, []byte(strings.Join(lines[:2*n/3], "")), 0o644)
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(strings.Join(lines[n/3:], "")))
	gw.Close()
	s2 := filepath.Join(dir, "shard2.jsonl.gz")
	os.WriteFile(s2, gz.Bytes(), 0o644)
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(b)
	zw.Close()
	s3 := filepath.Join(dir, "all.zst")
	os.WriteFile(s3, zs.Bytes(), 0o644)
	shards, _ := reportTables(t, l, append([]string{"-i", s1, "-i", s2, "-i", s3, "--top", "20"}, geo...)...)
	for _, id := range []string{"headline", "ports", "countries", "providers", "families", "login_countries", "login_providers"} {
		if !reflect.DeepEqual(shards[id], tables[id]) {
			t.Errorf("shards: table %s differs:\n got %v\nwant %v", id, shards[id], tables[id])
		}
	}

	// The scan compared with itself, as results and as its report's JSON.
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, js, 0o644)
	for _, base := range []string{results, old} {
		_, cmp := reportTables(t, l, append([]string{"-i", results, "--top", "20", "--baseline", base}, geo...)...)
		var doc struct {
			Tables []struct {
				ID   string
				Rows []map[string]any
			}
		}
		json.Unmarshal(cmp, &doc)
		changes := 0
		for _, tab := range doc.Tables {
			for _, row := range tab.Rows {
				for k, v := range row {
					if strings.HasSuffix(k, "_change") {
						changes++
						if v != nil && v != 0.0 {
							t.Errorf("baseline %s: %s %s = %v", base, tab.ID, k, v)
						}
					}
				}
			}
			if tab.ID == "changes" && len(tab.Rows) != 0 {
				t.Errorf("baseline %s: what changed %v", base, tab.Rows)
			}
		}
		if changes < 50 {
			t.Errorf("baseline %s: only %d change cells", base, changes)
		}
	}
}
