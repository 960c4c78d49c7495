package manifest

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Adoptable reports whether applying set would adopt every object of it
// (Result.Adopted) and change nothing else: each is there, made by another
// tool (madeElsewhere), and holds what the set applies but for
// atmosphere's labels. A set without objects, or with an object of a kind
// the cluster does not serve, is not adoptable. It changes nothing.
func (a *Applier) Adoptable(ctx context.Context, set Set) (bool, error) {
	if len(set.Objects) == 0 {
		return false, nil
	}
	for _, o := range set.Objects {
		if o.Unstructured == nil || o.GetKind() == "" || o.GetAPIVersion() == "" {
			return false, nil
		}
		if _, err := a.mapping(ctx, o.GroupVersionKind()); err != nil {
			if meta.IsNoMatchError(errors.Unwrap(err)) {
				return false, nil
			}
			return false, fmt.Errorf("component %s: %w", set.Component, err)
		}
	}
	objs, err := a.prepare(ctx, set)
	if err != nil {
		return false, err
	}
	for _, p := range objs {
		live, err := a.resource(p.mapping, p.obj.GetNamespace()).Get(ctx, p.obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("component %s: read %s: %w", set.Component, objectName(p.obj), err)
		}
		if !madeElsewhere(live) {
			return false, nil
		}
		want := withoutOurLabels(secretAsData(p.obj), live)
		there, err := documents([]map[string]any{Project(want, live).Object})
		if err != nil {
			return false, err
		}
		wanted, err := documents([]map[string]any{want.Object})
		if err != nil {
			return false, err
		}
		if there != wanted {
			return false, nil
		}
	}
	return true, nil
}

// withoutOurLabels is want without atmosphere's labels that live does not
// carry: what an apply would add to live and nothing else.
func withoutOurLabels(want, live *unstructured.Unstructured) *unstructured.Unstructured {
	out := want.DeepCopy()
	labels := out.GetLabels()
	for _, k := range []string{LabelManagedBy, LabelComponent} {
		if _, had := live.GetLabels()[k]; !had {
			delete(labels, k)
		}
	}
	if len(labels) == 0 {
		labels = nil
	}
	out.SetLabels(labels)
	return out
}
