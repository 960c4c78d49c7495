package dag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// MaxReportedCycles bounds how many cycles Validate lists; a graph with
// more says how many were left out.
const MaxReportedCycles = 50

// UnknownNeed is a need on a key that is not a node of the graph.
type UnknownNeed[K cmp.Ordered] struct {
	Node, Need K
}

// ValidationError lists every problem Validate found, in a deterministic
// order.
type ValidationError[K cmp.Ordered] struct {
	// Unknown lists needs on keys that are not nodes, sorted by node then need.
	Unknown []UnknownNeed[K]
	// Cycles lists elementary cycles as closed paths in the direction of
	// needs: [a b c a] reads "a needs b, b needs c, c needs a". Each starts
	// at its smallest key; the list is sorted.
	Cycles [][]K
	// MoreCycles counts cycles found past MaxReportedCycles.
	MoreCycles int
}

// Error lists every problem, one per line.
func (e *ValidationError[K]) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid graph: %d problem(s)", len(e.Unknown)+len(e.Cycles)+e.MoreCycles)
	for _, u := range e.Unknown {
		fmt.Fprintf(&b, "\n  %v needs unknown %v", u.Node, u.Need)
	}
	for _, c := range e.Cycles {
		parts := make([]string, len(c))
		for i, k := range c {
			parts[i] = fmt.Sprint(k)
		}
		fmt.Fprintf(&b, "\n  cycle: %s", strings.Join(parts, " → "))
	}
	if e.MoreCycles > 0 {
		fmt.Fprintf(&b, "\n  and %d more cycle(s)", e.MoreCycles)
	}
	return b.String()
}

// Validate reports every need on an unknown key and every cycle, all at
// once, as a *ValidationError; nil when the graph is sound.
func (g *Graph[K]) Validate() error {
	_, err := g.compile()
	return err
}

// cycles enumerates elementary cycles with Johnson's algorithm, keeping the
// first limit of them and counting the rest.
func (g *Graph[K]) cycles(limit int) (found [][]K, more int) {
	keys := g.Keys()
	index := make(map[K]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	adj := make([][]int, len(keys))
	for i, k := range keys {
		for _, dep := range g.nodes[k].Needs {
			if j, ok := index[dep]; ok {
				adj[i] = append(adj[i], j)
			}
		}
	}
	// Only nodes in a strongly connected component of more than one node,
	// or with a self-loop, can be on a cycle; start from each of them in
	// key order and look only at nodes with a larger index.
	comp := tarjan(adj)
	size := map[int]int{}
	for _, c := range comp {
		size[c]++
	}
	blocked := make([]bool, len(keys))
	blockedBy := make([]map[int]bool, len(keys))
	var stack []int
	var start int
	var unblock func(int)
	unblock = func(u int) {
		blocked[u] = false
		for w := range blockedBy[u] {
			delete(blockedBy[u], w)
			if blocked[w] {
				unblock(w)
			}
		}
	}
	var circuit func(v int) bool
	circuit = func(v int) bool {
		closed := false
		stack = append(stack, v)
		blocked[v] = true
		for _, w := range adj[v] {
			if w < start || comp[w] != comp[start] {
				continue
			}
			if w == start {
				if len(found) < limit {
					path := make([]K, 0, len(stack)+1)
					for _, i := range stack {
						path = append(path, keys[i])
					}
					found = append(found, append(path, keys[start]))
				} else {
					more++
				}
				closed = true
			} else if !blocked[w] && circuit(w) {
				closed = true
			}
		}
		if closed {
			unblock(v)
		} else {
			for _, w := range adj[v] {
				if w < start || comp[w] != comp[start] {
					continue
				}
				if blockedBy[w] == nil {
					blockedBy[w] = map[int]bool{}
				}
				blockedBy[w][v] = true
			}
		}
		stack = stack[:len(stack)-1]
		return closed
	}
	for start = range keys {
		if size[comp[start]] < 2 && !slices.Contains(adj[start], start) {
			continue
		}
		for i := start; i < len(keys); i++ {
			blocked[i] = false
			blockedBy[i] = nil
		}
		circuit(start)
	}
	slices.SortFunc(found, slices.Compare[[]K])
	return found, more
}

// tarjan returns the strongly connected component of every vertex.
func tarjan(adj [][]int) []int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	comp := make([]int, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next, comps := 0, 0
	var strong func(v int)
	strong = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range adj[v] {
			if index[w] < 0 {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp[w] = comps
				if w == v {
					break
				}
			}
			comps++
		}
	}
	for v := range adj {
		if index[v] < 0 {
			strong(v)
		}
	}
	return comp
}

// keyHeap is a min-heap of keys.
type keyHeap[K cmp.Ordered] struct{ items []K }

func (h *keyHeap[K]) Len() int { return len(h.items) }

func (h *keyHeap[K]) push(k K) {
	h.items = append(h.items, k)
	siftUp(h.items, len(h.items)-1, cmp.Less[K])
}

func (h *keyHeap[K]) pop() K {
	return popHeap(&h.items, cmp.Less[K])
}

func siftUp[T any](s []T, i int, less func(a, b T) bool) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(s[i], s[p]) {
			return
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func popHeap[T any](s *[]T, less func(a, b T) bool) T {
	h := *s
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && less(h[l], h[m]) {
			m = l
		}
		if r < len(h) && less(h[r], h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*s = h
	return top
}
