package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format is an output format of Report.Write. Its zero value is invalid.
type Format int

// The formats.
const (
	_ Format = iota
	// FormatText is aligned plain-text tables, for a terminal.
	FormatText
	// FormatMarkdown is GitHub-flavoured Markdown tables.
	FormatMarkdown
	// FormatCSV is one CSV stream: each table is a block whose first column
	// names the table, headed by a record of column keys; blocks are
	// separated by an empty line.
	FormatCSV
	// FormatJSON is one JSON object: source, summary, notes and tables,
	// each row an object keyed by column.
	FormatJSON
	// FormatHTML is one self-contained page (inline CSS and SVG, no script,
	// no external resource) with the tables and bar charts.
	FormatHTML
)

var formatNames = [...]string{FormatText: "text", FormatMarkdown: "markdown", FormatCSV: "csv", FormatJSON: "json", FormatHTML: "html"}

// String returns the name ParseFormat accepts for f.
func (f Format) String() string {
	if f > 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat returns the Format named s: text, markdown (or md), csv,
// json or html, in any case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "text", "txt":
		return FormatText, nil
	case "markdown", "md":
		return FormatMarkdown, nil
	case "csv":
		return FormatCSV, nil
	case "json":
		return FormatJSON, nil
	case "html":
		return FormatHTML, nil
	}
	return 0, fmt.Errorf("report: unknown format %q (want text, markdown, csv, json or html)", s)
}

// Write writes the report to w in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	bw := bufio.NewWriter(w)
	var err error
	switch f {
	case FormatText:
		r.writeText(bw)
	case FormatMarkdown:
		r.writeMarkdown(bw)
	case FormatCSV:
		err = r.writeCSV(bw)
	case FormatJSON:
		err = r.writeJSON(bw)
	case FormatHTML:
		err = r.writeHTML(bw)
	default:
		return fmt.Errorf("report: invalid format %v", f)
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", f, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write %s: %w", f, err)
	}
	return nil
}

// display formats a cell for a human: thousands separators, a one-decimal
// percentage.
func display(c Column, v Cell) string {
	switch c.Kind {
	case Text, Int:
		return v.S
	case Count:
		return commas(v.N)
	case Percent:
		if p, ok := v.Percent(); ok {
			return strconv.FormatFloat(p, 'f', 1, 64) + "%"
		}
	}
	return ""
}

// raw formats a cell for a machine: plain digits, a percentage rounded to
// two decimals, "" for an empty cell.
func raw(c Column, v Cell) string {
	switch c.Kind {
	case Text, Int:
		return v.S
	case Count:
		return itoa(v.N)
	case Percent:
		if p, ok := v.Percent(); ok {
			return strconv.FormatFloat(math.Round(p*100)/100, 'f', -1, 64)
		}
	}
	return ""
}

// vcol is a column as a format shows it: a table's column, or, with a
// baseline, the earlier value or the change beside it. Some columns are
// for people only (a change as "+12 (+3.4%)"), some for machines only (the
// change and the change in percent as two numbers).
type vcol struct {
	key, title string
	kind       string // text, int, count, percent, change
	human      bool
	machine    bool
}

// vcell is a cell as a format shows it.
type vcell struct {
	human string
	raw   string // for CSV and JSON; "" is null in JSON
	num   bool   // raw is a number in JSON
	class string // HTML class of a change: up, down or same
}

// tview is a table laid out for writing.
type tview struct {
	t     *Table
	cols  []vcol
	rows  [][]vcell
	total []vcell
}

var kindNames = map[Kind]string{Text: "text", Int: "int", Count: "count", Percent: "percent"}

// round2 rounds a percentage as CSV and JSON write it.
func round2(p float64) float64 { return math.Round(p*100) / 100 }

