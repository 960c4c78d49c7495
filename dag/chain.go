package dag

import (
	"cmp"
	"maps"
	"slices"
)

// Chain traces the chain of nodes that set a run's end: from the node that
// finished last, back through whatever it waited for. That is the need that
// finished last, if it finished when the node started; otherwise the node
// that finished at the instant it started (the one whose slot or resource
// it took, preferring one that held a resource it needs). Ties go to the smaller key. g must be the graph of the run.
// Instants are compared exactly, as a simulation gives them.
func (r *Result[K]) Chain(g *Graph[K]) []K {
	var ran []NodeResult[K]
	for _, k := range slices.Sorted(maps.Keys(r.Nodes)) {
		if n := r.Nodes[k]; !n.Start.IsZero() && !n.End.IsZero() {
			ran = append(ran, n)
		}
	}
	if len(ran) == 0 {
		return nil
	}
	cur := ran[0]
	for _, n := range ran[1:] {
		if n.End.After(cur.End) {
			cur = n
		}
	}
	chain := []K{cur.Key}
	seen := map[K]bool{cur.Key: true}
	for {
		var prev *NodeResult[K]
		node, _ := g.Node(cur.Key)
		for _, dep := range node.Needs {
			if d, ok := r.Nodes[dep]; ok && d.End.Equal(cur.Start) && !seen[dep] {
				prev = &d
				break
			}
		}
		if prev == nil {
			// Prefer the node that released a resource cur holds, then one
			// that took any time at all, then any.
			best := -1
			for i := range ran {
				if !ran[i].End.Equal(cur.Start) || seen[ran[i].Key] {
					continue
				}
				if best < 0 || chainRank(g, ran[i], node) > chainRank(g, ran[best], node) {
					best = i
				}
			}
			if best >= 0 {
				prev = &ran[best]
			}
		}
		if prev == nil {
			break
		}
		chain = append(chain, prev.Key)
		seen[prev.Key] = true
		cur = *prev
	}
	slices.Reverse(chain)
	return chain
}

func chainRank[K cmp.Ordered](g *Graph[K], r NodeResult[K], waiter Node[K]) int {
	n, _ := g.Node(r.Key)
	rank := 0
	if slices.ContainsFunc(n.Resources, func(res string) bool { return slices.Contains(waiter.Resources, res) }) {
		rank += 2
	}
	if r.End.After(r.Start) {
		rank++
	}
	return rank
}
