package main

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// skippedObjectTasks are tasks of the roles that apply objects but cannot
// run without a live cluster or service (they read what an earlier task
// registered from it), by role and task name, with the reason.
var skippedObjectTasks = map[string]map[string]string{
	"keystone": {
		"Create ConfigMap with all OpenID connect configurations": "its template reads each realm's OpenID discovery document from the live Keycloak (lookup('url'))",
	},
	"kube_prometheus_stack": {
		"Create secrets for monitoring": "holds etcd's client certificates, read from a control-plane host (slurp)",
	},
	"rook_ceph_cluster": {
		"Create Ceph cluster resource": "holds client.admin's and the monitors' keyrings, read from the live Ceph cluster",
	},
}

// objectRoles are the roles whose only work is applying objects, which the
// roles include from their tasks: the public Ingress of a service
// (openstack_helm_ingress, and the ingress role it and keycloak include).
var objectRoles = map[string]bool{"openstack_helm_ingress": true, "ingress": true}

// objectTasks returns the tasks of a role's tasks/main.yml that apply
// objects: its kubernetes.core.k8s tasks that do not delete, its waits for
// a CRD an operator creates (waitsForCRD) and its inclusions of
// objectRoles, in their order and with the blocks around them (kept with their conditions and variables, holding
// only these tasks). Run after dump.yml, the k8s stand-in records what
// they apply.
func objectTasks(tasksFile, role string) ([]byte, error) {
	raw, err := os.ReadFile(tasksFile)
	if os.IsNotExist(err) {
		return []byte("[]\n"), nil
	}
	if err != nil {
		return nil, err
	}
	var tasks []map[string]any
	if err := yaml.Unmarshal(raw, &tasks); err != nil {
		return nil, fmt.Errorf("%s: %w", tasksFile, err)
	}
	kept := keepObjectTasks(tasks, skippedObjectTasks[role])
	if kept == nil {
		kept = []map[string]any{}
	}
	return yaml.Marshal(kept)
}

func keepObjectTasks(tasks []map[string]any, skipped map[string]string) []map[string]any {
	var out []map[string]any
	for _, t := range tasks {
		if name, _ := t["name"].(string); skipped[name] != "" {
			continue
		}
		if block, ok := t["block"].([]any); ok {
			var inner []map[string]any
			for _, x := range block {
				if m, ok := x.(map[string]any); ok {
					inner = append(inner, m)
				}
			}
			if kept := keepObjectTasks(inner, skipped); len(kept) > 0 {
				b := map[string]any{}
				for k, v := range t {
					if k != "rescue" && k != "always" {
						b[k] = v
					}
				}
				b["block"] = kept
				out = append(out, b)
			}
			continue
		}
		if appliesObjects(t) || includesObjectRole(t) || waitsForCRD(t) {
			out = append(out, t)
		}
	}
	return out
}

// appliesObjects: a k8s task that does not delete (a templated state is
// decided by the stand-in).
func appliesObjects(t map[string]any) bool {
	for _, module := range []string{"kubernetes.core.k8s", "k8s"} {
		if args, ok := t[module].(map[string]any); ok {
			return args["state"] != "absent"
		}
	}
	return false
}

// waitsForCRD: a k8s_info task that reads a CustomResourceDefinition
// until it is there (an operator the role applied creates it): kept in
// its place among the object tasks, so that the k8s_info stand-in
// records where the role waits.
func waitsForCRD(t map[string]any) bool {
	for _, module := range []string{"kubernetes.core.k8s_info", "k8s_info"} {
		if args, ok := t[module].(map[string]any); ok {
			return args["kind"] == "CustomResourceDefinition" && t["until"] != nil
		}
	}
	return false
}

// includesObjectRole: an include_role or import_role of one of objectRoles.
func includesObjectRole(t map[string]any) bool {
	for _, module := range []string{"ansible.builtin.include_role", "include_role", "ansible.builtin.import_role", "import_role"} {
		if args, ok := t[module].(map[string]any); ok {
			name, _ := args["name"].(string)
			return objectRoles[name]
		}
	}
	return false
}

// objectsFile is the task file of the role's object tasks in the overlay.
func objectsFile(overlay string) string { return filepath.Join(overlay, "tasks", "objects.yml") }
