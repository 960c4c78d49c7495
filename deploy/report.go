package deploy

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

// UnitReport is what became of one unit of a deploy.
type UnitReport struct {
	Unit, Component, Phase string
	// Work is the kind of work of the unit's phase (helm, openstack, ...).
	Work components.Kind
	// Result is Succeeded, Unchanged, Failed, Skipped or Cancelled.
	Result Kind
	// Detail says what the work did ("install", "upgrade: values").
	Detail string
	// Error is why it failed or never ran.
	Error string
	// Ready is when its needs were done; Start and End bound its work
	// (zero for a unit that never ran).
	Ready, Start, End time.Time
	// Critical marks the units of the chain that set the run's end.
	Critical bool
}

// Ran reports whether the unit's work ran.
func (u UnitReport) Ran() bool { return !u.Start.IsZero() }

// Duration is how long its work took.
func (u UnitReport) Duration() time.Duration { return u.End.Sub(u.Start) }

// Wait is how long it waited for a slot or a resource once ready.
func (u UnitReport) Wait() time.Duration {
	if !u.Ran() || u.Ready.IsZero() {
		return 0
	}
	return u.Start.Sub(u.Ready)
}

// Report is the outcome of a deploy, unit by unit.
type Report struct {
	Start, End time.Time
	// Units holds every unit: those that ran by start, then the others by
	// name.
	Units []UnitReport
	// Chain is the chain of units that set the run's end, first to last:
	// each waited for the one before it (its need, or the slot it took).
	Chain []string
}

func newReport(reg *components.Registry, g *dag.Graph[string], res *dag.Result[string], outcomes map[string]outcome) *Report {
	r := &Report{Start: res.Start, End: res.End, Chain: res.Chain(g)}
	critical := map[string]bool{}
	for _, k := range r.Chain {
		critical[k] = true
	}
	for _, key := range slices.Sorted(maps.Keys(res.Nodes)) {
		n := res.Nodes[key]
		u := UnitReport{Unit: key, Ready: n.Ready, Start: n.Start, End: n.End, Critical: critical[key]}
		u.Component, u.Phase = components.SplitUnit(key)
		if c, ok := reg.Get(u.Component); ok {
			if p, ok := c.Phase(u.Phase); ok {
				u.Work = p.Kind
			}
		}
		o := outcomes[key]
		u.Detail = o.detail
		switch n.Status {
		case dag.Succeeded:
			u.Result = Succeeded
			if o.unchanged {
				u.Result = Unchanged
			}
		case dag.Failed:
			u.Result, u.Error = Failed, rootCause(key, n.Err)
		case dag.Skipped:
			u.Result, u.Error = Skipped, notRunReason(n)
		default:
			u.Result, u.Error = Cancelled, notRunReason(n)
		}
		r.Units = append(r.Units, u)
	}
	slices.SortStableFunc(r.Units, func(a, b UnitReport) int {
		if a.Ran() != b.Ran() {
			if a.Ran() {
				return -1
			}
			return 1
		}
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Unit, b.Unit))
	})
	return r
}

// Took is the wall time of the run.
func (r *Report) Took() time.Duration { return r.End.Sub(r.Start) }

// Count returns how many units ended with each result.
func (r *Report) Count() map[Kind]int {
	out := map[Kind]int{}
	for _, u := range r.Units {
		out[u.Result]++
	}
	return out
}

// Summary is one line: the wall time and the count of each result.
func (r *Report) Summary() string {
	c := r.Count()
	parts := []string{fmt.Sprintf("%d units in %s", len(r.Units), r.Took().Round(time.Millisecond))}
	for _, k := range []Kind{Succeeded, Unchanged, Failed, Skipped, Cancelled} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// Measured returns the durations worth keeping for the next run's ranking
// and ETA: those of units that did work (a unit found unchanged took no
// time that says how long its work takes).
func (r *Report) Measured() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, u := range r.Units {
		if u.Result == Succeeded && u.Work != components.Ansible {
			out[u.Unit] = u.Duration()
		}
	}
	return out
}

// chainLength is the time from the start of the run to the end of the
// chain's last unit.
func (r *Report) chainLength() time.Duration {
	var end time.Time
	for _, u := range r.Units {
		if u.Critical && u.End.After(end) {
			end = u.End
		}
	}
	if end.IsZero() {
		return 0
	}
	return end.Sub(r.Start)
}

