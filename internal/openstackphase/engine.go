package openstackphase

import (
	"context"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

var _ engine.Engine = (*Runner)(nil)

// Check finds what the phase's set-up lacks, reaching no cloud: a
// service's catalog phase needs the public domain its endpoints are named
// in.
func (r *Runner) Check(_ context.Context, c *components.Component, p components.Phase) []engine.Problem {
	if p.Name == catalogPhase && r.Config.Endpoints.Domain == "" {
		return []engine.Problem{{About: "the public domain", Err: fmt.Errorf("%s: the service catalog needs the public domain: set openstack_helm_endpoints_keystone_api_host (identity.<domain>) in the inventory",
			components.UnitKey(c.Name, p.Name))}}
	}
	return nil
}

// Plan says the set-up converges: every step creates only what is missing
// or different, which is not known before it asks the cloud.
func (r *Runner) Plan(context.Context, *components.Component, components.Phase) (engine.Change, error) {
	return engine.Change{Action: "converge", Why: []string{"creates only what is missing or different"}}, nil
}

// Status is Untracked: the set-up leaves nothing in the cluster to read.
func (r *Runner) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
