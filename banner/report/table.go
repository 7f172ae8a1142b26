package report

import (
	"cmp"
	"slices"
)

// Kind is what a column holds and so how each format prints it. Its zero
// value is invalid.
type Kind int

// The column kinds.
const (
	_ Kind = iota
	// Text is a name from our vocabulary or from the input (Cell.S).
	Text
	// Int is a number that is an identifier, such as a port: printed
	// without thousands separators (Cell.N). The cell is empty when Cell.S
	// is "" (the "other" and "total" rows); otherwise S is N in decimal.
	Int
	// Count is a number of things: thousands separators in text, Markdown
	// and HTML, raw in CSV and JSON (Cell.N).
	Count
	// Percent is Cell.N out of Cell.D as a percentage; empty when D is 0.
	Percent
)

// Column describes one column of a Table.
type Column struct {
	// Key names the column in CSV headers and JSON objects (snake_case).
	Key string
	// Title is the column heading in text, Markdown and HTML.
	Title string
	Kind  Kind

	// whole: the percentage is of a fixed whole (every row has the same
	// D), so the "other" row keeps D instead of summing it.
	whole bool
	// noTotal: the column has no meaningful total (a share of hosts, where
	// a host counts in several rows).
	noTotal bool
}

// Cell is one value of a Table. Which fields count depends on the column's
// Kind.
type Cell struct {
	S string // Text
	N int64  // Int, Count, and the numerator of Percent
	D int64  // the denominator of Percent

	// Was is the baseline's value of a Count or Percent cell (a Percent
	// as a percentage), when the Table has a baseline; WasOK is false
	// when the baseline has no value for the cell.
	Was   float64
	WasOK bool
}

// Percent returns the value of a Percent cell, and false when it has none
// (D is 0).
func (c Cell) Percent() (float64, bool) {
	if c.D == 0 {
		return 0, false
	}
	return 100 * float64(c.N) / float64(c.D), true
}

// Table is one table of a Report.
type Table struct {
	// ID names the table in CSV, JSON and HTML (snake_case).
	ID    string
	Title string
	// Note says exactly what the rows count.
	Note    string
	Columns []Column
	Rows    [][]Cell
	// Total sums the rows; nil when the table has none.
	Total []Cell
	// Chart is the index of the column the HTML page draws as bars, 0 for
	// no chart. The bar's label is the text of the columns before it.
	Chart int
	// Grouped asks the HTML page for grouped bars: per row, one bar for
	// each port column (the Count columns between hosts and services).
	Grouped bool
	// Baseline is set when the cells carry the values of an earlier scan:
	// every format then shows, beside each number, the earlier one and the
	// change.
	Baseline bool
}

// row is a table row under construction: its cells, its count for sorting
// and a name that breaks ties.
type row struct {
	cells []Cell
	count int64
	name  string
}

// sortRows orders rows by count, largest first, then by name.
func sortRows(rows []row) {
	slices.SortFunc(rows, func(a, b row) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
}

// newTable sorts rows, keeps the first top of them (all when top <= 0),
// folds the rest into an "other" row, and adds a total row when total is
// set. The first column must be Text: it carries "other" and "total".
func newTable(id, title, note string, cols []Column, rows []row, top int, total bool) *Table {
	sortRows(rows)
	t := &Table{ID: id, Title: title, Note: note, Columns: cols}
	keep := rows
	if top > 0 && len(rows) > top {
		keep = rows[:top]
	}
	for _, r := range keep {
		t.Rows = append(t.Rows, r.cells)
	}
	if len(keep) < len(rows) {
		t.Rows = append(t.Rows, sumRows(cols, rows[len(keep):], "other", false))
	}
	if total {
		t.Total = sumRows(cols, rows, "total", true)
	}
	return t
}

// sumRows adds up rows column by column: counts and the numerators of
// percentages add; denominators add too unless the column's whole is fixed.
// Text and Int columns are left empty but the first, which gets label.
func sumRows(cols []Column, rows []row, label string, isTotal bool) []Cell {
	out := make([]Cell, len(cols))
	for i, c := range cols {
		switch c.Kind {
		case Count:
			for _, r := range rows {
				out[i].N += r.cells[i].N
			}
		case Percent:
			if isTotal && c.noTotal {
				continue
			}
			for j, r := range rows {
				out[i].N += r.cells[i].N
				if !c.whole || j == 0 {
					out[i].D += r.cells[i].D
				}
			}
		}
	}
	if len(out) > 0 {
		out[0] = Cell{S: label}
	}
	return out
}

// label returns the text of a row's label columns, those before column
// upto, joined by spaces.
func label(cols []Column, cells []Cell, upto int) string {
	s := ""
	for i := 0; i < upto && i < len(cols); i++ {
		v := ""
		switch cols[i].Kind {
		case Text:
			v = cells[i].S
		case Int:
			v = cells[i].S
		default:
			continue
		}
		if v == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += v
	}
	return s
}
