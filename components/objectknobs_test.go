package components

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// objectKnobRender is what a component renders with the inventory's
// variables vars and a network backend: its objects and its own values.
type objectKnobRender struct {
	objs []Object
	vals values.Values
}

// field is the value at path of the object kind/name ("" when it has
// none): the test fails when there is no such object.
func (o objectKnobRender) field(t *testing.T, kind, name string, path ...string) any {
	t.Helper()
	for _, obj := range o.objs {
		if obj.GetKind() == kind && obj.GetName() == name {
			v, _, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
			if err != nil {
				t.Fatalf("%s/%s %v: %v", kind, name, path, err)
			}
			return v
		}
	}
	var have []string
	for _, obj := range o.objs {
		have = append(have, obj.GetKind()+"/"+obj.GetName())
	}
	t.Fatalf("no %s/%s among %v", kind, name, have)
	return nil
}

// renderWithKnobs renders component with vars (and the domain the shared
// rendering needs, and keepalived's interface and virtual IP as atmosphere's
// generate_workspace playbook writes them into every new workspace), the
// secret store giving the inventory's value of a
// secret, else "generated-<name>".
func renderWithKnobs(t *testing.T, component, backend string, vars map[string]any) objectKnobRender {
	t.Helper()
	c, ok := Default().Get(component)
	if !ok {
		t.Fatalf("no component %s", component)
	}
	s := DefaultSettings()
	if backend != "" {
		// As the inventory's settings take it.
		s.NetworkBackend = backend
		vars = merged(map[string]any{"atmosphere_network_backend": backend}, vars)
	}
	s.Vars = merged(merged(map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com",
		"openstack_helm_endpoints_region_name": "RegionOne", "cluster_issuer_acme_email": "ops@example.com"}, workspaceKeepalived), vars)
	s.Secret = func(name string) (string, error) {
		if v, ok := s.Vars[name].(string); ok {
			return v, nil
		}
		return "generated-" + name, nil
	}
	s.PeekSecret = s.Secret
	s.ClusterSecret = func(string, string) (string, error) { return "secret", nil }
	if problems := Default().CheckKnobs(s.Config, s.Vars); len(problems) > 0 {
		t.Fatalf("knobs refused: %v", problems)
	}
	objs, err := c.Objects(s)
	if err != nil {
		t.Fatalf("%s objects: %v", component, err)
	}
	vals, err := c.OwnValues(s, values.Values{})
	if err != nil {
		t.Fatalf("%s values: %v", component, err)
	}
	return objectKnobRender{objs, vals}
}

// roleArgs are openstack_exporter_args' role default, as the knob has it.
func roleArgs(extra ...any) []any {
	return append(append([]any{}, openstackExporterArgs.def...), extra...)
}

// tlsTemplate is a certificate template other than the role's.
var tlsTemplate = map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
	"spec": map[string]any{"commonName": "custom-template", "issuerRef": map[string]any{"kind": "ClusterIssuer", "name": "other"}}}

