package dag_test

import (
	"context"
	"fmt"
	"time"

	"github.com/vexxhost/atmosphere-go/dag"
)

// Run a small graph: "api" and "worker" need "db"; one slot at a time, so
// the order is the scheduler's ranking (the longer path left goes first).
func ExampleRun() {
	g := dag.New[string]()
	_ = g.AddNode("db", dag.Spec[string]{Cost: 3 * time.Second})
	_ = g.AddNode("api", dag.Spec[string]{Needs: []string{"db"}, Cost: 2 * time.Second})
	_ = g.AddNode("worker", dag.Spec[string]{Needs: []string{"db"}, Cost: 5 * time.Second})
	res, err := dag.Run(context.Background(), g, func(ctx context.Context, key string) error {
		fmt.Println("deploying", key)
		return nil
	}, dag.Options[string]{Concurrency: 1})
	fmt.Println(len(res.Nodes), "nodes, error:", err)
	// Output:
	// deploying db
	// deploying worker
	// deploying api
	// 3 nodes, error: <nil>
}

// Simulate replays durations on a virtual clock with the same admission
// logic as Run: here two nodes share a resource capped at one.
func ExampleSimulate() {
	g := dag.New[string]()
	_ = g.AddNode("kubernetes", dag.Spec[string]{Cost: 500 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("ceph", dag.Spec[string]{Cost: 360 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("csi", dag.Spec[string]{Needs: []string{"kubernetes", "ceph"}, Cost: 7 * time.Second})
	res, _ := dag.Simulate(g, func(key string) (time.Duration, error) {
		n, _ := g.Node(key)
		return n.Cost, nil
	}, dag.Options[string]{Resources: map[string]int{"apt": 1}})
	fmt.Println("makespan", res.Makespan())
	fmt.Println("chain", res.Chain(g))
	// Output:
	// makespan 14m27s
	// chain [kubernetes ceph csi]
}
