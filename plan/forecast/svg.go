package forecast

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
)

// WriteSVG draws f as an SVG timeline, written with the standard library
// only: time on x; on y the nodes updated (green), unavailable (red) and
// surged (orange), as step lines; each wave a dashed vertical line with
// its number; a title with the outcome and a legend. title heads the
// picture (the DaemonSet's name, say).
func (f Forecast) WriteSVG(w io.Writer, title string) error {
	const (
		width, height          = 960, 420
		left, right, top, base = 64, 24, 56, 360
	)
	b := bufio.NewWriter(w)
	end := f.Duration
	if end <= 0 {
		end = time.Second
	}
	ymax := f.Desired
	for _, p := range f.Timeline {
		ymax = max(ymax, p.Updated, p.Unavailable, p.Surged)
	}
	ymax = max(ymax, 1)
	x := func(d time.Duration) float64 { return left + float64(d)/float64(end)*float64(width-left-right) }
	y := func(v int) float64 { return base - float64(v)/float64(ymax)*float64(base-top) }

	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<title id="title">%s</title>`+"\n", html.EscapeString(title+": "+f.Summary()))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	fmt.Fprintf(b, `<text x="%d" y="42" fill="#444">%s</text>`+"\n", left, html.EscapeString(f.Summary()))
	// Axes, with ticks.
	fmt.Fprintf(b, `<g class="axes" stroke="#888"><line x1="%d" y1="%d" x2="%d" y2="%d"/><line x1="%d" y1="%d" x2="%d" y2="%d"/></g>`+"\n",
		left, base, width-right, base, left, top, left, base)
	last := -1
	for i := 0; i <= 4; i++ {
		if v := ymax * i / 4; v != last { // few nodes: no repeated ticks
			fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" fill="#444">%d</text>`+"\n", left-6, y(v)+4, v)
			last = v
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s</text>`+"\n", x(end*time.Duration(i)/4), base+18, shortDuration(end*time.Duration(i)/4))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="#444">time</text>`+"\n", (left+width-right)/2, base+36)
	fmt.Fprintf(b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle" fill="#444">nodes</text>`+"\n", (top+base)/2, (top+base)/2)
	// Waves.
	for i, wv := range f.Waves {
		fmt.Fprintf(b, `<g class="wave"><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#99c" stroke-dasharray="3,3"/><text x="%.1f" y="%d" fill="#66a" font-size="10" text-anchor="middle">%d</text><title>wave %d at %s: %s</title></g>`+"\n",
			x(wv.At), top, x(wv.At), base, x(wv.At), top-2, i+1, i+1, shortDuration(wv.At), plural(len(wv.Nodes), "node"))
	}
	// Series.
	series := []struct {
		name, color string
		value       func(Point) int
	}{
		{"updated", "#2a9d3a", func(p Point) int { return p.Updated }},
		{"unavailable", "#d1342f", func(p Point) int { return p.Unavailable }},
		{"surged", "#e08a00", func(p Point) int { return p.Surged }},
	}
	for i, s := range series {
		var pts strings.Builder
		for k, p := range f.Timeline {
			if k > 0 {
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(p.At), y(s.value(f.Timeline[k-1])))
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(p.At), y(s.value(p)))
		}
		if len(f.Timeline) > 0 {
			last := f.Timeline[len(f.Timeline)-1]
			fmt.Fprintf(&pts, "%.1f,%.1f", x(end), y(s.value(last)))
		}
		fmt.Fprintf(b, `<polyline class="series %s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.name, s.color, strings.TrimSpace(pts.String()))
		lx := width - right - 300 + i*100
		fmt.Fprintf(b, `<g class="legend"><rect x="%d" y="%d" width="12" height="4" fill="%s"/><text x="%d" y="%d">%s</text></g>`+"\n", lx, 36, s.color, lx+16, 41, s.name)
	}
	fmt.Fprintln(b, `</svg>`)
	return b.Flush()
}

// Summary is the outcome in one line, e.g. "complete in 3m20s: 12 waves,
// 40 syncs".
func (f Forecast) Summary() string {
	outcome := "complete"
	switch {
	case f.Stalled:
		outcome = "stalled"
	case f.Truncated:
		outcome = "not finished"
	case !f.Complete:
		outcome = "incomplete"
	}
	s := fmt.Sprintf("%s after %s: %s, %s, %s", outcome, shortDuration(f.Duration), plural(len(f.Waves), "wave"), plural(f.Syncs, "sync"), plural(f.Desired, "desired node"))
	if len(f.Stalls) > 0 {
		var rs []string
		for _, st := range f.Stalls {
			rs = append(rs, string(st.Reason))
		}
		s += " (" + strings.Join(rs, ", ") + ")"
	}
	return s
}

// Text writes f in words: the summary, each wave with its nodes and the
// reasons the others wait, and the stalls.
func (f Forecast) Text(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintln(b, f.Summary())
	for i, wv := range f.Waves {
		shown := wv.Nodes[:min(len(wv.Nodes), 8)]
		more := ""
		if len(wv.Nodes) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(wv.Nodes)-len(shown))
		}
		fmt.Fprintf(b, "wave %d at %s (sync %d): %s: %s%s\n", i+1, shortDuration(wv.At), wv.Sync, plural(len(wv.Nodes), "node"), strings.Join(shown, " "), more)
		for _, wc := range wv.Waiting {
			fmt.Fprintf(b, "  %d wait: %s (e.g. %s)\n", wc.Count, wc.Reason, strings.Join(wc.Nodes, " "))
		}
	}
	for _, st := range f.Stalls {
		fmt.Fprintln(b, "stall:", st)
	}
	if f.Err != nil {
		fmt.Fprintln(b, "last sync failed:", f.Err)
	}
	return b.Flush()
}

// shortDuration prints d rounded to the second, or in milliseconds below
// one.
func shortDuration(d time.Duration) string {
	if d > 0 && d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// plural is "1 thing" or "N things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
