package report

import (
	"bufio"
	"html/template"
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
	Title    string
	Source   string
	Notes    []string
	Sections []htmlSection
}

type htmlSection struct {
	ID, Title, Note string
	Chart           *htmlChart
	Head            []htmlCell
	Rows            [][]htmlCell
	Total           []htmlCell
}

type htmlCell struct {
	Text string
	Num  bool
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
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e3e7ec; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #9aa7b5; }
tbody th { font-weight: normal; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot th, tfoot td { font-weight: 600; border-top: 2px solid #9aa7b5; }
svg.chart { display: block; margin: 8px 0; }
svg.chart text { font-size: 12px; fill: #1d2733; }
svg.chart rect.bar { fill: #3b6ea5; }
svg.chart g:hover rect.bar { fill: #24507d; }
</style>
</head>
<body>
<main>
<h1>mailscan report</h1>
<p class="source">Source: {{.Source}}</p>
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
<table id="t-{{.ID}}" aria-labelledby="h-{{.ID}}">
<thead><tr>{{range .Head}}<th scope="col"{{if .Num}} class="num"{{end}}>{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range $i, $c := .}}{{if eq $i 0}}<th scope="row">{{$c.Text}}</th>{{else}}<td{{if $c.Num}} class="num"{{end}}>{{$c.Text}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
{{- with .Total}}
<tfoot><tr>{{range $i, $c := .}}{{if eq $i 0}}<th scope="row">{{$c.Text}}</th>{{else}}<td{{if $c.Num}} class="num"{{end}}>{{$c.Text}}</td>{{end}}{{end}}</tr></tfoot>
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
	p := htmlPage{Title: "mailscan report: " + cleanName(r.Source), Source: cleanName(r.Source), Notes: r.Notes}
	for _, t := range r.Tables {
		s := htmlSection{ID: t.ID, Title: t.Title, Note: t.Note}
		for _, c := range t.Columns {
			s.Head = append(s.Head, htmlCell{Text: c.Title, Num: rightAligned(c)})
		}
		row := func(cells []Cell) []htmlCell {
			out := make([]htmlCell, len(cells))
			for i, c := range t.Columns {
				out[i] = htmlCell{Text: display(c, cells[i]), Num: rightAligned(c)}
			}
			return out
		}
		for _, cells := range t.Rows {
			s.Rows = append(s.Rows, row(cells))
		}
		if t.Total != nil {
			s.Total = row(t.Total)
		}
		if t.Chart > 0 && len(t.Rows) > 0 {
			s.Chart = chart(t)
		}
		p.Sections = append(p.Sections, s)
	}
	return pageTemplate.Execute(w, p)
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
