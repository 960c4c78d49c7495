// Package kubephase does the Kubernetes work of atmosphere's components: for a
// Helm phase it loads the pinned chart, layers the values (chart defaults,
// the component's own values, the operator's overrides), deploys the
// release in-process and then applies the component's extra objects; for a
// manifest phase it applies the component's objects. HelmEngine and
// ManifestEngine are its engines (internal/engine) of those two kinds of
// work. It names no component: what each renders (values, objects,
// pre-pulls, what goes before a change) is declared with it in package
// components.
package kubephase

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// Outcome is what deploying one phase of a component did.
type Outcome struct {
	Component, Phase string
	// Helm is the release's result, for Helm phases.
	Helm *helmrelease.Result
	// Manifests is the apply's result, when the component has objects.
	Manifests *manifest.Result
}

// Stack deploys the Helm and manifest phases of components.
type Stack struct {
	Charts    *charts.Loader
	Helm      *helmrelease.Deployer
	Manifests *manifest.Applier
	// Config is the deployment's configuration, fed to values and objects.
	Config components.Settings
	// Registry finds a component by name (Grants); the default registry
	// when nil.
	Registry *components.Registry
	// Overrides are the operator's values per component
	// (<component>_helm_values), laid over the component's own.
	Overrides map[string]values.Values
	// Timeouts override the per-component timeouts
	// (Component.PhaseTimeout).
	Timeouts map[string]time.Duration
	// Atomic rolls a release whose upgrade failed back to its last
	// deployed revision (the upgrade's error is still returned).
	Atomic bool
	// RepairDrift upgrades a release Helm would leave as it is when its
	// live objects drifted from its manifest (manifest.Compare): Helm's
	// three-way merge puts the fields back and re-creates what is gone.
	// Off, an unchanged release costs no read of its objects, and a field
	// the cluster fills in after the chart (a webhook's caBundle) never
	// makes a deploy upgrade.
	RepairDrift bool
	// Cluster is how the components' upgrade guards reach the cluster
	// (components.UpgradeGuard); a component with guards fails without
	// it.
	Cluster *components.Kube
	Log     *slog.Logger

	mu       sync.Mutex
	outcomes []Outcome
}

// Outcomes returns what each deployed phase did, in completion order.
func (s *Stack) Outcomes() []Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Outcome(nil), s.outcomes...)
}

func (s *Stack) record(o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, o)
}

// timeout bounds one attempt at a phase of c: the operator's override
// (Timeouts: --unit-timeout, rollback's --timeout), else the component's
// own for the deployment's settings (its role's <role>_helm_timeout when
// the inventory sets it, else its declared Timeout).
func (s *Stack) timeout(c *components.Component) time.Duration {
	if d, ok := s.Timeouts[c.Name]; ok && d > 0 {
		return d
	}
	return c.PhaseTimeout(s.Config)
}

// Values returns the values a component's release is deployed with: its own
// values for its chart (whose default values are chart) with the operator's
// overrides laid over them.
func (s *Stack) Values(c *components.Component, chart values.Values) (values.Values, error) {
	return s.valuesWith(c, chart, s.Config)
}

func (s *Stack) valuesWith(c *components.Component, chart values.Values, cfg components.Settings) (values.Values, error) {
	v, err := c.ReleaseValues(cfg, chart, s.Overrides[c.Name])
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", c.Name, err)
	}
	return v, nil
}

// Release builds the Helm release of a component, touching nothing. A
// Secret an operator has not made yet (a RabbitMQ cluster's user, before
// the component's objects are applied) reads as empty.
func (s *Stack) Release(ctx context.Context, c *components.Component) (helmrelease.Release, error) {
	cfg, _ := s.lenient(true)
	return s.releaseWith(ctx, c, cfg)
}

// CheckObjects renders a component's own objects, changing nothing: a
// problem with them is found before a run starts.
func (s *Stack) CheckObjects(c *components.Component) error {
	cfg, _ := s.lenient(true)
	if _, err := c.Objects(cfg); err != nil {
		return fmt.Errorf("objects of %s: %w", c.Name, err)
	}
	return nil
}

// lenient returns the settings of a rendering before the component's
// objects are there: cluster Secrets that are not there yet read as empty
// (and whether one was), and, with peek, secrets only peeked at, for a
// rendering that must change nothing.
func (s *Stack) lenient(peek bool) (components.Settings, *bool) {
	missing := new(bool)
	cfg := s.Config
	if peek && s.Config.PeekSecret != nil {
		cfg.Secret = s.Config.PeekSecret
	}
	cfg.ClusterSecret = func(name, key string) (string, error) {
		if s.Config.ClusterSecret == nil {
			return "", fmt.Errorf("no cluster to read it from")
		}
		v, err := s.Config.ClusterSecret(name, key)
		if apierrors.IsNotFound(err) {
			*missing = true
			return "", nil
		}
		return v, err
	}
	return cfg, missing
}

