package action

import (
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

// Graph is the graph of units of work of the inventory's components. It
// needs no cluster.
type Graph struct {
	Config *Configuration
	// Tags narrows the graph to these components and what they need.
	Tags []string
	// WholeComponents makes one unit per component instead of one per
	// phase.
	WholeComponents bool
}

// Run returns the graph. A bad inventory or tag is a UsageError.
func (o *Graph) Run() (*dag.Graph[string], error) {
	_, s, err := o.Config.Settings()
	if err != nil {
		return nil, err
	}
	names, err := o.Config.selected(s.Config, o.Tags)
	if err != nil {
		return nil, err
	}
	g, err := o.Config.registry.Graph(s.Config, components.GraphOptions{WholeComponents: o.WholeComponents})
	if err != nil {
		return nil, err
	}
	if names == nil {
		return g, nil
	}
	return g.Subgraph(components.Units(g, names), true)
}
