package kubephase

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// ReleaseReader reads the releases of the running cloud
// (*helmrelease.Deployer is one).
type ReleaseReader interface {
	// DeployedReleases lists the releases with a deployed revision.
	DeployedReleases(ctx context.Context) ([]helmrelease.DeployedRelease, error)
	// Running reads a release's last deployed values.
	Running(ctx context.Context, namespace, name string) (helmrelease.Running, error)
}

// CloudSecrets finds the secrets the running cloud already has: those the
// releases of the deployment's Helm components hold in their values, at
// the places their values put them (Stack.SecretPlaces), and, for Find,
// those the components' own objects hold (Stack.ObjectSecretPlaces: a
// Secret the roles applied). The releases are listed once (their
// storage's labels), and only the components that have a release are
// rendered, only the releases and objects asked about read, each once. It
// is safe for concurrent use; it writes nothing.
type CloudSecrets struct {
	Stack *Stack
	// Components are the deployment's components (those with a chart have
	// a release).
	Components []*components.Component
	// Releases reads the cloud's releases.
	Releases ReleaseReader
	// Objects reads live objects; the components' objects are not looked
	// in when nil.
	Objects ObjectReader
	// Key is the key of the secrets store an inventory variable's secret
	// is kept under (secrets.VarKey); the variable's name when nil.
	Key func(name string) string

	mu       sync.Mutex
	listed   bool
	deployed []helmrelease.DeployedRelease
	places   map[string][]SecretPlace
	running  map[string]helmrelease.Running
	// objectPlaces are by component; live the objects read, by
	// ObjectSecretPlace.Object (nil: not there).
	objectPlaces map[string][]ObjectSecretPlace
	live         map[string]map[string]any
}

// Found is a secret the running cloud holds.
type Found struct {
	// Var is the inventory variable; Value its secret.
	Var, Value string
	// Release ("namespace/name") and Path ("endpoints.oslo_db.auth.glance.password")
	// say where; Object ("Secret/monitoring/grafana-cookie-secret") in
	// place of Release for an object's.
	Release, Object, Path string
	// Ours says atmosphere made the release's last revision (or applied
	// the object).
	Ours bool
}

// Where is "release namespace/name (path)", or "object Kind/namespace/name (path)".
func (f Found) Where() string {
	if f.Object != "" {
		return fmt.Sprintf("object %s (%s)", f.Object, f.Path)
	}
	return fmt.Sprintf("release %s (%s)", f.Release, f.Path)
}

// Find is the secret of the store key the cloud's releases hold, from the
// first release (in namespace and name order) and place that has it, else
// the first of the components' objects (in the components' order) that
// holds it: a secrets.Finder. found is false when none has it.
func (s *CloudSecrets) Find(ctx context.Context, key string) (value, where string, found bool, err error) {
	wanted := func(name string) bool { return s.key(name) == key }
	all, err := s.held(ctx, func(helmrelease.DeployedRelease) bool { return true }, wanted)
	if err != nil {
		return "", "", false, err
	}
	if len(all) == 0 {
		f, ok, err := s.inObjects(ctx, wanted)
		if err != nil || !ok {
			return "", "", false, err
		}
		all = append(all, f)
	}
	return all[0].Value, all[0].Where(), true, nil
}

// inObjects is the first secret of a variable wanted that the live
// objects of the components hold.
func (s *CloudSecrets) inObjects(ctx context.Context, wanted func(name string) bool) (Found, bool, error) {
	if s.Objects == nil {
		return Found{}, false, nil
	}
	for _, c := range s.Components {
		found, err := s.objectSecrets(ctx, c, wanted)
		if err != nil {
			return Found{}, false, err
		}
		if len(found) > 0 {
			return found[0], true, nil
		}
	}
	return Found{}, false, nil
}

// objectSecrets are the secrets of the variables wanted that the live
// objects of c hold, in the order of its objects; Ours says the object
// carries manifest.LabelComponent (atmosphere applied it). Places are
// rendered once per component, objects read once.
func (s *CloudSecrets) objectSecrets(ctx context.Context, c *components.Component, wanted func(name string) bool) ([]Found, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	places, ok := s.objectPlaces[c.Name]
	if !ok {
		var err error
		if places, err = s.Stack.ObjectSecretPlaces(c); err != nil {
			s.skipped(c, err)
			places = nil
		}
		if s.objectPlaces == nil {
			s.objectPlaces = map[string][]ObjectSecretPlace{}
		}
		s.objectPlaces[c.Name] = places
	}
	var out []Found
	for _, p := range places {
		if !wanted(p.Var) {
			continue
		}
		obj, read := s.live[p.Object()]
		if !read {
			var err error
			if obj, _, err = s.Objects.Live(ctx, p.APIVersion, p.Kind, p.Namespace, p.Name); err != nil {
				return nil, err
			}
			if s.live == nil {
				s.live = map[string]map[string]any{}
			}
			s.live[p.Object()] = obj
		}
		if obj == nil {
			continue
		}
		if v, ok := p.Extract(obj); ok {
			labels, _, _ := unstructured.NestedStringMap(obj, "metadata", "labels")
			_, ours := labels[manifest.LabelComponent]
			out = append(out, Found{Var: p.Var, Value: v, Object: p.Object(), Path: p.PathString(), Ours: ours})
		}
	}
	return out, nil
}

