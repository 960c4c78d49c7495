package kubephase

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifestdiff"
)

// HelmEngine is the engine of the Helm phases (components.Helm): a
// component's release, with its own objects before (and, some, after) it.
type HelmEngine struct{ Stack *Stack }

// ManifestEngine is the engine of the manifest phases (components.Manifest):
// a component's own objects, server-side applied.
type ManifestEngine struct{ Stack *Stack }

var (
	_ engine.Engine = HelmEngine{}
	_ engine.Engine = ManifestEngine{}
)

// Deploy does the Helm phase (Stack.Deploy).
func (e HelmEngine) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	return e.Stack.Deploy(ctx, c, p)
}

// Check renders the component's objects and its release (chart loaded and
// verified, values layered), changing nothing.
func (e HelmEngine) Check(ctx context.Context, c *components.Component, _ components.Phase) []engine.Problem {
	problems := e.Stack.checkObjects(c)
	if _, err := e.Stack.Release(ctx, c); err != nil {
		problems = append(problems, engine.Problem{About: "release " + c.Name, Err: fmt.Errorf("%s: %w", c.Name, err)})
	}
	return problems
}

// Plan renders the release and decides, from the release in the cluster,
// whether it would be installed, upgraded (and why: chart, values, images),
// rolled back, adopted (made by another tool, as atmosphere renders it:
// helmrelease.Adopt) or left unchanged, and which upgrade guards its
// objects would run (an object changing version). A release left unchanged whose
// component's own objects differ from their live state (Stack.ownDiff) is
// planned "apply (release unchanged, own objects differ)": the deploy
// applies them, and a --diff shows them.
func (e HelmEngine) Plan(ctx context.Context, c *components.Component, p components.Phase) (engine.Change, error) {
	rel, err := e.Stack.Release(ctx, c)
	if err != nil {
		return engine.Change{}, err
	}
	dec, err := e.Stack.Helm.Plan(ctx, rel)
	if err != nil {
		return engine.Change{}, err
	}
	// Render its own objects too, only peeking at their secrets, so that
	// a plan knows every secret the unit would take or generate (a
	// release's change does not look at its objects).
	if err := e.Stack.CheckObjects(c); err != nil {
		return engine.Change{}, err
	}
	change := engine.Change{Action: string(dec.Action)}
	if dec.Action != helmrelease.Unchanged {
		change.Why = dec.Reasons
	}
	switch dec.Action {
	case helmrelease.Unchanged:
		// The release stays, but the deploy applies the component's own
		// objects all the same: say so when they would change.
		d, err := e.Stack.ownDiff(ctx, c, p)
		if err != nil {
			return engine.Change{}, err
		}
		if d != "" {
			change = engine.Change{Action: "apply", Why: []string{"release unchanged", "own objects differ"}}
		}
	case helmrelease.Adopt:
		ok, err := e.Stack.ownAdoptable(ctx, c, p)
		if err != nil {
			return engine.Change{}, err
		}
		if !ok {
			change.Why = append(change.Why, "own objects differ")
		}
	}
	guards, err := e.Stack.plannedGuards(ctx, c, p)
	if err != nil {
		return engine.Change{}, err
	}
	change.Why = append(change.Why, guards...)
	return change, nil
}

// Status reads the last revision of the component's release: deployed,
// failed, pending or absent. A component without a chart is Untracked.
func (e HelmEngine) Status(ctx context.Context, c *components.Component) (engine.State, error) {
	if c.Chart == nil {
		return engine.State{State: engine.Untracked}, nil
	}
	st, err := e.Stack.Helm.Status(ctx, c.Release, c.Namespace)
	if err != nil {
		return engine.State{}, err
	}
	out := engine.State{State: releaseState(st), Revision: st.Revision, Chart: st.Chart, Updated: st.Updated}
	if st.Found && out.State != engine.Deployed {
		out.Detail = st.Status
	}
	return out, nil
}

// releaseState is the state of a release's last revision.
func releaseState(st helmrelease.ReleaseStatus) string {
	switch {
	case !st.Found || st.Status == "uninstalled":
		return engine.Absent
	case st.Status == "deployed":
		return engine.Deployed
	case strings.HasPrefix(st.Status, "pending"):
		return engine.Pending
	}
	return engine.Failed
}

// Deploy does the manifest phase (Stack.Deploy).
func (e ManifestEngine) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	return e.Stack.Deploy(ctx, c, p)
}

// Check renders the component's objects, changing nothing.
func (e ManifestEngine) Check(_ context.Context, c *components.Component, _ components.Phase) []engine.Problem {
	return e.Stack.checkObjects(c)
}

