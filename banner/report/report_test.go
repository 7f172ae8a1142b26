package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestFixtureCounts pins every table of the report on testdata/results.jsonl
// to numbers counted by hand from the file, record by record (the comments
// name the hosts: A = 198.18.1.1, B = .2, C = .3, D = .4, E = .5, F = .6,
// G = .7, H = .8, I = .9, J = .10, M = .11, N = .12, O = .13; K = 198.18.2.1
// and L = 198.18.2.2 are pseudo-services). These literals, not the
// goldens, are the reference: the goldens were checked against them when
// first written.
func TestFixtureCounts(t *testing.T) {
	rep := buildFile(t, "results.jsonl", fixtureOptions(t))

	wantSummary := Summary{
		Lines:         30, // 31 lines, one blank
		BadLines:      3,  // lines 6 (truncated), 15 (protocol gopher), 21 (not JSON)
		Records:       27,
		Excluded:      0,
		Duplicates:    2,  // A:143 (io-timeout, then success: success kept), C:110 (two successes: first kept)
		Targets:       25, // 27 - 2
		PseudoHosts:   2,  // K, L
		PseudoTargets: 4,  // K:143, K:25, K:110 (not itself flagged), L:143
		NoService:     3,  // H:143 refused, H:110 timeout, I:993 tls-error without greeting
		Services:      18, // 25 - 4 - 3
		Hosts:         11, // A B C D E F G J M N O
	}
	if rep.Summary != wantSummary {
		t.Errorf("summary:\n got %+v\nwant %+v", rep.Summary, wantSummary)
	}
	if got, want := len(rep.BadLines), 3; got != want {
		t.Fatalf("bad lines: got %d, want %d", got, want)
	}
	for i, want := range []int64{6, 15, 21} {
		if rep.BadLines[i].Line != want {
			t.Errorf("bad line %d at line %d, want %d (%s)", i, rep.BadLines[i].Line, want, rep.BadLines[i].Err)
		}
	}
	if want := `unknown protocol "gopher"`; rep.BadLines[1].Err != want {
		t.Errorf("bad line 15: %q, want %q", rep.BadLines[1].Err, want)
	}

	tests := []struct {
		id   string
		want [][]string
	}{
		{"summary", [][]string{
			{"lines read", "30"}, {"bad lines skipped", "3"}, {"records", "27"},
			{"excluded by the exclusion policy (never dialled)", "0"}, {"duplicate records (same ip and port)", "2"}, {"targets (distinct ip and port)", "25"},
			{"pseudo-service hosts (answers_all_ports)", "2"}, {"targets on pseudo-service hosts, not counted below", "4"},
			{"targets without a service (failed, no greeting)", "3"}, {"services (success or a greeting)", "18"},
			{"hosts (distinct ips with a service)", "11"}, {"of which IPv6 hosts", "0"},
		}},
		// cleartext, implicit TLS, either; share of 11 hosts.
		{"headline", [][]string{
			{"IMAP", "5", "2", "6", "54.55"}, // 143: A B C G O; 993: A D
			{"POP3", "3", "1", "4", "36.36"}, // 110: A C N; 995: D
			{"SMTP", "5", "1", "6", "54.55"}, // 25 or 587: A B E J M (B on both); 465: F
		}},
		// 21 targets of real hosts.
		{"status", [][]string{
			{"success", "16", "16", "76.19"},
			{"tls-error", "2", "1", "9.52"}, // J:25 has a greeting, I:993 none
			{"closed", "1", "1", "4.76"},    // G:143 "* BYE"
			{"connection-refused", "1", "0", "4.76"},
			{"connection-timeout", "1", "0", "4.76"},
			{"=", "total", "21", "18", "100"},
		}},
		// Share of 11 hosts.
		{"ports", [][]string{
			{"imap", "143", "5", "45.45"}, // A B C G O
			{"smtp", "25", "4", "36.36"},  // A B E J
			{"pop3", "110", "3", "27.27"}, // A C N
			{"submission", "587", "2", "18.18"},
			{"imaps", "993", "2", "18.18"},
			{"smtps", "465", "1", "9.09"},
			{"pop3s", "995", "1", "9.09"},
			{"=", "total", "", "18", ""},
		}},
		{"tls", [][]string{
			{"imap", "5", "3", "2", "0", "60"},    // TLS: A B O; C no STARTTLS, G no TLS record
			{"smtp", "4", "2", "2", "0", "50"},    // TLS: A B; E none, J handshake failed
			{"pop3", "3", "2", "1", "0", "66.67"}, // A N; C
			{"imaps", "2", "2", "0", "0", "100"},
			{"submission", "2", "2", "0", "0", "100"},
			{"pop3s", "1", "1", "0", "0", "100"},
			{"smtps", "1", "0", "0", "1", "0"}, // F: success without a tls record
			{"=", "total", "18", "12", "5", "1", "66.67"},
		}},
		{"starttls", [][]string{
			{"imap", "5", "3", "1", "1", "60"},        // A B O offered, C not, G unknown
			{"smtp", "4", "3", "1", "0", "75"},        // A B J, E not
			{"pop3", "3", "2", "1", "0", "66.67"},     // A N, C not (first record kept)
			{"submission", "2", "2", "0", "0", "100"}, // M only from the starttls record
			{"=", "total", "14", "10", "3", "1", "71.43"},
		}},
		{"cleartext_login", [][]string{
			{"imap", "5", "2", "2", "1", "40"},       // B C exposed; A O not; G unknown
			{"smtp", "4", "1", "2", "1", "25"},       // E; A B; J unknown
			{"pop3", "3", "2", "1", "0", "66.67"},    // A C; N
			{"imaps", "2", "0", "2", "0", "0"},       // implicit TLS
			{"submission", "2", "1", "1", "0", "50"}, // B; M
			{"pop3s", "1", "0", "1", "0", "0"},
			{"smtps", "1", "0", "0", "1", "0"}, // F has no findings
			{"=", "total", "18", "6", "9", "3", "33.33"},
		}},
		{"tls_versions", [][]string{
			{"TLSv1.2", "5", "41.67"}, // B:143 B:25 B:587 A:110 N:110
			{"TLSv1.3", "5", "41.67"}, // A:143 A:993 A:25 M:587 O:143
			{"TLSv1.0", "2", "16.67"}, // D:993 D:995
			{"=", "total", "12", "100"},
		}},
		// 13 services presented a certificate; I:993 did too but is no service.
		{"certificates", [][]string{
			{"neither", "6", "46.15"},                  // A x4, M, N
			{"self-signed, not expired", "4", "30.77"}, // B x3, J (handshake failed after the certificate)
			{"expired and self-signed", "2", "15.38"},  // D x2
			{"expired, not self-signed", "1", "7.69"},  // O
			{"=", "total", "13", "100"},
		}},
		// 18 services, 16 with a family (all but G and E), 5 with a version.
		{"coverage", [][]string{
			{"services", "18", "100"},
			{"with a fingerprint (vendor family)", "16", "88.89"},
			{"with a version", "5", "27.78"},
			{"vendor families", "6", ""},
		}},
		// services, then imap 143, imaps 993, pop3 110, pop3s 995, smtp 25,
		// submission 587, smtps 465; share of 18.
		{"families", [][]string{
			{"Dovecot", "6", "1", "2", "2", "1", "0", "0", "0", "33.33"},            // A:143 A:993 D:993 A:110 N:110 D:995
			{"Microsoft Exchange", "3", "1", "0", "0", "0", "1", "1", "0", "16.67"}, // B
			{"Postfix", "3", "0", "0", "0", "0", "2", "1", "0", "16.67"},            // A:25 J:25 M:587
			{"Courier", "2", "1", "0", "1", "0", "0", "0", "0", "11.11"},            // C, from the product: no family
			{"unknown", "2", "1", "0", "0", "0", "1", "0", "0", "11.11"},            // G, E
			{"Cyrus", "1", "1", "0", "0", "0", "0", "0", "0", "5.56"},
			{"Exim", "1", "0", "0", "0", "0", "0", "0", "1", "5.56"},
			{"=", "total", "18", "5", "2", "3", "1", "4", "2", "1", "100"},
		}},
		{"versions", [][]string{
			{"Dovecot", "2.2.36", "2", "40"},
			{"Cyrus", "3.4.1", "1", "20"},
			{"Exim", "4.96", "1", "20"},
			{"Postfix", "3.7.6", "1", "20"},
			{"=", "total", "", "5", "100"},
		}},
		// hosts, the seven ports as above, services; rows by services.
		{"countries", [][]string{
			{"Germany", "DE", "3", "3", "1", "2", "0", "2", "1", "0", "9"},       // A B C
			{"United States", "US", "4", "1", "1", "0", "1", "1", "0", "1", "5"}, // D E F G
			{"France", "FR", "2", "0", "0", "0", "0", "1", "1", "0", "2"},        // J M (H and I have no service)
			{"Netherlands", "NL", "1", "0", "0", "1", "0", "0", "0", "0", "1"},   // N, registered country only
			{"unknown", "", "1", "1", "0", "0", "0", "0", "0", "0", "1"},         // O
			{"=", "total", "", "11", "5", "2", "3", "1", "4", "2", "1", "18"},
		}},
		{"providers", [][]string{
			{"Hetzner", "3", "3", "1", "2", "0", "2", "1", "0", "9"},             // A B C
			{"OVHcloud", "2", "0", "1", "0", "1", "1", "0", "0", "3"},            // D E
			{"DigitalOcean", "2", "1", "0", "0", "0", "0", "0", "1", "2"},        // F G
			{"Example Hosting Ltd", "2", "0", "0", "0", "0", "1", "1", "0", "2"}, // J M; no mapping: the organisation
			{"Amazon", "1", "0", "0", "1", "0", "0", "0", "0", "1"},              // N
			{"unknown", "1", "1", "0", "0", "0", "0", "0", "0", "1"},             // O
			{"=", "total", "11", "5", "2", "3", "1", "4", "2", "1", "18"},
		}},
		// hosts, exposed hosts, exposed services, share of hosts exposed.
		{"login_countries", [][]string{
			{"Germany", "DE", "3", "3", "5", "100"},      // A:110, B:143 B:587, C:143 C:110
			{"United States", "US", "4", "1", "1", "25"}, // E:25
			{"France", "FR", "2", "0", "0", "0"},         // J unknown, M not
			{"Netherlands", "NL", "1", "0", "0", "0"},
			{"unknown", "", "1", "0", "0", "0"},
			{"=", "total", "", "11", "4", "6", "36.36"},
		}},
		{"login_providers", [][]string{
			{"Hetzner", "3", "3", "5", "100"},
			{"OVHcloud", "2", "1", "1", "50"},
			{"Amazon", "1", "0", "0", "0"},
			{"DigitalOcean", "2", "0", "0", "0"}, // F, G unknown
			{"Example Hosting Ltd", "2", "0", "0", "0"},
			{"unknown", "1", "0", "0", "0"},
			{"=", "total", "11", "4", "6", "36.36"},
		}},
		{"skipped", [][]string{
			{"results.jsonl:6", "unexpected end of JSON input"},
			{"results.jsonl:15", `unknown protocol "gopher"`},
			{"results.jsonl:21", "invalid character 'h' looking for beginning of value"},
		}},
	}
	var ids []string
	for _, tt := range tests {
		ids = append(ids, tt.id)
		t.Run(tt.id, func(t *testing.T) {
			tab := rep.Table(tt.id)
			if tab == nil {
				t.Fatalf("no table %q", tt.id)
			}
			if got := rawRows(tab); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	var got []string
	for _, tab := range rep.Tables {
		got = append(got, tab.ID)
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("tables %q, want %q", got, ids)
	}
	wantNotes := []string{
		"Countries from GeoLite2-Country.mmdb (GeoLite2-Country, built 2024-05-01).",
		"Providers from GeoLite2-ASN.mmdb (GeoLite2-ASN, built 2024-05-01); AS organisations mapped to providers by name.",
	}
	wantHeadlines := []string{
		"5 hosts run cleartext IMAP on TCP/143 and 2 run IMAPS on TCP/993.",
		"3 hosts run cleartext POP3 on TCP/110 and 1 runs POP3S on TCP/995.",
		"5 hosts run cleartext SMTP on TCP/25, TCP/587 and 1 runs SMTPS on TCP/465.",
	}
	if !reflect.DeepEqual(rep.Headlines, wantHeadlines) {
		t.Errorf("headlines:\n got %q\nwant %q", rep.Headlines, wantHeadlines)
	}
	if !reflect.DeepEqual(rep.Notes, wantNotes) {
		t.Errorf("notes:\n got %q\nwant %q", rep.Notes, wantNotes)
	}
}

// TestTotalsAddUp checks the invariants that hold for any input: lines
// split into records and bad lines, targets into pseudo, failed and
// services, and every count column of a table with a total sums to it.
func TestTotalsAddUp(t *testing.T) {
	for _, top := range []int{1, 2, 3, 100} {
		rep := buildFile(t, "results.jsonl", &Options{Top: top})
		checkInvariants(t, rep)
	}
}

func checkInvariants(t *testing.T, rep *Report) {
	t.Helper()
	s := rep.Summary
	if s.Lines != s.Records+s.BadLines {
		t.Errorf("lines %d != records %d + bad %d", s.Lines, s.Records, s.BadLines)
	}
	if s.Targets != s.Records-s.Duplicates-s.Excluded || s.Targets != s.PseudoTargets+s.NoService+s.Services {
		t.Errorf("targets %d: records %d - dups %d, pseudo %d + failed %d + services %d",
			s.Targets, s.Records, s.Duplicates, s.PseudoTargets, s.NoService, s.Services)
	}
	if s.Hosts > s.Services {
		t.Errorf("hosts %d > services %d", s.Hosts, s.Services)
	}
	for _, tab := range rep.Tables {
		if tab.Total == nil {
			continue
		}
		for i, c := range tab.Columns {
			if c.Kind != Count {
				continue
			}
			var sum int64
			for _, r := range tab.Rows {
				sum += r[i].N
			}
			if sum != tab.Total[i].N {
				t.Errorf("table %s column %s: rows sum to %d, total says %d", tab.ID, c.Key, sum, tab.Total[i].N)
			}
		}
	}
	for id, want := range map[string]int64{"status": s.NoService + s.Services, "ports": s.Services, "tls": s.Services,
		"cleartext_login": s.Services, "families": s.Services} {
		tab := rep.Table(id)
		if tab == nil || tab.Total == nil {
			t.Errorf("table %s: missing or without total", id)
			continue
		}
		if got := tab.Total[colIndex(tab, id)].N; got != want {
			t.Errorf("table %s total %d, want %d", id, got, want)
		}
	}
}

// colIndex is the column whose total the invariants check.
func colIndex(tab *Table, id string) int {
	key := "services"
	if id == "status" {
		key = "targets"
	}
	for i, c := range tab.Columns {
		if c.Key == key {
			return i
		}
	}
	return -1
}

// TestTop folds all but the first rows into "other".
func TestTop(t *testing.T) {
	rep := buildFile(t, "results.jsonl", &Options{Top: 3})
	want := [][]string{
		{"Dovecot", "6", "1", "2", "2", "1", "0", "0", "0", "33.33"},
		{"Microsoft Exchange", "3", "1", "0", "0", "0", "1", "1", "0", "16.67"},
		{"Postfix", "3", "0", "0", "0", "0", "2", "1", "0", "16.67"},
		{"other", "6", "3", "0", "1", "0", "1", "0", "1", "33.33"}, // Courier 2, unknown 2, Cyrus 1, Exim 1
		{"=", "total", "18", "5", "2", "3", "1", "4", "2", "1", "100"},
	}
	if got := rawRows(rep.Table("families")); !reflect.DeepEqual(got, want) {
		t.Errorf("families with top 3:\n got %q\nwant %q", got, want)
	}
	// Fixed-row tables are never cut.
	if got := len(rep.Table("ports").Rows); got != 7 {
		t.Errorf("ports rows with top 3: %d, want 7", got)
	}
}

// TestNoDatabases leaves the geo tables out and says how to add them.
func TestNoDatabases(t *testing.T) {
	tests := []struct {
		name      string
		opts      func(t *testing.T) *Options
		wantIDs   []string
		wantNote  string
		wantTable string
	}{
		{"none", func(*testing.T) *Options { return nil }, nil,
			"Countries and providers are left out: no country database (GeoLite2-Country) and no ASN database (GeoLite2-ASN) were given.", ""},
		{"country only", func(t *testing.T) *Options {
			return &Options{Country: writeCountryDB(t, t.TempDir(), fixtureCountries)}
		}, []string{"countries"}, "Providers are left out: no ASN database (GeoLite2-ASN) was given.", "countries"},
		{"asn only", func(t *testing.T) *Options {
			return &Options{ASN: writeASNDB(t, t.TempDir(), fixtureASNs)}
		}, []string{"providers"}, "Countries are left out: no country database (GeoLite2-Country) was given.", "providers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := buildFile(t, "results.jsonl", tt.opts(t))
			for _, id := range []string{"countries", "providers"} {
				has := rep.Table(id) != nil
				if want := id == tt.wantTable; has != want {
					t.Errorf("table %s present %v, want %v", id, has, want)
				}
			}
			found := false
			for _, n := range rep.Notes {
				found = found || strings.HasPrefix(n, tt.wantNote)
			}
			if !found {
				t.Errorf("notes %q lack %q", rep.Notes, tt.wantNote)
			}
		})
	}
}

// TestGolden compares every format with testdata/golden. Run with -update
// to rewrite them after a deliberate change, and read the diff.
func TestGolden(t *testing.T) {
	geo := fixtureOptions(t)
	tests := []struct {
		file   string
		opts   *Options
		format Format
	}{
		{"results.txt", geo, FormatText},
		{"results.md", geo, FormatMarkdown},
		{"results.csv", geo, FormatCSV},
		{"results.json", geo, FormatJSON},
		{"results.html", geo, FormatHTML},
		{"results-nogeo.txt", nil, FormatText},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep := buildFile(t, "results.jsonl", tt.opts)
			var b bytes.Buffer
			if err := rep.Write(&b, tt.format); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.file)
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("%s differs from %s; run go test -update and read the diff\n%s", tt.format, path, firstDiff(got, string(want)))
			}
		})
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(int64(i+1)) + ":\n got " + gl + "\nwant " + wl
		}
	}
	return ""
}