func view(t *Table) *tview {
	v := &tview{t: t}
	for _, c := range t.Columns {
		v.cols = append(v.cols, vcol{key: c.Key, title: c.Title, kind: kindNames[c.Kind], human: true, machine: true})
		if !t.Baseline || (c.Kind != Count && c.Kind != Percent) {
			continue
		}
		v.cols = append(v.cols,
			vcol{key: c.Key + "_before", title: c.Title + " before", kind: kindNames[c.Kind], human: true, machine: true},
			vcol{key: c.Key + "_change", title: c.Title + " change", kind: "change", human: true})
		if c.Kind == Count {
			v.cols = append(v.cols,
				vcol{key: c.Key + "_change", kind: "count", machine: true},
				vcol{key: c.Key + "_change_pct", kind: "percent", machine: true})
		} else {
			v.cols = append(v.cols, vcol{key: c.Key + "_change", kind: "percent", machine: true})
		}
	}
	cells := func(row []Cell) []vcell {
		var out []vcell
		for i, c := range t.Columns {
			x := row[i]
			out = append(out, vcell{human: display(c, x), raw: raw(c, x), num: c.Kind != Text})
			if !t.Baseline || (c.Kind != Count && c.Kind != Percent) {
				continue
			}
			if c.Kind == Count {
				if !x.WasOK {
					out = append(out, vcell{num: true}, vcell{}, vcell{num: true}, vcell{num: true})
					continue
				}
				d := float64(x.N) - x.Was
				chPct := ""
				if x.Was != 0 {
					chPct = strconv.FormatFloat(round2(100*d/x.Was), 'f', -1, 64)
				}
				out = append(out,
					vcell{human: commas(int64(x.Was)), raw: itoa(int64(x.Was)), num: true},
					vcell{human: delta(x.N, x.Was), class: changeClass(d)},
					vcell{raw: itoa(int64(d)), num: true},
					vcell{raw: chPct, num: true})
				continue
			}
			now, ok := x.Percent()
			if !x.WasOK || !ok {
				before := vcell{num: true}
				if x.WasOK {
					before = vcell{human: strconv.FormatFloat(x.Was, 'f', 1, 64) + "%", raw: strconv.FormatFloat(x.Was, 'f', -1, 64), num: true}
				}
				out = append(out, before, vcell{}, vcell{num: true})
				continue
			}
			d := round2(round2(now) - x.Was)
			out = append(out,
				vcell{human: strconv.FormatFloat(x.Was, 'f', 1, 64) + "%", raw: strconv.FormatFloat(x.Was, 'f', -1, 64), num: true},
				vcell{human: signedFloat(d, 1) + " pp", class: changeClass(d)},
				vcell{raw: strconv.FormatFloat(d, 'f', -1, 64), num: true})
		}
		return out
	}
	for _, r := range t.Rows {
		v.rows = append(v.rows, cells(r))
	}
	if t.Total != nil {
		v.total = cells(t.Total)
	}
	return v
}

func changeClass(d float64) string {
	switch {
	case d > 0:
		return "up"
	case d < 0:
		return "down"
	}
	return "same"
}

// pick returns the columns (and their indexes) a format shows.
func (v *tview) pick(human bool) ([]vcol, []int) {
	var cols []vcol
	var idx []int
	for i, c := range v.cols {
		if (human && c.human) || (!human && c.machine) {
			cols = append(cols, c)
			idx = append(idx, i)
		}
	}
	return cols, idx
}

// rightAligned reports whether a column holds numbers.
func (c vcol) rightAligned() bool { return c.kind != "text" }

// writeHeadlines writes the study's sentences as a list.
func (r *Report) headlineText() []string {
	out := append([]string(nil), r.Headlines...)
	if r.Baseline != "" {
		out = append(out, "Compared with "+cleanName(baseName(r.Baseline))+": beside every number, the earlier one and the change.")
	}
	return out
}

