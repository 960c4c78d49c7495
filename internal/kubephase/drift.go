package kubephase

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

var (
	_ engine.Drifter = HelmEngine{}
	_ engine.Drifter = ManifestEngine{}
)

// Drift compares the live objects of the component's release (those of
// its deployed revision's manifest) and of its own objects (as their
// inventories record them applied) with what was applied (manifest.Compare
// states which fields). It changes nothing.
func (e HelmEngine) Drift(ctx context.Context, c *components.Component) ([]manifest.Drift, error) {
	if c.Chart == nil {
		return nil, nil
	}
	own, err := e.Stack.ownDrift(ctx, c)
	if err != nil {
		return nil, err
	}
	rel, err := e.Stack.releaseDrift(ctx, c)
	if err != nil {
		return nil, err
	}
	return append(rel, own...), nil
}

// Drift compares the live objects the component's inventory records with
// what was applied (manifest.Applier.Drift). It changes nothing.
func (e ManifestEngine) Drift(ctx context.Context, c *components.Component) ([]manifest.Drift, error) {
	return e.Stack.ownDrift(ctx, c)
}

// releaseDrift compares the live objects of the deployed revision of the
// component's release with its manifest; none when no revision is
// deployed.
func (s *Stack) releaseDrift(ctx context.Context, c *components.Component) ([]manifest.Drift, error) {
	text, found, err := s.Helm.Manifest(ctx, c.Release, c.Namespace)
	if err != nil || !found {
		return nil, err
	}
	// Decoded as Helm's kube client decodes it to apply it: one document
	// after another, each untrimmed (a block scalar keeps its last line
	// break).
	var objs []*unstructured.Unstructured
	docs := kyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	for i := 0; ; i++ {
		doc, err := docs.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("release %s/%s: manifest: %w", c.Namespace, c.Release, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("release %s/%s: manifest document %d: %w", c.Namespace, c.Release, i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if !u.IsList() {
			objs = append(objs, u)
			continue
		}
		// A List (kube-prometheus-stack renders some) is its items, as
		// Helm applies them.
		if err := u.EachListItem(func(item runtime.Object) error {
			if o, ok := item.(*unstructured.Unstructured); ok {
				objs = append(objs, o)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("release %s/%s: manifest document %d: %w", c.Namespace, c.Release, i, err)
		}
	}
	sortObjects(objs)
	d, err := s.Manifests.CompareLive(ctx, objs, c.Namespace)
	if err != nil {
		return nil, fmt.Errorf("release %s/%s: %w", c.Namespace, c.Release, err)
	}
	return d, nil
}

// ownDrift compares the component's own objects with their live state, for
// each of the sets a deploy applies (the objects of each of its Helm and
// manifest phases: before the release, and after it).
func (s *Stack) ownDrift(ctx context.Context, c *components.Component) ([]manifest.Drift, error) {
	var out []manifest.Drift
	for _, p := range c.Phases {
		if p.Kind != components.Helm && p.Kind != components.Manifest {
			continue
		}
		sets, err := s.ownSets(c, p)
		if err != nil {
			return nil, err
		}
		for _, set := range sets {
			if len(set.Objects) == 0 {
				continue
			}
			d, err := s.Manifests.Drift(ctx, set)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
	}
	return out, nil
}

// sortObjects orders objects by kind, namespace and name (a release's
// manifest comes as a map).
func sortObjects(objs []*unstructured.Unstructured) {
	key := func(o *unstructured.Unstructured) string {
		return o.GetKind() + "\x00" + o.GetNamespace() + "\x00" + o.GetName()
	}
	slices.SortFunc(objs, func(a, b *unstructured.Unstructured) int { return strings.Compare(key(a), key(b)) })
}

// ownSets renders the component's own objects that the phase applies
// (phaseObjects), as a deploy would (secrets only peeked at), into the
// three sets it applies (splitObjects): the objects before the release
// (all of a manifest unit's but those awaiting a CRD), those after it (a
// Helm unit's AfterRelease objects), and those awaiting a CRD an operator
// creates. Any may be empty.
func (s *Stack) ownSets(c *components.Component, phase components.Phase) ([]manifest.Set, error) {
	cfg, _ := s.lenient(true)
	objs, err := objects(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("objects of %s: %w", c.Name, err)
	}
	before, after, awaiting := splitObjects(phaseObjects(objs, phase), phase.Kind)
	name, owner := setName(c, phase), setOwner(c, phase)
	return []manifest.Set{{Component: name, Owner: owner, Namespace: c.Namespace, Objects: before},
		{Component: name + "-after-release", Owner: owner, Namespace: c.Namespace, Objects: after},
		{Component: name + afterCRDSet, Owner: owner, Namespace: c.Namespace, Objects: awaiting}}, nil
}
