package cmd

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/helmdeployer"
	"github.com/vexxhost/atmosphere-go/dag"
)

type planOptions struct {
	kube        kubeFlags
	inventory   string
	tags        []string
	concurrency int
	resources   resourceFlag
	charts      []string
	state       string
}

// DefaultConcurrency is the cap on units in flight unless told otherwise.
const DefaultConcurrency = 16

func (a *app) newPlan() *cobra.Command {
	o := &planOptions{resources: resourceFlag{}}
	c := &cobra.Command{
		Use:   "plan",
		Short: "Show what a deploy would do, its order, critical path and ETA; changes nothing",
		Long: "Show when each unit of work would start and how long it is expected to take,\n" +
			"the critical path and the ETA, by running the scheduler on a virtual clock.\n" +
			"With a cluster (--kubeconfig, --context or $KUBECONFIG) it also shows what each\n" +
			"unit would change (install, upgrade and why: chart, values, images; unchanged),\n" +
			"and takes the durations the last deploy measured. Touches nothing.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.plan(cmd.Context(), o)
		},
	}
	o.kube.add(c.Flags())
	tagsFlag(c.Flags(), &o.tags)
	inventoryFlag(c.Flags(), &o.inventory)
	c.Flags().IntVar(&o.concurrency, "concurrency", DefaultConcurrency, "cap on units in flight (0: no cap)")
	c.Flags().Var(o.resources, "resource", "cap a resource, name=N (repeatable; overrides the registry's caps)")
	c.Flags().StringArrayVar(&o.charts, "charts", nil, "a directory of unpacked charts to take pinned charts from (repeatable)")
	c.Flags().StringVar(&o.state, "state-namespace", DefaultStateNamespace, "namespace of atmosphere's measured durations")
	return c
}

func (a *app) plan(ctx context.Context, o *planOptions) error {
	if o.concurrency < 0 {
		return usagef("--concurrency %d: want 0 (no cap) or more", o.concurrency)
	}
	inv, s, err := a.load(o.inventory)
	if err != nil {
		return err
	}
	cfg := s.Config
	names, err := a.selected(cfg, o.tags)
	if err != nil {
		return err
	}
	var e *deployEnv
	var measured map[string]time.Duration
	if o.kube.kubeconfig != "" || o.kube.context != "" || os.Getenv("KUBECONFIG") != "" {
		do := &deployOptions{kube: o.kube, charts: o.charts, state: o.state}
		if e, err = a.connect(ctx, do, inv, s); err != nil {
			return err
		}
		if measured, err = e.durations.Load(ctx); err != nil {
			return err
		}
	}
	full, err := a.registry.Graph(cfg, components.GraphOptions{Durations: measured})
	if err != nil {
		return err
	}
	g := full
	if names != nil {
		if g, err = full.Subgraph(components.Units(full, names), true); err != nil {
			return err
		}
	}
	if g.Len() == 0 {
		return fmt.Errorf("no units to plan")
	}
	caps := components.DefaultCaps()
	maps.Copy(caps, o.resources)
	return a.writePlan(ctx, e, g, cfg.NetworkBackend, o.concurrency, caps, len(measured) > 0)
}

// writePlan prints the simulated order of g's units, with what each would
// change when e (the cluster) is given, the critical path and the ETA.
func (a *app) writePlan(ctx context.Context, e *deployEnv, g *dag.Graph[string], backend string, concurrency int, caps map[string]int, measured bool) error {
	opts := dag.Options[string]{Concurrency: concurrency, Resources: caps}
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
	var changes map[string]string
	if e != nil {
		if changes, err = e.changes(ctx, a.registry, g.Keys()); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for _, n := range nodes {
		name, _ := components.SplitUnit(n.Key)
		names[name] = true
	}
	w := a.streams.Out
	source := "the registry's estimates"
	if measured {
		source = "the durations the last deploys measured"
	}
	fmt.Fprintf(w, "%d units of %d components, %s network backend; times from %s\n\n", len(nodes), len(names), backend, source)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "START\tESTIMATE\tUNIT\tWORK\tNEEDS"
	if changes != nil {
		header = "START\tESTIMATE\tUNIT\tWORK\tCHANGE\tNEEDS"
	}
	fmt.Fprintln(tw, header)
	for _, n := range nodes {
		node, _ := g.Node(n.Key)
		needs := "-"
		if len(node.Needs) > 0 {
			needs = strings.Join(node.Needs, ", ")
		}
		name, phase := components.SplitUnit(n.Key)
		c, _ := a.registry.Get(name)
		p, _ := c.Phase(phase)
		if changes != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", clock(n.Start.Sub(res.Start)), n.Duration(), n.Key, p.Kind, changes[n.Key], needs)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", clock(n.Start.Sub(res.Start)), n.Duration(), n.Key, p.Kind, needs)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncritical path (%s): %s\n", length, strings.Join(path, " → "))
	_, err = fmt.Fprintf(w, "ETA: %s with concurrency %s, resources %s\n", res.Makespan(), capText(concurrency), resourceFlag(caps))
	return err
}

// changes says what each unit would do to the cluster, touching nothing.
func (e *deployEnv) changes(ctx context.Context, reg *components.Registry, keys []string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keys {
		name, phase := components.SplitUnit(k)
		c, _ := reg.Get(name)
		p, _ := c.Phase(phase)
		switch p.Kind {
		case components.Helm:
			rel, err := e.stack.Release(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("plan %s: %w", k, err)
			}
			dec, err := e.helm.Plan(ctx, rel)
			if err != nil {
				return nil, fmt.Errorf("plan %s: %w", k, err)
			}
			out[k] = string(dec.Action)
			if len(dec.Reasons) > 0 && dec.Action != helmdeployer.Unchanged {
				out[k] += " (" + strings.Join(dec.Reasons, ", ") + ")"
			}
		case components.Manifest:
			found, _, err := e.applier.Applied(ctx, c.Name, c.Namespace)
			if err != nil {
				return nil, fmt.Errorf("plan %s: %w", k, err)
			}
			out[k] = "apply (new)"
			if found {
				out[k] = "apply (server-side; unchanged objects stay)"
			}
		case components.OpenStack:
			out[k] = "converge (creates only what is missing or different)"
		default:
			out[k] = "provided by the environment"
		}
	}
	return out, nil
}

// clock formats an offset as h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
