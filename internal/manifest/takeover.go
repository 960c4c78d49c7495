package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// handEditManagers are the field managers of a person's edits with
// kubectl (edit, patch, scale, set, label, annotate, replace, a
// client-side apply, plain kubectl) and of an object's fields from before
// server-side apply ("before-first-apply"). Fields they own through an
// update are taken over by FieldManager before an object is applied again
// (takeOver), as Flux's server-side apply does with its own list.
var handEditManagers = []string{
	"kubectl", "kubectl-edit", "kubectl-patch", "kubectl-scale", "kubectl-set", "kubectl-label",
	"kubectl-annotate", "kubectl-replace", "kubectl-client-side-apply", "kubectl-rollout",
	"before-first-apply",
}

// takeOverFields returns the managed fields of live with the fields that
// handEditManagers own through an update of the object itself (not of a
// subresource) moved to FieldManager's apply entry, and whether anything
// moved. Without it, a hand edit that changes a key of a list (a
// Service's port, a container's name) leaves the edited item owned by the
// editor: a server-side apply of the wanted item then adds it beside the
// edited one instead of replacing it (a Service with two ports named
// alike, refused as invalid). Once the editor's fields are ours, the apply
// removes what it no longer declares.
func takeOverFields(live *unstructured.Unstructured) ([]metav1.ManagedFieldsEntry, bool, error) {
	entries := live.GetManagedFields()
	var taken *fieldpath.Set
	var kept []metav1.ManagedFieldsEntry
	for _, e := range entries {
		if e.Operation != metav1.ManagedFieldsOperationUpdate || e.Subresource != "" || !slices.Contains(handEditManagers, e.Manager) || e.FieldsV1 == nil {
			kept = append(kept, e)
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			return nil, false, fmt.Errorf("fields of %s: %w", e.Manager, err)
		}
		if taken == nil {
			taken = s
		} else {
			taken = taken.Union(s)
		}
	}
	if taken == nil {
		return entries, false, nil
	}
	ours := slices.IndexFunc(kept, func(e metav1.ManagedFieldsEntry) bool {
		return e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == ""
	})
	if ours < 0 {
		kept = append(kept, metav1.ManagedFieldsEntry{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply,
			APIVersion: live.GetAPIVersion(), FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte("{}")}})
		ours = len(kept) - 1
	}
	own := &fieldpath.Set{}
	if raw := kept[ours].FieldsV1; raw != nil {
		if err := own.FromJSON(bytes.NewReader(raw.Raw)); err != nil {
			return nil, false, fmt.Errorf("fields of %s: %w", FieldManager, err)
		}
	}
	merged, err := own.Union(taken).ToJSON()
	if err != nil {
		return nil, false, err
	}
	kept[ours].FieldsV1 = &metav1.FieldsV1{Raw: merged}
	return kept, true, nil
}

// takeOver moves the fields hand edits own in live to FieldManager
// (takeOverFields), in one patch that holds only if live is still the
// object's current version; it does nothing when no hand edit owns any.
func takeOver(ctx context.Context, ri dynamic.ResourceInterface, live *unstructured.Unstructured) error {
	fields, moved, err := takeOverFields(live)
	if err != nil || !moved {
		return err
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": live.GetResourceVersion()},
		{"op": "replace", "path": "/metadata/managedFields", "value": fields},
	})
	if err != nil {
		return err
	}
	if _, err := ri.Patch(ctx, live.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("take over the fields of hand edits: %w", err)
	}
	return nil
}
