package cmd

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

type simulateOptions struct {
	timings  string
	phases   string
	schedule scheduleFlags
}

func (a *app) newSimulate() *cobra.Command {
	o := &simulateOptions{}
	c := &cobra.Command{
		Use:   "simulate --timings FILE",
		Short: "Replay measured durations through the scheduler on a virtual clock",
		Long: "Replay a CSV of measured durations (component,seconds) through the real\n" +
			"scheduler on a virtual clock, and print the makespan beside its lower bounds:\n" +
			"the critical path, the work over the concurrency cap, each resource's work over\n" +
			"its cap, and the resource-aware path bound. Every component of the registry\n" +
			"takes part; one missing from the file takes no time.\n\n" +
			"Without --phases a component is one unit that needs what all its phases need;\n" +
			"with it, each phase is a unit, timed by the phases file (component:phase,seconds)\n" +
			"or, where a phase is missing there, by its share of the component's time.",
		Example: "  atmosphere simulate --timings durations.csv --resource apt=1 --resource containerd=1",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.simulate(o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.timings, "timings", "", "CSV of component,seconds (required)")
	f.StringVar(&o.phases, "phases", "", "CSV of component:phase,seconds: simulate phases as separate units")
	o.schedule.add(f, 0)
	return c
}

func (a *app) readTimings(path string, phases bool) (map[string]time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	defer f.Close()
	d, err := a.registry.ReadTimings(f, path, phases)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	return d, nil
}

func (a *app) simulate(o *simulateOptions) error {
	if o.timings == "" {
		return usagef("--timings FILE is required")
	}
	if o.schedule.concurrency < 0 {
		return usagef("--concurrency %d: want 0 (no cap) or more", o.schedule.concurrency)
	}
	durations, err := a.readTimings(o.timings, false)
	if err != nil {
		return err
	}
	split := o.phases != ""
	if split {
		phaseDurations, err := a.readTimings(o.phases, true)
		if err != nil {
			return err
		}
		maps.Copy(durations, phaseDurations)
	}
	// The deploy that was timed ran the components the file times: one it
	// does not time is left out, with the needs it would add (a CSI
	// driver but the one that deploy picked).
	var timed, untimed []string
	for _, name := range a.registry.Names() {
		if _, ok := durations[name]; ok {
			timed = append(timed, name)
		} else {
			untimed = append(untimed, name)
		}
	}
	g, err := a.registry.Graph(components.Config{}, components.GraphOptions{
		Only: timed, WholeComponents: !split, Durations: durations,
	})
	if err != nil {
		return err
	}
	caps := components.DefaultCaps()
	maps.Copy(caps, o.schedule.resources)
	opts := dag.Options[string]{Concurrency: o.schedule.concurrency, Resources: caps}
	res, err := dag.Simulate(g, func(k string) (time.Duration, error) {
		n, _ := g.Node(k)
		return n.Cost, nil
	}, opts)
	if err != nil {
		return err
	}
	bounds, err := dag.LowerBounds(g, opts)
	if err != nil {
		return err
	}
	w := a.streams.Out
	fmt.Fprintf(w, "units: %d (%s); concurrency: %s; resources: %s\n",
		g.Len(), map[bool]string{false: "one per component", true: "one per phase"}[split],
		action.CapText(o.schedule.concurrency), resourceFlag(caps))
	if len(untimed) > 0 {
		fmt.Fprintf(w, "not in %s, left out: %s\n", o.timings, strings.Join(untimed, ", "))
	}
	fmt.Fprintf(w, "makespan: %s\n", seconds(res.Makespan()))
	fmt.Fprintf(w, "schedule's critical chain: %s\n", chainText(res, g))
	return writeBounds(w, res.Makespan(), bounds)
}

func writeBounds(w io.Writer, makespan time.Duration, b dag.Bounds[string]) error {
	type row struct{ name, value, note string }
	rows := []row{{"critical path", seconds(b.CriticalPath), strings.Join(b.Path, " → ")}}
	if b.Work > 0 {
		rows = append(rows, row{"work / concurrency", seconds(b.Work), ""})
	}
	for _, r := range slices.Sorted(maps.Keys(b.Resource)) {
		rows = append(rows, row{"resource " + r, seconds(b.Resource[r]), ""})
	}
	rows = append(rows, row{"resource-aware path", seconds(b.ResourcePath), "at " + b.ResourcePathNode})
	nameWidth, valueWidth := 0, 0
	for _, r := range rows {
		nameWidth, valueWidth = max(nameWidth, len(r.name)), max(valueWidth, len(r.value))
	}
	fmt.Fprintln(w, "lower bounds:")
	for _, r := range rows {
		line := fmt.Sprintf("  %-*s  %*s  %s", nameWidth, r.name, valueWidth, r.value, r.note)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	lb, _ := b.Max()
	ratio := 1.0
	if lb > 0 {
		ratio = float64(makespan) / float64(lb)
	}
	_, err := fmt.Fprintf(w, "makespan=%s lower_bound=%s ratio=%.3f\n",
		strconv.FormatFloat(makespan.Seconds(), 'f', -1, 64),
		strconv.FormatFloat(lb.Seconds(), 'f', -1, 64), ratio)
	return err
}

// chainText shows the schedule's critical chain with each unit's span.
func chainText(res *dag.Result[string], g *dag.Graph[string]) string {
	var parts []string
	for _, k := range res.Chain(g) {
		n := res.Nodes[k]
		parts = append(parts, fmt.Sprintf("%s [%s–%s]", k,
			seconds(n.Start.Sub(res.Start)), seconds(n.End.Sub(res.Start))))
	}
	return strings.Join(parts, " → ")
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
