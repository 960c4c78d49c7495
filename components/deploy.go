package components

import (
	"context"
	"fmt"

	"github.com/vexxhost/atmosphere-go/dag"
)

// Deployer does the work of one phase of one component.
type Deployer interface {
	Deploy(ctx context.Context, c *Component, phase Phase) error
}

// DeployerFunc adapts a function to Deployer.
type DeployerFunc func(ctx context.Context, c *Component, phase Phase) error

// Deploy calls f.
func (f DeployerFunc) Deploy(ctx context.Context, c *Component, phase Phase) error {
	return f(ctx, c, phase)
}

// ByKind hands each phase to the deployer of its kind.
type ByKind map[Kind]Deployer

// Deploy calls the deployer of the phase's kind.
func (b ByKind) Deploy(ctx context.Context, c *Component, phase Phase) error {
	d, ok := b[phase.Kind]
	if !ok {
		return fmt.Errorf("%s: phase %s: no deployer for %s work", c.Name, phase.Name, phase.Kind)
	}
	return d.Deploy(ctx, c, phase)
}

// Run deploys every unit of g, a graph made by r.Graph, with d, under the
// scheduler options. A whole-component unit runs the component's phases in
// order. Errors name the component and phase.
func (r *Registry) Run(ctx context.Context, g *dag.Graph[string], d Deployer, opts dag.Options[string]) (*dag.Result[string], error) {
	return dag.Run(ctx, g, func(ctx context.Context, key string) error {
		name, phase := SplitUnit(key)
		c, ok := r.byName[name]
		if !ok {
			return fmt.Errorf("unit %s: no component %s", key, name)
		}
		for _, p := range c.Phases {
			if phase != "" && p.Name != phase {
				continue
			}
			if err := d.Deploy(ctx, c, p); err != nil {
				return fmt.Errorf("%s %s: %w", c.Name, p.Name, err)
			}
		}
		return nil
	}, opts)
}
