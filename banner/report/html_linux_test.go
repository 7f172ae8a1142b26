package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailscan/scripts/lab/labtest"
)

const chromiumPath = "/usr/bin/chromium"

// runChromium runs headless Chromium on url inside a fresh network
// namespace (unshare --net: only a loopback that is down, so the page
// cannot reach anything even if it tried) and returns its standard output.
func runChromium(t *testing.T, profile, url string, extra ...string) []byte {
	t.Helper()
	args := append([]string{"--net", "--", chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile}, extra...)
	args = append(args, url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", args...)
	// Chromium starts helpers; a group of its own lets the timeout end
	// them all, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), "HOME="+profile, "DBUS_SESSION_BUS_ADDRESS=disabled:")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, lastLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// measureScript runs in the page after it is laid out: it records, per
// section, the widths of the chart bars the browser actually drew, and the
// text of every table cell, into a <pre id="measure"> that --dump-dom
// prints.
const measureScript = `<script>
(function () {
  var out = {title: document.title, bars: {}, groups: {}, cells: {}};
  document.querySelectorAll("section").forEach(function (s) {
    var w = [], g = [];
    s.querySelectorAll("svg rect.bar").forEach(function (r) {
      var bb = r.getBBox();
      if (bb.width > 0 && bb.height > 0) w.push(bb.width);
    });
    s.querySelectorAll("svg rect.gbar").forEach(function (r) {
      g.push(r.getBBox().width);
    });
    if (w.length) out.bars[s.id] = w;
    if (g.length) out.groups[s.id] = g;
  });
  document.querySelectorAll("table").forEach(function (t) {
    var rows = [];
    t.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
      var r = [];
      for (var i = 0; i < tr.cells.length; i++) r.push(tr.cells[i].textContent);
      rows.push(r);
    });
    out.cells[t.id] = rows;
  });
  out.changes = {};
  ["up", "down", "same"].forEach(function (c) {
    var tds = document.querySelectorAll("td." + c);
    if (tds.length) out.changes[c] = {n: tds.length, bg: getComputedStyle(tds[0]).backgroundColor, fg: getComputedStyle(tds[0]).color};
  });
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
`

// TestIntegrationHTMLInChromium renders the fixture's page in a real
// browser: a screenshot must show the charts, and the DOM as laid out must
// hold the right bars and numbers.
func TestIntegrationHTMLInChromium(t *testing.T) {
	if os.Geteuid() != 0 {
		labtest.SkipOrFail(t, "needs root for unshare --net (a network namespace with no way out)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		labtest.SkipOrFail(t, "%s: %v (apt-get install chromium)", chromiumPath, err)
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		labtest.SkipOrFail(t, "unshare: %v", err)
	}
	rep := buildFile(t, "results.jsonl", fixtureOptions(t))
	var page bytes.Buffer
	if err := rep.Write(&page, FormatHTML); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pagePath := filepath.Join(dir, "report.html")
	if err := os.WriteFile(pagePath, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		runChromium(t, filepath.Join(dir, "profile-shot"), "file://"+pagePath,
			"--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
			t.Errorf("screenshot is %v, want 1280x2000", b)
		}
		// The bars are #3b6ea5; the first screen holds the ports chart
		// (seven bars, 16 px high, 88 to 440 px long), so tens of
		// thousands of pixels of that colour.
		bar := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r>>8 == 0x3b && g>>8 == 0x6e && bl>>8 == 0xa5 {
					bar++
				}
			}
		}
		if want := 7 * 16 * 88; bar < want {
			t.Errorf("screenshot has %d bar-coloured pixels, want at least %d", bar, want)
		}
		if dst := os.Getenv("MAILSCAN_REPORT_SCREENSHOT_PLAIN"); dst != "" {
			if err := copyFile(shot, dst); err != nil {
				t.Error(err)
			} else {
				t.Logf("screenshot kept at %s", dst)
			}
		}
	})

	t.Run("dom", func(t *testing.T) {
		measured := strings.Replace(page.String(), "</body>", measureScript+"</body>", 1)
		mPath := filepath.Join(dir, "measure.html")
		if err := os.WriteFile(mPath, []byte(measured), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := string(runChromium(t, filepath.Join(dir, "profile-dom"), "file://"+mPath, "--dump-dom"))
		start := strings.Index(dom, `<pre id="measure">`)
		end := strings.Index(dom[max(start, 0):], "</pre>")
		if start < 0 || end < 0 {
			t.Fatalf("no measurements in the DOM:\n%s", lastLines(dom, 10))
		}
		var m struct {
			Title  string
			Bars   map[string][]float64
			Groups map[string][]float64
			Cells  map[string][][]string
		}
		js := html.UnescapeString(dom[start+len(`<pre id="measure">`) : start+end])
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatalf("measurements %q: %v", js, err)
		}
		if m.Title != "mailscan report: results.jsonl" {
			t.Errorf("title %q", m.Title)
		}
		// Bars drawn per chart, and their lengths in proportion to the
		// counts: the longest is chartBarMax.
		wantBars := map[string][]int64{
			"ports":        {5, 4, 3, 2, 2, 1, 1},
			"tls_versions": {5, 5, 2},
			"families":     {6, 3, 3, 2, 2, 1, 1},
		}
		if len(m.Bars) != len(wantBars) {
			t.Errorf("charts drawn: %v, want %d", keys(m.Bars), len(wantBars))
		}
		for id, counts := range wantBars {
			got := m.Bars[id]
			if len(got) != len(counts) {
				t.Errorf("chart %s: %d bars drawn, want %d", id, len(got), len(counts))
				continue
			}
			for i, n := range counts {
				want := chartBarMax * float64(n) / float64(counts[0])
				if math.Abs(got[i]-want) > 0.5 {
					t.Errorf("chart %s bar %d: %.2f px wide, want %.2f", id, i, got[i], want)
				}
			}
		}
		// Grouped charts: per row, one bar per port (imap 143, imaps 993,
		// pop3 110, pop3s 995, smtp 25, submission 587, smtps 465), all on
		// one scale whose longest bar is the largest cell (3).
		wantGroups := map[string][]int64{
			"countries": {3, 1, 2, 0, 2, 1, 0 /* DE */, 1, 1, 0, 1, 1, 0, 1 /* US */, 0, 0, 0, 0, 1, 1, 0 /* FR */, 0, 0, 1, 0, 0, 0, 0 /* NL */, 1, 0, 0, 0, 0, 0, 0},
			"providers": {3, 1, 2, 0, 2, 1, 0 /* Hetzner */, 0, 1, 0, 1, 1, 0, 0 /* OVH */, 1, 0, 0, 0, 0, 0, 1 /* DO */, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0 /* Amazon */, 1, 0, 0, 0, 0, 0, 0},
		}
		if len(m.Groups) != len(wantGroups) {
			t.Errorf("grouped charts drawn: %v, want %d", keys(m.Groups), len(wantGroups))
		}
		for id, counts := range wantGroups {
			got := m.Groups[id]
			if len(got) != len(counts) {
				t.Errorf("grouped chart %s: %d bars, want %d", id, len(got), len(counts))
				continue
			}
			for i, n := range counts {
				if want := chartBarMax * float64(n) / 3; math.Abs(got[i]-want) > 0.5 {
					t.Errorf("grouped chart %s bar %d: %.2f px wide, want %.2f", id, i, got[i], want)
				}
			}
		}
		wantCells := map[string][][]string{
			"t-ports": {
				{"imap", "143", "5", "45.5%"}, {"smtp", "25", "4", "36.4%"}, {"pop3", "110", "3", "27.3%"},
				{"submission", "587", "2", "18.2%"}, {"imaps", "993", "2", "18.2%"}, {"smtps", "465", "1", "9.1%"},
				{"pop3s", "995", "1", "9.1%"}, {"total", "", "18", ""},
			},
			"t-families": {
				{"Dovecot", "6", "1", "2", "2", "1", "0", "0", "0", "33.3%"}, {"Microsoft Exchange", "3", "1", "0", "0", "0", "1", "1", "0", "16.7%"},
				{"Postfix", "3", "0", "0", "0", "0", "2", "1", "0", "16.7%"}, {"Courier", "2", "1", "0", "1", "0", "0", "0", "0", "11.1%"},
				{"unknown", "2", "1", "0", "0", "0", "1", "0", "0", "11.1%"}, {"Cyrus", "1", "1", "0", "0", "0", "0", "0", "0", "5.6%"},
				{"Exim", "1", "0", "0", "0", "0", "0", "0", "1", "5.6%"}, {"total", "18", "5", "2", "3", "1", "4", "2", "1", "100.0%"},
			},
			"t-cleartext_login": {
				{"imap", "5", "2", "2", "1", "40.0%"}, {"smtp", "4", "1", "2", "1", "25.0%"},
				{"pop3", "3", "2", "1", "0", "66.7%"}, {"imaps", "2", "0", "2", "0", "0.0%"},
				{"submission", "2", "1", "1", "0", "50.0%"}, {"pop3s", "1", "0", "1", "0", "0.0%"},
				{"smtps", "1", "0", "0", "1", "0.0%"}, {"total", "18", "6", "9", "3", "33.3%"},
			},
			"t-certificates": {
				{"neither", "6", "46.2%"}, {"self-signed, not expired", "4", "30.8%"},
				{"expired and self-signed", "2", "15.4%"}, {"expired, not self-signed", "1", "7.7%"}, {"total", "13", "100.0%"},
			},
			"t-countries": {
				{"Germany", "DE", "3", "3", "1", "2", "0", "2", "1", "0", "9"}, {"United States", "US", "4", "1", "1", "0", "1", "1", "0", "1", "5"},
				{"France", "FR", "2", "0", "0", "0", "0", "1", "1", "0", "2"}, {"Netherlands", "NL", "1", "0", "0", "1", "0", "0", "0", "0", "1"},
				{"unknown", "", "1", "1", "0", "0", "0", "0", "0", "0", "1"}, {"total", "", "11", "5", "2", "3", "1", "4", "2", "1", "18"},
			},
			"t-login_providers": {
				{"Hetzner", "3", "3", "5", "100.0%"}, {"OVHcloud", "2", "1", "1", "50.0%"}, {"Amazon", "1", "0", "0", "0.0%"},
				{"DigitalOcean", "2", "0", "0", "0.0%"}, {"Example Hosting Ltd", "2", "0", "0", "0.0%"}, {"unknown", "1", "0", "0", "0.0%"},
				{"total", "11", "4", "6", "36.4%"},
			},
		}
		for id, want := range wantCells {
			if got := m.Cells[id]; !reflect.DeepEqual(got, want) {
				t.Errorf("table %s:\n got %q\nwant %q", id, got, want)
			}
		}
		if got := m.Cells["t-summary"]; len(got) != 12 || !reflect.DeepEqual(got[9], []string{"services (success or a greeting)", "18"}) ||
			!reflect.DeepEqual(got[10], []string{"hosts (distinct ips with a service)", "11"}) {
			t.Errorf("summary table %q", got)
		}
	})
}

