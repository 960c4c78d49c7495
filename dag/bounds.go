package dag

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Bounds are lower bounds on the makespan of any schedule of a graph under
// given caps. No scheduler can beat the largest of them.
type Bounds[K cmp.Ordered] struct {
	// CriticalPath is the longest cost-weighted path, Path its nodes.
	CriticalPath time.Duration
	Path         []K
	// Work is the total cost over the global cap (zero with no cap).
	Work time.Duration
	// Resource is, per capped resource, the cost of every node holding it
	// over its cap.
	Resource map[string]time.Duration
	// ResourcePath is, over every node v, the largest of: for each capped
	// resource r (and the global cap), the cost of v's ancestors holding r
	// over r's cap; plus v's bottom level (its cost and the longest path
	// after it). v cannot start before its ancestors are done, and those
	// holding r had to share r's slots. ResourcePathNode is that v.
	ResourcePath     time.Duration
	ResourcePathNode K
}

// Max returns the largest bound and its name.
func (b Bounds[K]) Max() (time.Duration, string) {
	best, name := b.CriticalPath, "critical path"
	if b.Work > best {
		best, name = b.Work, "work/concurrency"
	}
	for _, r := range slices.Sorted(maps.Keys(b.Resource)) {
		if b.Resource[r] > best {
			best, name = b.Resource[r], "resource "+r
		}
	}
	if b.ResourcePath > best {
		best, name = b.ResourcePath, "resource-aware path"
	}
	return best, name
}

// LowerBounds computes the bounds of g under the caps in opts (Concurrency
// and Resources; the rest is ignored). It keeps every node's ancestor set,
// so it costs O(nodes² / 64) memory: meant for graphs of thousands of nodes
// at most.
func LowerBounds[K cmp.Ordered](g *Graph[K], opts Options[K]) (Bounds[K], error) {
	var b Bounds[K]
	c, err := g.compile()
	if err != nil {
		return b, err
	}
	b.Path, b.CriticalPath, _ = c.criticalPath()

	// Each capped resource, and the global cap as a resource every node
	// holds, contributes its work over its cap.
	type capped struct {
		name  string
		cap   time.Duration
		holds func(i int) bool
	}
	var caps []capped
	for _, r := range slices.Sorted(maps.Keys(opts.Resources)) {
		if n := opts.Resources[r]; n > 0 {
			caps = append(caps, capped{r, time.Duration(n), func(i int) bool { return slices.Contains(c.resources[i], r) }})
		}
	}
	if opts.Concurrency > 0 {
		caps = append(caps, capped{"", time.Duration(opts.Concurrency), func(int) bool { return true }})
	}
	b.Resource = map[string]time.Duration{}
	for _, r := range caps {
		var work time.Duration
		held := false
		for i := range c.keys {
			if r.holds(i) {
				work += c.cost[i]
				held = true
			}
		}
		switch {
		case r.name == "":
			b.Work = work / r.cap
		case held:
			b.Resource[r.name] = work / r.cap
		}
	}

	// Ancestor sets as bitsets, built in topological order.
	words := (len(c.keys) + 63) / 64
	ancestors := make([][]uint64, len(c.keys))
	for _, i := range c.order {
		set := make([]uint64, words)
		for _, j := range c.needs[i] {
			set[j/64] |= 1 << (j % 64)
			for w := range set {
				set[w] |= ancestors[j][w]
			}
		}
		ancestors[i] = set
	}
	for i := range c.keys {
		var before time.Duration
		for _, r := range caps {
			var work time.Duration
			for j := range c.keys {
				if ancestors[i][j/64]&(1<<(j%64)) != 0 && r.holds(j) {
					work += c.cost[j]
				}
			}
			before = max(before, work/r.cap)
		}
		if v := before + c.level[i]; v > b.ResourcePath {
			b.ResourcePath, b.ResourcePathNode = v, c.keys[i]
		}
	}
	return b, nil
}
