package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// snapshot is an earlier report as its JSON holds it: per table, the
// columns and the rows keyed by their label (the text of their text and
// int columns).
type snapshot struct {
	tables map[string]*snapTable
}

type snapTable struct {
	cols   []snapCol
	rows   map[string]map[string]snapVal
	order  []string
	labels map[string]map[string]snapVal // the label cells of each row
}

type snapCol struct {
	key  string
	kind Kind
}

// snapVal is one value: a string, or a number (ok false for null).
type snapVal struct {
	s  string
	n  float64
	ok bool
}

// loadBaseline reads the baseline file: the JSON of an earlier report (its
// first non-blank line is "{" alone, or the first line has "tables"), or
// results, which are built into a report with opts first.
func loadBaseline(path string, opts *Options) (*snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &OptionError{Option: "baseline", Path: path, Err: err}
	}
	defer f.Close()
	r, done, err := decompress(f)
	if err != nil {
		return nil, &OptionError{Option: "baseline", Path: path, Err: err}
	}
	defer done()
	br := bufio.NewReaderSize(r, 64<<10)
	first, _ := br.Peek(64 << 10)
	line, _, _ := bytes.Cut(bytes.TrimLeft(first, " \t\r\n"), []byte("\n"))
	line = bytes.TrimSpace(line)
	if string(line) == "{" || bytes.Contains(line, []byte(`"tables"`)) {
		b, err := io.ReadAll(br)
		if err != nil {
			return nil, &OptionError{Option: "baseline", Path: path, Err: err}
		}
		s, err := parseSnapshot(b)
		if err != nil {
			return nil, &OptionError{Option: "baseline", Path: path, Err: err}
		}
		return s, nil
	}
	rep, err := BuildInputs([]Input{{Name: path, Reopen: true, Open: func() (io.ReadCloser, error) { return os.Open(path) }}}, opts)
	if err != nil {
		return nil, &OptionError{Option: "baseline", Path: path, Err: err}
	}
	var b bytes.Buffer
	if err := rep.Write(&b, FormatJSON); err != nil {
		return nil, err
	}
	return parseSnapshot(b.Bytes())
}