func (s *Stack) releaseWith(ctx context.Context, c *components.Component, cfg components.Settings) (helmrelease.Release, error) {
	if c.Chart == nil {
		return helmrelease.Release{}, fmt.Errorf("%s has no chart", c.Name)
	}
	ch, digest, err := s.Charts.LoadWithDigest(ctx, *c.Chart)
	if err != nil {
		return helmrelease.Release{}, err
	}
	v, err := s.valuesWith(c, ch.Values, cfg)
	if err != nil {
		return helmrelease.Release{}, err
	}
	r := helmrelease.Release{
		Name: c.Release, Namespace: c.Namespace, Chart: ch, ChartDigest: digest, Values: v,
		Timeout: s.timeout(c), NotWaitedFor: notWaitedFor(c, cfg),
	}
	puller, err := newImagePuller(c, c.Namespace, v, ch.Values, cfg, s.timeout(c))
	if err != nil {
		return helmrelease.Release{}, err
	}
	remove := c.BeforeChange
	if puller != nil || remove != nil {
		r.BeforeChange = func(ctx context.Context, client kubernetes.Interface) error {
			if puller != nil {
				if _, err := puller.Pull(ctx, client); err != nil {
					return err
				}
			}
			if remove != nil {
				return remove(ctx, client, c.Namespace)
			}
			return nil
		}
	}
	return r, nil
}

// Deploy does a Helm or manifest phase of a component. A Helm component's
// own objects (certificates its chart mounts) are applied and ready before
// its release.
func (s *Stack) Deploy(ctx context.Context, c *components.Component, phase components.Phase) error {
	if phase.Kind != components.Helm && phase.Kind != components.Manifest {
		return fmt.Errorf("%s: phase %s: stack does no %s work", c.Name, phase.Name, phase.Kind)
	}
	out := Outcome{Component: c.Name, Phase: phase.Name}
	defer func() { s.record(out) }()
	defer func() { dag.ReporterFrom(ctx).Note(out.note()) }()
	var release helmrelease.Release
	// A Secret an operator makes for the component's own objects (its
	// RabbitMQ cluster's user) is not there before they are applied: the
	// first rendering reads it as empty, and the values are rendered again
	// once the objects are ready.
	first, missing := s.lenient(false)
	if phase.Kind == components.Helm {
		// Load and layer first: a bad chart or values change nothing.
		var err error
		if release, err = s.releaseWith(ctx, c, first); err != nil {
			return err
		}
		// The cap on Kubernetes API work is for applying; the release's
		// wait gives its slot to the next unit.
		if slices.Contains(phase.Resources, components.ResourceKubeAPI) {
			release.Yield = []string{components.ResourceKubeAPI}
		}
	}
	objs, err := objects(c, s.Config)
	if err != nil {
		return fmt.Errorf("objects of %s: %w", c.Name, err)
	}
	objs = phaseObjects(objs, phase)
	before, after, awaiting := splitObjects(objs, phase.Kind)
	name := setName(c, phase)
	apply := func(set string, objs []manifest.Object) error {
		res, err := s.Manifests.Apply(ctx, manifest.Set{Component: set, Owner: setOwner(c, phase), Namespace: c.Namespace, Objects: objs, Timeout: s.timeout(c)})
		out.Manifests = mergeResults(out.Manifests, res)
		return err
	}
	if phase.Kind == components.Helm && c.ChartCRDs {
		// Helm installs a chart's crds/ once and never upgrades them: the
		// operator's CRDs are applied first, as the roles do.
		crds, err := crdObjects(release)
		if err != nil {
			return err
		}
		res, err := s.Manifests.Apply(ctx, manifest.Set{Component: c.Name + "-crds", Namespace: c.Namespace, Objects: crds,
			Timeout: s.timeout(c), KeepDropped: true})
		out.Manifests = mergeResults(out.Manifests, res)
		if err != nil {
			return err
		}
	}
	// The roles' upgrade guards: an object whose version changes is
	// checked (and prepared) before anything is applied.
	guards, err := s.observeGuards(ctx, c, objs)
	if err != nil {
		return err
	}
	if err := s.runGuards(ctx, c, guards, true); err != nil {
		return err
	}
	if len(before) > 0 || phase.Kind == components.Manifest {
		if err := apply(name, before); err != nil {
			return err
		}
	}
	if err := s.runGuards(ctx, c, guards, false); err != nil {
		return err
	}
	if phase.Kind == components.Helm {
		if *missing {
			v, err := s.Values(c, release.Chart.Values)
			if err != nil {
				return err
			}
			release.Values = v
		}
		// A release Helm would leave as it is is upgraded all the same
		// when its live objects drifted from its manifest (RepairDrift).
		if s.RepairDrift {
			if dec, err := s.Helm.Plan(ctx, release); err == nil && (dec.Action == helmrelease.Unchanged || dec.Action == helmrelease.Adopt) {
				drift, err := s.releaseDrift(ctx, c)
				if err != nil {
					return err
				}
				for _, d := range drift {
					release.Drifted = append(release.Drifted, d.String())
				}
			}
		}
		res, err := s.Helm.Deploy(ctx, release)
		out.Helm = &res
		if err != nil && s.Atomic && res.Action == helmrelease.Upgrade && ctx.Err() == nil {
			// Put the last deployed revision back: the failed upgrade is
			// now the last revision, which Rollback rolls back from.
			release.Rollback = true
			back, rerr := s.Helm.Deploy(ctx, release)
			if rerr != nil {
				return fmt.Errorf("%w; and the rollback failed: %w", err, rerr)
			}
			out.Helm = &back
			return fmt.Errorf("%w; rolled back to revision %d", err, back.NewRevision)
		}
		if err != nil {
			return err
		}
	}
	if len(after) > 0 {
		// Their own inventory, so that neither apply prunes the other's.
		if err := apply(name+"-after-release", after); err != nil {
			return err
		}
	}
	if len(awaiting) > 0 {
		// The CRDs their operator (applied above) creates when it runs.
		for _, crd := range awaitedCRDs(awaiting) {
			if err := s.Manifests.WaitForCRD(ctx, crd, s.timeout(c)); err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
		}
		if err := apply(name+afterCRDSet, awaiting); err != nil {
			return err
		}
	}
	return nil
}

