package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// The shards of one scan, counted by hand below. Hosts: P = 198.18.1.1,
// Q = .2, R = .3, X = 198.18.9.9 (in no database), V = 2001:db8::1 (IPv6),
// S = 198.18.1.6 (no service); 198.18.1.4 is excluded by the policy.
const (
	shard1 = `{"ip":"198.18.1.1","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"Dovecot","version":"2.3.21","os":"Debian","evidence":["greeting"],"rule":"r"},"findings":{"cleartext_login":{"value":true,"evidence":"x"}}}
{"ip":"198.18.1.1","port":993,"protocol":"imaps","status":"success","greeting":"* OK","tls":{"version":"TLSv1.3"},"fingerprint":{"family":"Dovecot","version":"2.3.21"}}
{"ip":"198.18.1.2","port":110,"protocol":"pop3","status":"io-timeout"}
{"ip":"198.18.1.3","port":25,"protocol":"smtp","status":"success","greeting":"220 mx"}
{"ip":"198.18.9.9","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"Cyrus"}}
{"ip":"198.18.1.4","port":143,"protocol":"imap","status":"excluded"}
{"ip":"2001:db8::1","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"Dovecot"}}
{"ip":"198.18.1.5","port":110,"protocol":"pop3","status":"succ`
	// shard2 repeats P:143, and its Q:110 reached the server where
	// shard1's timed out.
	shard2 = `{"ip":"198.18.1.1","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"Dovecot","version":"2.3.21"},"findings":{"cleartext_login":{"value":true,"evidence":"x"}}}
{"ip":"198.18.1.2","port":110,"protocol":"pop3","status":"success","greeting":"+OK","fingerprint":{"family":"Dovecot"},"findings":{"cleartext_login":{"value":true,"evidence":"x"}}}
{"ip":"198.18.1.3","port":587,"protocol":"submission","status":"success","greeting":"220 sub","fingerprint":{"product":"Postfix"},"findings":{"cleartext_login":{"value":false,"evidence":"x"}}}
`
	// shard3: a port with no service, and a second service record of
	// Q:110 (the first stands).
	shard3 = `{"ip":"198.18.1.6","port":995,"protocol":"pop3s","status":"tls-error"}
{"ip":"198.18.1.2","port":110,"protocol":"pop3","status":"success","greeting":"+OK other","fingerprint":{"family":"Courier"}}
`
)

// writeShards writes shard1 plain, shard2 gzip and shard3 zstd, the two
// under names that do not tell (the magic number must).
func writeShards(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(shard2))
	gw.Close()
	zw, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write([]byte(shard3))
	zw.Close()
	files := map[string][]byte{"shard1.jsonl": []byte(shard1), "shard2.data": gz.Bytes(), "shard3.jsonl": zs.Bytes()}
	var paths []string
	for _, name := range []string{"shard1.jsonl", "shard2.data", "shard3.jsonl"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// shardOptions: DE and Hetzner for 198.18.1.0/30, FR and OVH for
// 198.18.1.4/30, NL and an unmapped organisation for 2001:db8::/32.
func shardOptions(t *testing.T) *Options {
	dir := t.TempDir()
	ctree := newTree(t, "GeoLite2-Country")
	atree := newTree(t, "GeoLite2-ASN")
	for _, n := range []struct{ cidr, code, name, org string }{
		{"198.18.1.0/30", "DE", "Germany", "Hetzner Online GmbH"},
		{"198.18.1.4/30", "FR", "France", "OVH SAS"},
		{"2001:db8::/32", "NL", "Netherlands", "Example v6 Net"},
	} {
		insert(t, ctree, n.cidr, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(n.code), "names": mmdbtype.Map{"en": mmdbtype.String(n.name)}}})
		insert(t, atree, n.cidr, mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500), "autonomous_system_organization": mmdbtype.String(n.org)})
	}
	return &Options{Country: writeTree(t, ctree, filepath.Join(dir, "c.mmdb")), ASN: writeTree(t, atree, filepath.Join(dir, "a.mmdb"))}
}

