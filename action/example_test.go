package action_test

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/deploy"
)

// finalStates is an observer that keeps each unit's last event.
type finalStates map[string]deploy.Kind

// Observe implements deploy.Observer. The deploy calls it from one
// goroutine at a time.
func (f finalStates) Observe(e deploy.Event) { f[e.Unit] = e.Kind }

// Deploy memcached, and what it needs, on a cluster: one Configuration,
// one verb, an observer of the caller's own.
func ExampleDeploy() {
	cfg := action.New(action.Options{
		Kubeconfig: exampleKubeconfig,
		Inventory:  "../testdata/inventories/kwok",
		// Pinned charts from disk instead of the chart repositories.
		Charts: []string{"../../shared/atmosphere/charts", "../testdata/charts"},
	})
	states := finalStates{}
	d := &action.Deploy{Config: cfg, Tags: []string{"memcached"}, RunOptions: action.RunOptions{Observer: states}}
	res, err := d.Run(context.Background())
	if err != nil {
		fmt.Println("deploy:", err)
		return
	}
	for _, unit := range slices.Sorted(maps.Keys(states)) {
		fmt.Println(unit, states[unit])
	}
	fmt.Println(len(res.Report.Units), "units")

	// A dry run takes the same path up to the decisions, and acts on none.
	dry := &action.Deploy{Config: cfg, Tags: []string{"memcached"}, RunOptions: action.RunOptions{DryRun: true}}
	res, err = dry.Run(context.Background())
	if err != nil {
		fmt.Println("dry run:", err)
		return
	}
	for _, u := range res.Plan.Units {
		fmt.Printf("%s would: %s\n", u.Unit, u.Change)
	}

	// Output:
	// kubernetes:install unchanged
	// memcached:install succeeded
	// 2 units
	// kubernetes:install would: provided by the environment
	// memcached:install would: unchanged
}
