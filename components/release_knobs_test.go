package components

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestReleaseKnobsRefusedOrHonoured: a Helm component's role's
// <prefix>_helm_release_name and _namespace pass at the component's own
// release and namespace (the role's defaults) and are refused by
// CheckKnobs, before the run, at any other value, naming the knob, the
// value and the one supported; <prefix>_helm_timeout passes in each form
// Helm's --timeout takes and is refused otherwise. A disabled component's
// knobs are not checked, as no other knob of it is.
func TestReleaseKnobsRefusedOrHonoured(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]any
		// want are the keys refused, with what each message holds.
		want map[string][]string
	}{
		{"the defaults pass", map[string]any{"nova_helm_release_name": "nova", "nova_helm_release_namespace": "openstack",
			"ceph_csi_rbd_helm_release_name": "ceph-csi-rbd", "ceph_csi_rbd_helm_release_namespace": "kube-system",
			"coredns_helm_release_name": "neutron-coredns", "percona_xtradb_cluster_operator_helm_release_name": "pxc-operator",
			"rook_ceph_cluster_helm_release_name": "ceph", "keycloak_helm_release_namespace": "auth-system"}, nil},
		{"a renamed release", map[string]any{"nova_helm_release_name": "compute"}, map[string][]string{
			"nova_helm_release_name": {`want "nova" (atmosphere-go does not rename releases), got the string "compute"`}}},
		{"a renamed release of a role's own prefix", map[string]any{"ceph_csi_rbd_helm_release_name": "rbd"}, map[string][]string{
			"ceph_csi_rbd_helm_release_name": {`want "ceph-csi-rbd"`, `got the string "rbd"`}}},
		{"a release name read by its rendering too", map[string]any{"memcached_helm_release_name": "cache"}, map[string][]string{
			"memcached_helm_release_name": {`want "memcached"`, `"cache"`}}},
		{"a moved namespace", map[string]any{"keystone_helm_release_namespace": "identity"}, map[string][]string{
			"keystone_helm_release_namespace": {`want "openstack" (atmosphere-go does not move releases to another namespace), got the string "identity"`}}},
		{"a namespace of another type", map[string]any{"loki_helm_release_namespace": 5.0}, map[string][]string{
			"loki_helm_release_namespace": {`want "monitoring"`, "got the number 5"}}},
		{"a disabled component's", map[string]any{"ovn_helm_release_name": "ovn2"}, nil},
		{"a timeout in Go's form", map[string]any{"nova_helm_timeout": "10m0s", "keycloak_helm_timeout": "15m"}, nil},
		{"a timeout in seconds with the unit", map[string]any{"neutron_helm_timeout": "600s"}, nil},
		{"a timeout of mixed units", map[string]any{"octavia_helm_timeout": "1h30m", "manila_helm_timeout": "90s"}, nil},
		{"a timeout without its unit", map[string]any{"nova_helm_timeout": 600.0}, map[string][]string{
			"nova_helm_timeout": {"want a duration greater than zero with its unit", `"10m0s"`, "got the number 600"}}},
		{"a timeout of digits as a string", map[string]any{"nova_helm_timeout": "600"}, map[string][]string{
			"nova_helm_timeout": {`got the string "600"`}}},
		{"a timeout in words", map[string]any{"keycloak_helm_timeout": "ten minutes"}, map[string][]string{
			"keycloak_helm_timeout": {`got the string "ten minutes"`}}},
		{"a zero timeout", map[string]any{"manila_helm_timeout": "0s"}, map[string][]string{
			"manila_helm_timeout": {"greater than zero", `"0s"`}}},
		{"a negative timeout", map[string]any{"neutron_helm_timeout": "-5m"}, map[string][]string{
			"neutron_helm_timeout": {`"-5m"`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars := merged(merged(map[string]any{"cluster_issuer_type": "self-signed"}, workspaceKeepalived), c.vars)
			got := map[string]string{}
			for _, p := range Default().CheckKnobs(DefaultConfig(), vars) {
				got[p.Key] = p.Message
			}
			for key, msg := range got {
				if _, ok := c.want[key]; !ok {
					t.Errorf("%s refused: %s", key, msg)
				}
			}
			for key, want := range c.want {
				msg, ok := got[key]
				if !ok {
					t.Errorf("%s = %v not refused", key, vars[key])
				}
				for _, w := range want {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: %q lacks %q", key, msg, w)
					}
				}
			}
		})
	}
}

