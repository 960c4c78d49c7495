package action

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/manifestdiff"
)

// Plan shows what a deploy would do — when each unit would start and how
// long it is expected to take, the critical path and the ETA — by running
// the scheduler on a virtual clock. With Cluster it also says what each
// unit would change, with the durations the last deploy measured. It
// changes nothing.
type Plan struct {
	Config *Configuration
	// Tags narrows the plan to these components and what they need.
	Tags []string
	// SkipTags leaves out components or units (component or
	// component:phase), as a deploy's RunOptions.SkipTags does.
	SkipTags []string
	// Concurrency caps the units in flight; 0 is no cap.
	Concurrency int
	// Resources override the registry's caps of named resources.
	Resources map[string]int
	// Cluster reaches the cluster of the Configuration to read what each
	// unit would change and the measured durations.
	Cluster bool
}

// PlanUnit is one unit of a plan.
type PlanUnit struct {
	Unit string `json:"unit"`
	// Start is when it would start, from the start of the run.
	Start    time.Duration   `json:"start"`
	Estimate time.Duration   `json:"estimate"`
	Kind     components.Kind `json:"kind"`
	// Change is what it would do to the cluster (install, upgrade and
	// why, unchanged); empty without the cluster.
	Change string `json:"change,omitempty"`
	// Diff is the unified diff of what it would apply (RunOptions.Diff),
	// empty when nothing would change or its work shows no diff.
	Diff  string   `json:"diff,omitempty"`
	Needs []string `json:"needs,omitempty"`
}

// PlanResult is a plan: its units in the order they would start.
type PlanResult struct {
	Units []PlanUnit
	// Components is how many components the units are of.
	Components     int
	NetworkBackend string
	// Measured says the times are the durations the last deploys
	// measured rather than the registry's estimates.
	Measured bool
	// Changes says Change was read from the cluster.
	Changes            bool
	CriticalPath       []string
	CriticalPathLength time.Duration
	ETA                time.Duration
	Concurrency        int
	Resources          map[string]int
	// Secrets are, with Changes, the secrets the run would use that the
	// inventory does not set and the secrets store does not hold yet:
	// generated, or taken from the running cloud (and where).
	Secrets []SecretSource `json:",omitempty"`
}

// Run makes the plan. A bad inventory or tag is a UsageError; a cluster
// that cannot be reached is Reach's error.
func (o *Plan) Run(ctx context.Context) (*PlanResult, error) {
	if o.Concurrency < 0 {
		return nil, usagef("--concurrency %d: want 0 (no cap) or more", o.Concurrency)
	}
	c := o.Config
	_, s, err := c.Settings()
	if err != nil {
		return nil, err
	}
	cfg := s.Config
	names, err := c.selected(cfg, o.Tags)
	if err != nil {
		return nil, err
	}
	var measured map[string]time.Duration
	if o.Cluster {
		if err := c.connectStack(ctx); err != nil {
			return nil, err
		}
		if measured, err = c.durations.Load(ctx); err != nil {
			return nil, fmt.Errorf("read the measured durations: %w", err)
		}
	}
	caps := components.DefaultCaps()
	maps.Copy(caps, o.Resources)
	gopts := components.GraphOptions{Durations: measured}
	full, err := c.registry.Graph(cfg, gopts)
	if err != nil {
		return nil, err
	}
	if o.Cluster {
		// Ansible units hold their host locks per host.
		if gopts, caps, err = c.hostGraph(ctx, full.Keys(), gopts, caps); err != nil {
			return nil, err
		}
		if full, err = c.registry.Graph(cfg, gopts); err != nil {
			return nil, err
		}
	}
	g := full
	if names != nil || len(o.SkipTags) > 0 {
		// The units the same selection's deploy would run.
		keys, err := c.unitsToRun(full, names, false, o.SkipTags)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, usagef("nothing to plan: every unit is left out by --skip-tags")
		}
		if g, err = full.Subgraph(keys, false); err != nil {
			return nil, err
		}
	}
	if g.Len() == 0 {
		return nil, fmt.Errorf("no units to plan")
	}
	return c.plan(ctx, g, cfg.NetworkBackend, o.Concurrency, caps, len(measured) > 0, o.Cluster, false)
}

