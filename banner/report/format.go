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

// rightAligned reports whether a column holds numbers.
func rightAligned(c Column) bool { return c.Kind != Text }

// writeText writes aligned plain-text tables.
func (r *Report) writeText(w *bufio.Writer) {
	fmt.Fprintf(w, "mailscan report: %s\n", cleanName(r.Source))
	for _, n := range r.Notes {
		wrap(w, "* ", n)
	}
	for _, t := range r.Tables {
		fmt.Fprintf(w, "\n%s\n", t.Title)
		wrap(w, "", t.Note)
		w.WriteByte('\n')
		cells := make([][]string, 0, len(t.Rows)+2)
		head := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			head[i] = c.Title
		}
		cells = append(cells, head)
		for _, row := range t.Rows {
			cells = append(cells, displayRow(t.Columns, row))
		}
		if t.Total != nil {
			cells = append(cells, displayRow(t.Columns, t.Total))
		}
		width := make([]int, len(t.Columns))
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
				if rightAligned(t.Columns[i]) {
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
		for _, row := range cells[1 : 1+len(t.Rows)] {
			line(row)
		}
		if len(t.Rows) == 0 {
			w.WriteString("(none)\n")
			continue
		}
		if t.Total != nil {
			line(rule)
			line(cells[len(cells)-1])
		}
	}
}

func displayRow(cols []Column, row []Cell) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = display(c, row[i])
	}
	return out
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
	if len(r.Notes) > 0 {
		w.WriteByte('\n')
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", mdEscaper.Replace(n))
		}
	}
	for _, t := range r.Tables {
		fmt.Fprintf(w, "\n## %s\n\n%s\n\n", t.Title, mdEscaper.Replace(t.Note))
		var head, align strings.Builder
		for _, c := range t.Columns {
			head.WriteString("| " + mdEscaper.Replace(c.Title) + " ")
			if rightAligned(c) {
				align.WriteString("| ---: ")
			} else {
				align.WriteString("| :--- ")
			}
		}
		w.WriteString(head.String() + "|\n" + align.String() + "|\n")
		row := func(cells []Cell, bold bool) {
			for i, c := range t.Columns {
				s := mdEscaper.Replace(display(c, cells[i]))
				if bold && s != "" {
					s = "**" + s + "**"
				}
				w.WriteString("| " + s + " ")
			}
			w.WriteString("|\n")
		}
		for _, cells := range t.Rows {
			row(cells, false)
		}
		if t.Total != nil {
			row(t.Total, true)
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
	rec := func(table string, cols []Column, cells []Cell) error {
		out := []string{table}
		for i, c := range cols {
			v := raw(c, cells[i])
			if c.Kind == Text {
				v = csvSafe(v)
			}
			out = append(out, v)
		}
		return cw.Write(out)
	}
	for i, t := range r.Tables {
		if i > 0 {
			if err := cw.Write(nil); err != nil {
				return err
			}
		}
		head := []string{"table"}
		for _, c := range t.Columns {
			head = append(head, c.Key)
		}
		if err := cw.Write(head); err != nil {
			return err
		}
		for _, cells := range t.Rows {
			if err := rec(t.ID, t.Columns, cells); err != nil {
				return err
			}
		}
		if t.Total != nil {
			if err := rec(t.ID, t.Columns, t.Total); err != nil {
				return err
			}
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
	b.WriteString(`,"summary":`)
	b.Write(sum)
	b.WriteString(`,"notes":[`)
	for i, n := range r.Notes {
		if i > 0 {
			b.WriteByte(',')
		}
		str(n)
	}
	b.WriteString(`],"tables":[`)
	first := true
	for _, t := range r.Tables {
		if t.ID == "summary" {
			continue // the summary object above says it with keys
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`{"id":`)
		str(t.ID)
		b.WriteString(`,"title":`)
		str(t.Title)
		b.WriteString(`,"note":`)
		str(t.Note)
		b.WriteString(`,"columns":[`)
		for i, c := range t.Columns {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"key":`)
			str(c.Key)
			b.WriteString(`,"title":`)
			str(c.Title)
			b.WriteString(`}`)
		}
		b.WriteString(`],"rows":[`)
		obj := func(cells []Cell) {
			b.WriteByte('{')
			for i, c := range t.Columns {
				if i > 0 {
					b.WriteByte(',')
				}
				str(c.Key)
				b.WriteByte(':')
				v := raw(c, cells[i])
				switch {
				case c.Kind == Text:
					str(v)
				case v == "":
					b.WriteString("null")
				default:
					b.WriteString(v)
				}
			}
			b.WriteByte('}')
		}
		for i, cells := range t.Rows {
			if i > 0 {
				b.WriteByte(',')
			}
			obj(cells)
		}
		b.WriteString(`],"total":`)
		if t.Total != nil {
			obj(t.Total)
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