// Foreign are the secrets held by the releases another tool made (whose
// last revision atmosphere did not make) among those of the releases
// ("namespace/name") only says (all when nil): those an adopting run must
// not change unasked. Only those releases are read.
func (s *CloudSecrets) Foreign(ctx context.Context, only func(release string) bool) ([]Found, error) {
	all, err := s.held(ctx, func(r helmrelease.DeployedRelease) bool { return !r.Ours && (only == nil || only(r.String())) },
		func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	var out []Found
	for _, f := range all {
		if !f.Ours {
			out = append(out, f)
		}
	}
	return out, nil
}

// ForeignObjects are the secrets held by the live objects of the
// components only names (all when nil) that another tool made (they do not
// carry manifest.LabelComponent, which every apply of atmosphere's writes):
// the Secrets the roles applied, which an adopting run must not change
// unasked. It reads nothing unless a release of the cloud is another
// tool's (an adoption), so a run on atmosphere's own cloud does not pay for
// it; each object is read once.
func (s *CloudSecrets) ForeignObjects(ctx context.Context, only func(component string) bool) ([]Found, error) {
	if _, err := s.held(ctx, func(helmrelease.DeployedRelease) bool { return false }, func(string) bool { return false }); err != nil {
		return nil, err // lists the releases, once
	}
	s.mu.Lock()
	adopting := slices.ContainsFunc(s.deployed, func(r helmrelease.DeployedRelease) bool { return !r.Ours })
	s.mu.Unlock()
	if !adopting || s.Objects == nil {
		return nil, nil
	}
	var out []Found
	for _, c := range s.Components {
		if only != nil && !only(c.Name) {
			continue
		}
		found, err := s.objectSecrets(ctx, c, func(string) bool { return true })
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			if !f.Ours {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

func (s *CloudSecrets) key(name string) string {
	if s.Key == nil {
		return name
	}
	return s.Key(name)
}

// held are the secrets of the variables wanted that the releases wanted
// hold, in release and path order.
func (s *CloudSecrets) held(ctx context.Context, release func(helmrelease.DeployedRelease) bool, wanted func(name string) bool) ([]Found, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.listed {
		d, err := s.Releases.DeployedReleases(ctx)
		if err != nil {
			return nil, err
		}
		s.deployed, s.listed = d, true
	}
	var out []Found
	for _, r := range s.deployed {
		if !release(r) {
			continue
		}
		for _, c := range s.Components {
			if c.Chart == nil || c.Release != r.Name || c.Namespace != r.Namespace {
				continue
			}
			places, err := s.placesOf(ctx, c)
			if err != nil {
				return nil, err
			}
			var run *helmrelease.Running
			for _, p := range places {
				if !wanted(p.Var) {
					continue
				}
				if run == nil {
					if run, err = s.runningOf(ctx, r); err != nil {
						return nil, err
					}
				}
				if !run.Found {
					break
				}
				if v, ok := p.Extract(run.Config); ok {
					out = append(out, Found{Var: p.Var, Value: v, Release: r.String(), Path: p.PathString(), Ours: run.Ours})
				}
			}
		}
	}
	return out, nil
}

// placesOf are the secret places of c, rendered once.
func (s *CloudSecrets) placesOf(ctx context.Context, c *components.Component) ([]SecretPlace, error) {
	if p, ok := s.places[c.Name]; ok {
		return p, nil
	}
	p, err := s.Stack.SecretPlaces(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		// Its unit's own check renders the same values, and refuses the
		// run with the problem.
		s.skipped(c, err)
		p = nil
	}
	if s.places == nil {
		s.places = map[string][]SecretPlace{}
	}
	s.places[c.Name] = p
	return p, nil
}

// skipped logs a component whose secrets' places could not be rendered:
// the cloud's secrets are not looked for in its release or objects.
func (s *CloudSecrets) skipped(c *components.Component, err error) {
	if s.Stack.Log != nil {
		s.Stack.Log.Warn("the places of a component's secrets could not be rendered; not looked up in the running cloud",
			"component", c.Name, "error", err)
	}
}

// runningOf reads the release r, once.
func (s *CloudSecrets) runningOf(ctx context.Context, r helmrelease.DeployedRelease) (*helmrelease.Running, error) {
	if run, ok := s.running[r.String()]; ok {
		return &run, nil
	}
	run, err := s.Releases.Running(ctx, r.Namespace, r.Name)
	if err != nil {
		return nil, err
	}
	if s.running == nil {
		s.running = map[string]helmrelease.Running{}
	}
	s.running[r.String()] = run
	return &run, nil
}
