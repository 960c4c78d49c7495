package components

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestOpenstackExporterAuthenticatesAsKeystoneAdmin: whatever the backend
// and its arguments' knobs, openstack-exporter's pod is the role's: an
// init container writes clouds.yaml (cloud "default") from Secret
// keystone-keystone-admin into the volume the exporter mounts at
// /etc/openstack.
func TestOpenstackExporterAuthenticatesAsKeystoneAdmin(t *testing.T) {
	tests := []struct {
		name    string
		backend string
		vars    map[string]any
	}{
		{"defaults", BackendOpenvswitch, nil},
		{"ovn with the arguments' knobs", BackendOVN, map[string]any{"openstack_exporter_args": []any{"--endpoint-type", "public"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pod map[string]any
			for _, o := range renderWithKnobs(t, "openstack-exporter", tt.backend, tt.vars).objs {
				if o.GetKind() == "Deployment" && o.GetName() == "openstack-exporter" {
					pod, _, _ = unstructured.NestedMap(o.Object, "spec", "template", "spec")
				}
			}
			if pod == nil {
				t.Fatal("no Deployment openstack-exporter")
			}
			mounts := func(c map[string]any) bool {
				ms, _ := c["volumeMounts"].([]any)
				for _, m := range ms {
					if m, _ := m.(map[string]any); m["name"] == "openstack-config" && m["mountPath"] == "/etc/openstack" {
						return true
					}
				}
				return false
			}
			inits, _ := pod["initContainers"].([]any)
			if len(inits) != 1 {
				t.Fatalf("init containers %v, want build-config", inits)
			}
			build, _ := inits[0].(map[string]any)
			envFrom, _ := build["envFrom"].([]any)
			script, _ := build["args"].([]any)
			if len(envFrom) != 1 || envFrom[0].(map[string]any)["secretRef"].(map[string]any)["name"] != "keystone-keystone-admin" {
				t.Errorf("build-config's envFrom %v, want Secret keystone-keystone-admin", envFrom)
			}
			if len(script) != 1 || !strings.Contains(script[0].(string), "> /etc/openstack/clouds.yaml") || !strings.Contains(script[0].(string), `password: "$(OS_PASSWORD)"`) {
				t.Errorf("build-config's script %v does not write clouds.yaml with the admin's password", script)
			}
			if !mounts(build) {
				t.Error("build-config does not mount openstack-config at /etc/openstack")
			}
			containers, _ := pod["containers"].([]any)
			if len(containers) != 1 || !mounts(containers[0].(map[string]any)) {
				t.Errorf("the exporter %v does not mount openstack-config at /etc/openstack", containers)
			}
			volumes, _ := pod["volumes"].([]any)
			if len(volumes) != 1 || volumes[0].(map[string]any)["name"] != "openstack-config" || volumes[0].(map[string]any)["emptyDir"] == nil {
				t.Errorf("volumes %v, want the emptyDir openstack-config", volumes)
			}
		})
	}
}
