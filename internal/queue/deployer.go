package queue

import (
	"context"
	"fmt"
	"strings"

	rabbithole "github.com/michaelklishin/rabbit-hole/v3"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

var _ engine.Engine = (*Deployer)(nil)

// Deployer does the queue phases of components (components.Queue).
type Deployer struct {
	// Grants are what a component needs in its RabbitMQ clusters, read
	// from its release's values (components.Component.QueueGrants); with
	// peek, secrets are only peeked at and one not there yet (the
	// cluster's administrator, before the cluster exists) reads as empty.
	Grants func(ctx context.Context, component string, peek bool) ([]components.QueueGrant, error)
	// Connect opens a management API client of the grant's cluster as its
	// administrator, every request bounded by ctx.
	Connect func(ctx context.Context, g components.QueueGrant) (*rabbithole.Client, error)
}

// Deploy makes each of the component's grants true in its cluster
// (Ensure) and tells the run what it changed ("user nova, vhost nova made
// in rabbitmq-nova"), or that all was in place.
func (d *Deployer) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	if p.Kind != components.Queue {
		return fmt.Errorf("%s: phase %s is not a queue phase", c.Name, p.Name)
	}
	grants, err := d.Grants(ctx, c.Name, false)
	if err != nil {
		return fmt.Errorf("%s: RabbitMQ users: %w", c.Name, err)
	}
	var did []string
	changed := false
	for _, g := range grants {
		want := grantOf(g)
		if err := want.Validate(); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		client, err := d.Connect(ctx, g)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		made, err := Ensure(ctx, client, want)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if len(made) == 0 {
			did = append(did, fmt.Sprintf("user %s on vhost %s of %s in place", g.User, g.Vhost, g.Cluster))
			continue
		}
		changed = true
		did = append(did, fmt.Sprintf("%s: %s set", g.Cluster, strings.Join(made, ", ")))
	}
	dag.ReporterFrom(ctx).Note(dag.Note{Did: strings.Join(did, "; "), Unchanged: !changed})
	return nil
}

// grantOf is what Ensure makes of a component's grant: the user with the
// chart Job's tag, its policies.
func grantOf(g components.QueueGrant) Grant {
	out := Grant{Cluster: g.Namespace + "/" + g.Cluster, User: g.User, Password: g.Password, Vhost: g.Vhost, Tags: []string{"user"}}
	for _, p := range g.Policies {
		pol := rabbithole.Policy{Definition: rabbithole.PolicyDefinition{}}
		pol.Vhost, _ = p["vhost"].(string)
		pol.Name, _ = p["name"].(string)
		pol.Pattern, _ = p["pattern"].(string)
		pol.ApplyTo, _ = p["apply-to"].(string)
		switch n := p["priority"].(type) {
		case int:
			pol.Priority = n
		case float64:
			pol.Priority = int(n)
		}
		if def, ok := p["definition"].(map[string]any); ok {
			pol.Definition = def
		}
		out.Policies = append(out.Policies, pol)
	}
	return out
}

// Check reads each grant from the component's values (its secrets only
// peeked at) and says which is unusable, connecting to nothing.
func (d *Deployer) Check(ctx context.Context, c *components.Component, _ components.Phase) []engine.Problem {
	grants, err := d.Grants(ctx, c.Name, true)
	if err == nil {
		for _, g := range grants {
			if g.Password == "" { // the cluster's user, made with it: read when the phase runs
				g.Password = "-"
			}
			if err = grantOf(g).Validate(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return []engine.Problem{{About: "RabbitMQ user of " + c.Name, Err: fmt.Errorf("%s: %w", c.Name, err)}}
	}
	return nil
}

// Plan does not reach the RabbitMQ cluster (its Service's address is the
// cluster network's, and the plan may run before the cluster exists): it
// says what the phase makes sure of, which Deploy reads before it writes.
func (d *Deployer) Plan(ctx context.Context, c *components.Component, _ components.Phase) (engine.Change, error) {
	grants, err := d.Grants(ctx, c.Name, true)
	if err != nil {
		return engine.Change{}, fmt.Errorf("%s: RabbitMQ users: %w", c.Name, err)
	}
	var why []string
	for _, g := range grants {
		why = append(why, fmt.Sprintf("user %s on vhost %s of %s", g.User, g.Vhost, g.Cluster))
	}
	return engine.Change{Action: "ensure", Why: why}, nil
}

// Status is Untracked: the users leave nothing in the cluster to read.
func (d *Deployer) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