// TestObjectKnobsWhereTheRolePutsThem: a non-default value of each knob of
// the object components shows up where the role puts it, in the rendered
// objects or the component's own values.
func TestObjectKnobsWhereTheRolePutsThem(t *testing.T) {
	keepalivedVars := map[string]any{"keepalived_interface": "bond0", "keepalived_vip": "192.0.2.10/24",
		"keepalived_password": "s3cret", "keepalived_vrid": 77}
	ipmiConfig := map[string]any{"modules": map[string]any{"default": map[string]any{"collectors": []any{"bmc", "sel"}}}}
	ipmiYAML, _ := yaml.Marshal(ipmiConfig)
	tests := []struct {
		name, component, backend string
		vars                     map[string]any
		get                      func(*testing.T, objectKnobRender) any
		// want is the value got; contains, when set instead, what the
		// string got contains.
		want     any
		contains []string
	}{
		{name: "keepalived's configuration", component: "keepalived", vars: keepalivedVars,
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "Secret", "keepalived-etc", "stringData", "keepalived.conf")
			},
			contains: []string{"default_interface bond0", "interface bond0", "virtual_router_id 77", "\n    192.0.2.10/24\n", "auth_pass s3cret"}},
		{name: "keepalived's generated password", component: "keepalived", vars: map[string]any{"keepalived_interface": "bond0", "keepalived_vip": "192.0.2.10"},
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "Secret", "keepalived-etc", "stringData", "keepalived.conf")
			},
			contains: []string{"auth_pass generated-keepalived_password", "virtual_router_id 51"}},
		{name: "keepalived waits for its interface", component: "keepalived", vars: keepalivedVars,
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "ConfigMap", "keepalived-bin", "data", "wait-for-ip.sh")
			},
			contains: []string{"ip -4 addr list dev bond0 | grep bond0"}},
		{name: "keepalived_pod_dependency of the ovn backend", component: "keepalived", backend: BackendOVN,
			vars: merged(keepalivedVars, map[string]any{"keepalived_pod_dependency": map[string]any{
				"ovn": []any{map[string]any{"requireSameNode": true, "labels": map[string]any{"application": "custom"}}}}}),
			get: func(t *testing.T, o objectKnobRender) any {
				init := o.field(t, "DaemonSet", "keepalived", "spec", "template", "spec", "initContainers").([]any)
				env := init[0].(map[string]any)["env"].([]any)
				return env[2].(map[string]any)["value"]
			},
			want: `[{"labels":{"application":"custom"},"requireSameNode":true}]`},
		{name: "keepalived_pod_dependency's default for openvswitch", component: "keepalived", vars: keepalivedVars,
			get: func(t *testing.T, o objectKnobRender) any {
				init := o.field(t, "DaemonSet", "keepalived", "spec", "template", "spec", "initContainers").([]any)
				env := init[0].(map[string]any)["env"].([]any)
				return env[2].(map[string]any)["value"]
			},
			want: `[{"labels":{"application":"neutron","component":"neutron-ovs-agent"},"requireSameNode":true}]`},
		{name: "ipmi_exporter_config", component: "ipmi-exporter", vars: map[string]any{"ipmi_exporter_config": ipmiConfig},
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "ConfigMap", "ipmi-exporter", "data", "config.yml")
			},
			want: string(ipmiYAML)},
		{name: "ipmi_exporter_config's hash on the pods", component: "ipmi-exporter", vars: map[string]any{"ipmi_exporter_config": ipmiConfig},
			get: func(t *testing.T, o objectKnobRender) any {
				return len(o.field(t, "DaemonSet", "ipmi-exporter", "spec", "template", "metadata", "annotations", "config-hash").(string))
			},
			want: 32},
		{name: "openstack_exporter_args with openvswitch", component: "openstack-exporter",
			vars: map[string]any{"openstack_exporter_args": []any{"--endpoint-type", "public"}},
			get: func(t *testing.T, o objectKnobRender) any {
				cs := o.field(t, "Deployment", "openstack-exporter", "spec", "template", "spec", "containers").([]any)
				return cs[0].(map[string]any)["args"]
			},
			want: []any{"--endpoint-type", "public", "--disable-service.network"}},
		{name: "openstack_exporter_neutron_disabled_metrics with ovn", component: "openstack-exporter", backend: BackendOVN,
			vars: map[string]any{"openstack_exporter_neutron_disabled_metrics": []any{"-d neutron-router"}},
			get: func(t *testing.T, o objectKnobRender) any {
				cs := o.field(t, "Deployment", "openstack-exporter", "spec", "template", "spec", "containers").([]any)
				return cs[0].(map[string]any)["args"]
			},
			want: roleArgs("-d neutron-router")},
		{name: "valkey_ca_certificate_name", component: "valkey", vars: map[string]any{"valkey_ca_certificate_name": "my-ca"},
			get: func(t *testing.T, o objectKnobRender) any {
				// Its Secret is named after it, and the Issuer signs with that.
				return []any{o.field(t, "Certificate", "my-ca", "spec", "secretName"), o.field(t, "Issuer", "valkey", "spec", "ca", "secretName")}
			},
			want: []any{"my-ca", "my-ca"}},
		{name: "valkey_ca_certificate_common_name", component: "valkey", vars: map[string]any{"valkey_ca_certificate_common_name": "My CA"},
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "Certificate", "valkey-ca", "spec", "commonName")
			},
			want: "My CA"},
		{name: "valkey_ca_certificate_secret_name", component: "valkey", vars: map[string]any{"valkey_ca_certificate_secret_name": "ca-secret"},
			get: func(t *testing.T, o objectKnobRender) any {
				return []any{o.field(t, "Certificate", "valkey-ca", "spec", "secretName"), o.field(t, "Issuer", "valkey", "spec", "ca", "secretName")}
			},
			want: []any{"ca-secret", "ca-secret"}},
		{name: "valkey_issuer_name", component: "valkey", vars: map[string]any{"valkey_issuer_name": "my-issuer"},
			get: func(t *testing.T, o objectKnobRender) any {
				return []any{o.field(t, "Issuer", "my-issuer", "kind"), o.field(t, "Certificate", "valkey-server", "spec", "issuerRef", "name")}
			},
			want: []any{"Issuer", "my-issuer"}},
		{name: "valkey_server_certificate_name, its Secret's name following", component: "valkey",
			vars: map[string]any{"valkey_server_certificate_name": "my-server",
				"octavia_jobboard_default_secret_name": "my-server-certs", "octavia_jobboard_sentinel_secret_name": "my-server-certs"},
			get: func(t *testing.T, o objectKnobRender) any {
				return []any{o.field(t, "Certificate", "my-server", "spec", "secretName"), o.vals["tls"].(map[string]any)["existingSecret"]}
			},
			want: []any{"my-server-certs", "my-server-certs"}},
		{name: "valkey_server_certificate_common_name", component: "valkey", vars: map[string]any{"valkey_server_certificate_common_name": "redis"},
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "Certificate", "valkey-server", "spec", "commonName")
			},
			want: "redis"},
		{name: "percona_xtradb_cluster_spec merged recursively", component: "percona-xtradb-cluster",
			vars: map[string]any{"percona_xtradb_cluster_spec": map[string]any{"pxc": map[string]any{"size": 5, "nodeSelector": map[string]any{"db": "yes"}}}},
			get: func(t *testing.T, o objectKnobRender) any {
				pxc := o.field(t, "PerconaXtraDBCluster", "percona-xtradb", "spec", "pxc").(map[string]any)
				_, configuration := pxc["configuration"]
				return []any{pxc["size"], pxc["nodeSelector"], configuration}
			},
			want: []any{5.0, map[string]any{"db": "yes", "openstack-control-plane": "enabled"}, true}},
		{name: "rook_ceph_cluster_radosgw_annotations over the role's", component: "rook-ceph-cluster",
			vars: map[string]any{"rook_ceph_cluster_radosgw_annotations": map[string]any{"example.com/a": "b", "nginx.ingress.kubernetes.io/proxy-body-size": "1g"}},
			get: func(t *testing.T, o objectKnobRender) any {
				a := o.field(t, "Ingress", "rook-ceph-cluster", "metadata", "annotations").(map[string]any)
				return []any{a["example.com/a"], a["nginx.ingress.kubernetes.io/proxy-body-size"], a["nginx.ingress.kubernetes.io/proxy-request-buffering"]}
			},
			want: []any{"b", "1g", "off"}},
		{name: "rook_ceph_cluster_ingress_class_name", component: "rook-ceph-cluster",
			vars: map[string]any{"rook_ceph_cluster_ingress_class_name": "public"},
			get: func(t *testing.T, o objectKnobRender) any {
				return o.field(t, "Ingress", "rook-ceph-cluster", "spec", "ingressClassName")
			},
			want: "public"},
		{name: "kube_prometheus_stack_node_exporter_tls_template", component: "kube-prometheus-stack",
			vars: map[string]any{"kube_prometheus_stack_node_exporter_tls_template": tlsTemplate},
			get: func(t *testing.T, o objectKnobRender) any {
				found, _ := values.Get(o.vals, "prometheus-node-exporter.extraManifests")
				return found.([]any)[0]
			},
			contains: []string{"  node-exporter.yml: |\n    tls_server_config:", "\n  certificate-template.yml: |\n    apiVersion: cert-manager.io/v1\n",
				"\n      commonName: custom-template\n"}},
		{name: "kube_prometheus_stack_prometheus_tls_template", component: "kube-prometheus-stack",
			vars: map[string]any{"kube_prometheus_stack_prometheus_tls_template": tlsTemplate},
			get: func(t *testing.T, o objectKnobRender) any {
				found, _ := values.Get(o.vals, "extraManifests")
				for _, m := range found.([]any) {
					if m, ok := m.(map[string]any); ok && m["kind"] == "ConfigMap" {
						return m["data"].(map[string]any)["certificate-template.yml"]
					}
				}
				return nil
			},
			contains: []string{"apiVersion: cert-manager.io/v1\n", "  commonName: custom-template\n", "    name: other\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.get(t, renderWithKnobs(t, tt.component, tt.backend, tt.vars))
			if tt.contains != nil {
				s, _ := got.(string)
				for _, want := range tt.contains {
					if !strings.Contains(s, want) {
						t.Errorf("%q lacks %q", s, want)
					}
				}
				return
			}
			if !reflect.DeepEqual(normalized(t, got), normalized(t, tt.want)) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// normalized is v as JSON decodes it (numbers float64).
func normalized(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestObjectKnobsDefaultsAsBefore: with none of their knobs set,
// ipmi-exporter and openstack-exporter apply their objects' files as they
// are (as before the knobs were read), whatever the network backend.
func TestObjectKnobsDefaultsAsBefore(t *testing.T) {
	for _, name := range []string{"ipmi-exporter", "openstack-exporter"} {
		for _, backend := range []string{BackendOpenvswitch, BackendOVN} {
			t.Run(name+"/"+backend, func(t *testing.T) {
				static, err := staticObjects(name)
				if err != nil {
					t.Fatal(err)
				}
				got := renderWithKnobs(t, name, backend, nil).objs
				if len(got) != len(static) {
					t.Fatalf("%d objects, want the file's %d", len(got), len(static))
				}
				for i := range static {
					if !reflect.DeepEqual(normalized(t, got[i].Object), normalized(t, static[i].Object)) {
						t.Errorf("object %d: %v, want the file's %v", i, got[i].Object, static[i].Object)
					}
				}
			})
		}
	}
}

// TestKeepalivedDefaultsConfigured: with only the interface and the virtual
// IP set (as generate_workspace writes them), keepalived renders the role's
// configured set, never the bare objects of its file: the configuration
// Secret and the script's ConfigMap first, then the file's objects, the
// DaemonSet waiting for the backend's default pod dependency and the
// address, and keepalived run with the role's defaults (virtual router ID
// 51, the generated password).
func TestKeepalivedDefaultsConfigured(t *testing.T) {
	tests := []struct {
		backend, dependsOn string
	}{
		{BackendOpenvswitch, "neutron-ovs-agent"},
		{BackendOVN, "ovn-controller"},
	}
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			o := renderWithKnobs(t, "keepalived", tt.backend, nil)
			var kinds []string
			for _, obj := range o.objs {
				kinds = append(kinds, obj.GetKind()+"/"+obj.GetName())
			}
			want := []string{"Secret/keepalived-etc", "ConfigMap/keepalived-bin", "ServiceAccount/keepalived", "Role/keepalived",
				"RoleBinding/keepalived", "DaemonSet/keepalived"}
			if !reflect.DeepEqual(kinds, want) {
				t.Fatalf("objects %v, want %v", kinds, want)
			}
			conf := o.field(t, "Secret", "keepalived-etc", "stringData", "keepalived.conf").(string)
			for _, w := range []string{"default_interface br-ex\n", "virtual_router_id 51\n", "\n    10.96.250.10\n", "auth_pass generated-keepalived_password\n"} {
				if !strings.Contains(conf, w) {
					t.Errorf("keepalived.conf lacks %q:\n%s", w, conf)
				}
			}
			if script := o.field(t, "ConfigMap", "keepalived-bin", "data", "wait-for-ip.sh").(string); !strings.HasPrefix(script, "#!/bin/sh -x\n") ||
				!strings.Contains(script, "ip -4 addr list dev br-ex | grep br-ex\n") {
				t.Errorf("wait-for-ip.sh does not wait for br-ex:\n%s", script)
			}
			pod := o.field(t, "DaemonSet", "keepalived", "spec", "template", "spec").(map[string]any)
			init, _ := pod["initContainers"].([]any)
			if len(init) != 2 || !strings.Contains(init[0].(map[string]any)["env"].([]any)[2].(map[string]any)["value"].(string), tt.dependsOn) ||
				init[1].(map[string]any)["name"] != "wait-for-ip" {
				t.Errorf("init containers %v, want dep_check on %s, then wait-for-ip", init, tt.dependsOn)
			}
			if vols, _ := pod["volumes"].([]any); len(vols) != 2 {
				t.Errorf("volumes %v, want keepalived-etc and keepalived-bin", vols)
			}
		})
	}
}

