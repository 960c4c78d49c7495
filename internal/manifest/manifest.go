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
//
// The inventory also records, for each object, a digest of what was applied
// and the object's generation (or, for kinds without one, its
// resourceVersion) just after. An object whose rendering has the same digest
// and whose live generation is the recorded one is not applied again: a
// re-run reads it, and does not ask the API server for a server-side apply
// that would change nothing (the CRDs of a chart are large, and applying
// them is most of a no-op run's work). An object deleted, or edited so that
// its generation moved (a spec change; any change of a kind without
// generations), is applied again. An edit that leaves the generation where
// it was (a label or an annotation of a Deployment, a CRD) is not put right
// until the object's rendering changes.
package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
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
	// AwaitCRD objects are applied, as a set of their own, once the
	// CustomResourceDefinition it names is there (WaitForCRD); the
	// applier itself ignores it.
	AwaitCRD string
	// Phase names the phase of its component that applies the object
	// when it is not the install phase; the applier itself ignores it.
	Phase string
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
	// Owner is the component whose objects these are, the value of their
	// LabelComponent; Component when empty. A set of one phase of a
	// component (its RabbitMQ cluster) keeps its objects labelled as the
	// component's, as they were when another set held them.
	Owner string
}

// owner is the value of the set's objects' LabelComponent.
func (s Set) owner() string {
	if s.Owner != "" {
		return s.Owner
	}
	return s.Component
}

// DefaultTimeout bounds the wait for a set's objects.
const DefaultTimeout = 5 * time.Minute

// Result says what an apply did.
type Result struct {
	// Applied counts the set's objects (applied, or found as last applied:
	// SSA is idempotent, re-applying the same object does not change it),
	// Created the create-only objects created, Pruned the objects deleted
	// because they are no longer in the set, Reused the objects found as
	// last applied and so not applied again.
	Applied, Created, Pruned, Reused int
	// Changed lists the objects whose resourceVersion changed, but for
	// those adopted.
	Changed []string
	// Adopted lists the objects another tool made (without atmosphere's
	// labels: the Ansible collection's kubernetes.core.k8s, kubectl) whose
	// content the apply left as it was: only atmosphere's labels and its
	// ownership of the fields it applies were added.
	Adopted []string
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

// ref identifies an applied object in the inventory, and records what was
// last applied to it.
type ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	applied
}

