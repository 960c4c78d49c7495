package dag

import (
	"cmp"
	"time"
)

// compiled is a validated graph in index form: node i is keys[i], keys
// sorted. Runs and analyses work on it instead of on maps.
type compiled[K cmp.Ordered] struct {
	keys       []K
	index      map[K]int
	needs      [][]int
	dependents [][]int
	cost       []time.Duration
	resources  [][]string
	order      []int           // topological, smallest key first among free nodes
	level      []time.Duration // cost plus longest path after the node
}

// compile indexes g and validates it: unknown needs and cycles come back as
// a *ValidationError.
func (g *Graph[K]) compile() (*compiled[K], error) {
	c := &compiled[K]{keys: g.Keys()}
	n := len(c.keys)
	c.index = make(map[K]int, n)
	for i, k := range c.keys {
		c.index[k] = i
	}
	c.needs = make([][]int, n)
	c.dependents = make([][]int, n)
	c.cost = make([]time.Duration, n)
	c.resources = make([][]string, n)
	var unknown []UnknownNeed[K]
	for i, k := range c.keys {
		node := g.nodes[k]
		c.cost[i] = node.Cost
		c.resources[i] = node.Resources
		for _, dep := range node.Needs {
			j, ok := c.index[dep]
			if !ok {
				unknown = append(unknown, UnknownNeed[K]{Node: k, Need: dep})
				continue
			}
			c.needs[i] = append(c.needs[i], j)
			c.dependents[j] = append(c.dependents[j], i)
		}
	}
	// Kahn's algorithm; a node left out is on or behind a cycle.
	pending := make([]int, n)
	ready := &keyHeap[int]{}
	for i := range n {
		pending[i] = len(c.needs[i])
		if pending[i] == 0 {
			ready.push(i)
		}
	}
	c.order = make([]int, 0, n)
	for ready.Len() > 0 {
		i := ready.pop()
		c.order = append(c.order, i)
		for _, d := range c.dependents[i] {
			if pending[d]--; pending[d] == 0 {
				ready.push(d)
			}
		}
	}
	if len(unknown) > 0 || len(c.order) < n {
		e := &ValidationError[K]{Unknown: unknown}
		if len(c.order) < n {
			e.Cycles, e.MoreCycles = g.cycles(MaxReportedCycles)
		}
		return nil, e
	}
	c.level = make([]time.Duration, n)
	for o := n - 1; o >= 0; o-- {
		i := c.order[o]
		var tail time.Duration
		for _, d := range c.dependents[i] {
			tail = max(tail, c.level[d])
		}
		c.level[i] = c.cost[i] + tail
	}
	return c, nil
}