// TestKeepalivedRequiredWhenEnabled: keepalived enabled (the default)
// without its interface or virtual IP is refused before the run, each
// missing key named with every missing one and the role's hint (set them,
// or keepalived_enabled: false); keepalived disabled needs neither.
func TestKeepalivedRequiredWhenEnabled(t *testing.T) {
	disabled := DefaultConfig()
	disabled.Keepalived = false
	tests := []struct {
		name string
		cfg  Config
		vars map[string]any
		// want are the problems' keys, each message naming every one.
		want []string
	}{
		{"neither", DefaultConfig(), map[string]any{}, []string{"keepalived_interface", "keepalived_vip"}},
		{"no virtual IP", DefaultConfig(), map[string]any{"keepalived_interface": "br-ex"}, []string{"keepalived_vip"}},
		{"an empty interface", DefaultConfig(), map[string]any{"keepalived_interface": "", "keepalived_vip": "10.96.250.10"}, []string{"keepalived_interface"}},
		{"both", DefaultConfig(), map[string]any{"keepalived_interface": "br-ex", "keepalived_vip": "10.96.250.10"}, nil},
		{"disabled", disabled, map[string]any{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range Default().CheckKnobs(tt.cfg, merged(map[string]any{"cluster_issuer_type": "self-signed"}, tt.vars)) {
				if !strings.HasPrefix(p.Key, "keepalived_") {
					t.Errorf("unexpected problem %s: %s", p.Key, p.Message)
					continue
				}
				got = append(got, p.Key)
				for _, w := range append([]string{"set them, or keepalived_enabled: false"}, tt.want...) {
					if !strings.Contains(p.Message, w) {
						t.Errorf("%s: %q lacks %q", p.Key, p.Message, w)
					}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems of %v, want %v", got, tt.want)
			}
		})
	}
}

// TestObjectKnobsRefused: a value of the wrong type, and a keepalived
// configuration the role cannot run, are refused before the run, naming
// the key and what it wants (never a secret's value).
func TestObjectKnobsRefused(t *testing.T) {
	keepalived := map[string]any{"keepalived_interface": "eth0", "keepalived_vip": "192.0.2.10"}
	tests := []struct {
		name string
		vars map[string]any
		key  string
		want []string
	}{
		{"keepalived_interface not a string", map[string]any{"keepalived_interface": 1, "keepalived_vip": "192.0.2.10"}, "keepalived_interface", []string{"want a string, got the number 1"}},
		{"keepalived_interface not an interface's name", merged(keepalived, map[string]any{"keepalived_interface": "eth0; reboot"}), "keepalived_interface", []string{"network interface's name", `"eth0; reboot"`}},
		{"keepalived_vip missing", map[string]any{"keepalived_interface": "eth0"}, "keepalived_vip", []string{"needs keepalived_vip", "set them, or keepalived_enabled: false"}},
		{"keepalived_interface and keepalived_vip missing", map[string]any{"keepalived_password": "x"}, "keepalived_interface",
			[]string{"needs keepalived_interface and keepalived_vip", "set them, or keepalived_enabled: false"}},
		{"keepalived_password not a string, not shown", merged(keepalived, map[string]any{"keepalived_password": 12345}), "keepalived_password", []string{"want a string, got a number"}},
		{"keepalived_vrid not a number", merged(keepalived, map[string]any{"keepalived_vrid": "fifty"}), "keepalived_vrid", []string{`want a whole number, got the string "fifty"`}},
		{"keepalived_vrid out of range", merged(keepalived, map[string]any{"keepalived_vrid": 256}), "keepalived_vrid", []string{"from 1 to 255, got 256"}},
		{"keepalived_pod_dependency not a mapping", merged(keepalived, map[string]any{"keepalived_pod_dependency": []any{}}), "keepalived_pod_dependency", []string{"want a mapping, got a list"}},
		{"keepalived_pod_dependency without the backend", merged(keepalived, map[string]any{"keepalived_pod_dependency": map[string]any{"ovn": []any{}}}), "keepalived_pod_dependency", []string{`under "openvswitch"`}},
		{"ipmi_exporter_config", map[string]any{"ipmi_exporter_config": "modules: {}"}, "ipmi_exporter_config", []string{"want a mapping"}},
		{"openstack_exporter_args", map[string]any{"openstack_exporter_args": "--endpoint-type internal"}, "openstack_exporter_args", []string{"want a list of strings"}},
		{"openstack_exporter_args of numbers", map[string]any{"openstack_exporter_args": []any{1.0}}, "openstack_exporter_args", []string{"want a list of strings"}},
		{"openstack_exporter_neutron_disabled_metrics", map[string]any{"openstack_exporter_neutron_disabled_metrics": map[string]any{}}, "openstack_exporter_neutron_disabled_metrics", []string{"want a list of strings"}},
		{"valkey_ca_certificate_name", map[string]any{"valkey_ca_certificate_name": []any{}}, "valkey_ca_certificate_name", []string{"want a string"}},
		{"valkey_ca_certificate_common_name", map[string]any{"valkey_ca_certificate_common_name": 1}, "valkey_ca_certificate_common_name", []string{"want a string"}},
		{"valkey_ca_certificate_secret_name", map[string]any{"valkey_ca_certificate_secret_name": true}, "valkey_ca_certificate_secret_name", []string{"want a string"}},
		{"valkey_issuer_name", map[string]any{"valkey_issuer_name": 1}, "valkey_issuer_name", []string{"want a string"}},
		{"valkey_server_certificate_name", map[string]any{"valkey_server_certificate_name": 1}, "valkey_server_certificate_name", []string{"want a string"}},
		{"valkey_server_certificate_common_name", map[string]any{"valkey_server_certificate_common_name": 1}, "valkey_server_certificate_common_name", []string{"want a string"}},
		{"valkey's Secret renamed without octavia's", map[string]any{"valkey_server_certificate_name": "kv"}, "octavia_jobboard_default_secret_name",
			[]string{`Secret "valkey-server-certs"`, `valkey's is "kv-certs"`, `set octavia_jobboard_default_secret_name to "kv-certs"`}},
		{"percona_xtradb_cluster_spec", map[string]any{"percona_xtradb_cluster_spec": "pxc: {}"}, "percona_xtradb_cluster_spec", []string{"want a mapping"}},
		{"rook_ceph_cluster_ingress_class_name", map[string]any{"rook_ceph_cluster_ingress_class_name": 1}, "rook_ceph_cluster_ingress_class_name", []string{"want a string"}},
		{"rook_ceph_cluster_radosgw_annotations", map[string]any{"rook_ceph_cluster_radosgw_annotations": []any{}}, "rook_ceph_cluster_radosgw_annotations", []string{"want a mapping"}},
		{"kube_prometheus_stack_node_exporter_tls_template", map[string]any{"kube_prometheus_stack_node_exporter_tls_template": "x"}, "kube_prometheus_stack_node_exporter_tls_template", []string{"want a mapping"}},
		{"kube_prometheus_stack_prometheus_tls_template", map[string]any{"kube_prometheus_stack_prometheus_tls_template": "x"}, "kube_prometheus_stack_prometheus_tls_template", []string{"want a mapping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found *KnobProblem
			problems := Default().CheckKnobs(DefaultConfig(), tt.vars)
			for i := range problems {
				if problems[i].Key == tt.key {
					found = &problems[i]
				}
			}
			if found == nil {
				t.Fatalf("%s not refused: %v", tt.key, problems)
			}
			for _, w := range tt.want {
				if !strings.Contains(found.Message, w) {
					t.Errorf("%s: %q lacks %q", tt.key, found.Message, w)
				}
			}
			if strings.Contains(found.Message, "12345") {
				t.Errorf("%s: the secret's value is shown: %q", tt.key, found.Message)
			}
		})
	}
}
