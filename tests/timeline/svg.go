// This file draws a recorded run as a Gantt chart in SVG: one row per resource that takes cloud time, in cloud
// minutes, the critical path in red with its steps numbered.
package timeline

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Picture holds what the chart shows besides the spans.
type Picture struct {
	Title    string
	Scale    time.Duration // real time of one cloud minute in the run
	Critical Path
}

// SVG renders spans as a Gantt chart.
func (p Picture) SVG(spans []Span) string {
	const (
		labelW = 300
		chartW = 820
		rowH   = 18
		top    = 56
		right  = 30
	)
	var rows []Span
	for _, s := range spans {
		if s.Custom && s.Minutes > 0 {
			rows = append(rows, s)
		}
	}
	step := map[string]int{}
	for i, n := range p.Critical.Significant(GraphOf(spans)) {
		step[n] = i + 1
	}
	var t0 time.Duration
	if len(spans) > 0 {
		t0 = spans[0].Start
		for _, s := range spans {
			t0 = min(t0, s.Start)
		}
	}
	minutes := func(d time.Duration) float64 { return float64(d-t0) / float64(p.Scale) }
	span := math.Max(float64(Wall(spans))/float64(p.Scale), float64(p.Critical.Minutes))
	maxMin := math.Ceil(span/5) * 5
	x := func(m float64) float64 { return labelW + m/maxMin*chartW }
	height := top + len(rows)*rowH + 50

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" `+
		`font-size="11">`+"\n", labelW+chartW+right, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(p.Title))
	fmt.Fprintf(&b, `<text x="10" y="38">grey: a resource's provisioning; red: the critical path, numbered; `+
		`x axis: minutes of cloud time (1 min = %s in the run)</text>`+"\n", p.Scale)
	for m := 0.0; m <= maxMin; m += 5 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(m), top-4, x(m),
			top+len(rows)*rowH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`+"\n", x(m),
			top+len(rows)*rowH+14, m)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">minutes</text>`+"\n", x(maxMin/2),
		top+len(rows)*rowH+30)
	for i, s := range rows {
		y := top + i*rowH
		color, label := "#9aa5b1", s.Name
		if n, ok := step[s.Name]; ok {
			color, label = "#d62728", fmt.Sprintf("%d. %s", n, s.Name)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`+"\n", labelW-6, y+12,
			map[bool]string{true: "#d62728", false: "black"}[step[s.Name] > 0], html.EscapeString(label))
		x0, x1 := x(minutes(s.Start)), x(minutes(s.End))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %.1f min</title>`+
			`</rect>`+"\n", x0, y+2, math.Max(x1-x0, 1), rowH-4, color, html.EscapeString(s.Name), float64(s.Minutes))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
