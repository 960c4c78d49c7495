package dag

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func costOf(g *Graph[string]) SimFunc[string] {
	return func(k string) (time.Duration, error) {
		n, _ := g.Node(k)
		if strings.HasPrefix(k, "fail") {
			return n.Cost, errors.New("broke")
		}
		return n.Cost, nil
	}
}

func TestSimulateMakespan(t *testing.T) {
	res := func(r ...string) []string { return r }
	tests := []struct {
		name     string
		nodes    map[string]Spec[string]
		opts     Options[string]
		makespan time.Duration
	}{
		{
			name: "no caps: critical path",
			nodes: map[string]Spec[string]{
				"a": {Cost: 10 * time.Second}, "b": {Cost: 5 * time.Second, Needs: res("a")},
				"c": {Cost: 12 * time.Second},
			},
			makespan: 15 * time.Second,
		},
		{
			name: "resource serialises two roots",
			nodes: map[string]Spec[string]{
				"k8s":  {Cost: 506 * time.Second, Resources: res("apt")},
				"ceph": {Cost: 362 * time.Second, Resources: res("apt")},
				"csi":  {Cost: 7 * time.Second, Needs: res("k8s", "ceph")},
			},
			opts:     Options[string]{Resources: map[string]int{"apt": 1}},
			makespan: 875 * time.Second,
		},
		{
			name: "global cap of one sums the work",
			nodes: map[string]Spec[string]{
				"a": {Cost: time.Second}, "b": {Cost: 2 * time.Second}, "c": {Cost: 3 * time.Second},
			},
			opts:     Options[string]{Concurrency: 1},
			makespan: 6 * time.Second,
		},
		{
			name: "waiting for a resource does not hold a slot",
			nodes: map[string]Spec[string]{
				"a": {Cost: 30 * time.Second, Resources: res("apt")},
				"b": {Cost: 20 * time.Second, Resources: res("apt")},
				"c": {Cost: 25 * time.Second},
			},
			opts:     Options[string]{Concurrency: 2, Resources: map[string]int{"apt": 1}},
			makespan: 50 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New[string]()
			for k, s := range tt.nodes {
				_ = g.AddNode(k, s)
			}
			r, err := Simulate(g, costOf(g), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Makespan() != tt.makespan {
				t.Errorf("makespan %v, want %v", r.Makespan(), tt.makespan)
			}
			b, err := LowerBounds(g, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if lb, _ := b.Max(); lb > r.Makespan() {
				t.Errorf("lower bound %v above makespan %v", lb, r.Makespan())
			}
		})
	}
}

func TestSimulateFailureSkips(t *testing.T) {
	g := build(t, "a=1s:", "fail-b=2s: a", "c=3s: fail-b", "d=4s: a")
	r, err := Simulate(g, costOf(g), Options[string]{})
	if err == nil {
		t.Fatal("want an error")
	}
	if got := r.Skipped(); !reflect.DeepEqual(got, []string{"c"}) {
		t.Errorf("skipped %v, want [c]", got)
	}
	if r.Nodes["d"].Status != Succeeded || r.Makespan() != 5*time.Second {
		t.Errorf("d %v, makespan %v; want d to finish at 5s", r.Nodes["d"].Status, r.Makespan())
	}
}

// randomDAG makes a DAG of n nodes where each node needs up to fanIn
// earlier ones.
func randomDAG(n, fanIn int, seed uint64) *Graph[string] {
	rng := rand.New(rand.NewPCG(seed, seed))
	g := New[string]()
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("n%05d", i)
		var needs []string
		if i > 0 {
			for range rng.IntN(fanIn + 1) {
				needs = append(needs, keys[rng.IntN(i)])
			}
		}
		var res []string
		if rng.IntN(10) == 0 {
			res = []string{fmt.Sprintf("r%d", rng.IntN(3))}
		}
		_ = g.AddNode(keys[i], Spec[string]{Cost: time.Duration(1+rng.IntN(100)) * time.Second, Needs: needs, Resources: res})
	}
	return g
}