// TestPhaseTimeout: a component whose role takes <prefix>_helm_timeout is
// bounded by the inventory's value when it sets one, else by its own
// Timeout; one of the wrong form gives its own Timeout (CheckKnobs refuses
// it first); a component whose role takes none ignores a variable of that
// name.
func TestPhaseTimeout(t *testing.T) {
	cases := []struct {
		component string
		vars      map[string]any
		want      time.Duration
	}{
		{"nova", nil, 5 * time.Minute},
		{"nova", map[string]any{"nova_helm_timeout": "10m0s"}, 10 * time.Minute},
		{"nova", map[string]any{"nova_helm_timeout": "600s"}, 10 * time.Minute},
		{"neutron", map[string]any{"neutron_helm_timeout": "1h30m"}, 90 * time.Minute},
		{"octavia", map[string]any{"octavia_helm_timeout": "90s"}, 90 * time.Second},
		{"manila", map[string]any{"manila_helm_timeout": "7m"}, 7 * time.Minute},
		{"keycloak", nil, 10 * time.Minute},
		{"keycloak", map[string]any{"keycloak_helm_timeout": "15m0s"}, 15 * time.Minute},
		{"nova", map[string]any{"nova_helm_timeout": 600.0}, 5 * time.Minute},
		{"nova", map[string]any{"nova_helm_timeout": "0s"}, 5 * time.Minute},
		{"nova", map[string]any{"neutron_helm_timeout": "1h"}, 5 * time.Minute},
		{"memcached", map[string]any{"memcached_helm_timeout": "1h"}, 5 * time.Minute},
		{"percona-xtradb-cluster", nil, 10 * time.Minute},
	}
	for _, c := range cases {
		comp, ok := Default().Get(c.component)
		if !ok {
			t.Fatalf("no component %s", c.component)
		}
		s := DefaultSettings()
		s.Vars = c.vars
		if got := comp.PhaseTimeout(s); got != c.want {
			t.Errorf("%s with %v: %s, want %s", c.component, c.vars, got, c.want)
		}
	}
}

// TestReleaseKnobsAreTheRoles: the release knobs of every Helm component
// are its role's variables, with the role's defaults (a Jinja default, as
// rook_ceph_cluster's "{{ rook_ceph_cluster_name }}", is the default of
// the variable it names): an inventory that sets them to the role's
// defaults passes. Only cert-manager and staffeln, whose roles declare no
// release variables, have none; every <prefix>_helm_timeout a role
// declares is a knob of its component, its default the component's
// Timeout.
func TestReleaseKnobsAreTheRoles(t *testing.T) {
	files, err := filepath.Glob("../../shared/atmosphere/roles/*/defaults/main.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no role defaults: %v", err)
	}
	defaults := map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vars map[string]any
		if err := yaml.Unmarshal(raw, &vars); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range vars {
			defaults[k] = v
		}
	}
	roleDefault := func(key string) (string, bool) {
		v, ok := defaults[key].(string)
		if name, jinja := strings.CutPrefix(v, "{{ "); jinja {
			v, ok = defaults[strings.TrimSuffix(name, " }}")].(string)
		}
		return v, ok
	}
	var without []string
	timeouts := map[string]bool{}
	for _, c := range Default().Components() {
		if k, ok := c.timeoutKnob(); ok {
			timeouts[k.name] = true
			v, ok := roleDefault(k.name)
			if d, err := time.ParseDuration(v); !ok || err != nil || d != k.def {
				t.Errorf("%s: default %s, the role's %q", k.name, k.def, v)
			}
		}
		if c.Chart == nil {
			continue
		}
		name, namespace, ok := c.releaseKnobs()
		if !ok {
			without = append(without, c.Name)
			continue
		}
		for _, k := range []knob[string]{name, namespace} {
			if v, ok := roleDefault(k.name); !ok || v != k.def {
				t.Errorf("%s: %s takes %q, the role's default is %v", c.Name, k.name, k.def, defaults[k.name])
			}
		}
	}
	if want := []string{"cert-manager", "staffeln"}; !slices.Equal(without, want) {
		t.Errorf("Helm components without release knobs: %v, want %v", without, want)
	}
	for key := range defaults {
		if strings.HasSuffix(key, "_helm_timeout") && !timeouts[key] {
			t.Errorf("the role's %s is no component's timeout knob", key)
		}
	}
}
