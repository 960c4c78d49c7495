package database

import (
	"context"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

var _ engine.Engine = (*Deployer)(nil)

// Check finds what is wrong with the component's databases and users
// (CheckGrants), connecting to nothing.
func (d *Deployer) Check(_ context.Context, c *components.Component, _ components.Phase) []engine.Problem {
	if d.CheckGrants == nil {
		return nil
	}
	if err := d.CheckGrants(c.Name); err != nil {
		return []engine.Problem{{About: "database " + c.Name, Err: fmt.Errorf("%s: %w", c.Name, err)}}
	}
	return nil
}

// Plan does not look into the database: a database phase is planned as
// the work of the environment, as it always was. (Telling "made" from "in
// place" would need the cloud's MySQL reached from the plan.)
func (d *Deployer) Plan(context.Context, *components.Component, components.Phase) (engine.Change, error) {
	return engine.Change{Action: engine.ProvidedByEnvironment}, nil
}

// Status is Untracked: the databases leave nothing in the cluster to read.
func (d *Deployer) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
