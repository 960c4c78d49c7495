// Package manifest applies a component's Kubernetes objects with
// server-side apply (field manager "atmosphere"), waits for the conditions
// that matter (workloads ready, Certificates and issuers Ready, Percona
// XtraDB clusters ready), and prunes the objects a component no longer
// renders.
//
// What a component applied is recorded in an inventory Secret in its
// namespace ("atmosphere-manifests-<component>"). The inventory is widened
// to the union of old and new objects before anything is applied, and
// narrowed once the prune is done, so a run cut short at any point leaves
// an inventory from which the next run prunes correctly.
package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// FieldManager is the server-side apply field manager of everything
// atmosphere applies.
const FieldManager = "atmosphere"

// Labels put on every applied object.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelComponent = "atmosphere.vexxhost.com/component"
)

// Object is one object to apply.
type Object struct {
	*unstructured.Unstructured
	// CreateOnly objects are created when missing and never changed after
	// (generated passwords: a re-run must not roll them).
	CreateOnly bool
	// AfterRelease objects of a Helm component are applied after its
	// release, as a set of their own; the applier itself ignores it.
	AfterRelease bool
}

// Set is what one component applies.
type Set struct {
	// Component names the set; its inventory is kept under this name.
	Component string
	// Namespace is where namespaced objects without a namespace go, and
	// where the inventory is kept. It is created when missing.
	Namespace string
	Objects   []Object
	// Timeout bounds the wait; DefaultTimeout when zero.
	Timeout time.Duration
	// KeepDropped leaves the objects a later set no longer holds (CRDs:
	// deleting one deletes every object of its kind).
	KeepDropped bool
}

// DefaultTimeout bounds the wait for a set's objects.
const DefaultTimeout = 5 * time.Minute

// Result says what an apply did.
type Result struct {
	// Applied counts objects applied (SSA is idempotent: re-applying the
	// same object does not change it), Created the create-only objects
	// created, Pruned the objects deleted because they are no longer in the
	// set.
	Applied, Created, Pruned int
	// Changed lists the objects whose resourceVersion changed.
	Changed []string
}

// Applier applies sets. It is safe for concurrent use on different
// components.
type Applier struct {
	dynamic   dynamic.Interface
	clientset kubernetes.Interface
	kinds     *kubeutil.KindResolver
	log       *slog.Logger
	// Interval is the longest pause between two polls of a wait (the first
	// ones are shorter: kubeutil.Backoff).
	Interval time.Duration
}

// NewApplier returns an Applier. The mapper is reset (and its discovery
// invalidated) when a kind is unknown, and a kind whose CRD exists is waited
// for until it is served (kubeutil.KindResolver), so CRDs installed by an
// earlier component, or just before, are found.
func NewApplier(dyn dynamic.Interface, cs kubernetes.Interface, mapper meta.ResettableRESTMapper, log *slog.Logger) *Applier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{dynamic: dyn, clientset: cs, kinds: &kubeutil.KindResolver{Mapper: mapper, Dynamic: dyn}, log: log, Interval: time.Second}
}

// ref identifies an applied object in the inventory.
type ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r ref) String() string {
	k := r.Kind
	if r.Group != "" {
		k += "." + r.Group
	}
	if r.Namespace == "" {
		return k + "/" + r.Name
	}
	return k + "/" + r.Namespace + "/" + r.Name
}

func (r ref) gvk() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// key ignores the version: the same object under another version is not
// pruned.
func (r ref) key() string { return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name }

func inventoryName(component string) string { return "atmosphere-manifests-" + component }

// mapping resolves a kind, waiting for one whose CRD exists but is not
// served yet (bounded by ctx); a kind nothing provides fails at once.
func (a *Applier) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := a.kinds.RESTMapping(ctx, gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", gvk, err)
	}
	return m, nil
}

func (a *Applier) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.dynamic.Resource(m.Resource).Namespace(namespace)
	}
	return a.dynamic.Resource(m.Resource)
}

// prepared is an object ready to apply.
type prepared struct {
	obj        *unstructured.Unstructured
	createOnly bool
	mapping    *meta.RESTMapping
	ref        ref
}

// prepare resolves every object's kind and namespace, and checks the set,
// before anything is changed. All problems are reported at once.
func (a *Applier) prepare(ctx context.Context, set Set) ([]prepared, error) {
	var problems []string
	var out []prepared
	seen := map[string]bool{}
	if set.Component == "" || set.Namespace == "" {
		return nil, errors.New("manifest set needs a component and a namespace")
	}
	for i, o := range set.Objects {
		if o.Unstructured == nil {
			problems = append(problems, fmt.Sprintf("object %d: empty", i))
			continue
		}
		obj := o.DeepCopy()
		gvk := obj.GroupVersionKind()
		if gvk.Kind == "" || gvk.Version == "" || obj.GetName() == "" {
			problems = append(problems, fmt.Sprintf("object %d: apiVersion, kind and metadata.name are required", i))
			continue
		}
		m, err := a.mapping(ctx, gvk)
		if err != nil {
			problems = append(problems, fmt.Sprintf("object %d (%s %s): %v", i, gvk.Kind, obj.GetName(), err))
			continue
		}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(set.Namespace)
			}
		} else {
			obj.SetNamespace("")
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelManagedBy] = "atmosphere"
		labels[LabelComponent] = set.Component
		obj.SetLabels(labels)
		r := ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
		if seen[r.key()] {
			problems = append(problems, fmt.Sprintf("object %d: %s is listed twice", i, r))
			continue
		}
		seen[r.key()] = true
		out = append(out, prepared{obj: obj, createOnly: o.CreateOnly, mapping: m, ref: r})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("component %s: %s", set.Component, strings.Join(problems, "; "))
	}
	return out, nil
}

