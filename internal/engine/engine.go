// Package engine is the contract between atmosphere's verbs (package
// action) and the engines that do each kind of work (components.Kind):
// the Helm and manifest work of internal/kubephase, the databases of
// internal/database, the OpenStack set-up of internal/openstackphase, and
// work done elsewhere (Provided). Each engine observes, decides and acts on
// the units of its kind, as Flux's helm-controller does for a release: it
// checks a unit's input touching nothing (Check), observes the cluster and
// decides what the unit would change (Plan), does the unit's work
// (Deploy), and reads what the work left in the cluster (Status). The
// verbs hold one Engine per kind and ask it; none of them knows what a
// kind of work does.
//
// The package names no component and no kind.
package engine

import (
	"context"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// Engine does one kind of work: the phases of components whose
// Phase.Kind is its kind.
type Engine interface {
	// Deployer does a unit's work: it observes what is there, decides
	// what to change and changes it (nothing when all is as wanted),
	// telling the run what it waits on and what it did through
	// dag.ReporterFrom(ctx). Doing it again is safe.
	components.Deployer
	// Check finds what would stop the unit's work before anything is
	// changed (a chart that does not load, values or objects that do not
	// render, a setting the work needs), and touches nothing. It returns
	// every problem it finds; none when the unit can go.
	Check(ctx context.Context, c *components.Component, p components.Phase) []Problem
	// Plan observes what is there and decides what the unit's work
	// would change and why, touching nothing.
	Plan(ctx context.Context, c *components.Component, p components.Phase) (Change, error)
	// Status reads what the component's work of this kind left in the
	// cluster, changing nothing: Untracked when this kind of work leaves
	// nothing to read.
	Status(ctx context.Context, c *components.Component) (State, error)
}

// Problem is one thing that would stop a unit's work.
type Problem struct {
	// About names what was checked ("objects keystone", "release
	// keystone"): the same problem met by several units is reported
	// once, for the first.
	About string
	// Err says what is wrong; its message names the component or the
	// unit.
	Err error
}

// Change is what a unit's work would do.
type Change struct {
	// Action is the change ("install", "upgrade", "unchanged", "apply",
	// "converge").
	Action string
	// Why are the reasons, or how the change is made; none when there is
	// nothing to say.
	Why []string
}

// String is the Action with its reasons in parentheses: "upgrade (values,
// images)".
func (c Change) String() string {
	if len(c.Why) == 0 {
		return c.Action
	}
	return c.Action + " (" + strings.Join(c.Why, ", ") + ")"
}

// The states a component's work leaves in the cluster.
const (
	// Deployed is a Helm release whose last revision is deployed.
	Deployed = "deployed"
	// Failed is a Helm release whose last revision failed.
	Failed = "failed"
	// Pending is a Helm release left pending-install, -upgrade or
	// -rollback.
	Pending = "pending"
	// Absent is work that left nothing: no release, no objects.
	Absent = "absent"
	// Applied is a component's objects, applied.
	Applied = "applied"
	// Untracked is work that leaves nothing in the cluster to read
	// (Ansible, OpenStack set-up, databases).
	Untracked = "untracked"
)

// State is what a component's work of one kind left in the cluster.
type State struct {
	// State is one of the states above.
	State string
	// Detail says more: the release's own status when it is not
	// deployed, how many objects are applied.
	Detail string
	// Revision, Chart and Updated are a Helm release's.
	Revision int
	Chart    string
	Updated  time.Time
}

// Provided is the engine of work done elsewhere (by the environment, by an
// operator): its units say why and change nothing, there is nothing to
// check and nothing to read.
type Provided struct {
	// Why is the note of each unit ("provided by the environment").
	Why string
}

// Deploy tells the run why the unit changes nothing.
func (p Provided) Deploy(ctx context.Context, _ *components.Component, _ components.Phase) error {
	dag.ReporterFrom(ctx).Note(dag.Note{Did: p.Why, Unchanged: true})
	return nil
}

// Check finds no problem: the work is not atmosphere's.
func (Provided) Check(context.Context, *components.Component, components.Phase) []Problem { return nil }

// Plan says the work is provided by the environment.
func (Provided) Plan(context.Context, *components.Component, components.Phase) (Change, error) {
	return Change{Action: ProvidedByEnvironment}, nil
}

// Status is Untracked: nothing of the work is atmosphere's to read.
func (Provided) Status(_ context.Context, c *components.Component) (State, error) {
	return State{State: Untracked}, nil
}

// ProvidedByEnvironment is the Change of a unit whose work atmosphere
// does not do.
const ProvidedByEnvironment = "provided by the environment"

// Differ is an Engine that can also show what a unit's work would change,
// as a unified diff of what is there and what would be applied (package
// manifestdiff: a Secret's data never shown), touching nothing. An engine
// that is no Differ shows no diff.
type Differ interface {
	Diff(ctx context.Context, c *components.Component, p components.Phase) (string, error)
}

// Drifter is an Engine whose work leaves objects in the cluster that can
// drift from what it applied (an operator's kubectl edit): Drift names
// each object of the component whose live state is not what was applied,
// and each field (manifest.Compare says which fields count), changing
// nothing. None when the work applied nothing.
type Drifter interface {
	Drift(ctx context.Context, c *components.Component) ([]manifest.Drift, error)
}
