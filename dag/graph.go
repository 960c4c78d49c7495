package dag

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Spec describes a node when it is added to a graph.
type Spec[K cmp.Ordered] struct {
	// Cost is the estimated time the node takes. The scheduler uses it to
	// rank ready nodes; it is never used to wait.
	Cost time.Duration
	// Resources names the resources the node holds one unit of while it
	// runs. A resource without a cap in Options.Resources is unlimited.
	Resources []string
	// Needs lists the nodes that must succeed before this one starts.
	// Unknown keys are allowed here and reported by Validate.
	Needs []K
}

// Node is a node of a graph as the graph holds it.
type Node[K cmp.Ordered] struct {
	Key       K
	Cost      time.Duration
	Resources []string
	// Needs is sorted and free of duplicates.
	Needs []K
}

// Graph is a directed graph of nodes keyed by K, each with the nodes it
// needs. The zero value is not usable; call New. A Graph is not safe for
// concurrent mutation; once built it may be read and run concurrently.
type Graph[K cmp.Ordered] struct {
	nodes map[K]*Node[K]
}

// New returns an empty graph.
func New[K cmp.Ordered]() *Graph[K] {
	return &Graph[K]{nodes: make(map[K]*Node[K])}
}

// AddNode adds a node. Adding a key twice is an error.
func (g *Graph[K]) AddNode(key K, spec Spec[K]) error {
	if _, ok := g.nodes[key]; ok {
		return fmt.Errorf("add node %v: already in the graph", key)
	}
	n := &Node[K]{Key: key, Cost: spec.Cost, Resources: slices.Clone(spec.Resources)}
	slices.Sort(n.Resources)
	n.Resources = slices.Compact(n.Resources)
	g.nodes[key] = n
	for _, dep := range spec.Needs {
		n.addNeed(dep)
	}
	return nil
}

// AddEdge records that node needs dependency. The node must exist; the
// dependency need not yet (Validate reports it if it never appears).
func (g *Graph[K]) AddEdge(node, dependency K) error {
	n, ok := g.nodes[node]
	if !ok {
		return fmt.Errorf("add edge %v → %v: no node %v", node, dependency, node)
	}
	n.addNeed(dependency)
	return nil
}

func (n *Node[K]) addNeed(dep K) {
	i, found := slices.BinarySearch(n.Needs, dep)
	if !found {
		n.Needs = slices.Insert(n.Needs, i, dep)
	}
}

// Len returns the number of nodes.
func (g *Graph[K]) Len() int { return len(g.nodes) }

// Has reports whether key is a node of the graph.
func (g *Graph[K]) Has(key K) bool {
	_, ok := g.nodes[key]
	return ok
}

// Node returns a copy of the node with the given key.
func (g *Graph[K]) Node(key K) (Node[K], bool) {
	n, ok := g.nodes[key]
	if !ok {
		return Node[K]{}, false
	}
	c := *n
	c.Resources = slices.Clone(n.Resources)
	c.Needs = slices.Clone(n.Needs)
	return c, true
}

// Keys returns every key, sorted.
func (g *Graph[K]) Keys() []K {
	return slices.Sorted(maps.Keys(g.nodes))
}

// Dependents returns, for every node, the sorted keys of the nodes that
// need it. Needs on unknown keys are left out.
func (g *Graph[K]) Dependents() map[K][]K {
	out := make(map[K][]K, len(g.nodes))
	for _, k := range g.Keys() {
		for _, dep := range g.nodes[k].Needs {
			if _, ok := g.nodes[dep]; ok {
				out[dep] = append(out[dep], k)
			}
		}
	}
	return out
}

// Ancestors returns the sorted keys of every node key needs, directly or
// through others. Unknown keys are left out.
func (g *Graph[K]) Ancestors(key K) []K {
	seen := map[K]bool{}
	var visit func(K)
	visit = func(k K) {
		n, ok := g.nodes[k]
		if !ok {
			return
		}
		for _, dep := range n.Needs {
			if _, known := g.nodes[dep]; known && !seen[dep] {
				seen[dep] = true
				visit(dep)
			}
		}
	}
	visit(key)
	return slices.Sorted(maps.Keys(seen))
}