func TestSimulateMatchesRunOrder(t *testing.T) {
	// With one slot the admission order depends only on the scheduler, so
	// the real run and the simulation must start nodes in the same order.
	g := randomDAG(200, 3, 7)
	opts := Options[string]{Concurrency: 1, Resources: map[string]int{"r0": 1, "r1": 1}}
	simRec, runRec := &recorder{}, &recorder{}
	opts.Observer = simRec
	if _, err := Simulate(g, costOf(g), opts); err != nil {
		t.Fatal(err)
	}
	opts.Observer = runRec
	if _, err := Run(context.Background(), g, func(context.Context, string) error { return nil }, opts); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(simRec.list(), runRec.list()) {
		t.Error("simulation and run started nodes in different orders")
	}
}

func TestSimulateRespectsBoundsOnRandomDAGs(t *testing.T) {
	for seed := range uint64(20) {
		g := randomDAG(80, 3, seed)
		opts := Options[string]{Concurrency: 4, Resources: map[string]int{"r0": 1, "r1": 2}}
		r, err := Simulate(g, costOf(g), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := LowerBounds(g, opts)
		if err != nil {
			t.Fatal(err)
		}
		lb, name := b.Max()
		if lb > r.Makespan() {
			t.Errorf("seed %d: bound %s %v above makespan %v", seed, name, lb, r.Makespan())
		}
		// Caps are honoured at every instant.
		type ev struct {
			at    time.Time
			delta int
			res   []string
		}
		var evs []ev
		for k, nr := range r.Nodes {
			n, _ := g.Node(k)
			evs = append(evs, ev{nr.Start, 1, n.Resources}, ev{nr.End, -1, n.Resources})
		}
		// Ends before starts at the same instant.
		sortEvents := func(a, b ev) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.delta - b.delta
		}
		slices.SortFunc(evs, sortEvents)
		running, held := 0, map[string]int{}
		for _, e := range evs {
			running += e.delta
			for _, rs := range e.res {
				held[rs] += e.delta
				if c, capped := opts.Resources[rs]; capped && held[rs] > c {
					t.Fatalf("seed %d: %s held %d times", seed, rs, held[rs])
				}
			}
			if running > opts.Concurrency {
				t.Fatalf("seed %d: %d running", seed, running)
			}
		}
	}
}

func TestLowerBounds(t *testing.T) {
	g := New[string]()
	_ = g.AddNode("kubernetes", Spec[string]{Cost: 506 * time.Second, Resources: []string{"apt", "containerd"}})
	_ = g.AddNode("ceph", Spec[string]{Cost: 362 * time.Second, Resources: []string{"apt", "containerd"}})
	_ = g.AddNode("iscsi", Spec[string]{Cost: 511 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("csi", Spec[string]{Cost: 7 * time.Second, Needs: []string{"kubernetes", "ceph"}})
	_ = g.AddNode("rest", Spec[string]{Cost: 1528 * time.Second, Needs: []string{"csi"}})
	b, err := LowerBounds(g, Options[string]{Resources: map[string]int{"apt": 1, "containerd": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if b.CriticalPath != 2041*time.Second {
		t.Errorf("critical path %v", b.CriticalPath)
	}
	if b.Resource["apt"] != 1379*time.Second || b.Resource["containerd"] != 868*time.Second {
		t.Errorf("resource bounds %v", b.Resource)
	}
	if b.ResourcePath != 2403*time.Second || b.ResourcePathNode != "csi" {
		t.Errorf("resource path %v at %s, want 2403s at csi", b.ResourcePath, b.ResourcePathNode)
	}
	if lb, name := b.Max(); lb != 2403*time.Second || name != "resource-aware path" {
		t.Errorf("max %v (%s)", lb, name)
	}
}

func TestChain(t *testing.T) {
	g := New[string]()
	_ = g.AddNode("kubernetes", Spec[string]{Cost: 506 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("ceph", Spec[string]{Cost: 362 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("csi", Spec[string]{Cost: 7 * time.Second, Needs: []string{"kubernetes", "ceph"}})
	_ = g.AddNode("side", Spec[string]{Cost: 100 * time.Second, Needs: []string{"kubernetes"}})
	r, err := Simulate(g, costOf(g), Options[string]{Resources: map[string]int{"apt": 1}})
	if err != nil {
		t.Fatal(err)
	}
	// kubernetes ranks first (506+100 > 362+7); ceph waits for apt, then csi.
	if got, want := r.Chain(g), []string{"kubernetes", "ceph", "csi"}; !reflect.DeepEqual(got, want) {
		t.Errorf("chain %v, want %v", got, want)
	}
}