// TestHTMLSelfContained: nothing on the page comes from elsewhere, and
// every string from the input is escaped: hostile names show as text and
// add no element or attribute.
func TestHTMLSelfContained(t *testing.T) {
	in := `{"ip":"198.18.0.1","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"<script>alert(1)</script>","version":"\"><img src=//x.test/a>"}}
{"ip":"198.18.0.2","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"<a href=\"https://x.test\">x</a>"}}
`
	hostile, err := Build(strings.NewReader(in), `<b>in.jsonl</b>`, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		rep    *Report
		strict bool // the input holds no URL, so the page must hold none
		want   []string
	}{
		{"fixture", buildFile(t, "results.jsonl", fixtureOptions(t)), true,
			[]string{"<title>mailscan report: results.jsonl</title>", `<rect class="bar"`, "<title>imap 143: 5 services</title>"}},
		{"hostile", hostile, false,
			[]string{"<title>mailscan report: &lt;b&gt;in.jsonl&lt;/b&gt;</title>", "&lt;script&gt;alert(1)&lt;/script&gt;",
				"&lt;a href=&#34;https://x.test&#34;&gt;x&lt;/a&gt;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.rep.Write(&b, FormatHTML); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if tt.strict {
				for _, bad := range []string{"http://", "https://", "//", "src=", "href=", "url(", "@import"} {
					if strings.Contains(page, bad) {
						t.Errorf("page contains %q", bad)
					}
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			checkElements(t, page)
		})
	}
}

// checkElements parses page and fails on any element or attribute that
// could load something or run code.
func checkElements(t *testing.T, page string) {
	t.Helper()
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "main": true,
		"h1": true, "h2": true, "p": true, "ul": true, "li": true, "section": true, "svg": true, "g": true, "text": true, "rect": true,
		"table": true, "thead": true, "tbody": true, "tfoot": true, "tr": true, "th": true, "td": true}
	z := html.NewTokenizer(strings.NewReader(page))
	inStyle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowed[tok.Data] {
				t.Errorf("element <%s>", tok.Data)
			}
			inStyle = tok.Data == "style"
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				if k == "src" || strings.HasSuffix(k, "href") || k == "style" || strings.HasPrefix(k, "on") || strings.Contains(a.Val, "//") {
					t.Errorf("<%s %s=%q>", tok.Data, a.Key, a.Val)
				}
			}
		case html.TextToken:
			if inStyle && (strings.Contains(string(z.Text()), "url(") || strings.Contains(string(z.Text()), "@import")) {
				t.Error("style loads a resource")
			}
		case html.EndTagToken:
			inStyle = false
		}
	}
}