// afterCRDSet ends the name of the set of a component's objects that
// await a CRD (manifest.Object's AwaitCRD): its own inventory.
const afterCRDSet = "-after-crd"

// setName names the set of a component's objects a phase applies: the
// component's own name for its install phase (as it always was), else
// <component>-<phase> (its RabbitMQ cluster's phase: "nova-rabbitmq").
func setName(c *components.Component, phase components.Phase) string {
	if phase.Name == installPhase {
		return c.Name
	}
	return c.Name + "-" + phase.Name
}

// setOwner is the component label of the objects of a phase's sets
// (manifest.Set.Owner): the component's for a phase other than install
// (its RabbitMQ cluster keeps the label it had when the install phase
// applied it), the set's own name (empty) for the install phase's sets,
// as they always were.
func setOwner(c *components.Component, phase components.Phase) string {
	if phase.Name == installPhase {
		return ""
	}
	return c.Name
}

// installPhase is the name of the phase that applies a component's
// objects unless they name another (manifest.Object's Phase).
const installPhase = "install"

// phaseObjects are the objects of objs the phase applies: those naming
// it, and, for the install phase, those naming none.
func phaseObjects(objs []manifest.Object, phase components.Phase) []manifest.Object {
	var out []manifest.Object
	for _, o := range objs {
		if o.Phase == phase.Name || (o.Phase == "" && phase.Name == installPhase) {
			out = append(out, o)
		}
	}
	return out
}

// splitObjects splits a component's objects into the sets a phase of
// kind applies, each in their order: those before the release (all of a
// manifest phase's but the ones awaiting a CRD), those after it (a Helm
// phase's AfterRelease objects), and those awaiting a CRD an operator
// creates (AwaitCRD), applied last.
func splitObjects(objs []manifest.Object, kind components.Kind) (before, after, awaiting []manifest.Object) {
	for _, o := range objs {
		switch {
		case o.AwaitCRD != "":
			awaiting = append(awaiting, o)
		case o.AfterRelease && kind == components.Helm:
			after = append(after, o)
		default:
			before = append(before, o)
		}
	}
	return before, after, awaiting
}

// awaitedCRDs are the CRDs objects await, each once, in their order.
func awaitedCRDs(objs []manifest.Object) []string {
	var out []string
	for _, o := range objs {
		if !slices.Contains(out, o.AwaitCRD) {
			out = append(out, o.AwaitCRD)
		}
	}
	return out
}

// notWaitedFor is what the component's release's wait must skip under
// the settings cfg (Component.NotWaitedFor), as the Helm deployer takes it.
func notWaitedFor(c *components.Component, cfg components.Settings) []helmrelease.WaitException {
	var out []helmrelease.WaitException
	for _, e := range c.NotWaitedFor(cfg) {
		out = append(out, helmrelease.WaitException{Kind: e.Kind, Name: e.Name, Why: e.Why, UntilSecret: e.UntilSecret})
	}
	return out
}

