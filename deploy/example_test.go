package deploy_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/deploy"
)

// Deploy a set of components with a deployer of your own and an observer
// that receives every event. Here the deployer only says what it did; a
// real one is components.ByKind over the Helm, manifest and OpenStack
// deployers (see cmd).
func ExampleRun() {
	reg, _ := components.NewRegistry(
		&components.Component{Name: "memcached", Kinds: []components.Kind{components.Helm},
			Phases: []components.Phase{{Name: "install", Kind: components.Helm, Estimate: time.Second}}},
		&components.Component{Name: "keystone", Kinds: []components.Kind{components.Helm},
			Phases: []components.Phase{{Name: "install", Kind: components.Helm, Needs: []string{"memcached"}, Estimate: time.Second}}},
	)
	g, _ := reg.Graph(components.Config{}, components.GraphOptions{})
	deployer := components.DeployerFunc(func(ctx context.Context, c *components.Component, p components.Phase) error {
		if c.Name == "memcached" {
			dag.ReporterFrom(ctx).Note(dag.Note{Did: "release unchanged", Unchanged: true})
			return nil
		}
		dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "Deployment openstack/keystone-api"})
		dag.ReporterFrom(ctx).Note(dag.Note{Did: "install (revision 1)"})
		return nil
	})
	observer := deploy.ObserverFunc(func(e deploy.Event) {
		fmt.Println(strings.TrimSpace(e.Unit + " " + string(e.Kind) + " " + e.Detail))
	})
	report, err := deploy.Run(context.Background(), reg, g, deployer, deploy.Options{Observer: observer})
	fmt.Println(err, report.Count()[deploy.Succeeded], "succeeded,", report.Count()[deploy.Unchanged], "unchanged")
	// Output:
	// memcached:install started
	// memcached:install unchanged release unchanged
	// keystone:install started
	// keystone:install waiting Deployment openstack/keystone-api
	// keystone:install succeeded install (revision 1)
	// <nil> 1 succeeded, 1 unchanged
}
