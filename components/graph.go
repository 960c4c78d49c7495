package components

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
)

// GraphOptions say how to lower the registry into a graph.
type GraphOptions struct {
	// WholeComponents makes one unit per component, keyed by its name, that
	// needs the union of its phases' needs and holds the union of their
	// resources. Without it, each phase is a unit keyed "component:phase".
	WholeComponents bool
	// Durations replaces estimates: keys are unit keys (or component names,
	// for whole components, or for a phase whose own key is missing: then
	// the component's duration is split between its phases in the
	// proportion of their estimates).
	Durations map[string]time.Duration
	// AllComponents ignores the configuration and includes every component,
	// as when replaying timings of a deploy that ran them all.
	AllComponents bool
	// Only, when set, ignores the configuration and includes the
	// components it names and no other, as when replaying the timings of a
	// deploy that ran those (a component it did not run, one of a CSI
	// driver the deploy did not pick among them, would add its needs).
	Only []string
	// Resources, when set, maps the resources a phase declares to those its
	// unit holds: a host lock such as "apt" becomes one per host the phase
	// runs on ("apt@host1", ...), so phases on different hosts need not
	// wait for each other.
	Resources func(c *Component, p Phase) []string
}

// Graph lowers the components cfg enables into a graph of units. Needs on a
// disabled component are dropped; a unit's need on a whole component
// becomes a need on its last phase, since phases run in order.
func (r *Registry) Graph(cfg Config, opts GraphOptions) (*dag.Graph[string], error) {
	g := dag.New[string]()
	enabled := map[string]bool{}
	for _, c := range r.components {
		switch {
		case opts.Only != nil:
			enabled[c.Name] = slices.Contains(opts.Only, c.Name)
		default:
			enabled[c.Name] = opts.AllComponents || c.IsEnabled(cfg)
		}
	}
	// target maps a need to the key it lowers to, or "" when dropped.
	target := func(self *Component, need string) string {
		name, phase, hasPhase := strings.Cut(need, ":")
		if !enabled[name] || name == self.Name && opts.WholeComponents {
			return ""
		}
		if opts.WholeComponents {
			return name
		}
		if !hasPhase {
			c := r.byName[name]
			phase = c.Phases[len(c.Phases)-1].Name
		}
		return UnitKey(name, phase)
	}
	for _, c := range r.components {
		if !enabled[c.Name] {
			continue
		}
		if opts.WholeComponents {
			spec := dag.Spec[string]{Cost: r.duration(c, "", opts.Durations)}
			for _, p := range c.Phases {
				for _, n := range p.Needs {
					if t := target(c, n); t != "" {
						spec.Needs = append(spec.Needs, t)
					}
				}
				spec.Resources = append(spec.Resources, opts.resources(c, p)...)
			}
			if err := g.AddNode(c.Name, spec); err != nil {
				return nil, err
			}
			continue
		}
		for i, p := range c.Phases {
			spec := dag.Spec[string]{Cost: r.duration(c, p.Name, opts.Durations), Resources: opts.resources(c, p)}
			if i > 0 {
				spec.Needs = append(spec.Needs, UnitKey(c.Name, c.Phases[i-1].Name))
			}
			for _, n := range p.Needs {
				if t := target(c, n); t != "" {
					spec.Needs = append(spec.Needs, t)
				}
			}
			if err := g.AddNode(UnitKey(c.Name, p.Name), spec); err != nil {
				return nil, err
			}
		}
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("component graph: %w", err)
	}
	return g, nil
}

// duration gives a unit's cost: an override by unit key, else the
// component's override split by the estimates, else the estimate. An empty
// phase means the whole component.
func (r *Registry) duration(c *Component, phase string, overrides map[string]time.Duration) time.Duration {
	if phase == "" {
		if d, ok := overrides[c.Name]; ok {
			return d
		}
		var sum time.Duration
		for _, p := range c.Phases {
			sum += r.duration(c, p.Name, overrides)
		}
		return sum
	}
	if d, ok := overrides[UnitKey(c.Name, phase)]; ok {
		return d
	}
	p, _ := c.Phase(phase)
	if whole, ok := overrides[c.Name]; ok {
		total := c.Estimate()
		if total == 0 {
			return whole / time.Duration(len(c.Phases))
		}
		// Rounded: a share computed in floating point falls a nanosecond
		// short ("2041.999999999s").
		return time.Duration(float64(whole) * float64(p.Estimate) / float64(total)).Round(time.Millisecond)
	}
	return p.Estimate
}

// Select returns the names of the enabled components among names, checking
// each: an unknown name is an error that suggests the nearest known one, a
// disabled one says which setting disables it.
func (r *Registry) Select(cfg Config, names []string) ([]string, error) {
	var problems []string
	var out []string
	for _, n := range names {
		c, ok := r.byName[n]
		switch {
		case !ok:
			problems = append(problems, r.unknown(n).Error())
		case !c.IsEnabled(cfg):
			problems = append(problems, fmt.Sprintf("component %q is disabled by the configuration", n))
		default:
			out = append(out, n)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Units returns the unit keys of the named components in g (their phases,
// or themselves for whole-component graphs).
func Units(g *dag.Graph[string], names []string) []string {
	var out []string
	for _, k := range g.Keys() {
		c, _ := SplitUnit(k)
		if slices.Contains(names, c) {
			out = append(out, k)
		}
	}
	return out
}

// unknown is the error for an unknown component name, with the nearest
// known name when it looks like a typo.
func (r *Registry) unknown(name string) error {
	if near := suggest.Nearest(name, r.Names()); near != "" {
		return fmt.Errorf("unknown component %q (did you mean %q?)", name, near)
	}
	return fmt.Errorf("unknown component %q", name)
}

func (o GraphOptions) resources(c *Component, p Phase) []string {
	if o.Resources == nil {
		return p.Resources
	}
	return o.Resources(c, p)
}