// writeText writes aligned plain-text tables.
func (r *Report) writeText(w *bufio.Writer) {
	fmt.Fprintf(w, "mailscan report: %s\n", cleanName(r.Source))
	for _, h := range r.headlineText() {
		wrap(w, "  ", h)
	}
	for _, n := range r.Notes {
		wrap(w, "* ", n)
	}
	for _, t := range r.Tables {
		v := view(t)
		cols, idx := v.pick(true)
		fmt.Fprintf(w, "\n%s\n", t.Title)
		wrap(w, "", t.Note)
		w.WriteByte('\n')
		pickRow := func(row []vcell) []string {
			out := make([]string, len(idx))
			for j, i := range idx {
				out[j] = row[i].human
			}
			return out
		}
		cells := make([][]string, 0, len(v.rows)+2)
		head := make([]string, len(cols))
		for i, c := range cols {
			head[i] = c.title
		}
		cells = append(cells, head)
		for _, row := range v.rows {
			cells = append(cells, pickRow(row))
		}
		if v.total != nil {
			cells = append(cells, pickRow(v.total))
		}
		width := make([]int, len(cols))
		for _, row := range cells {
			for i, s := range row {
				width[i] = max(width[i], utf8.RuneCountInString(s))
			}
		}
		line := func(row []string) {
			var b strings.Builder
			for i, s := range row {
				pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
				if i > 0 {
					b.WriteString("  ")
				}
				if cols[i].rightAligned() {
					b.WriteString(pad + s)
				} else {
					b.WriteString(s + pad)
				}
			}
			w.WriteString(strings.TrimRight(b.String(), " ") + "\n")
		}
		rule := make([]string, len(width))
		for i, n := range width {
			rule[i] = strings.Repeat("-", n)
		}
		line(head)
		line(rule)
		for _, row := range cells[1 : 1+len(v.rows)] {
			line(row)
		}
		if len(v.rows) == 0 {
			w.WriteString("(none)\n")
			continue
		}
		if v.total != nil {
			line(rule)
			line(cells[len(cells)-1])
		}
	}
}

// wrap writes s in lines of at most 78 columns, the first prefixed with
// prefix and the others indented to match.
func wrap(w *bufio.Writer, prefix, s string) {
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix))
	n := 0
	w.WriteString(prefix)
	n = len(indent)
	first := true
	for _, word := range strings.Fields(s) {
		l := utf8.RuneCountInString(word)
		if !first && n+1+l > 78 {
			w.WriteString("\n" + indent)
			n = len(indent)
			first = true
		}
		if !first {
			w.WriteByte(' ')
			n++
		}
		w.WriteString(word)
		n += l
		first = false
	}
	w.WriteByte('\n')
}

// mdEscaper escapes what Markdown would read as markup in a table cell:
// the cell separator, emphasis, code, links and inline HTML.
var mdEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, `*`, `\*`, `_`, `\_`, "`", "\\`",
	`[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`, `~`, `\~`, `#`, `\#`)

// writeMarkdown writes GitHub-flavoured Markdown.
func (r *Report) writeMarkdown(w *bufio.Writer) {
	fmt.Fprintf(w, "# mailscan report: %s\n", mdEscaper.Replace(cleanName(r.Source)))
	if h := r.headlineText(); len(h) > 0 {
		w.WriteByte('\n')
		for _, s := range h {
			fmt.Fprintf(w, "**%s**\n", mdEscaper.Replace(s))
		}
	}
	if len(r.Notes) > 0 {
		w.WriteByte('\n')
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", mdEscaper.Replace(n))
		}
	}
	for _, t := range r.Tables {
		v := view(t)
		cols, idx := v.pick(true)
		fmt.Fprintf(w, "\n## %s\n\n%s\n\n", t.Title, mdEscaper.Replace(t.Note))
		var head, align strings.Builder
		for _, c := range cols {
			head.WriteString("| " + mdEscaper.Replace(c.title) + " ")
			if c.rightAligned() {
				align.WriteString("| ---: ")
			} else {
				align.WriteString("| :--- ")
			}
		}
		w.WriteString(head.String() + "|\n" + align.String() + "|\n")
		row := func(cells []vcell, bold bool) {
			for _, i := range idx {
				s := mdEscaper.Replace(cells[i].human)
				if bold && s != "" {
					s = "**" + s + "**"
				}
				w.WriteString("| " + s + " ")
			}
			w.WriteString("|\n")
		}
		for _, cells := range v.rows {
			row(cells, false)
		}
		if v.total != nil {
			row(v.total, true)
		}
	}
}