func buildPaths(t *testing.T, paths []string, opts *Options) *Report {
	t.Helper()
	var in []Input
	for _, p := range paths {
		in = append(in, FileInput(p))
	}
	rep, err := BuildInputs(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestShards pins every table of the three shards, counted by hand: a
// target in two shards counts once, a later service replaces an earlier
// timeout, compressed shards are read by their magic number, a host in no
// database is unknown, a service without a fingerprint is unknown, the
// excluded record is only in the summary, the IPv6 host counts apart in the
// summary and like any other in the tables, and the torn last line of
// shard1 is a bad line.
func TestShards(t *testing.T) {
	paths := writeShards(t)
	rep := buildPaths(t, paths, shardOptions(t))
	want := Summary{
		Lines: 13, BadLines: 1, Records: 12, Excluded: 1,
		Duplicates: 3, // P:143 in shard2, Q:110 in shard2 and shard3
		Targets:    8, // P:143 P:993 Q:110 R:25 R:587 X:143 V:143 S:995
		NoService:  1, // S:995
		Services:   7,
		Hosts:      5, // P Q R X V
		HostsIPv6:  1,
	}
	if rep.Summary != want {
		t.Errorf("summary:\n got %+v\nwant %+v", rep.Summary, want)
	}
	if len(rep.BadLines) != 1 || rep.BadLines[0].String() != paths[0]+":8: unexpected end of JSON input" {
		t.Errorf("bad lines %v", rep.BadLines)
	}
	// Columns: imap 143, imaps 993, pop3 110, pop3s 995, smtp 25, submission 587.
	tests := map[string][][]string{
		"headline": {
			{"IMAP", "3", "1", "3", "60"}, // 143: P X V; 993: P
			{"POP3", "1", "0", "1", "20"}, // 110: Q; 995: S has no service
			{"SMTP", "1", "0", "1", "20"}, // R on 25 and 587
		},
		"status": {
			{"success", "7", "7", "87.5"},
			{"tls-error", "1", "0", "12.5"},
			{"=", "total", "8", "7", "100"},
		},
		"ports": { // by services, then port
			{"imap", "143", "3", "60"},
			{"smtp", "25", "1", "20"},
			{"pop3", "110", "1", "20"},
			{"submission", "587", "1", "20"},
			{"imaps", "993", "1", "20"},
			{"=", "total", "", "7", ""},
		},
		"coverage": {
			{"services", "7", "100"},
			{"with a fingerprint (vendor family)", "6", "85.71"}, // all but R:25
			{"with a version", "2", "28.57"},                     // P:143 P:993
			{"vendor families", "3", ""},                         // Dovecot, Cyrus, Postfix
		},
		"families": {
			{"Dovecot", "4", "2", "1", "1", "0", "0", "0", "57.14"}, // P:143 V:143 P:993 Q:110 (not Courier: the first service stands)
			{"Cyrus", "1", "1", "0", "0", "0", "0", "0", "14.29"},
			{"Postfix", "1", "0", "0", "0", "0", "0", "1", "14.29"}, // from the product
			{"unknown", "1", "0", "0", "0", "0", "1", "0", "14.29"}, // R:25
			{"=", "total", "7", "3", "1", "1", "0", "1", "1", "100"},
		},
		"versions": {
			{"Dovecot", "2.3.21", "2", "100"},
			{"=", "total", "", "2", "100"},
		},
		"countries": {
			{"Germany", "DE", "3", "1", "1", "1", "0", "1", "1", "5"},
			{"Netherlands", "NL", "1", "1", "0", "0", "0", "0", "0", "1"},
			{"unknown", "", "1", "1", "0", "0", "0", "0", "0", "1"}, // X
			{"=", "total", "", "5", "3", "1", "1", "0", "1", "1", "7"},
		},
		"providers": {
			{"Hetzner", "3", "1", "1", "1", "0", "1", "1", "5"},
			{"Example v6 Net", "1", "1", "0", "0", "0", "0", "0", "1"},
			{"unknown", "1", "1", "0", "0", "0", "0", "0", "1"},
			{"=", "total", "5", "3", "1", "1", "0", "1", "1", "7"},
		},
		"login_countries": {
			{"Germany", "DE", "3", "2", "2", "66.67"}, // P:143, Q:110
			{"Netherlands", "NL", "1", "0", "0", "0"},
			{"unknown", "", "1", "0", "0", "0"},
			{"=", "total", "", "5", "2", "2", "40"},
		},
	}
	for id, want := range tests {
		tab := rep.Table(id)
		if tab == nil {
			t.Errorf("no table %s", id)
			continue
		}
		if got := rawRows(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", id, got, want)
		}
	}
	checkInvariants(t, rep)

	// The same bytes in one reader, and the shards in another order, give
	// the same tables (the summary's line count aside).
	one := shard1 + "\n" + shard2 + shard3
	r2, err := Build(strings.NewReader(one), "all", shardOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range tests {
		if id == "families" || id == "coverage" {
			continue // the torn line now swallows nothing, but order matters for Q:110's family
		}
		if got := rawRows(r2.Table(id)); !reflect.DeepEqual(got, want) {
			t.Errorf("one reader, %s:\n got %q\nwant %q", id, got, want)
		}
	}
}

// TestLatePseudo: a host flagged answers_all_ports after some of its
// records were counted leaves every table; a file is read twice for that,
// a reader cannot be and the report says so.
func TestLatePseudo(t *testing.T) {
	in := `{"ip":"198.18.3.1","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"Dovecot"}}
{"ip":"198.18.3.1","port":110,"protocol":"pop3","status":"io-timeout"}
{"ip":"198.18.3.2","port":143,"protocol":"imap","status":"success","greeting":"* OK"}
{"ip":"198.18.3.1","port":25,"protocol":"smtp","status":"success","greeting":"220","answers_all_ports":true}
`
	path := filepath.Join(t.TempDir(), "late.jsonl")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := buildPaths(t, []string{path}, nil)
	if s := rep.Summary; s.PseudoHosts != 1 || s.PseudoTargets != 3 || s.Services != 1 || s.Hosts != 1 || s.NoService != 0 {
		t.Errorf("summary %+v", s)
	}
	for id, want := range map[string][][]string{
		"status":   {{"success", "1", "1", "100"}, {"=", "total", "1", "1", "100"}},
		"families": {{"unknown", "1", "1", "0", "0", "100"}, {"=", "total", "1", "1", "0", "0", "100"}},
	} {
		if got := rawRows(rep.Table(id)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", id, got, want)
		}
	}
	checkInvariants(t, rep)

	r2, err := Build(strings.NewReader(in), "stdin", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := rawRows(r2.Table("status")); len(got) != 3 {
		t.Errorf("from a reader the counted records stay: %q", got)
	}
	found := false
	for _, n := range r2.Notes {
		found = found || strings.HasPrefix(n, "1 hosts were flagged answers_all_ports after some of their records had been counted; stdin cannot be read twice")
	}
	if !found {
		t.Errorf("notes %q lack the late flag", r2.Notes)
	}
}

// changeCells returns every change value of a report's JSON: they must all
// be 0 or null when a scan is compared with itself.
func changeCells(t *testing.T, rep *Report) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := rep.Write(&b, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tables []struct {
			ID    string
			Rows  []map[string]any
			Total map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	n := 0
	for _, tab := range doc.Tables {
		rows := tab.Rows
		if tab.Total != nil {
			rows = append(rows, tab.Total)
		}
		for i, r := range rows {
			for k, v := range r {
				if strings.HasSuffix(k, "_change") || strings.HasSuffix(k, "_change_pct") {
					n++
					if v != nil && v != 0.0 {
						out[tab.ID+"/"+itoa(int64(i))+"/"+k] = v
					}
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d change cells: the baseline columns are missing", n)
	}
	return out
}

// TestBaselineIdentical: a scan compared with itself, as results or as an
// earlier report's JSON, changes nowhere, and "what changed" is empty.
func TestBaselineIdentical(t *testing.T) {
	opts := fixtureOptions(t)
	fixture := filepath.Join("testdata", "results.jsonl")
	jsonBase := filepath.Join(t.TempDir(), "old.json")
	var b bytes.Buffer
	if err := buildFile(t, "results.jsonl", opts).Write(&b, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonBase, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The JSON of a report that had a baseline itself, with its extra
	// columns, is a baseline too.
	jsonBase2 := filepath.Join(t.TempDir(), "old2.json")
	o2 := *opts
	o2.Baseline = fixture
	b.Reset()
	if err := buildFile(t, "results.jsonl", &o2).Write(&b, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonBase2, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{fixture, jsonBase, jsonBase2} {
		o := *opts
		o.Baseline = base
		rep := buildPaths(t, []string{fixture}, &o)
		if rep.Baseline != base {
			t.Errorf("baseline %q", rep.Baseline)
		}
		if d := changeCells(t, rep); len(d) > 0 {
			t.Errorf("baseline %s: changes %v", base, d)
		}
		if ch := rep.Table("changes"); ch == nil || len(ch.Rows) != 0 {
			t.Errorf("baseline %s: what changed %v", base, ch)
		}
		// Every number of the summary has its earlier value beside it.
		for _, cells := range rep.Table("summary").Rows {
			if !cells[1].WasOK || cells[1].Was != float64(cells[1].N) {
				t.Errorf("summary %q: was %v (%v)", cells[0].S, cells[1].Was, cells[1].WasOK)
			}
		}
	}
}

// TestBaselineChanges: dropping port 993 and adding an Exim host show in
// the tables (a zero row with its earlier count) and in "what changed".
func TestBaselineChanges(t *testing.T) {
	paths := writeShards(t)
	opts := shardOptions(t)
	// The baseline is shard1; the newer scan lacks its 993 record, and
	// R:25 now has a fingerprint.
	var kept []string
	for _, l := range strings.Split(shard1, "\n") {
		if !strings.Contains(l, `"port":993`) && !strings.Contains(l, `"port":25`) {
			kept = append(kept, l)
		}
	}
	newer := strings.Join(kept[:len(kept)-1], "\n") + "\n" +
		`{"ip":"198.18.1.3","port":25,"protocol":"smtp","status":"success","greeting":"220 mx","fingerprint":{"family":"Exim","version":"4.97"}}` + "\n"
	dir := t.TempDir()
	base := filepath.Join(dir, "old.jsonl")
	all, _ := os.ReadFile(paths[0])
	os.WriteFile(base, all, 0o644)
	cur := filepath.Join(dir, "new.jsonl")
	os.WriteFile(cur, []byte(newer), 0o644)
	o := *opts
	o.Baseline = base
	rep := buildPaths(t, []string{cur}, &o)

	// Countries and providers count hosts: P and R before and after.
	want := [][]string{
		{"port", "imaps 993", "removed", "0", "1"},
		{"family", "Exim", "added", "1", "0"},
		{"family", "unknown", "removed", "0", "1"},
		{"family", "Dovecot", "", "2", "3"},
	}
	var got [][]string
	for _, cells := range rep.Table("changes").Rows {
		got = append(got, []string{cells[0].S, cells[1].S, cells[2].S, itoa(cells[3].N), itoa(int64(cells[3].Was))})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("what changed:\n got %q\nwant %q", got, want)
	}
	// The gone port stays in the ports table, now zero, with its count
	// before and the change.
	v := view(rep.Table("ports"))
	var row []string
	for _, r := range v.rows {
		if r[0].human == "imaps" {
			for _, c := range r {
				row = append(row, c.human)
			}
		}
	}
	// protocol, port, services, before, change (and two columns for
	// machines), % hosts, before, change (and one for machines): a share
	// of nothing is empty.
	if want := []string{"imaps", "993", "0", "1", "-1 (-100.0%)", "", "", "", "25.0%", "", ""}; !reflect.DeepEqual(row, want) {
		t.Errorf("ports row imaps:\n got %q\nwant %q", row, want)
	}
	// And every format says it.
	for _, f := range []Format{FormatText, FormatMarkdown, FormatCSV, FormatJSON, FormatHTML} {
		var b bytes.Buffer
		if err := rep.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"What changed", "Exim"} {
			if f == FormatCSV || f == FormatJSON {
				w = strings.NewReplacer("What changed", "changes").Replace(w)
			}
			if !strings.Contains(b.String(), w) {
				t.Errorf("%v lacks %q", f, w)
			}
		}
	}
}
