package components

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/vexxhost/atmosphere-go/components/values"
)

const knobsFile = "group_vars/all/knobs.yml"

// renderOf is a Render of vars, each from knobsFile.
func renderOf(vars map[string]any) *Render {
	sources := map[string]string{}
	for k := range vars {
		sources[k] = knobsFile
	}
	s := DefaultSettings()
	s.Vars, s.Sources = vars, sources
	return &Render{Settings: s}
}

// TestKnobAccessors: a knob of its type gives the inventory's value, an
// absent or null one the default, one of another type the default and an
// error naming the file and the key.
func TestKnobAccessors(t *testing.T) {
	set := &knobSet{}
	name := set.str("test_name", "def")
	size := set.integer("test_size", 256)
	enabled := set.boolean("test_enabled", true)
	list := set.list("test_list")
	mapping := set.mapping("test_mapping", map[string]any{"a": "b"})
	tests := []struct {
		name    string
		vars    map[string]any
		get     func(*Render) any
		want    any
		wantErr []string // what the error names; none for no error
	}{
		{"string", map[string]any{"test_name": "x"}, func(r *Render) any { return name.get(r) }, "x", nil},
		{"string absent", nil, func(r *Render) any { return name.get(r) }, "def", nil},
		{"string null", map[string]any{"test_name": nil}, func(r *Render) any { return name.get(r) }, "def", nil},
		{"string given a list", map[string]any{"test_name": []any{1.0}}, func(r *Render) any { return name.get(r) }, "def",
			[]string{knobsFile, "test_name", "want a string, got a list"}},
		{"whole number from YAML", map[string]any{"test_size": 384}, func(r *Render) any { return size.get(r) }, 384, nil},
		{"whole number from JSON", map[string]any{"test_size": 384.0}, func(r *Render) any { return size.get(r) }, 384, nil},
		{"whole number absent", nil, func(r *Render) any { return size.get(r) }, 256, nil},
		{"whole number given a string", map[string]any{"test_size": "abc"}, func(r *Render) any { return size.get(r) }, 256,
			[]string{knobsFile, "test_size", `want a whole number, got the string "abc"`}},
		{"whole number given a fraction", map[string]any{"test_size": 2.5}, func(r *Render) any { return size.get(r) }, 256,
			[]string{knobsFile, "test_size", "got the number 2.5"}},
		{"boolean", map[string]any{"test_enabled": false}, func(r *Render) any { return enabled.get(r) }, false, nil},
		{"boolean absent", nil, func(r *Render) any { return enabled.get(r) }, true, nil},
		{"boolean given a string", map[string]any{"test_enabled": "yes"}, func(r *Render) any { return enabled.get(r) }, true,
			[]string{knobsFile, "test_enabled", "want true or false"}},
		{"list", map[string]any{"test_list": []any{"a"}}, func(r *Render) any { return list.get(r) }, []any{"a"}, nil},
		{"list absent", nil, func(r *Render) any { return list.get(r) }, []any(nil), nil},
		{"list given a mapping", map[string]any{"test_list": map[string]any{}}, func(r *Render) any { return list.get(r) }, []any(nil),
			[]string{knobsFile, "test_list", "want a list, got a mapping"}},
		{"mapping", map[string]any{"test_mapping": map[string]any{"c": "d"}}, func(r *Render) any { return mapping.get(r) }, map[string]any{"c": "d"}, nil},
		{"mapping absent", nil, func(r *Render) any { return mapping.get(r) }, map[string]any{"a": "b"}, nil},
		{"mapping given a number", map[string]any{"test_mapping": 1.0}, func(r *Render) any { return mapping.get(r) }, map[string]any{"a": "b"},
			[]string{knobsFile, "test_mapping", "want a mapping, got the number 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := renderOf(tt.vars)
			if got := tt.get(r); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if len(tt.wantErr) == 0 {
				if r.err != nil {
					t.Errorf("error %v, want none", r.err)
				}
				return
			}
			if r.err == nil {
				t.Fatalf("no error, want one naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("error %q lacks %q", r.err, w)
				}
			}
		})
	}
}

// TestKnobProblemHidesASecret: a secret knob of the wrong type is named,
// its value is not shown.
func TestKnobProblemHidesASecret(t *testing.T) {
	r := renderOf(map[string]any{"kube_prometheus_stack_grafana_admin_password": 123456.0})
	kubePrometheusStackGrafanaAdminPassword.get(r)
	if r.err == nil || !strings.Contains(r.err.Error(), "kube_prometheus_stack_grafana_admin_password") || strings.Contains(r.err.Error(), "123456") {
		t.Errorf("error %v: want the key named and the value hidden", r.err)
	}
}

