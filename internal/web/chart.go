package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Server-side charts for the Stats pages (STA-2): inline SVG without
// scripts or a chart library, so they work under the strict CSP, print,
// and scale with the viewBox on a phone. Every chart has a <title> and a
// <desc>, and the page puts the same figures in a table next to it for
// screen readers and for reading exact values.

// chartSeries is one stacked part of every bar (web, FTP, mail).
type chartSeries struct {
	Class string // CSS class of its colour: web, ftp or mail
	Label string
}

// chartPoint is one bar or one point of a line: its label on the x axis
// and a value per series.
type chartPoint struct {
	Label  string
	Values []float64
}

// chart is what a bar or line chart needs; numbers are formatted with
// Num, so the axis reads 1,234.5 in English and 1.234,5 in German.
type chart struct {
	ID     string // unique on the page: the title's id
	Title  string
	Desc   string
	YLabel string // unit of the y axis, e.g. "MB"
	Series []chartSeries
	Points []chartPoint
	// LabelEvery shows every n-th x label (days of a month); 1 when 0.
	LabelEvery int
	Num        func(v float64, decimals int) string
}

const (
	chartW, chartH                = 640, 260
	chartLeft, chartRight         = 64, 12
	chartTop, chartBottom         = 28, 44
	chartPlotW                    = chartW - chartLeft - chartRight
	chartPlotH                    = chartH - chartTop - chartBottom
	chartTicks                    = 4
	chartMaxValue         float64 = 1e15 // anything above is clamped: finite, and a tick label that fits
)

// clean turns NaN, Inf and negatives into something plottable: a chart
// of broken figures still draws, and never writes "NaN" into the SVG.
func cleanValue(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return math.Min(v, chartMaxValue)
}

// niceMax rounds max up to 1, 2, 2.5 or 5 times a power of ten, so the
// ticks are round numbers; 1 for an empty chart.
func niceMax(max float64) float64 {
	if max <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(max)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if max <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// f formats a coordinate: at most one decimal, always a dot (SVG syntax,
// not the language's).
func f(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func (c chart) total(p chartPoint) float64 {
	sum := 0.0
	for _, v := range p.Values {
		sum += cleanValue(v)
	}
	return math.Min(sum, chartMaxValue)
}

func (c chart) label(i int) bool {
	n := max(c.LabelEvery, 1)
	return i%n == 0 || i == len(c.Points)-1 && len(c.Points) > 1 && i%n > n/2
}

// open writes the svg element with its title, description and axes.
func (c chart) open(b *strings.Builder, top float64) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" preserveAspectRatio="xMidYMid meet">`,
		chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, c.ID, esc(c.Title), c.ID, esc(c.Desc))
	// Y axis: gridlines with their values, and the unit above.
	// As many decimals as the step between ticks needs (2.5 → 1).
	step, dec := top/chartTicks, 0
	for dec < 2 && math.Abs(step*math.Pow(10, float64(dec))-math.Round(step*math.Pow(10, float64(dec)))) > 1e-9 {
		dec++
	}
	for i := 0; i <= chartTicks; i++ {
		v := top * float64(i) / chartTicks
		y := chartTop + chartPlotH - chartPlotH*float64(i)/chartTicks
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/>`, chartLeft, chartW-chartRight, f(y), f(y))
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%s" text-anchor="end">%s</text>`, chartLeft-6, f(y+4), esc(c.Num(v, dec)))
	}
	fmt.Fprintf(b, `<text class="axis" x="%d" y="%d">%s</text>`, 4, chartTop-12, esc(c.YLabel))
	// Legend, top right.
	x := chartW - chartRight
	for i := len(c.Series) - 1; i >= 0; i-- {
		s := c.Series[i]
		x -= 8*len([]rune(s.Label)) + 24
		fmt.Fprintf(b, `<rect class="key %s" x="%d" y="%d" width="10" height="10"/><text class="legend" x="%d" y="%d">%s</text>`,
			s.Class, x, chartTop-20, x+14, chartTop-11, esc(s.Label))
	}
}

// Bars renders stacked bars, one per point, a part per series.
func (c chart) Bars() template.HTML {
	var b strings.Builder
	top := 0.0
	for _, p := range c.Points {
		top = math.Max(top, c.total(p))
	}
	top = niceMax(top)
	c.open(&b, top)
	n := max(len(c.Points), 1)
	slot := float64(chartPlotW) / float64(n)
	w := math.Max(slot*0.7, 1)
	for i, p := range c.Points {
		x := chartLeft + slot*float64(i) + (slot-w)/2
		y := float64(chartTop + chartPlotH)
		fmt.Fprintf(&b, `<g class="bar"><title>%s: %s</title>`, esc(p.Label), esc(c.Num(c.total(p), 1)))
		for j, v := range p.Values {
			// Each part is clamped on its own; the stack never leaves the plot.
			h := math.Min(cleanValue(v)/top*chartPlotH, y-chartTop)
			y -= h
			cls := ""
			if j < len(c.Series) {
				cls = c.Series[j].Class
			}
			fmt.Fprintf(&b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s"/>`, cls, f(x), f(y), f(w), f(h))
		}
		b.WriteString(`</g>`)
		if c.label(i) {
			fmt.Fprintf(&b, `<text class="xlabel" x="%s" y="%d" text-anchor="middle">%s</text>`, f(x+w/2), chartH-chartBottom+18, esc(p.Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Line renders the total of each point as a line with a dot per point.
func (c chart) Line() template.HTML {
	var b strings.Builder
	top := 0.0
	for _, p := range c.Points {
		top = math.Max(top, c.total(p))
	}
	top = niceMax(top)
	c.open(&b, top)
	n := len(c.Points)
	step := float64(chartPlotW)
	if n > 1 {
		step = float64(chartPlotW) / float64(n-1)
	}
	xy := func(i int, p chartPoint) (float64, float64) {
		x := float64(chartLeft)
		if n > 1 {
			x += step * float64(i)
		} else {
			x += chartPlotW / 2
		}
		return x, chartTop + chartPlotH - c.total(p)/top*chartPlotH
	}
	var pts []string
	for i, p := range c.Points {
		x, y := xy(i, p)
		pts = append(pts, f(x)+","+f(y))
	}
	if n > 1 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
	}
	for i, p := range c.Points {
		x, y := xy(i, p)
		fmt.Fprintf(&b, `<circle class="pt" cx="%s" cy="%s" r="3"><title>%s: %s</title></circle>`, f(x), f(y), esc(p.Label), esc(c.Num(c.total(p), 1)))
		if c.label(i) {
			fmt.Fprintf(&b, `<text class="xlabel" x="%s" y="%d" text-anchor="middle">%s</text>`, f(x), chartH-chartBottom+18, esc(p.Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// formatNumber formats v with decimals places and the language's
// separators: 1,234.5 in English, 1.234,5 in German.
func formatNumber(lang string, v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	group, point := ",", "."
	if lang == "de" {
		group, point = ".", ","
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(d)
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}
