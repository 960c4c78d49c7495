package cmd

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

type planOptions struct {
	inventory   string
	tags        []string
	concurrency int
	resources   resourceFlag
}

// DefaultConcurrency is the cap on units in flight unless told otherwise.
const DefaultConcurrency = 16

func (a *app) newPlan() *cobra.Command {
	o := &planOptions{resources: resourceFlag{}}
	c := &cobra.Command{
		Use:   "plan",
		Short: "Show the order of work, its critical path and an ETA; changes nothing",
		Long: "Show when each unit of work would start and how long it is expected to take,\n" +
			"the critical path and the ETA, from the registry's estimates, by running the\n" +
			"scheduler on a virtual clock. Touches nothing.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.plan(o)
		},
	}
	tagsFlag(c.Flags(), &o.tags)
	inventoryFlag(c.Flags(), &o.inventory)
	c.Flags().IntVar(&o.concurrency, "concurrency", DefaultConcurrency, "cap on units in flight (0: no cap)")
	c.Flags().Var(o.resources, "resource", "cap a resource, name=N (repeatable; overrides the registry's caps)")
	return c
}

func (a *app) plan(o *planOptions) error {
	if o.concurrency < 0 {
		return usagef("--concurrency %d: want 0 (no cap) or more", o.concurrency)
	}
	s, err := a.settings(o.inventory)
	if err != nil {
		return err
	}
	cfg := s.Config
	g, err := a.unitGraph(cfg, o.tags, components.GraphOptions{})
	if err != nil {
		return err
	}
	if g.Len() == 0 {
		return fmt.Errorf("no units to plan")
	}
	caps := components.DefaultCaps()
	maps.Copy(caps, o.resources)
	opts := dag.Options[string]{Concurrency: o.concurrency, Resources: caps}
	res, err := dag.Simulate(g, func(k string) (time.Duration, error) {
		n, _ := g.Node(k)
		return n.Cost, nil
	}, opts)
	if err != nil {
		return err
	}
	path, length, err := g.CriticalPath()
	if err != nil {
		return err
	}
	nodes := slices.Collect(maps.Values(res.Nodes))
	slices.SortFunc(nodes, func(x, y dag.NodeResult[string]) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	names := map[string]bool{}
	for _, n := range nodes {
		name, _ := components.SplitUnit(n.Key)
		names[name] = true
	}
	w := a.streams.Out
	fmt.Fprintf(w, "%d units of %d components, %s network backend\n\n", len(nodes), len(names), cfg.NetworkBackend)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tESTIMATE\tUNIT\tNEEDS")
	for _, n := range nodes {
		node, _ := g.Node(n.Key)
		needs := "-"
		if len(node.Needs) > 0 {
			needs = strings.Join(node.Needs, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", clock(n.Start.Sub(res.Start)), n.Duration(), n.Key, needs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncritical path (%s): %s\n", length, strings.Join(path, " → "))
	_, err = fmt.Fprintf(w, "ETA: %s with concurrency %s, resources %s\n", res.Makespan(), capText(o.concurrency), resourceFlag(caps))
	return err
}

// clock formats an offset as h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
