package action

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// Check finds every problem of the input that the units of the named
// components (all when Tags is empty), with what they need, would meet,
// before anything is changed: charts that do not load or verify, values
// that do not render, set-up that lacks what it needs. It reaches the
// cluster (charts' values read the secrets store) but writes nothing.
type Check struct {
	Config *Configuration
	// Tags names components; all the inventory enables when empty.
	Tags []string
}

// Run returns nil when the input has no problem, else a UsageError listing
// every problem.
func (o *Check) Run(ctx context.Context) error {
	_, s, err := o.Config.Settings()
	if err != nil {
		return err
	}
	names, err := o.Config.selected(s.Config, o.Tags)
	if err != nil {
		return err
	}
	full, err := o.Config.registry.Graph(s.Config, components.GraphOptions{})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	keys, err := o.Config.unitsToRun(full, names, false, nil)
	if err != nil {
		return err
	}
	if err := o.Config.connectStack(ctx); err != nil {
		return err
	}
	return o.Config.check(ctx, keys)
}

// check is Check on the units keys, the cluster reached: each unit is
// checked by the engine of its kind, several at once (rendering a chart's
// values is processor work, and its reads of the cluster wait), and a
// problem several units meet is listed once, in the order of keys; then
// the secrets that the units' releases made by another tool hold and the
// run would change (secretProblems) are problems too.
func (c *Configuration) check(ctx context.Context, keys []string) error {
	found := make([][]engine.Problem, len(keys))
	var g errgroup.Group
	g.SetLimit(checkParallelism)
	for i, k := range keys {
		comp, p := c.unit(k)
		e, err := c.engine(p.Kind)
		if err != nil {
			return fmt.Errorf("check %s: %w", k, err)
		}
		g.Go(func() error {
			found[i] = e.Check(ctx, comp, p)
			return nil
		})
	}
	_ = g.Wait() // the checks return problems, never an error
	if err := ctx.Err(); err != nil {
		return err
	}
	var problems []string
	seen := map[string]bool{}
	for _, unit := range found {
		for _, problem := range unit {
			if !seen[problem.About] {
				seen[problem.About] = true
				problems = append(problems, problem.Err.Error())
			}
		}
	}
	// A secret the running cloud holds that the run would change.
	secretProblems, err := c.secretProblems(ctx, keys)
	if err != nil {
		return err
	}
	problems = append(problems, secretProblems...)
	if len(problems) > 0 {
		return &UsageError{Err: fmt.Errorf("%d problems, nothing was changed:\n  %s", len(problems), strings.Join(problems, "\n  "))}
	}
	return nil
}

// checkParallelism bounds the units checked at once: enough to keep the
// processors busy while some wait on the cluster, few enough not to crowd
// the API server.
var checkParallelism = max(4, runtime.GOMAXPROCS(0))

// knobProblems are the inventory's variables of the wrong type among the
// knobs of the components its settings enable (atmosphere's default
// components when the settings have problems of their own), each named by
// its file and key: every verb refuses them before it starts.
func (c *Configuration) knobProblems(inv *inventory.Inventory, s *inventory.Settings) inventory.Problems {
	cfg := components.DefaultConfig()
	if s != nil {
		cfg = s.Config
	}
	var out inventory.Problems
	for _, p := range c.registry.CheckKnobs(cfg, inv.Vars) {
		out = append(out, inv.ProblemWith(p.Key, p.Message))
	}
	return out
}