// Contract returns a new graph holding the given keys, in the order the
// whole graph puts them: a node that needed a node left out now needs what
// that one needed, through any number of nodes left out. An unknown key is
// an error.
func (g *Graph[K]) Contract(keys []K) (*Graph[K], error) {
	want := map[K]bool{}
	var unknown []K
	for _, k := range keys {
		if _, ok := g.nodes[k]; !ok {
			unknown = append(unknown, k)
		}
		want[k] = true
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("contract: unknown nodes %v", unknown)
	}
	// kept returns the kept nodes key reaches through left-out ones.
	memo := map[K][]K{}
	var kept func(key K) []K
	kept = func(key K) []K {
		if out, ok := memo[key]; ok {
			return out
		}
		seen := map[K]bool{}
		for _, dep := range g.nodes[key].Needs {
			if want[dep] {
				seen[dep] = true
				continue
			}
			for _, k := range kept(dep) {
				seen[k] = true
			}
		}
		out := slices.Sorted(maps.Keys(seen))
		memo[key] = out
		return out
	}
	sub := New[K]()
	for k := range want {
		n := g.nodes[k]
		if err := sub.AddNode(k, Spec[K]{Cost: n.Cost, Resources: n.Resources, Needs: kept(k)}); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

// Subgraph returns a new graph holding the given keys. With withNeeds, every
// node they need, directly or not, is pulled in too; without, needs on nodes
// outside the subset are dropped. An unknown key is an error.
func (g *Graph[K]) Subgraph(keys []K, withNeeds bool) (*Graph[K], error) {
	want := map[K]bool{}
	var unknown []K
	for _, k := range keys {
		if _, ok := g.nodes[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		want[k] = true
		if withNeeds {
			for _, a := range g.Ancestors(k) {
				want[a] = true
			}
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("subgraph: unknown nodes %v", unknown)
	}
	sub := New[K]()
	for k := range want {
		n := g.nodes[k]
		var needs []K
		for _, dep := range n.Needs {
			if want[dep] {
				needs = append(needs, dep)
			}
		}
		if err := sub.AddNode(k, Spec[K]{Cost: n.Cost, Resources: n.Resources, Needs: needs}); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

// TopologicalOrder returns every key with each node after the nodes it
// needs; among nodes free to go next, the smallest key comes first, so the
// order is deterministic. An invalid graph returns its *ValidationError.
func (g *Graph[K]) TopologicalOrder() ([]K, error) {
	c, err := g.compile()
	if err != nil {
		return nil, err
	}
	order := make([]K, len(c.order))
	for o, i := range c.order {
		order[o] = c.keys[i]
	}
	return order, nil
}

// BottomLevels returns, for every node, its cost plus the longest
// cost-weighted path from it to the end of the graph: the time from its
// start to the end of the run if nothing else held it back.
func (g *Graph[K]) BottomLevels() (map[K]time.Duration, error) {
	c, err := g.compile()
	if err != nil {
		return nil, err
	}
	level := make(map[K]time.Duration, len(c.keys))
	for i, k := range c.keys {
		level[k] = c.level[i]
	}
	return level, nil
}

// CriticalPath returns the longest cost-weighted path through the graph,
// from a node that needs nothing to a node nothing needs, and its length.
// Ties go to the smaller key.
func (g *Graph[K]) CriticalPath() ([]K, time.Duration, error) {
	c, err := g.compile()
	if err != nil {
		return nil, 0, err
	}
	return c.criticalPath()
}

func (c *compiled[K]) criticalPath() ([]K, time.Duration, error) {
	var next []int
	for i := range c.keys {
		if len(c.needs[i]) == 0 {
			next = append(next, i)
		}
	}
	var path []K
	var length time.Duration
	for len(next) > 0 {
		best := next[0]
		for _, i := range next[1:] {
			if c.level[i] > c.level[best] || (c.level[i] == c.level[best] && i < best) {
				best = i
			}
		}
		if len(path) == 0 {
			length = c.level[best]
		}
		path = append(path, c.keys[best])
		next = c.dependents[best]
	}
	return path, length, nil
}
