package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
)

// Rollback rolls one component's Helm release back, by hand: to the last
// revision deployed before the current one, or to Revision, with Helm's
// rollback (the chart and values of that revision; the inventory is not
// read for them), waiting as a deploy waits and reporting to Observer the
// events a deploy reports. Its own objects (those a component applies
// beside its release) are left as they are.
type Rollback struct {
	Config *Configuration
	// Component names the component; it must have a Helm release.
	Component string
	// Revision is the revision to go back to; 0 is the last one deployed
	// before the current one.
	Revision int
	// Timeout bounds the rollback and its wait (0: the component's own).
	Timeout time.Duration
	// ReportDir is where the timing report (Markdown and SVG, named
	// rollback-<start>) is written; none is written when empty.
	ReportDir string
	// Drain, when not nil, is called once, when the rollback is about to
	// start (the input checked, the lease taken), for the channel whose
	// closing starts nothing more.
	Drain func() <-chan struct{}
	// Observer receives every event of the run; nil discards them.
	Observer deploy.Observer
}

// Run rolls back. Everything that would stop it is found before the
// cluster is changed, as a UsageError: an unknown component (with the
// nearest name), one the inventory disables, one without a Helm release
// (manifest, OpenStack, Ansible work: named), no release in the cluster,
// no revision to go back to, a Revision not kept or the current one. Like
// a deploy it takes the deploy lease of the state namespace (a run
// holding it is named) and releases it at the end; its durations are not
// kept as a deploy's are. The error is nil when the rollback succeeded;
// else Result.Report (when it started) says what happened.
func (o *Rollback) Run(ctx context.Context) (*Result, error) {
	res, err := o.run(ctx)
	return res, o.Config.redactErr(err)
}

func (o *Rollback) run(ctx context.Context) (*Result, error) {
	c := o.Config
	switch {
	case o.Component == "":
		return nil, usagef("rollback: name a component")
	case o.Revision < 0:
		return nil, usagef("--revision %d: want 1 or more (or 0: the last revision deployed before the current one)", o.Revision)
	case o.Timeout < 0:
		return nil, usagef("--timeout %s: want 0 (the component's own) or more", o.Timeout)
	}
	_, s, err := c.Settings()
	if err != nil {
		return nil, err
	}
	if _, err := c.registry.Select(s.Config, []string{o.Component}); err != nil {
		return nil, usagef("rollback: %v", err)
	}
	comp, _ := c.registry.Get(o.Component)
	var kinds []string
	var keys []string
	for _, p := range comp.Phases {
		if p.Kind == components.Helm {
			keys = append(keys, components.UnitKey(comp.Name, p.Name))
		} else {
			kinds = append(kinds, string(p.Kind))
		}
	}
	if comp.Chart == nil || len(keys) == 0 {
		return nil, usagef("rollback: %s has no Helm release to roll back (its work is %s: deploy it again instead)",
			comp.Name, strings.Join(kinds, ", "))
	}
	full, err := c.registry.Graph(s.Config, components.GraphOptions{})
	if err != nil {
		return nil, err
	}
	g, err := full.Subgraph(keys, false)
	if err != nil {
		return nil, fmt.Errorf("rollback %s: %w", comp.Name, err)
	}
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	current, target, err := c.helm.RollbackTarget(ctx, helmrelease.RollbackRequest{Name: comp.Release, Namespace: comp.Namespace, Revision: o.Revision})
	if nr := (*helmrelease.NoRollbackError)(nil); errors.As(err, &nr) {
		return nil, usagef("rollback %s: %v", comp.Name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("rollback %s: %w", comp.Name, err)
	}
	c.log.Info("rolling back", "component", comp.Name, "release", comp.Release, "namespace", comp.Namespace, "from", current, "to", target)
	if o.Timeout > 0 {
		c.stack.Timeouts[comp.Name] = o.Timeout
	}
	// The target checked above, not o.Revision: a revision made since (by
	// a run that held the lease meanwhile) does not change what is rolled
	// back to.
	back := components.DeployerFunc(func(ctx context.Context, comp *components.Component, p components.Phase) error {
		return c.stack.Rollback(ctx, comp, p, target)
	})
	return c.act(ctx, g, components.DefaultCaps(), RunOptions{ReportDir: o.ReportDir, Drain: o.Drain, Observer: o.Observer},
		acting{verb: "rollback", deployer: back})
}
