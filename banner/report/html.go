package report

import (
	"bufio"
	"html/template"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Chart geometry, in CSS pixels. Bars are horizontal: the label on the
// left, the bar, then the number.
const (
	chartWidth  = 760
	chartLabelW = 230 // label column
	chartBarMax = 440 // the longest bar
	chartRowH   = 24
	chartBarH   = 16
	chartPad    = 6
	// chartLabelRunes is where a bar's label is cut; its <title> keeps
	// the whole of it.
	chartLabelRunes = 32
)

type htmlPage struct {
	Title     string
	Source    string
	Headlines []string
	Notes     []string
	Sections  []htmlSection
}

type htmlSection struct {
	ID, Title, Note string
	Chart           *htmlChart
	Grouped         *htmlGrouped
	Head            []htmlCell
	Rows            [][]htmlCell
	Total           []htmlCell
}

type htmlCell struct {
	Text  string
	Num   bool
	Class string // up, down, same: a change
}

// htmlGrouped is a grouped bar chart: per row a group of bars, one per
// series (port), with a legend.
type htmlGrouped struct {
	Width, Height int
	Label         string
	Legend        []htmlLegend
	Groups        []htmlGroup
}

type htmlLegend struct {
	X, Y, TextX, TextY int
	Class, Text        string
}

type htmlGroup struct {
	LabelY int
	Label  string
	Bars   []htmlGBar
}

type htmlGBar struct {
	Y, TextY     int
	X, ValueX    string
	Width        string
	Class, Value string
	Title        string
	Height       int
}

type htmlChart struct {
	Width, Height int
	Label         string
	Bars          []htmlBar
}

type htmlBar struct {
	Y, TextY     int
	BarX, ValueX string
	Width        string
	Label, Value string
	Title        string
	Height       int
}

// pageTemplate is the whole page. html/template escapes every value, in
// text and in attributes alike. The page needs nothing from elsewhere: no
// script, no font, no image, no link.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 4px; border-bottom: 1px solid #d5dbe3; padding-bottom: 4px; }
p.source { color: #556; margin: 0 0 12px; }
ul.notes { background: #f4f7fb; border-left: 4px solid #3b6ea5; padding: 8px 8px 8px 28px; }
p.note { color: #445; margin: 4px 0 12px; max-width: 900px; }
table { border-collapse: collapse; margin: 8px 0; display: block; overflow-x: auto; max-width: 100%; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e3e7ec; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #9aa7b5; }
tbody th { font-weight: normal; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot th, tfoot td { font-weight: 600; border-top: 2px solid #9aa7b5; }
svg.chart { display: block; margin: 8px 0; }
svg.chart text { font-size: 12px; fill: #1d2733; }
svg.chart rect.bar { fill: #3b6ea5; }
svg.chart g:hover rect.bar { fill: #24507d; }
svg.chart rect.s0 { fill: #3b6ea5; } svg.chart rect.s1 { fill: #e07b39; } svg.chart rect.s2 { fill: #5a9e4b; }
svg.chart rect.s3 { fill: #b5464b; } svg.chart rect.s4 { fill: #7f5fa8; } svg.chart rect.s5 { fill: #8c6d46; }
svg.chart rect.s6 { fill: #d16fae; } svg.chart rect.s7 { fill: #6b7785; }
td.up { color: #0b6b2f; background: #e6f4ea; } td.down { color: #a3161c; background: #fce8e8; } td.same { color: #778; }
p.headline { font-size: 16px; font-weight: 600; margin: 4px 0; }
</style>
</head>
<body>
<main>
<h1>mailscan report</h1>
<p class="source">Source: {{.Source}}</p>
{{- range .Headlines}}
<p class="headline">{{.}}</p>
{{- end}}
{{- if .Notes}}
<ul class="notes">{{range .Notes}}
<li>{{.}}</li>{{end}}
</ul>
{{- end}}
{{- range .Sections}}
<section id="{{.ID}}">
<h2 id="h-{{.ID}}">{{.Title}}</h2>
<p class="note">{{.Note}}</p>
{{- with .Chart}}
<svg class="chart" role="img" aria-label="{{.Label}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{- range .Bars}}
<g><text class="label" x="0" y="{{.TextY}}">{{.Label}}</text><rect class="bar" x="{{.BarX}}" y="{{.Y}}" width="{{.Width}}" height="{{.Height}}"><title>{{.Title}}</title></rect><text class="value" x="{{.ValueX}}" y="{{.TextY}}">{{.Value}}</text></g>
{{- end}}
</svg>
{{- end}}
{{- with .Grouped}}
<svg class="chart grouped" role="img" aria-label="{{.Label}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{- range .Legend}}
<g><rect class="{{.Class}}" x="{{.X}}" y="{{.Y}}" width="12" height="12"></rect><text x="{{.TextX}}" y="{{.TextY}}">{{.Text}}</text></g>
{{- end}}
{{- range .Groups}}
<g><text class="label" x="0" y="{{.LabelY}}">{{.Label}}</text>
{{- range .Bars}}
<g><rect class="gbar {{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.Width}}" height="{{.Height}}"><title>{{.Title}}</title></rect>{{if .Value}}<text class="value" x="{{.ValueX}}" y="{{.TextY}}">{{.Value}}</text>{{end}}</g>
{{- end}}
</g>
{{- end}}
</svg>
{{- end}}
<table id="t-{{.ID}}" aria-labelledby="h-{{.ID}}">
<thead><tr>{{range .Head}}<th scope="col"{{if .Num}} class="num"{{end}}>{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range $i, $c := .}}{{if eq $i 0}}<th scope="row">{{$c.Text}}</th>{{else}}<td{{if $c.Class}} class="num {{$c.Class}}"{{else if $c.Num}} class="num"{{end}}>{{$c.Text}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
{{- with .Total}}
<tfoot><tr>{{range $i, $c := .}}{{if eq $i 0}}<th scope="row">{{$c.Text}}</th>{{else}}<td{{if $c.Class}} class="num {{$c.Class}}"{{else if $c.Num}} class="num"{{end}}>{{$c.Text}}</td>{{end}}{{end}}</tr></tfoot>
{{- end}}
</table>
</section>
{{- end}}
</main>
</body>
</html>
`))

// writeHTML writes the page.
func (r *Report) writeHTML(w *bufio.Writer) error {
	p := htmlPage{Title: "mailscan report: " + cleanName(r.Source), Source: cleanName(r.Source), Headlines: r.headlineText(), Notes: r.Notes}
	for _, t := range r.Tables {
		s := htmlSection{ID: t.ID, Title: t.Title, Note: t.Note}
		v := view(t)
		cols, idx := v.pick(true)
		for _, c := range cols {
			s.Head = append(s.Head, htmlCell{Text: c.title, Num: c.rightAligned()})
		}
		row := func(cells []vcell) []htmlCell {
			out := make([]htmlCell, len(idx))
			for j, i := range idx {
				out[j] = htmlCell{Text: cells[i].human, Num: cols[j].rightAligned(), Class: cells[i].class}
			}
			return out
		}
		for _, cells := range v.rows {
			s.Rows = append(s.Rows, row(cells))
		}
		if v.total != nil {
			s.Total = row(v.total)
		}
		if t.Chart > 0 && len(t.Rows) > 0 {
			s.Chart = chart(t)
		}
		if t.Grouped && len(t.Rows) > 0 {
			s.Grouped = grouped(t)
		}
		p.Sections = append(p.Sections, s)
	}
	return pageTemplate.Execute(w, p)
}

// Grouped chart geometry: a group per row, a bar per series.
const (
	groupBarH   = 12
	groupGap    = 10
	legendH     = 22
	maxSeries   = 8 // colours; a ninth port and later share them
	groupLabelW = chartLabelW
)

// grouped lays out a grouped bar chart of t: one group per row (the
// "other" row included, the total not), one bar per port column (the Count
// columns after "hosts" and before "services"), all on one scale.
func grouped(t *Table) *htmlGrouped {
	var series []int
	labelCols := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Key == "hosts" })
	for i, c := range t.Columns {
		if c.Kind == Count && c.Key != "hosts" && c.Key != "services" {
			series = append(series, i)
		}
	}
	if len(series) == 0 {
		return nil
	}
	var top int64
	for _, cells := range t.Rows {
		for _, i := range series {
			top = max(top, cells[i].N)
		}
	}
	g := &htmlGrouped{Width: chartWidth, Label: t.Title}
	x := 0
	y := 4
	for k, i := range series {
		w := 24 + 7*utf8.RuneCountInString(t.Columns[i].Title)
		if x+w > chartWidth {
			x, y = 0, y+legendH
		}
		g.Legend = append(g.Legend, htmlLegend{X: x, Y: y, TextX: x + 16, TextY: y + 11, Class: "s" + strconv.Itoa(k%maxSeries), Text: t.Columns[i].Title})
		x += w
	}
	y += legendH + chartPad
	groupH := len(series)*groupBarH + groupGap
	for _, cells := range t.Rows {
		full := label(t.Columns, cells, labelCols)
		name := full
		if utf8.RuneCountInString(name) > chartLabelRunes {
			name = string([]rune(name)[:chartLabelRunes-1]) + "…"
		}
		grp := htmlGroup{LabelY: y + groupBarH*len(series)/2 + 4, Label: name}
		for k, i := range series {
			n := cells[i].N
			w := 0.0
			if top > 0 {
				w = float64(chartBarMax) * float64(n) / float64(top)
			}
			by := y + k*groupBarH
			grp.Bars = append(grp.Bars, htmlGBar{
				Y: by + 1, TextY: by + groupBarH - 2, Height: groupBarH - 2,
				X:      strconv.Itoa(groupLabelW),
				Width:  strconv.FormatFloat(w, 'f', 2, 64),
				ValueX: strconv.FormatFloat(groupLabelW+w+chartPad, 'f', 2, 64),
				Class:  "s" + strconv.Itoa(k%maxSeries),
				Value:  nonZero(n),
				Title:  full + ", " + t.Columns[i].Title + ": " + commas(n) + " " + unit("hosts", n),
			})
		}
		g.Groups = append(g.Groups, grp)
		y += groupH
	}
	g.Height = y
	return g
}

// chart lays out one bar per row of t (the "other" row included, the total
// not), scaled so that the largest count is chartBarMax wide.
func chart(t *Table) *htmlChart {
	col := t.Columns[t.Chart]
	var top int64
	for _, cells := range t.Rows {
		top = max(top, cells[t.Chart].N)
	}
	c := &htmlChart{Width: chartWidth, Height: len(t.Rows)*chartRowH + chartPad, Label: t.Title + ": " + col.Title}
	for i, cells := range t.Rows {
		n := cells[t.Chart].N
		w := 0.0
		if top > 0 {
			w = float64(chartBarMax) * float64(n) / float64(top)
		}
		full := label(t.Columns, cells, t.Chart)
		short := full
		if utf8.RuneCountInString(short) > chartLabelRunes {
			short = string([]rune(short)[:chartLabelRunes-1]) + "…"
		}
		y := chartPad/2 + i*chartRowH
		c.Bars = append(c.Bars, htmlBar{
			Y:      y,
			TextY:  y + chartBarH - 3,
			BarX:   strconv.Itoa(chartLabelW),
			Width:  strconv.FormatFloat(w, 'f', 2, 64),
			ValueX: strconv.FormatFloat(chartLabelW+w+chartPad, 'f', 2, 64),
			Label:  short,
			Value:  commas(n),
			Title:  full + ": " + commas(n) + " " + unit(col.Title, n),
			Height: chartBarH,
		})
	}
	return c
}

// unit is the column's noun for n things: "1 service", "2 services".
func unit(noun string, n int64) string {
	if n == 1 && len(noun) > 1 && noun[len(noun)-1] == 's' {
		return noun[:len(noun)-1]
	}
	return noun
}

// nonZero is n with separators, "" for 0: a group's empty bars carry no
// number.
func nonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return commas(n)
}