// applied is what an object was when atmosphere last applied it: the digest
// of what it applied, and the object's generation (its resourceVersion for a
// kind without generations) in the API server's answer. Empty when not known
// (an inventory written before these were recorded, a create-only object).
type applied struct {
	Digest          string `json:"digest,omitempty"`
	Generation      int64  `json:"generation,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// appliedAs records an object as the API server answered an apply of it.
func appliedAs(digest string, live *unstructured.Unstructured) applied {
	if g := live.GetGeneration(); g != 0 {
		return applied{Digest: digest, Generation: g}
	}
	return applied{Digest: digest, ResourceVersion: live.GetResourceVersion()}
}

// unchangedSince reports whether live is as atmosphere left it when it
// applied digest: the digest is the recorded one, and so is the live
// generation (resourceVersion).
func (a applied) unchangedSince(digest string, live *unstructured.Unstructured) bool {
	if a.Digest == "" || a.Digest != digest {
		return false
	}
	if a.Generation != 0 {
		return live.GetGeneration() == a.Generation
	}
	return a.ResourceVersion != "" && live.GetResourceVersion() == a.ResourceVersion
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

// inventoryType is the type of the inventories' Secrets.
const inventoryType = "atmosphere.vexxhost.com/inventory"

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
	// digest identifies what is applied (the object as prepared).
	digest string
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
		label(obj, set.owner())
		r := ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
		if seen[r.key()] {
			problems = append(problems, fmt.Sprintf("object %d: %s is listed twice", i, r))
			continue
		}
		seen[r.key()] = true
		data, err := json.Marshal(obj.Object) // map keys sorted: the same object, the same bytes
		if err != nil {
			problems = append(problems, fmt.Sprintf("object %d (%s): %v", i, r, err))
			continue
		}
		sum := sha256.Sum256(data)
		out = append(out, prepared{obj: obj, createOnly: o.CreateOnly, mapping: m, ref: r, digest: hex.EncodeToString(sum[:])})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("component %s: %s", set.Component, strings.Join(problems, "; "))
	}
	return out, nil
}

// label puts atmosphere's labels on an object of component.
func label(obj *unstructured.Unstructured, component string) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManagedBy] = "atmosphere"
	labels[LabelComponent] = component
	obj.SetLabels(labels)
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
	old, stored, err := a.readInventory(ctx, set)
	if err != nil {
		return res, err
	}
	last := map[string]applied{}
	for _, r := range old {
		last[r.key()] = r.applied
	}
	want := make([]ref, 0, len(objs))
	for _, p := range objs {
		want = append(want, p.ref)
	}
	// The old records stay until the objects are applied: a run cut short
	// leaves records that are still true of what it did not reach, and
	// that no longer match what it did change.
	if stored, err = a.writeInventory(ctx, set, union(old, want), stored); err != nil {
		return res, err
	}
	seen := make([]*unstructured.Unstructured, len(objs))
	for i, p := range objs {
		live, rec, how, err := a.applyOne(ctx, p, last[p.ref.key()])
		if err != nil {
			return res, fmt.Errorf("component %s: apply %s: %w", set.Component, p.ref, err)
		}
		seen[i], want[i].applied = live, rec
		res.Applied++
		switch how {
		case created:
			res.Created++
			res.Changed = append(res.Changed, p.ref.String())
		case changed:
			res.Changed = append(res.Changed, p.ref.String())
		case reused:
			res.Reused++
		case adopted:
			res.Adopted = append(res.Adopted, p.ref.String())
		}
	}
	if !set.KeepDropped {
		pruned, err := a.prune(ctx, set, old, want)
		res.Pruned = pruned
		if err != nil {
			return res, fmt.Errorf("component %s: %w", set.Component, err)
		}
	}
	if _, err := a.writeInventory(ctx, set, want, stored); err != nil {
		return res, err
	}
	timeout := set.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := a.wait(ctx, objs, seen, timeout); err != nil {
		return res, fmt.Errorf("component %s: %w", set.Component, err)
	}
	return res, nil
}

// outcome is what applyOne did to an object.
type outcome int

const (
	unchanged outcome = iota // applied, and the API server changed nothing
	changed                  // applied, and changed
	created                  // a create-only object created
	reused                   // found as last applied: not applied again
	adopted                  // made by another tool, now ours: only our labels and field ownership added
)

// applyOne applies an object unless it is as atmosphere last applied it.
// It returns the object as the API server last gave it and the record to
// keep of it.
func (a *Applier) applyOne(ctx context.Context, p prepared, last applied) (*unstructured.Unstructured, applied, outcome, error) {
	ri := a.resource(p.mapping, p.obj.GetNamespace())
	current, err := ri.Get(ctx, p.obj.GetName(), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, applied{}, unchanged, err
	}
	exists := err == nil
	if p.createOnly {
		if exists {
			return current, applied{}, unchanged, nil
		}
		made, err := ri.Create(ctx, p.obj, metav1.CreateOptions{FieldManager: FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return nil, applied{}, unchanged, nil
		}
		if err != nil {
			return nil, applied{}, unchanged, err
		}
		return made, applied{}, created, nil
	}
	if exists && last.unchangedSince(p.digest, current) {
		return current, last, reused, nil
	}
	if exists {
		if err := takeOver(ctx, ri, current); err != nil {
			return nil, applied{}, unchanged, err
		}
	}
	data, err := json.Marshal(p.obj.Object)
	if err != nil {
		return nil, applied{}, unchanged, err
	}
	force := true
	live, err := ri.Patch(ctx, p.obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return nil, applied{}, unchanged, err
	}
	rec := appliedAs(p.digest, live)
	switch {
	case !exists:
		return live, rec, changed, nil
	case live.GetResourceVersion() != current.GetResourceVersion():
		if madeElsewhere(current) && sameContent(current, live) {
			return live, rec, adopted, nil
		}
		return live, rec, changed, nil
	}
	return live, rec, unchanged, nil
}

// prune deletes what the old inventory holds and the new set does not,
// unless the inventory of another set in the set's namespace holds it now:
// an object that moved to another set (a component's RabbitMQ cluster, now
// applied by a phase of its own) is that set's to keep.
func (a *Applier) prune(ctx context.Context, set Set, old, want []ref) (int, error) {
	keep := map[string]bool{}
	for _, r := range want {
		keep[r.key()] = true
	}
	var others map[string]bool
	n := 0
	for _, r := range old {
		if keep[r.key()] {
			continue
		}
		if others == nil {
			var err error
			if others, err = a.heldByOthers(ctx, set); err != nil {
				return n, err
			}
		}
		if others[r.key()] {
			a.log.Info("left to another set", "object", r.String())
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

// heldByOthers are the keys of the objects the inventories in the set's
// namespace other than the set's own hold.
func (a *Applier) heldByOthers(ctx context.Context, set Set) (map[string]bool, error) {
	list, err := a.clientset.CoreV1().Secrets(set.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "type=" + inventoryType})
	if err != nil {
		return nil, fmt.Errorf("read the inventories of %s: %w", set.Namespace, err)
	}
	out := map[string]bool{}
	for _, s := range list.Items {
		if s.Name == inventoryName(set.Component) {
			continue
		}
		var refs []ref
		if err := json.Unmarshal(s.Data["objects"], &refs); err != nil {
			return nil, fmt.Errorf("inventory %s/%s: %w", set.Namespace, s.Name, err)
		}
		for _, r := range refs {
			out[r.key()] = true
		}
	}
	return out, nil
}

// readInventory returns the inventory's records and its stored bytes (nil
// when there is none).
func (a *Applier) readInventory(ctx context.Context, set Set) ([]ref, []byte, error) {
	s, err := a.clientset.CoreV1().Secrets(set.Namespace).Get(ctx, inventoryName(set.Component), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read inventory of %s: %w", set.Component, err)
	}
	var refs []ref
	if err := json.Unmarshal(s.Data["objects"], &refs); err != nil {
		return nil, nil, fmt.Errorf("inventory %s/%s: %w", set.Namespace, s.Name, err)
	}
	return refs, s.Data["objects"], nil
}

// writeInventory stores refs, unless stored (what the inventory holds)
// already says the same; it returns what the inventory now holds.
func (a *Applier) writeInventory(ctx context.Context, set Set, refs []ref, stored []byte) ([]byte, error) {
	sorted := slices.Clone(refs)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key() < sorted[j].key() })
	data, err := json.Marshal(sorted)
	if err != nil {
		return stored, err
	}
	if stored != nil && string(stored) == string(data) {
		return stored, nil
	}
	secret := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": inventoryName(set.Component), "namespace": set.Namespace,
			"labels": map[string]any{LabelManagedBy: "atmosphere", LabelComponent: set.Component},
		},
		"type": inventoryType,
		"data": map[string]any{"objects": data},
	}
	raw, err := json.Marshal(secret)
	if err != nil {
		return stored, err
	}
	force := true
	_, err = a.clientset.CoreV1().Secrets(set.Namespace).Patch(ctx, inventoryName(set.Component), types.ApplyPatchType, raw,
		metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return stored, fmt.Errorf("write inventory of %s: %w", set.Component, err)
	}
	return data, nil
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

// madeElsewhere reports whether live, as found before an apply, was made by
// another tool: it does not carry LabelComponent, which every apply of
// atmosphere's writes.
func madeElsewhere(live *unstructured.Unstructured) bool {
	_, ok := live.GetLabels()[LabelComponent]
	return !ok
}

// sameContent reports whether before and after are the same object but
// for what an apply that changes no content still changes: the
// resourceVersion, the managed fields, and atmosphere's labels where before
// had none (a value of another tool's that atmosphere's replaced is a
// change).
func sameContent(before, after *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		c.SetResourceVersion("")
		c.SetManagedFields(nil)
		return c.Object
	}
	return equality.Semantic.DeepEqual(strip(before), strip(withoutOurLabels(after, before)))
}
