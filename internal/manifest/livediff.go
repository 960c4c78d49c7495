package manifest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Manifests returns, as YAML documents for manifestdiff.Manifests, what a
// set's objects are in the cluster (deployed) and what an Apply of the set
// would make them (wanted). It changes nothing.
//
// Wanted is each object as Apply applies it (its namespace and atmosphere's
// labels set; a Secret's stringData as the data it becomes), except that a
// create-only object that is there is wanted as it is (Apply leaves it).
// Deployed is each live object restricted to the fields the wanted one
// declares (Project), so that what the server sets (status, uid,
// resourceVersion, timestamps, managedFields, defaults) does not show; an
// object not there (its kind not served yet either) is absent. The objects the set's inventory records and
// the set no longer holds (Apply prunes them) are deployed as they are,
// without status and the server's metadata, and absent from wanted,
// unless the set keeps dropped objects.
func (a *Applier) Manifests(ctx context.Context, set Set) (deployed, wanted string, err error) {
	// An object of a kind the cluster does not serve yet (its CRD comes
	// with a unit not deployed yet) is not there: it is all added, with
	// atmosphere's labels, and the namespace it was rendered with.
	var from, to []map[string]any
	known := set
	known.Objects = nil
	for _, o := range set.Objects {
		if o.Unstructured != nil && o.GetKind() != "" && o.GetAPIVersion() != "" {
			if _, err := a.mapping(ctx, o.GroupVersionKind()); err != nil && meta.IsNoMatchError(errors.Unwrap(err)) {
				obj := o.DeepCopy()
				label(obj, set.owner())
				to = append(to, secretAsData(obj).Object)
				continue
			}
		}
		known.Objects = append(known.Objects, o)
	}
	objs, err := a.prepare(ctx, known)
	if err != nil {
		return "", "", err
	}
	old, _, err := a.readInventory(ctx, set)
	if err != nil {
		return "", "", err
	}
	held := map[string]bool{}
	for _, p := range objs {
		held[p.ref.key()] = true
		want := secretAsData(p.obj)
		live, err := a.resource(p.mapping, p.obj.GetNamespace()).Get(ctx, p.obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			to = append(to, want.Object)
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("component %s: read %s: %w", set.Component, objectName(p.obj), err)
		}
		there := Project(want, live)
		from = append(from, there.Object)
		if p.createOnly {
			to = append(to, there.Object)
		} else {
			to = append(to, want.Object)
		}
	}
	for _, r := range old {
		if held[r.key()] || set.KeepDropped {
			continue
		}
		m, err := a.mapping(ctx, r.gvk())
		if err != nil {
			if meta.IsNoMatchError(errors.Unwrap(err)) {
				continue // its kind is gone, and the object with it
			}
			return "", "", fmt.Errorf("component %s: read %s: %w", set.Component, r, err)
		}
		live, err := a.resource(m, r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("component %s: read %s: %w", set.Component, r, err)
		}
		from = append(from, withoutServerFields(live).Object)
	}
	if deployed, err = documents(from); err != nil {
		return "", "", fmt.Errorf("component %s: %w", set.Component, err)
	}
	if wanted, err = documents(to); err != nil {
		return "", "", fmt.Errorf("component %s: %w", set.Component, err)
	}
	return deployed, wanted, nil
}

// documents writes objects as YAML documents.
func documents(objs []map[string]any) (string, error) {
	var b strings.Builder
	for _, o := range objs {
		raw, err := yaml.Marshal(o)
		if err != nil {
			return "", err
		}
		b.WriteString("---\n")
		b.Write(raw)
	}
	return b.String(), nil
}

// Project returns live restricted to the fields applied declares, by the
// rule of Compare, so that live and applied are the same where Compare
// finds no drift: a map is kept for the keys applied holds; a list with as
// many items as applied item by item, any other list whole; a scalar the
// same as applied's (numbers as numbers, quantities as amounts) as
// applied writes it, otherwise as live has it. A field applied declares
// empty ("", false, 0, [], {}) or null and live does not have is kept as
// applied declares it (the API's types omit empty fields); any other field
// live does not have is left out. status is never kept. applied is taken
// as given: a Secret's stringData is compared as it is (secretAsData makes
// it data first). Neither object is changed.
func Project(applied, live *unstructured.Unstructured) *unstructured.Unstructured {
	out := map[string]any{}
	for k, w := range applied.Object {
		switch k {
		case "status":
			continue
		case "apiVersion", "kind":
			out[k] = w // the version asked for, as the wanted object
			continue
		}
		if v, ok := project(w, live.Object[k]); ok {
			out[k] = v
		}
	}
	return &unstructured.Unstructured{Object: out}
}

// project is Project for one field: the value kept, and whether the field
// is kept at all.
func project(want, live any) (any, bool) {
	switch w := want.(type) {
	case map[string]any:
		if live == nil && len(w) == 0 {
			return w, true
		}
		l, ok := live.(map[string]any)
		if !ok {
			return live, live != nil
		}
		out := map[string]any{}
		for k, wv := range w {
			if v, ok := project(wv, l[k]); ok {
				out[k] = v
			}
		}
		return out, true
	case []any:
		if live == nil && len(w) == 0 {
			return w, true
		}
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return live, live != nil
		}
		out := make([]any, len(w))
		for i := range w {
			out[i], _ = project(w[i], l[i])
		}
		return out, true
	case nil:
		return nil, live == nil
	}
	if live == nil {
		return want, isZero(want)
	}
	if sameScalar(want, live) {
		return want, true
	}
	return live, true
}

// secretAsData returns a copy of o; when o is a Secret, its stringData is
// moved into its data, base64-encoded, as the API server stores it.
func secretAsData(o *unstructured.Unstructured) *unstructured.Unstructured {
	out := o.DeepCopy()
	if o.GetKind() != "Secret" || o.GroupVersionKind().Group != "" {
		return out
	}
	sd, ok := out.Object["stringData"].(map[string]any)
	if !ok {
		return out
	}
	data, _ := out.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		s, _ := v.(string)
		data[k] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	out.Object["data"] = data
	delete(out.Object, "stringData")
	return out
}

// withoutServerFields returns a copy of a live object without status and
// without the metadata the server sets: its name, namespace, labels and
// annotations are kept.
func withoutServerFields(live *unstructured.Unstructured) *unstructured.Unstructured {
	out := live.DeepCopy()
	delete(out.Object, "status")
	md := map[string]any{}
	old, _ := out.Object["metadata"].(map[string]any)
	for _, k := range []string{"name", "namespace", "labels", "annotations"} {
		if v, ok := old[k]; ok {
			md[k] = v
		}
	}
	out.Object["metadata"] = md
	return out
}