// offset formats a time of the run as m:ss from its start.
func (r *Report) offset(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(r.Start).Round(time.Second)
	s := int(d.Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func seconds(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < 10*time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// WriteMarkdown writes the report as Markdown: a summary, the critical
// chain, one table row per unit (start, wait, duration, what it did) and
// the failures with their errors.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Deploy timing report\n\n")
	fmt.Fprintf(&b, "Started %s: %s.\n\n", r.Start.UTC().Format(time.RFC3339), r.Summary())
	if len(r.Chain) > 0 {
		fmt.Fprintf(&b, "Critical chain (%s to its end): %s.\n\n", seconds(r.chainLength()), strings.Join(r.Chain, " → "))
	}
	b.WriteString("| unit | work | result | start | wait | duration | detail |\n")
	b.WriteString("|------|------|--------|------:|-----:|---------:|--------|\n")
	for _, u := range r.Units {
		name := u.Unit
		if u.Critical {
			name = "**" + name + "**"
		}
		wait, took := "-", "-"
		if u.Ran() {
			wait, took = seconds(u.Wait()), seconds(u.Duration())
		}
		detail := u.Detail
		if u.Result != Succeeded && u.Result != Unchanged {
			detail = u.Error
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", name, u.Work, u.Result, r.offset(u.Start), wait, took, cell(detail))
	}
	var failed []UnitReport
	for _, u := range r.Units {
		if u.Result == Failed {
			failed = append(failed, u)
		}
	}
	if len(failed) > 0 {
		b.WriteString("\n## Failures\n\n")
		for _, u := range failed {
			fmt.Fprintf(&b, "- `%s`: %s\n", u.Unit, u.Error)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// Colours of the Gantt chart, by result.
var barColour = map[Kind]string{
	Succeeded: "#4c9a2a",
	Unchanged: "#9aa5b1",
	Failed:    "#c62828",
}

// WriteSVG writes the report as an SVG Gantt chart: one row per unit that
// ran, its wait before it (pale) and its work (coloured by result), the
// critical chain outlined, a time axis, and a tooltip per bar.
func (r *Report) WriteSVG(w io.Writer) error {
	var ran []UnitReport
	for _, u := range r.Units {
		if u.Ran() {
			ran = append(ran, u)
		}
	}
	const (
		label  = 300 // width of the unit names (40 characters)
		chartW = 900
		row    = 16
		top    = 58
		pad    = 12
	)
	total := r.Took()
	if total <= 0 {
		total = time.Second
	}
	x := func(t time.Time) float64 {
		return label + float64(chartW)*float64(t.Sub(r.Start))/float64(total)
	}
	height := top + row*len(ran) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="monospace" font-size="11">`+"\n", label+chartW+pad*2, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", pad, html.EscapeString("atmosphere deploy: "+r.Summary()))
	legend := []struct{ colour, text string }{
		{barColour[Succeeded], "changed"}, {barColour[Unchanged], "unchanged"}, {barColour[Failed], "failed"},
		{"#e3e8ee", "waiting for a slot"}, {"none", "critical chain"},
	}
	lx := pad
	for _, l := range legend {
		stroke := ""
		if l.colour == "none" {
			stroke = ` stroke="#ff8f00" stroke-width="2"`
		}
		fmt.Fprintf(&b, `<rect x="%d" y="27" width="12" height="10" fill="%s"%s/><text x="%d" y="36">%s</text>`+"\n", lx, l.colour, stroke, lx+16, l.text)
		lx += 16 + 7*len(l.text) + 18
	}
	// Time axis.
	step := tickStep(total)
	axisY := top - 6
	for t := time.Duration(0); t <= total; t += step {
		tx := label + float64(chartW)*float64(t)/float64(total)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eeeeee"/>`, tx, axisY, tx, height-24)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n", tx, axisY-2, shortDuration(t))
	}
	for i, u := range ran {
		y := top + i*row
		weight := ""
		if u.Critical {
			weight = ` font-weight="bold"`
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end"%s>%s</text>`, label-6, y+11, weight, html.EscapeString(u.Unit))
		b.WriteString("\n")
		if u.Wait() > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#e3e8ee"/>`, x(u.Ready), y+2, x(u.Start)-x(u.Ready), row-4)
		}
		colour := barColour[u.Result]
		stroke := ""
		if u.Critical {
			stroke = ` stroke="#ff8f00" stroke-width="2"`
		}
		width := max(x(u.End)-x(u.Start), 1)
		tip := fmt.Sprintf("%s: %s in %s (waited %s)", u.Unit, u.Result, seconds(u.Duration()), seconds(u.Wait()))
		if u.Detail != "" {
			tip += ": " + u.Detail
		}
		if u.Error != "" {
			tip += ": " + u.Error
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"%s><title>%s</title></rect>`+"\n",
			x(u.Start), y+2, width, row-4, colour, stroke, html.EscapeString(tip))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// tickStep picks an axis step giving at most a dozen ticks.
func tickStep(total time.Duration) time.Duration {
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600} {
		if d := time.Duration(s) * time.Second; total/d <= 12 {
			return d
		}
	}
	return 2 * time.Hour
}

func shortDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}