// note says what the phase did, for the deploy's progress.
func (o Outcome) note() dag.Note {
	var did []string
	changed := false
	if o.Helm != nil && o.Helm.Action != "" {
		switch o.Helm.Action {
		case helmrelease.Unchanged:
			did = append(did, "release unchanged")
		case helmrelease.Adopt:
			// Only the release record's labels were written: nothing
			// of the release changed.
			did = append(did, fmt.Sprintf("adopt: %s (revision %d kept)", strings.Join(o.Helm.Reasons, ", "), o.Helm.NewRevision))
		default:
			changed = true
			what := string(o.Helm.Action)
			if len(o.Helm.Reasons) > 0 {
				what += ": " + strings.Join(o.Helm.Reasons, ", ")
			}
			did = append(did, fmt.Sprintf("%s (revision %d)", what, o.Helm.NewRevision))
		}
		if len(o.Helm.NotWaited) > 0 {
			did = append(did, "not waited for: "+strings.Join(o.Helm.NotWaited, ", "))
		}
	}
	if m := o.Manifests; m != nil {
		if n := len(m.Changed) + m.Pruned; n > 0 || m.Created > 0 {
			changed = true
			what := fmt.Sprintf("%d objects applied: %d changed, %d created, %d pruned", m.Applied, len(m.Changed), m.Created, m.Pruned)
			if len(m.Adopted) > 0 {
				what += fmt.Sprintf(", %d adopted as they were", len(m.Adopted))
			}
			did = append(did, what)
		} else if len(m.Adopted) > 0 {
			did = append(did, fmt.Sprintf("%d objects applied: %d adopted as they were, %d unchanged", m.Applied, len(m.Adopted), m.Applied-len(m.Adopted)))
		} else {
			did = append(did, fmt.Sprintf("%d objects unchanged", m.Applied))
		}
	}
	return dag.Note{Did: strings.Join(did, "; "), Unchanged: !changed && len(did) > 0}
}

func mergeResults(a *manifest.Result, b manifest.Result) *manifest.Result {
	if a == nil {
		return &b
	}
	return &manifest.Result{
		Applied: a.Applied + b.Applied, Created: a.Created + b.Created, Pruned: a.Pruned + b.Pruned,
		Reused: a.Reused + b.Reused, Changed: append(a.Changed, b.Changed...), Adopted: append(a.Adopted, b.Adopted...),
	}
}

// crdObjects are the CRDs of a release's chart (its crds/ directories,
// its dependencies' too).
func crdObjects(r helmrelease.Release) ([]manifest.Object, error) {
	var out []manifest.Object
	for _, crd := range r.Chart.CRDObjects() {
		for i, doc := range strings.Split(string(crd.File.Data), "\n---") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return nil, fmt.Errorf("chart %s: %s document %d: %w", r.Chart.Name(), crd.Filename, i, err)
			}
			if len(m) == 0 {
				continue
			}
			out = append(out, manifest.Object{Unstructured: &unstructured.Unstructured{Object: m}})
		}
	}
	return out, nil
}

// objects are the objects a component applies itself, as the applier
// takes them.
func objects(c *components.Component, cfg components.Settings) ([]manifest.Object, error) {
	own, err := c.Objects(cfg)
	if err != nil {
		return nil, err
	}
	var out []manifest.Object
	for _, o := range own {
		out = append(out, manifest.Object(o))
	}
	return out, nil
}

// Rollback rolls a Helm component's release back to revision (0: the last
// deployed before the current one), with the component's timeout and what
// it removes before a change (BeforeChange), and tells the run what it did
// as Deploy does ("rollback: to revision 1 (revision 3)"). Its own objects
// are left as they are: they are not part of the release's history.
func (s *Stack) Rollback(ctx context.Context, c *components.Component, phase components.Phase, revision int) error {
	if phase.Kind != components.Helm || c.Chart == nil {
		return fmt.Errorf("%s: phase %s: no Helm release to roll back", c.Name, phase.Name)
	}
	out := Outcome{Component: c.Name, Phase: phase.Name}
	defer func() { s.record(out) }()
	defer func() { dag.ReporterFrom(ctx).Note(out.note()) }()
	req := helmrelease.RollbackRequest{Name: c.Release, Namespace: c.Namespace, Revision: revision, Timeout: s.timeout(c),
		NotWaitedFor: notWaitedFor(c, s.Config)}
	if remove := c.BeforeChange; remove != nil {
		req.BeforeChange = func(ctx context.Context, client kubernetes.Interface) error { return remove(ctx, client, c.Namespace) }
	}
	res, err := s.Helm.Rollback(ctx, req)
	if res.Action != "" {
		out.Helm = &res
	}
	return err
}