// TestIntegrationHTMLBaselineInChromium renders a report compared with a
// baseline: the change cells must be coloured (green up, red down) as the
// browser computes them, and the grouped charts drawn. With
// MAILSCAN_REPORT_SCREENSHOT set, a tall screenshot of this page is kept
// there.
func TestIntegrationHTMLBaselineInChromium(t *testing.T) {
	if os.Geteuid() != 0 {
		labtest.SkipOrFail(t, "needs root for unshare --net (a network namespace with no way out)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		labtest.SkipOrFail(t, "%s: %v (apt-get install chromium)", chromiumPath, err)
	}
	dir := t.TempDir()
	// The baseline lacks D:993 and has one more IMAP host: imaps goes up,
	// imap down.
	fixture, err := os.ReadFile(filepath.Join("testdata", "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, l := range strings.Split(string(fixture), "\n") {
		if !strings.Contains(l, `"ip":"198.18.1.4","port":993`) {
			old = append(old, l)
		}
	}
	old = append(old, `{"ip":"198.18.1.14","port":143,"protocol":"imap","status":"success","greeting":"* OK","fingerprint":{"family":"Dovecot"}}`)
	base := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(base, []byte(strings.Join(old, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := fixtureOptions(t)
	opts.Baseline = base
	rep := buildFile(t, "results.jsonl", opts)
	var page bytes.Buffer
	if err := rep.Write(&page, FormatHTML); err != nil {
		t.Fatal(err)
	}
	measured := strings.Replace(page.String(), "</body>", measureScript+"</body>", 1)
	mPath := filepath.Join(dir, "measure.html")
	if err := os.WriteFile(mPath, []byte(measured), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(runChromium(t, filepath.Join(dir, "profile-dom"), "file://"+mPath, "--dump-dom"))
	start := strings.Index(dom, `<pre id="measure">`)
	end := strings.Index(dom[max(start, 0):], "</pre>")
	if start < 0 || end < 0 {
		t.Fatalf("no measurements in the DOM:\n%s", lastLines(dom, 10))
	}
	var m struct {
		Groups  map[string][]float64
		Cells   map[string][][]string
		Changes map[string]struct {
			N      int
			BG, FG string
		}
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(dom[start+len(`<pre id="measure">`):start+end])), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"up": "rgb(230, 244, 234)", "down": "rgb(252, 232, 232)"}
	for c, bg := range want {
		if got := m.Changes[c]; got.N == 0 || got.BG != bg {
			t.Errorf("change cells %s: %+v, want background %s", c, got, bg)
		}
	}
	if m.Changes["same"].N < 50 {
		t.Errorf("only %d unchanged cells", m.Changes["same"].N)
	}
	if len(m.Groups["countries"]) != 35 || len(m.Groups["providers"]) != 42 {
		t.Errorf("grouped bars: countries %d, providers %d", len(m.Groups["countries"]), len(m.Groups["providers"]))
	}
	// The ports table: imap 143 now 5, before 6; imaps 993 now 2, before 1.
	wantPorts := [][]string{{"imap", "143", "5", "6", "-1 (-16.7%)", "45.5%", "50.0%", "-4.6 pp"}}
	if got := m.Cells["t-ports"]; len(got) == 0 || !reflect.DeepEqual(got[:1], wantPorts) {
		t.Errorf("ports rows %q, want first %q", got, wantPorts)
	}
	pagePath := filepath.Join(dir, "report.html")
	if err := os.WriteFile(pagePath, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if dst := os.Getenv("MAILSCAN_REPORT_SCREENSHOT"); dst != "" {
		shot := filepath.Join(dir, "report.png")
		runChromium(t, filepath.Join(dir, "profile-shot"), "file://"+pagePath,
			"--screenshot="+shot, "--window-size=1400,9000", "--hide-scrollbars")
		if err := copyFile(shot, dst); err != nil {
			t.Error(err)
		}
		t.Logf("screenshot kept at %s", dst)
	}
}

func keys(m map[string][]float64) []string {
	var k []string
	for id := range m {
		k = append(k, id)
	}
	return k
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