// csvSafe defuses a text cell that a spreadsheet would evaluate as a
// formula (OWASP's CSV injection advice): a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeCSV writes one block per table.
func (r *Report) writeCSV(w *bufio.Writer) error {
	cw := csv.NewWriter(w)
	for i, t := range r.Tables {
		v := view(t)
		cols, idx := v.pick(false)
		if i > 0 {
			if err := cw.Write(nil); err != nil {
				return err
			}
		}
		head := []string{"table"}
		for _, c := range cols {
			head = append(head, c.key)
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		rec := func(cells []vcell) error {
			out := []string{t.ID}
			for j, i := range idx {
				s := cells[i].raw
				if cols[j].kind == "text" {
					s = csvSafe(s)
				}
				out = append(out, s)
			}
			return cw.Write(out)
		}
		for _, cells := range v.rows {
			if err := rec(cells); err != nil {
				return err
			}
		}
		if v.total != nil {
			if err := rec(v.total); err != nil {
				return err
			}
		}
	}
	if h := r.headlineText(); len(h) > 0 {
		cw.Write(nil)
		cw.Write([]string{"table", "headline"})
		for _, s := range h {
			cw.Write([]string{"headlines", csvSafe(s)})
		}
	}
	if len(r.Notes) > 0 {
		cw.Write(nil)
		cw.Write([]string{"table", "note"})
		for _, n := range r.Notes {
			cw.Write([]string{"notes", csvSafe(n)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON writes one indented JSON object. Rows are objects whose keys
// keep the column order, so they are assembled by hand.
func (r *Report) writeJSON(w *bufio.Writer) error {
	var b bytes.Buffer
	str := func(s string) {
		v, _ := json.Marshal(s) // a string cannot fail to marshal
		b.Write(v)
	}
	sum, err := json.Marshal(r.Summary)
	if err != nil {
		return err
	}
	b.WriteString(`{"source":`)
	str(r.Source)
	if r.Baseline != "" {
		b.WriteString(`,"baseline":`)
		str(r.Baseline)
	}
	b.WriteString(`,"summary":`)
	b.Write(sum)
	b.WriteString(`,"headlines":[`)
	for i, h := range r.Headlines {
		if i > 0 {
			b.WriteByte(',')
		}
		str(h)
	}
	b.WriteString(`],"notes":[`)
	for i, n := range r.Notes {
		if i > 0 {
			b.WriteByte(',')
		}
		str(n)
	}
	b.WriteString(`],"tables":[`)
	for ti, t := range r.Tables {
		v := view(t)
		cols, idx := v.pick(false)
		if ti > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		str(t.ID)
		b.WriteString(`,"title":`)
		str(t.Title)
		b.WriteString(`,"note":`)
		str(t.Note)
		b.WriteString(`,"columns":[`)
		for i, c := range cols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"key":`)
			str(c.key)
			b.WriteString(`,"title":`)
			str(c.title)
			b.WriteString(`,"kind":`)
			str(c.kind)
			b.WriteString(`}`)
		}
		b.WriteString(`],"rows":[`)
		obj := func(cells []vcell) {
			b.WriteByte('{')
			for j, i := range idx {
				if j > 0 {
					b.WriteByte(',')
				}
				str(cols[j].key)
				b.WriteByte(':')
				c := cells[i]
				switch {
				case !c.num:
					str(c.raw)
				case c.raw == "":
					b.WriteString("null")
				default:
					b.WriteString(c.raw)
				}
			}
			b.WriteByte('}')
		}
		for i, cells := range v.rows {
			if i > 0 {
				b.WriteByte(',')
			}
			obj(cells)
		}
		b.WriteString(`],"total":`)
		if v.total != nil {
			obj(v.total)
		} else {
			b.WriteString("null")
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}