// Plan says whether the objects would be applied for the first time
// ("apply (new)"), adopted (never applied by atmosphere, but all there as
// it renders them: another tool's, helmrelease.Adopt), again because some differ from their live state, by the
// fields the component declares (Stack.ownDiff: changed, missing or to be
// pruned), or not at all ("unchanged"), and which upgrade guards would run
// (an object changing version).
func (e ManifestEngine) Plan(ctx context.Context, c *components.Component, p components.Phase) (engine.Change, error) {
	found, _, err := e.Stack.Manifests.Applied(ctx, setName(c, p), c.Namespace)
	if err != nil {
		return engine.Change{}, err
	}
	if !found {
		// Never applied by atmosphere: its objects may be another tool's
		// already (the Ansible collection's), as atmosphere renders them.
		ok, err := e.Stack.ownAdoptable(ctx, c, p)
		if err != nil {
			return engine.Change{}, err
		}
		if ok {
			return engine.Change{Action: string(helmrelease.Adopt), Why: []string{"objects made by another tool, as rendered"}}, nil
		}
		return engine.Change{Action: "apply", Why: []string{"new"}}, nil
	}
	guards, err := e.Stack.plannedGuards(ctx, c, p)
	if err != nil {
		return engine.Change{}, err
	}
	d, err := e.Stack.ownDiff(ctx, c, p)
	if err != nil {
		return engine.Change{}, err
	}
	if d == "" && len(guards) == 0 {
		return engine.Change{Action: "unchanged"}, nil
	}
	why := []string{"server-side; objects differ"}
	if d == "" {
		why = nil
	}
	return engine.Change{Action: "apply", Why: append(why, guards...)}, nil
}

// Status reads the component's inventory of applied objects: applied
// (with how many) or absent.
func (e ManifestEngine) Status(ctx context.Context, c *components.Component) (engine.State, error) {
	found, n, err := e.Stack.Manifests.Applied(ctx, c.Name, c.Namespace)
	if err != nil {
		return engine.State{}, err
	}
	if !found {
		return engine.State{State: engine.Absent}, nil
	}
	return engine.State{State: engine.Applied, Detail: strconv.Itoa(n) + " objects"}, nil
}

// checkObjects is CheckObjects as the engines report it.
func (s *Stack) checkObjects(c *components.Component) []engine.Problem {
	if err := s.CheckObjects(c); err != nil {
		return []engine.Problem{{About: "objects " + c.Name, Err: fmt.Errorf("%s: %w", c.Name, err)}}
	}
	return nil
}

var _ engine.Differ = HelmEngine{}

// Diff renders the release (as Plan does) and returns the diff of its
// values, then of its objects, from the release's last revision to what a
// deploy would apply, then of the component's own objects from their live
// state (Stack.ownDiff); empty when nothing would change. The chart's CRDs
// a component applies itself (Component.ChartCRDs) are not in it.
func (e HelmEngine) Diff(ctx context.Context, c *components.Component, p components.Phase) (string, error) {
	rel, err := e.Stack.Release(ctx, c)
	if err != nil {
		return "", err
	}
	d, err := e.Stack.Helm.Diff(ctx, rel)
	if err != nil {
		return "", err
	}
	own, err := e.Stack.ownDiff(ctx, c, p)
	if err != nil {
		return "", err
	}
	return d.Values + d.Manifest + own, nil
}

var _ engine.Differ = ManifestEngine{}

// Diff returns the diff of the component's objects (Stack.ownDiff) from
// their live state to what a deploy would apply; empty when nothing would
// change. It changes nothing.
func (e ManifestEngine) Diff(ctx context.Context, c *components.Component, p components.Phase) (string, error) {
	return e.Stack.ownDiff(ctx, c, p)
}

// ownDiff renders the component's own objects as a deploy of that kind
// would (secrets only peeked at), for each set it applies (the objects
// before the release, and after it), and returns the diff
// (manifestdiff.Manifests) of their live state, restricted to the fields
// the set declares (manifest.Applier's Manifests), to what the deploy
// would apply: an object not there is all added, one the set's inventory
// records and no longer renders (the deploy prunes it) all removed, a
// Secret's changed data named by key only. It changes nothing.
func (s *Stack) ownDiff(ctx context.Context, c *components.Component, p components.Phase) (string, error) {
	sets, err := s.ownSets(c, p)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for i, set := range sets {
		// A manifest unit's first set is applied, and so pruned, when
		// empty.
		if len(set.Objects) == 0 && (p.Kind == components.Helm || i > 0) {
			continue
		}
		deployed, wanted, err := s.Manifests.Manifests(ctx, set)
		if err != nil {
			return "", fmt.Errorf("diff of %s: %w", c.Name, err)
		}
		d, err := manifestdiff.Manifests(deployed, wanted)
		if err != nil {
			return "", fmt.Errorf("diff of %s: %w", set.Component, err)
		}
		out.WriteString(d)
	}
	return out.String(), nil
}

// ownAdoptable reports whether applying the component's own objects of the
// phase would change no content: each set atmosphere applied before is as
// it applied it (ownDiff of it empty), and each it never applied is
// another tool's, as rendered (manifest.Applier.Adoptable). A phase
// without objects has nothing to change.
func (s *Stack) ownAdoptable(ctx context.Context, c *components.Component, p components.Phase) (bool, error) {
	sets, err := s.ownSets(c, p)
	if err != nil {
		return false, err
	}
	for _, set := range sets {
		if len(set.Objects) == 0 {
			continue
		}
		found, _, err := s.Manifests.Applied(ctx, set.Component, set.Namespace)
		if err != nil {
			return false, err
		}
		if !found {
			ok, err := s.Manifests.Adoptable(ctx, set)
			if err != nil || !ok {
				return false, err
			}
			continue
		}
		deployed, wanted, err := s.Manifests.Manifests(ctx, set)
		if err != nil {
			return false, fmt.Errorf("diff of %s: %w", c.Name, err)
		}
		d, err := manifestdiff.Manifests(deployed, wanted)
		if err != nil || d != "" {
			return false, err
		}
	}
	return true, nil
}