// parseSnapshot reads the JSON form of a report.
func parseSnapshot(b []byte) (*snapshot, error) {
	var doc struct {
		Tables []struct {
			ID      string `json:"id"`
			Columns []struct {
				Key  string `json:"key"`
				Kind string `json:"kind"`
			} `json:"columns"`
			Rows  []map[string]any `json:"rows"`
			Total map[string]any   `json:"total"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not the JSON of a report: %w", err)
	}
	if doc.Tables == nil {
		return nil, fmt.Errorf("not the JSON of a report: no tables")
	}
	s := &snapshot{tables: map[string]*snapTable{}}
	for _, t := range doc.Tables {
		st := &snapTable{rows: map[string]map[string]snapVal{}, labels: map[string]map[string]snapVal{}}
		for _, c := range t.Columns {
			if strings.HasSuffix(c.Key, "_before") || strings.HasSuffix(c.Key, "_change") || strings.HasSuffix(c.Key, "_change_pct") {
				continue // the comparison columns of a report that had a baseline itself
			}
			k, ok := kindByName[c.Kind]
			if !ok {
				k = Count // a report from before kinds were written
			}
			st.cols = append(st.cols, snapCol{key: c.Key, kind: k})
		}
		add := func(obj map[string]any) {
			vals := map[string]snapVal{}
			for _, c := range st.cols {
				switch v := obj[c.key].(type) {
				case string:
					vals[c.key] = snapVal{s: v, ok: true}
				case float64:
					vals[c.key] = snapVal{n: v, ok: true, s: strconv.FormatFloat(v, 'f', -1, 64)}
				default:
					vals[c.key] = snapVal{}
				}
			}
			parts := make([]string, 0, 2)
			lab := map[string]snapVal{}
			for _, c := range st.cols {
				if c.kind == Text || c.kind == Int {
					parts = append(parts, vals[c.key].s)
					lab[c.key] = vals[c.key]
				}
			}
			key := strings.Join(parts, "\x00")
			if _, dup := st.rows[key]; !dup {
				st.order = append(st.order, key)
			}
			st.rows[key] = vals
			st.labels[key] = lab
		}
		for _, r := range t.Rows {
			add(r)
		}
		if t.Total != nil {
			add(t.Total)
		}
		s.tables[t.ID] = st
	}
	return s, nil
}

var kindByName = map[string]Kind{"text": Text, "int": Int, "count": Count, "percent": Percent}

// rowLabel is the label of a row of t, as parseSnapshot keys rows.
func rowLabel(cols []Column, cells []Cell) string {
	parts := make([]string, 0, 2)
	for i, c := range cols {
		if c.Kind == Text || c.Kind == Int {
			parts = append(parts, cells[i].S)
		}
	}
	return strings.Join(parts, "\x00")
}

// compare sets the baseline values of every table of rep that base also
// has, adds the rows and count columns only base has (now zero), and
// appends the "what changed" table.
func compare(rep *Report, base *snapshot, top int) {
	for _, t := range rep.Tables {
		bt := base.tables[t.ID]
		if bt == nil || t.ID == "skipped" {
			continue
		}
		t.Baseline = true
		// Count columns only the baseline has: a port no longer scanned.
		have := map[string]bool{}
		for _, c := range t.Columns {
			have[c.Key] = true
		}
		for _, c := range bt.cols {
			if c.kind == Count && !have[c.key] {
				t.Columns = append(t.Columns, Column{Key: c.key, Title: strings.ReplaceAll(c.key, "_", " "), Kind: Count})
				for i := range t.Rows {
					t.Rows[i] = append(t.Rows[i], Cell{})
				}
				if t.Total != nil {
					t.Total = append(t.Total, Cell{})
				}
			}
		}
		seen := map[string]bool{}
		set := func(cells []Cell) {
			key := rowLabel(t.Columns, cells)
			seen[key] = true
			vals, ok := bt.rows[key]
			for i, c := range t.Columns {
				if c.Kind != Count && c.Kind != Percent {
					continue
				}
				if !ok {
					cells[i].WasOK = c.Kind == Count // a new row was 0
					continue
				}
				v := vals[c.Key]
				cells[i].Was, cells[i].WasOK = v.n, v.ok
			}
		}
		for _, cells := range t.Rows {
			set(cells)
		}
		if t.Total != nil {
			set(t.Total)
		}
		// Rows only the baseline has: gone now, shown as zero.
		var gone [][]Cell
		for _, key := range bt.order {
			if seen[key] || strings.HasPrefix(key, "other") || strings.HasPrefix(key, "total") {
				continue
			}
			cells := make([]Cell, len(t.Columns))
			lab := bt.labels[key]
			vals := bt.rows[key]
			for i, c := range t.Columns {
				switch c.Kind {
				case Text:
					cells[i].S = lab[c.Key].s
				case Int:
					cells[i].S = lab[c.Key].s
					cells[i].N = int64(lab[c.Key].n)
				case Count, Percent:
					v := vals[c.Key]
					cells[i].Was, cells[i].WasOK = v.n, v.ok
				}
			}
			gone = append(gone, cells)
		}
		if len(gone) > 0 {
			// Before the "other" row, if any.
			at := len(t.Rows)
			if at > 0 && t.Rows[at-1][0].S == "other" {
				at--
			}
			t.Rows = slices.Insert(t.Rows, at, gone...)
		}
	}
	rep.Tables = append(rep.Tables, changesTable(rep, top))
}

// changesTable is "what changed": per port, country, provider and family,
// the rows that appeared or went, then the largest moves.
func changesTable(rep *Report, top int) *Table {
	type move struct {
		what, name, how string
		now, was        int64
	}
	var moves []move
	for _, src := range []struct{ id, what, col string }{
		{"ports", "port", "services"}, {"countries", "country", "hosts"},
		{"providers", "provider", "hosts"}, {"families", "family", "services"},
	} {
		t := rep.Table(src.id)
		if t == nil || !t.Baseline {
			continue
		}
		ci := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Key == src.col })
		if ci < 0 {
			continue
		}
		var ms []move
		for _, cells := range t.Rows {
			name := label(t.Columns, cells, ci)
			if name == "other" {
				continue
			}
			c := cells[ci]
			was := int64(c.Was)
			if c.N == was {
				continue
			}
			how := ""
			switch {
			case was == 0:
				how = "added"
			case c.N == 0:
				how = "removed"
			}
			ms = append(ms, move{what: src.what, name: name, how: how, now: c.N, was: was})
		}
		slices.SortStableFunc(ms, func(a, b move) int {
			// Appeared and gone first, then the largest moves.
			if (a.how != "") != (b.how != "") {
				if a.how != "" {
					return -1
				}
				return 1
			}
			da, db := abs(a.now-a.was), abs(b.now-b.was)
			if da != db {
				if da > db {
					return -1
				}
				return 1
			}
			return strings.Compare(a.name, b.name)
		})
		n := 0
		for _, m := range ms {
			if m.how == "" && n >= min(top, 5) {
				continue
			}
			if m.how == "" {
				n++
			}
			moves = append(moves, m)
		}
	}
	t := &Table{ID: "changes", Title: "What changed",
		Note: "Ports, countries, providers and vendor families that appeared or went since the baseline, then the largest moves of each (services for ports and families, hosts for countries and providers).",
		Columns: []Column{{Key: "what", Title: "what", Kind: Text}, {Key: "name", Title: "name", Kind: Text},
			{Key: "change", Title: "change", Kind: Text}, {Key: "count", Title: "count", Kind: Count}},
		Baseline: true}
	for _, m := range moves {
		t.Rows = append(t.Rows, []Cell{text(m.what), text(m.name), text(m.how), {N: m.now, Was: float64(m.was), WasOK: true}})
	}
	return t
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// delta formats the change of a count: "+12 (+3.4%)", "-3 (-100.0%)",
// "+5 (new)", "0".
func delta(now int64, was float64) string {
	d := float64(now) - was
	if d == 0 {
		return "0"
	}
	s := signed(int64(d))
	if was == 0 {
		return s + " (new)"
	}
	return s + " (" + signedFloat(100*d/was, 1) + "%)"
}

func signed(n int64) string {
	if n > 0 {
		return "+" + commas(n)
	}
	return commas(n)
}

func signedFloat(f float64, prec int) string {
	f = math.Round(f*math.Pow10(prec)) / math.Pow10(prec)
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if f > 0 {
		return "+" + s
	}
	if f == 0 {
		return strconv.FormatFloat(0, 'f', prec, 64)
	}
	return s
}
