package main

import (
	"reflect"
	"testing"
)

// TestKeepObjectTasks: the tasks that apply objects, and those that wait
// for the CRD an operator creates, are kept, with the blocks around them,
// and nothing else.
func TestKeepObjectTasks(t *testing.T) {
	k8s := map[string]any{"name": "apply", "kubernetes.core.k8s": map[string]any{"state": "present"}}
	crdWait := map[string]any{"name": "Wait", "kubernetes.core.k8s_info": map[string]any{"kind": "CustomResourceDefinition", "name": "x.example.org"},
		"until": "_result.resources | length > 0"}
	ingress := map[string]any{"name": "Create Ingress", "ansible.builtin.include_role": map[string]any{"name": "openstack_helm_ingress"}}
	for _, tc := range []struct {
		name    string
		tasks   []map[string]any
		skipped map[string]string
		want    []map[string]any
	}{
		{"a k8s task", []map[string]any{k8s}, nil, []map[string]any{k8s}},
		{"a k8s task that deletes", []map[string]any{{"k8s": map[string]any{"state": "absent"}}}, nil, nil},
		{"the public Ingress", []map[string]any{ingress}, nil, []map[string]any{ingress}},
		{"the ingress role imported", []map[string]any{{"import_role": map[string]any{"name": "ingress"}}}, nil,
			[]map[string]any{{"import_role": map[string]any{"name": "ingress"}}}},
		{"another role", []map[string]any{{"ansible.builtin.include_role": map[string]any{"name": "openstacksdk"}}}, nil, nil},
		{"another module", []map[string]any{{"openstack.cloud.quota": map[string]any{}}}, nil, nil},
		{"a skipped task", []map[string]any{k8s}, map[string]string{"apply": "reads a live cluster"}, nil},
		{"a block, its other tasks and rescue dropped",
			[]map[string]any{{"when": "x", "block": []any{k8s, map[string]any{"debug": nil}}, "rescue": []any{k8s}}}, nil,
			[]map[string]any{{"when": "x", "block": []map[string]any{k8s}}}},
		{"a wait for an operator's CRD", []map[string]any{crdWait}, nil, []map[string]any{crdWait}},
		{"a read of another kind", []map[string]any{{"kubernetes.core.k8s_info": map[string]any{"kind": "Secret"}, "until": "x"}}, nil, nil},
		{"a CRD read once", []map[string]any{{"kubernetes.core.k8s_info": map[string]any{"kind": "CustomResourceDefinition"}}}, nil, nil},
		{"a block with nothing to keep", []map[string]any{{"block": []any{map[string]any{"debug": nil}}}}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keepObjectTasks(tc.tasks, tc.skipped); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("keepObjectTasks = %v, want %v", got, tc.want)
			}
		})
	}
}