// TestMarkdownAndCSVEscaping: a name cannot break a Markdown table or run
// as a spreadsheet formula.
func TestMarkdownAndCSVEscaping(t *testing.T) {
	in := `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","greeting":"220","fingerprint":{"family":"=HYPERLINK(\"x\")|*a*"}}` + "\n"
	rep, err := Build(strings.NewReader(in), "in", nil)
	if err != nil {
		t.Fatal(err)
	}
	var md, c bytes.Buffer
	if err := rep.Write(&md, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if err := rep.Write(&c, FormatCSV); err != nil {
		t.Fatal(err)
	}
	if want := `| =HYPERLINK("x")\|\*a\* | 1 |`; !strings.Contains(md.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, md.String())
	}
	if want := `families,"'=HYPERLINK(""x"")|*a*",1,`; !strings.Contains(c.String(), want) {
		t.Errorf("csv lacks %q:\n%s", want, c.String())
	}
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("x", MaxNameRunes+5)
	tests := []struct{ in, want string }{
		{"Dovecot", "Dovecot"},
		{"  two   words\t", "two words"},
		{"red \x1b[31mtext", "red \ufffd[31mtext"},
		{"a\u202eb", "a\ufffdb"}, // right-to-left override
		{"bad \xff byte", "bad \ufffd byte"},
		{"line\nbreak", "line break"},
		{long, strings.Repeat("x", MaxNameRunes) + "…"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cleanName(tt.in); got != tt.want {
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ok   bool
	}{
		{"text", FormatText, true}, {"TXT", FormatText, true}, {"markdown", FormatMarkdown, true}, {"md", FormatMarkdown, true},
		{"csv", FormatCSV, true}, {"json", FormatJSON, true}, {" HTML ", FormatHTML, true},
		{"", 0, false}, {"pdf", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() == "" {
			t.Errorf("%v has no name", got)
		}
	}
	if err := (&Report{}).Write(io.Discard, Format(0)); err == nil {
		t.Error("Write with the zero Format: no error")
	}
}

// TestLines covers line framing: long lines, a last line without newline,
// CRLF, and the odd records Build rejects.
func TestLines(t *testing.T) {
	ok := `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success","greeting":"220 hi"}`
	tests := []struct {
		name         string
		in           string
		records, bad int64
		services     int64
		firstBad     string
		firstBadLine int64
	}{
		{"no newline at end", ok, 1, 0, 1, "", 0},
		{"crlf", ok + "\r\n" + ok + "\r\n", 2, 0, 1, "", 0},
		{"blank lines", "\n\n  \n" + ok + "\n\n", 1, 0, 1, "", 0},
		{"too long", `{"ip":"` + strings.Repeat("1", MaxLineBytes) + "\"}\n" + ok + "\n", 1, 1, 1, "line longer than", 1},
		{"long but fits", `{"greeting":"` + strings.Repeat("x", 200<<10) + `",` + ok[1:] + "\n", 1, 0, 1, "", 0},
		{"null", "null\n", 0, 1, 0, "no ip", 1},
		{"array", "[]\n", 0, 1, 0, "json: cannot unmarshal array", 1},
		{"bad ip", `{"ip":"999.1.1.1","port":25,"protocol":"smtp","status":"success"}`, 0, 1, 0, "ParseAddr", 1},
		{"no port", `{"ip":"198.18.0.1","protocol":"smtp","status":"success"}`, 0, 1, 0, "no port", 1},
		{"port out of range", `{"ip":"198.18.0.1","port":70000,"protocol":"smtp","status":"success"}`, 0, 1, 0, "cannot unmarshal number 70000", 1},
		{"unknown status", `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"great"}`, 0, 1, 0, `unknown status "great"`, 1},
		{"trailing garbage", ok + "x\n", 0, 1, 0, "invalid character 'x' after top-level value", 1},
		{"failed without greeting", `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"io-timeout"}`, 1, 0, 0, "", 0},
		{"failed with greeting", `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"closed","greeting":"554 go away"}`, 1, 0, 1, "", 0},
		{"whitespace greeting", `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"closed","greeting":"  "}`, 1, 0, 0, "", 0},
		{"ipv4-mapped is the same target", ok + "\n" + strings.Replace(ok, "198.18.0.1", "::ffff:198.18.0.1", 1), 2, 0, 1, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Build(strings.NewReader(tt.in), "in", nil)
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Summary
			if s.Records != tt.records || s.BadLines != tt.bad || s.Services != tt.services {
				t.Errorf("records %d bad %d services %d, want %d %d %d", s.Records, s.BadLines, s.Services, tt.records, tt.bad, tt.services)
			}
			if tt.firstBad != "" {
				if len(rep.BadLines) == 0 || !strings.Contains(rep.BadLines[0].Err, tt.firstBad) || rep.BadLines[0].Line != tt.firstBadLine {
					t.Errorf("bad lines %v, want line %d with %q", rep.BadLines, tt.firstBadLine, tt.firstBad)
				}
			}
			checkInvariants(t, rep)
		})
	}
}

// TestBadLinesListed keeps MaxBadLines locations but counts them all.
func TestBadLinesListed(t *testing.T) {
	in := strings.Repeat("x\n", MaxBadLines+7)
	rep, err := Build(strings.NewReader(in), "in", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.BadLines != MaxBadLines+7 || len(rep.BadLines) != MaxBadLines {
		t.Errorf("bad %d listed %d, want %d and %d", rep.Summary.BadLines, len(rep.BadLines), MaxBadLines+7, MaxBadLines)
	}
	if got := rep.Table("skipped").Rows[MaxBadLines-1][0].S; got != "in:20" {
		t.Errorf("last listed: %q, want in:20", got)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(`{"ip":"198.18.0.1"}`+"\n"), iotest.ErrReader(boom))
	if _, err := Build(r, "in", nil); !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "report: read in: ") {
		t.Errorf("Build = %v, want a wrapped boom", err)
	}
}

// TestOptionErrors: a database or providers file that cannot be used is an
// *OptionError naming it, returned before the input is read.
func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("this is not a MaxMind database"), 0o644); err != nil {
		t.Fatal(err)
	}
	badProv := filepath.Join(dir, "providers.txt")
	if err := os.WriteFile(badProv, []byte("# ok\nfoo = Foo\nno equals sign\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.mmdb")
	tests := []struct {
		name   string
		opts   Options
		option string
		want   string
	}{
		{"missing country", Options{Country: missing}, "country", "report: country database " + missing + ": open "},
		{"garbage country", Options{Country: garbage}, "country", "report: country database " + garbage + ": "},
		{"missing asn", Options{ASN: missing}, "asn", "report: ASN database " + missing + ": "},
		{"bad providers", Options{Providers: badProv}, "providers", badProv + `:3: "no equals sign"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := iotest.ErrReader(errors.New("input must not be read"))
			_, err := Build(in, "in", &tt.opts)
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Option != tt.option {
				t.Fatalf("Build = %v, want an *OptionError for %s", err, tt.option)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
	if _, err := Build(strings.NewReader(""), "in", &Options{Country: missing}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing database: %v does not unwrap to fs.ErrNotExist", err)
	}
}

// TestLookupErrors: a database whose records do not have the expected
// shape makes lookups fail; they count as unknown and the notes say so.
func TestLookupErrors(t *testing.T) {
	dir := t.TempDir()
	tree := newTree(t, "Odd-Country")
	insert(t, tree, "198.18.0.0/16", stringRecord("country", "not a map"))
	path := writeTree(t, tree, filepath.Join(dir, "odd.mmdb"))
	in := `{"ip":"198.18.0.1","port":25,"protocol":"smtp","status":"success"}` + "\n" +
		`{"ip":"198.18.0.2","port":25,"protocol":"smtp","status":"success"}` + "\n"
	rep, err := Build(strings.NewReader(in), "in", &Options{Country: path})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rawRows(rep.Table("countries")), [][]string{{"unknown", "", "2", "2", "2"}, {"=", "total", "", "2", "2", "2"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("countries %q, want %q", got, want)
	}
	found := false
	for _, n := range rep.Notes {
		found = found || strings.HasPrefix(n, "2 country lookups failed and count as unknown")
	}
	if !found {
		t.Errorf("notes %q lack the failed lookups", rep.Notes)
	}
}

// TestUserProviders: a user's rule goes before the built-in ones.
func TestUserProviders(t *testing.T) {
	opts := fixtureOptions(t)
	opts.Providers = filepath.Join(t.TempDir(), "providers.txt")
	file := "# my mapping\n\nexample hosting = ExampleCloud\nAS24940 = Hetzner Cloud\n"
	if err := os.WriteFile(opts.Providers, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := buildFile(t, "results.jsonl", opts)
	want := [][]string{
		{"Hetzner Cloud", "3", "3", "1", "2", "0", "2", "1", "0", "9"},
		{"OVHcloud", "2", "0", "1", "0", "1", "1", "0", "0", "3"},
		{"DigitalOcean", "2", "1", "0", "0", "0", "0", "0", "1", "2"},
		{"ExampleCloud", "2", "0", "0", "0", "0", "1", "1", "0", "2"},
		{"Amazon", "1", "0", "0", "1", "0", "0", "0", "0", "1"},
		{"unknown", "1", "1", "0", "0", "0", "0", "0", "0", "1"},
		{"=", "total", "11", "5", "2", "3", "1", "4", "2", "1", "18"},
	}
	if got := rawRows(rep.Table("providers")); !reflect.DeepEqual(got, want) {
		t.Errorf("providers:\n got %q\nwant %q", got, want)
	}
}

func TestCommas(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {4045472, "4,045,472"}, {-1234567, "-1,234,567"},
		{123456789012, "123,456,789,012"},
	}
	for _, tt := range tests {
		if got := commas(tt.n); got != tt.want {
			t.Errorf("commas(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestThousands: big counts get separators for people and stay raw for
// machines.
func TestThousands(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 1234; i++ {
		fmt.Fprintf(&b, `{"ip":"198.18.%d.%d","port":143,"protocol":"imap","status":"success","greeting":"* OK"}`+"\n", i>>8, i&0xff)
	}
	rep, err := Build(strings.NewReader(b.String()), "in", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format Format
		want   string
	}{
		{FormatText, "imap       143     1,234   100.0%"},
		{FormatMarkdown, "| imap | 143 | 1,234 | 100.0% |"},
		{FormatCSV, "ports,imap,143,1234,100"},
		{FormatJSON, `"services": 1234,`},
		{FormatHTML, `<td class="num">1,234</td>`},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := rep.Write(&out, tt.format); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%v lacks %q:\n%s", tt.format, tt.want, out.String())
		}
	}
}

// repeatReader yields line n times without holding n lines in memory.
type repeatReader struct {
	line []byte
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	c := copy(p, r.line[r.off:])
	r.off += c
	if r.off == len(r.line) {
		r.off, r.n = 0, r.n-1
	}
	return c, nil
}

// TestMemoryBoundedByTargets: repeated records of one target leave one
// host and no more names behind, however many there are.
func TestMemoryBoundedByTargets(t *testing.T) {
	line := []byte(`{"ip":"198.18.0.1","port":993,"protocol":"imaps","status":"success","greeting":"* OK",` +
		`"tls":{"version":"TLSv1.3\u0007"},"fingerprint":{"family":"Dovecot","version":"2.3"}}` + "\n")
	a := newAgg()
	if err := pass([]Input{ReaderInput(&repeatReader{line: line, n: 50000}, "in")}, func(b *batch) {
		for i := range b.recs {
			a.add(&b.recs[i])
		}
	}); err != nil {
		t.Fatal(err)
	}
	if a.records != 50000 || a.dups != 49999 || a.hosts.n != 1 {
		t.Errorf("records %d dups %d hosts %d", a.records, a.dups, a.hosts.n)
	}
	// "", "TLSv1.3\ufffd", "Dovecot", "2.3"
	if len(a.names) != 4 || len(a.ids) != 4 {
		t.Errorf("names %q, %d ids", a.names, len(a.ids))
	}
}
