package manifest

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestTakeOverFields(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType, sub, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: sub, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	const (
		ours   = `{"f:spec":{"f:selector":{}}}`
		port   = `{"f:spec":{"f:ports":{"k:{\"port\":9151,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}`
		merged = `{"f:spec":{"f:ports":{"k:{\"port\":9151,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:selector":{}}}`
		label  = `{"f:metadata":{"f:labels":{"f:team":{}}}}`
	)
	apply, update := metav1.ManagedFieldsOperationApply, metav1.ManagedFieldsOperationUpdate
	tests := []struct {
		name  string
		in    []metav1.ManagedFieldsEntry
		moved bool
		want  []metav1.ManagedFieldsEntry
	}{
		{"no hand edit", []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kube-controller-manager", update, "", label)},
			false, []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kube-controller-manager", update, "", label)}},
		{"kubectl edit merged into ours", []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kubectl-edit", update, "", port)},
			true, []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", merged)}},
		{"a status edit stays", []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kubectl-edit", update, "status", port)},
			false, []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kubectl-edit", update, "status", port)}},
		{"a kubectl apply is not an edit", []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kubectl", apply, "", port)},
			false, []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", ours), entry("kubectl", apply, "", port)}},
		{"two edits, no entry of ours yet", []metav1.ManagedFieldsEntry{entry("kubectl-label", update, "", label), entry("before-first-apply", update, "", port)},
			true, []metav1.ManagedFieldsEntry{entry(FieldManager, apply, "", `{"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:ports":{"k:{\"port\":9151,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service"}}
			live.SetManagedFields(tt.in)
			got, moved, err := takeOverFields(live)
			if err != nil {
				t.Fatal(err)
			}
			if moved != tt.moved || len(got) != len(tt.want) {
				t.Fatalf("moved %v, %d entries; want %v, %d:\n%+v", moved, len(got), tt.moved, len(tt.want), got)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Manager != w.Manager || g.Operation != w.Operation || g.Subresource != w.Subresource || string(g.FieldsV1.Raw) != string(w.FieldsV1.Raw) {
					t.Errorf("entry %d is %s %s %q %s, want %s %s %q %s", i, g.Manager, g.Operation, g.Subresource, g.FieldsV1.Raw,
						w.Manager, w.Operation, w.Subresource, w.FieldsV1.Raw)
				}
			}
		})
	}
}
