package action

import "context"

// Upgrade upgrades the named components — every phase of each, in order,
// with the chart, values and images of this version and the inventory —
// and none of what they need, which must be deployed already (it is
// checked, and named when it is not).
type Upgrade struct {
	Config *Configuration
	RunOptions
	// Components are the components to upgrade; at least one.
	Components []string
	// Rollback rolls a release whose upgrade fails back to the revision
	// that was serving.
	Rollback bool
}

// Run upgrades. Its errors are those of Deploy.Run; an unknown component
// is a UsageError.
func (o *Upgrade) Run(ctx context.Context) (*Result, error) {
	if len(o.Components) == 0 {
		return nil, usagef("upgrade: name at least one component")
	}
	return o.Config.run(ctx, run{RunOptions: o.RunOptions, tags: o.Components, noDeps: true, atomic: o.Rollback, upgrade: true})
}