// TestCheckKnobs: the knobs of the enabled components and the shared
// rendering's are checked up front; a disabled component's are not, nor
// the variables atmosphere does not read.
func TestCheckKnobs(t *testing.T) {
	vars := map[string]any{
		"octavia_tls_client_private_key_size": "abc",                    // octavia's
		"memcached_helm_release_name":         []any{1.0},               // memcached's
		"atmosphere_ingress_annotations":      "x",                      // shared
		"octavia_ingress_annotations":         []any{},                  // octavia's Ingress's
		"octavia_rabbitmq_spec":               "x",                      // octavia's RabbitMQ cluster's
		"ovn_network_logging_parser_enabled":  "maybe",                  // ovn's, disabled with openvswitch
		"nova_helm_values":                    map[string]any{"a": "b"}, // fine
		"something_else":                      1.0,                      // no component's
		"octavia_tls_server_common_name":      "octavia-server",         // of its type
		"octavia_tls_server_private_key_size": 384.0,                    // of its type
		"keystone_domains":                    []any{map[string]any{}},  // of its type
		"cluster_issuer_type":                 "self-signed",            // of its values
		"keepalived_interface":                "br-ex",                  // required: keepalived is enabled
		"keepalived_vip":                      "10.96.250.10",           // required: keepalived is enabled
	}
	got := Default().CheckKnobs(DefaultConfig(), vars)
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key)
		if p.Message == "" {
			t.Errorf("%s: no message", p.Key)
		}
	}
	want := []string{"atmosphere_ingress_annotations", "memcached_helm_release_name", "octavia_ingress_annotations",
		"octavia_rabbitmq_spec", "octavia_tls_client_private_key_size"}
	if !slices.Equal(keys, want) {
		t.Errorf("problems with %v, want %v", keys, want)
	}
	ovn := DefaultConfig()
	ovn.NetworkBackend = BackendOVN
	found := false
	for _, p := range Default().CheckKnobs(ovn, vars) {
		found = found || p.Key == "ovn_network_logging_parser_enabled"
	}
	if !found {
		t.Errorf("with OVN, ovn_network_logging_parser_enabled %q is not a problem", vars["ovn_network_logging_parser_enabled"])
	}
}

// TestEveryKnobReadIsDeclared renders every component (values, objects,
// database grants) in several settings and records the knobs read: each
// must be among the component's declared knobs or the shared rendering's,
// so that CheckKnobs checks what rendering reads. Every knob set names a
// component of the registry.
func TestEveryKnobReadIsDeclared(t *testing.T) {
	reg := Default()
	for component := range declaredKnobs {
		if _, ok := reg.Get(component); !ok && component != "" {
			t.Errorf("knobs declared for %q, which is no component", component)
		}
	}
	domain := merged(map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com",
		"openstack_helm_endpoints_region_name": "RegionOne", "cluster_issuer_acme_email": "ops@example.com"}, workspaceKeepalived)
	sshKey := testSSHKey(t)
	variants := []struct {
		name string
		cfg  Config
		vars map[string]any
	}{
		{"defaults", DefaultConfig(), domain},
		{"ovn, everything on", Config{NetworkBackend: BackendOVN, BGPAgent: true, Staffeln: true, Keepalived: true}, domain},
		{"csi_driver storpool", Config{NetworkBackend: BackendOpenvswitch, Keepalived: true, CSIDriver: CSIDriverStorPool}, merged(domain, storpoolIBMBlockVars)},
		{"csi_driver ibm-block", Config{NetworkBackend: BackendOpenvswitch, Keepalived: true, CSIDriver: CSIDriverIBMBlock}, merged(domain, storpoolIBMBlockVars)},
		{"knobs set", DefaultConfig(), merged(domain, map[string]any{
			"keystone_domains":                       []any{map[string]any{"name": "a", "label": "A", "keycloak_realm": "a"}},
			"neutron_genericswitch_keys":             []any{map[string]any{"name": "sw", "key": "k"}},
			"kube_prometheus_stack_keycloak_clients": []any{map[string]any{"id": "grafana", "roles": []any{"admin"}}},
			"openstack_helm_ingress_wildcard_domain": "cloud.example.com",
			"ceph_csi_rbd_monitors":                  []any{"10.0.0.1"},
			"keycloak_host":                          "keycloak.cloud.example.com",
			"keystone_oidc_redirect_urls_allowed":    []any{"https://x"},
			"keepalived_interface":                   "eth0",
			"keepalived_vip":                         "192.0.2.10",
			"ipmi_exporter_config":                   map[string]any{"modules": map[string]any{}},
			"openstack_exporter_args":                []any{"--endpoint-type", "internal"},
			"percona_xtradb_cluster_spec":            map[string]any{"pxc": map[string]any{"size": 1}},
		})},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			total := 0
			defer func() {
				if total == 0 {
					t.Error("no knob read: the recording does not record")
				}
			}()
			for _, c := range reg.Components() {
				if !c.IsEnabled(v.cfg) {
					continue
				}
				read := map[string]bool{}
				s := DefaultSettings()
				s.Config, s.Vars = v.cfg, v.vars
				s.Secret = func(name string) (string, error) {
					if strings.HasSuffix(name, "_ssh_key") {
						return sshKey, nil
					}
					return "secret", nil
				}
				s.PeekSecret = s.Secret
				s.ClusterSecret = func(string, string) (string, error) { return "secret", nil }
				s.knobRead = func(name string) { read[name] = true }
				_, err1 := c.OwnValues(s, values.Values{})
				_, err2 := c.Objects(s)
				_, err3 := c.DatabaseGrants(s)
				if err := errors.Join(err1, err2, err3); err != nil {
					t.Errorf("%s: %v", c.Name, err)
				}
				declared := map[string]bool{}
				for _, k := range append(c.Knobs(), SharedKnobs()...) {
					declared[k] = true
				}
				total += len(read)
				for _, k := range slices.Sorted(maps.Keys(read)) {
					if !declared[k] {
						t.Errorf("%s reads %s, which it does not declare", c.Name, k)
					}
				}
			}
		})
	}
}

// testSSHKey is an SSH private key in OpenSSH's PEM form.
func testSSHKey(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

// workspaceKeepalived are keepalived's interface and virtual IP as
// atmosphere's generate_workspace playbook writes them into every new
// workspace (group_vars/all/keepalived.yml): required while keepalived is
// enabled, as it is by default.
var workspaceKeepalived = map[string]any{"keepalived_interface": "br-ex", "keepalived_vip": "10.96.250.10"}

func merged(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
