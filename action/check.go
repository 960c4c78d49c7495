package action

import (
	"context"
	"fmt"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
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

// check is Check on the units keys, the cluster reached.
func (c *Configuration) check(ctx context.Context, keys []string) error {
	var problems []string
	seen := map[string]bool{}
	for _, k := range keys {
		name, phase := components.SplitUnit(k)
		comp, _ := c.registry.Get(name)
		p, _ := comp.Phase(phase)
		if (p.Kind == components.Helm || p.Kind == components.Manifest) && !seen["objects "+name] {
			seen["objects "+name] = true
			if err := c.stack.CheckObjects(comp); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		}
		switch {
		case p.Kind == components.Helm && !seen[name]:
			seen[name] = true
			if _, err := c.stack.Release(ctx, comp); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		case p.Kind == components.Database && !seen["database "+name]:
			seen["database "+name] = true
			if err := c.stack.CheckGrants(name); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		case p.Kind == components.OpenStack && phase == "catalog" && c.runner.Config.Endpoints.Domain == "":
			if !seen["domain"] {
				seen["domain"] = true
				problems = append(problems, fmt.Sprintf("%s: the service catalog needs the public domain: set openstack_helm_endpoints_keystone_api_host (identity.<domain>) in the inventory", k))
			}
		}
	}
	if len(problems) > 0 {
		return &UsageError{Err: fmt.Errorf("%d problems, nothing was changed:\n  %s", len(problems), strings.Join(problems, "\n  "))}
	}
	return nil
}

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