// plan simulates g's units and, when withChanges (the cluster reached),
// decides what each would change, and with withDiff shows it as a diff,
// touching nothing.
func (c *Configuration) plan(ctx context.Context, g *dag.Graph[string], backend string, concurrency int, caps map[string]int, measured, withChanges, withDiff bool) (*PlanResult, error) {
	opts := dag.Options[string]{Concurrency: concurrency, Resources: caps}
	res, err := dag.Simulate(g, func(k string) (time.Duration, error) {
		n, _ := g.Node(k)
		return n.Cost, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	path, length, err := g.CriticalPath()
	if err != nil {
		return nil, err
	}
	nodes := slices.Collect(maps.Values(res.Nodes))
	slices.SortFunc(nodes, func(x, y dag.NodeResult[string]) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	var changes, diffs map[string]string
	if withChanges {
		if changes, err = c.changes(ctx, g.Keys()); err != nil {
			return nil, err
		}
	}
	if withDiff {
		if diffs, err = c.diffs(ctx, g.Keys(), changes); err != nil {
			return nil, err
		}
	}
	out := &PlanResult{NetworkBackend: backend, Measured: measured, Changes: withChanges, CriticalPath: path,
		CriticalPathLength: length, ETA: res.Makespan(), Concurrency: concurrency, Resources: caps}
	names := map[string]bool{}
	for _, n := range nodes {
		node, _ := g.Node(n.Key)
		name, phase := components.SplitUnit(n.Key)
		names[name] = true
		comp, _ := c.registry.Get(name)
		p, _ := comp.Phase(phase)
		out.Units = append(out.Units, PlanUnit{Unit: n.Key, Start: n.Start.Sub(res.Start), Estimate: n.Duration(),
			Kind: p.Kind, Change: changes[n.Key], Diff: diffs[n.Key], Needs: node.Needs})
	}
	out.Components = len(names)
	if withChanges {
		// Rendering the units' changes peeked at every secret they need.
		out.Secrets = c.secretSources()
	}
	return out, nil
}

// changes says what each unit would do to the cluster, as the engine of
// its kind plans it, touching nothing.
func (c *Configuration) changes(ctx context.Context, keys []string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keys {
		comp, p := c.unit(k)
		e, err := c.engine(p.Kind)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", k, err)
		}
		change, err := e.Plan(ctx, comp, p)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", k, err)
		}
		out[k] = c.redact(change.String())
	}
	return out, nil
}

// diffs shows, for each unit whose engine is an engine.Differ and whose
// change is not "unchanged", what it would apply as a diff, with the
// inventory's decrypted values hidden.
func (c *Configuration) diffs(ctx context.Context, keys []string, changes map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keys {
		comp, p := c.unit(k)
		e, err := c.engine(p.Kind)
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", k, err)
		}
		d, ok := e.(engine.Differ)
		if !ok || changes[k] == "unchanged" {
			continue
		}
		text, err := d.Diff(ctx, comp, p)
		if err != nil {
			return nil, fmt.Errorf("diff %s: %w", k, err)
		}
		if text != "" {
			out[k] = c.hideSecretValues(c.redact(text))
		}
	}
	return out, nil
}

// hideSecretValues hides in a diff every secret the secrets store handed
// out or read and the inventory's own (secrets.Store.Values), wherever it
// stands: the diff hides Secret data and values keys named like a secret,
// but a password can also sit inside a longer string (a connection URL).
// Values shorter than minHiddenSecret are left: none is generated that
// short, and hiding them would hide common words.
func (c *Configuration) hideSecretValues(text string) string {
	if c.secrets == nil {
		return text
	}
	for _, v := range c.secrets.Values() {
		if len(v) >= minHiddenSecret {
			text = strings.ReplaceAll(text, v, "(hidden)")
		}
	}
	return text
}

// minHiddenSecret is the length from which hideSecretValues hides a value.
const minHiddenSecret = 8

// WriteDiffs writes each unit's diff under a line naming the unit, in the
// plan's order, coloured for a terminal when colour (manifestdiff.Colour);
// nothing when no unit has one.
func (p *PlanResult) WriteDiffs(w io.Writer, colour bool) error {
	for _, u := range p.Units {
		if u.Diff == "" {
			continue
		}
		d := u.Diff
		if colour {
			d = manifestdiff.Colour(d)
		}
		if _, err := fmt.Fprintf(w, "\n%s: %s\n%s", u.Unit, u.Change, d); err != nil {
			return err
		}
	}
	return nil
}

// WriteText writes the plan as `atmosphere plan` shows it: a table of the
// units in the order they would start, the critical path and the ETA.
func (p *PlanResult) WriteText(w io.Writer) error {
	source := "the registry's estimates"
	if p.Measured {
		source = "the durations the last deploys measured"
	}
	fmt.Fprintf(w, "%d units of %d components, %s network backend; times from %s\n\n", len(p.Units), p.Components, p.NetworkBackend, source)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "START\tESTIMATE\tUNIT\tWORK\tNEEDS"
	if p.Changes {
		header = "START\tESTIMATE\tUNIT\tWORK\tCHANGE\tNEEDS"
	}
	fmt.Fprintln(tw, header)
	for _, u := range p.Units {
		needs := "-"
		if len(u.Needs) > 0 {
			needs = strings.Join(u.Needs, ", ")
		}
		if p.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", clock(u.Start), u.Estimate, u.Unit, u.Kind, u.Change, needs)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", clock(u.Start), u.Estimate, u.Unit, u.Kind, needs)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncritical path (%s): %s\n", p.CriticalPathLength, strings.Join(p.CriticalPath, " → "))
	if _, err := fmt.Fprintf(w, "ETA: %s with concurrency %s, resources %s\n", p.ETA, CapText(p.Concurrency), CapsText(p.Resources)); err != nil {
		return err
	}
	return writeSecretSources(w, "", "would be", p.Secrets)
}

// CapText shows a concurrency cap: the number, or "no cap" for 0.
func CapText(n int) string {
	if n == 0 {
		return "no cap"
	}
	return strconv.Itoa(n)
}

// CapsText shows resource caps as name=N,… in name order.
func CapsText(caps map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(caps)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, caps[k]))
	}
	return strings.Join(parts, ",")
}

// clock formats an offset as h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