// Apply applies the set, prunes what it no longer holds, and waits for the
// objects to be ready.
func (a *Applier) Apply(ctx context.Context, set Set) (Result, error) {
	var res Result
	objs, err := a.prepare(ctx, set)
	if err != nil {
		return res, err
	}
	if err := kubeutil.EnsureNamespace(ctx, a.clientset, set.Namespace); err != nil {
		return res, err
	}
	old, err := a.readInventory(ctx, set)
	if err != nil {
		return res, err
	}
	want := make([]ref, 0, len(objs))
	for _, p := range objs {
		want = append(want, p.ref)
	}
	if err := a.writeInventory(ctx, set, union(old, want)); err != nil {
		return res, err
	}
	for _, p := range objs {
		changed, created, err := a.applyOne(ctx, p)
		if err != nil {
			return res, fmt.Errorf("component %s: apply %s: %w", set.Component, p.ref, err)
		}
		res.Applied++
		if created {
			res.Created++
		}
		if changed {
			res.Changed = append(res.Changed, p.ref.String())
		}
	}
	if !set.KeepDropped {
		pruned, err := a.prune(ctx, old, want)
		res.Pruned = pruned
		if err != nil {
			return res, fmt.Errorf("component %s: %w", set.Component, err)
		}
	}
	if err := a.writeInventory(ctx, set, want); err != nil {
		return res, err
	}
	timeout := set.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := a.wait(ctx, objs, timeout); err != nil {
		return res, fmt.Errorf("component %s: %w", set.Component, err)
	}
	return res, nil
}

func (a *Applier) applyOne(ctx context.Context, p prepared) (changed, created bool, err error) {
	ri := a.resource(p.mapping, p.obj.GetNamespace())
	current, err := ri.Get(ctx, p.obj.GetName(), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, false, err
	}
	exists := err == nil
	if p.createOnly {
		if exists {
			return false, false, nil
		}
		_, err := ri.Create(ctx, p.obj, metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return false, false, nil
		}
		return err == nil, err == nil, err
	}
	data, err := json.Marshal(p.obj.Object)
	if err != nil {
		return false, false, err
	}
	force := true
	applied, err := ri.Patch(ctx, p.obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return false, false, err
	}
	if !exists {
		return true, false, nil
	}
	return applied.GetResourceVersion() != current.GetResourceVersion(), false, nil
}

// prune deletes what the old inventory holds and the new set does not.
func (a *Applier) prune(ctx context.Context, old, want []ref) (int, error) {
	keep := map[string]bool{}
	for _, r := range want {
		keep[r.key()] = true
	}
	n := 0
	for _, r := range old {
		if keep[r.key()] {
			continue
		}
		m, err := a.mapping(ctx, r.gvk())
		if err != nil {
			if meta.IsNoMatchError(errors.Unwrap(err)) {
				continue // its kind is gone, and the object with it
			}
			return n, fmt.Errorf("prune %s: %w", r, err)
		}
		policy := metav1.DeletePropagationBackground
		err = a.resource(m, r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			return n, fmt.Errorf("prune %s: %w", r, err)
		}
		a.log.Info("pruned", "object", r.String())
		n++
	}
	return n, nil
}

func union(a, b []ref) []ref {
	seen := map[string]bool{}
	var out []ref
	for _, r := range append(slices.Clone(a), b...) {
		if !seen[r.key()] {
			seen[r.key()] = true
			out = append(out, r)
		}
	}
	return out
}

func (a *Applier) readInventory(ctx context.Context, set Set) ([]ref, error) {
	s, err := a.clientset.CoreV1().Secrets(set.Namespace).Get(ctx, inventoryName(set.Component), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read inventory of %s: %w", set.Component, err)
	}
	var refs []ref
	if err := json.Unmarshal(s.Data["objects"], &refs); err != nil {
		return nil, fmt.Errorf("inventory %s/%s: %w", set.Namespace, s.Name, err)
	}
	return refs, nil
}

func (a *Applier) writeInventory(ctx context.Context, set Set, refs []ref) error {
	sorted := slices.Clone(refs)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key() < sorted[j].key() })
	data, err := json.Marshal(sorted)
	if err != nil {
		return err
	}
	secret := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": inventoryName(set.Component), "namespace": set.Namespace,
			"labels": map[string]any{LabelManagedBy: "atmosphere", LabelComponent: set.Component},
		},
		"type": "atmosphere.vexxhost.com/inventory",
		"data": map[string]any{"objects": data},
	}
	raw, err := json.Marshal(secret)
	if err != nil {
		return err
	}
	force := true
	_, err = a.clientset.CoreV1().Secrets(set.Namespace).Patch(ctx, inventoryName(set.Component), types.ApplyPatchType, raw,
		metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("write inventory of %s: %w", set.Component, err)
	}
	return nil
}

// NewApplierForConfig builds an Applier with its own clients from a REST
// config.
func NewApplierForConfig(config *rest.Config, log *slog.Logger) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return NewApplier(dyn, cs, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), log), nil
}

// Applied reports whether a component's objects were applied (its
// inventory exists) and how many objects the inventory lists.
func (a *Applier) Applied(ctx context.Context, component, namespace string) (bool, int, error) {
	s, err := a.clientset.CoreV1().Secrets(namespace).Get(ctx, inventoryName(component), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("read inventory of %s: %w", component, err)
	}
	var refs []ref
	if err := json.Unmarshal(s.Data["objects"], &refs); err != nil {
		return true, 0, fmt.Errorf("inventory %s/%s: %w", namespace, s.Name, err)
	}
	return true, len(refs), nil
}
