package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestMoleculeInventory loads atmosphere's molecule inventory (beside the
// checkout, and the copy with a hosts file under testdata).
func TestMoleculeInventory(t *testing.T) {
	for _, dir := range []string{"../../shared/atmosphere/molecule/default", "../testdata/inventories/molecule"} {
		t.Run(dir, func(t *testing.T) {
			inv, err := Load(dir, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			s, err := inv.Settings()
			if err != nil {
				t.Fatal(err)
			}
			if s.Config.NetworkBackend != components.BackendOpenvswitch {
				t.Errorf("network backend %q", s.Config.NetworkBackend)
			}
			if len(s.Images) != 1 || s.Images[0].Name != "cirros" || s.Images[0].DiskFormat != "raw" || s.Images[0].Visibility != "public" {
				t.Errorf("images %+v", s.Images)
			}
			if s.HelmValues["neutron"]["conf"] == nil || s.HelmValues["ovn"] == nil {
				t.Errorf("helm values %v", s.HelmValues)
			}
			if len(inv.Warnings) != 0 {
				t.Errorf("warnings %v", inv.Warnings)
			}
			if strings.Contains(dir, "testdata") && filepath.Base(inv.Hosts) != "hosts.ini" {
				t.Errorf("hosts %q", inv.Hosts)
			}
		})
	}
}

func TestEnvLookup(t *testing.T) {
	const form = "atmosphere_network_backend: \"{{ lookup('env', 'ATMOSPHERE_NETWORK_BACKEND') | default('openvswitch', True) }}\"\n"
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string
		err  string
	}{
		{"unset takes the default", form, nil, "openvswitch", ""},
		{"set", form, map[string]string{"ATMOSPHERE_NETWORK_BACKEND": "ovn"}, "ovn", ""},
		{"empty takes the default with True", form, map[string]string{"ATMOSPHERE_NETWORK_BACKEND": ""}, "openvswitch", ""},
		{"without True an unset variable is empty, as in Ansible",
			"atmosphere_network_backend: \"{{ lookup('env', 'X') | default('ovn') }}\"\n", nil, "", `"": want`},
		{"double quotes", "atmosphere_network_backend: '{{ lookup(\"env\", \"X\") | default(\"ovn\", true) }}'\n", nil, "ovn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, map[string]string{"group_vars/all/main.yml": tt.yaml})
			inv, err := Load(dir, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			s, err := inv.Settings()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || s.Config.NetworkBackend != tt.want {
				t.Errorf("backend %q err %v, want %q", s.Config.NetworkBackend, err, tt.want)
			}
		})
	}
}

// write makes an inventory directory from files by relative path.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBadInventories: each bad inventory is refused with every problem
// named by file and key.
func TestBadInventories(t *testing.T) {
	const f = "group_vars/all/main.yml"
	huge := "x: \"" + strings.Repeat("a", MaxFileSize) + "\"\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each a substring of one problem
	}{
		{"no variables", map[string]string{"hosts.ini": "[all]\n"}, []string{"group_vars: no variables"}},
		{"malformed YAML", map[string]string{f: "a: [1, 2\n"}, []string{f + ": not valid YAML"}},
		{"a list at the top", map[string]string{f: "- a\n- b\n"}, []string{f + ": not valid YAML"}},
		{"huge file", map[string]string{f: huge}, []string{f + ": 4194310 bytes: more than the 4194304"}},
		{"Jinja", map[string]string{f: "keystone_helm_values:\n  conf:\n    x: \"{{ foo }}\"\n"},
			[]string{f + ": keystone_helm_values.conf.x: Jinja is not evaluated"}},
		{"Jinja in a list", map[string]string{f: "glance_images:\n  - name: a\n    url: \"{% if x %}y{% endif %}\"\n"},
			[]string{f + ": glance_images[0].url: Jinja"}},
		{"unknown backend", map[string]string{f: "atmosphere_network_backend: linuxbridge\n"},
			[]string{f + `: atmosphere_network_backend: "linuxbridge": want "openvswitch" or "ovn"`}},
		{"backend not a string", map[string]string{f: "atmosphere_network_backend: [ovn]\n"}, []string{"atmosphere_network_backend: want a string, got a list"}},
		{"cluster IP not an address", map[string]string{f: "neutron_coredns_cluster_ip: 10.96.0.300\n"},
			[]string{f + `: neutron_coredns_cluster_ip: "10.96.0.300": want an IP address`}},
		{"boolean of the wrong type", map[string]string{f: "keepalived_enabled: maybe\n"}, []string{`keepalived_enabled: want true or false, got the string "maybe"`}},
		{"helm values not a mapping", map[string]string{f: "nova_helm_values: [1]\n"}, []string{"nova_helm_values: want a mapping of Helm values, got a list"}},
		{"images not a list", map[string]string{f: "glance_images: cirros\n"}, []string{`glance_images: want a list, got the string "cirros"`}},
		{"image not a mapping", map[string]string{f: "glance_images: [cirros]\n"}, []string{"glance_images[0]: want a mapping"}},
		{"image without url", map[string]string{f: "glance_images:\n  - name: cirros\n"}, []string{"glance_images[0].url: required"}},
		{"flavor vcpus a string", map[string]string{f: "nova_flavors:\n  - {name: m1.small, vcpus: two, ram: 2048}\n"},
			[]string{`nova_flavors[0].vcpus: want a whole number of 0 or more, got the string "two"`}},
		{"flavor ram negative", map[string]string{f: "nova_flavors:\n  - {name: m1.small, vcpus: 1, ram: -5}\n"},
			[]string{"nova_flavors[0].ram: want a whole number of 0 or more, got the number -5"}},
		{"flavor ram fractional", map[string]string{f: "nova_flavors:\n  - {name: m1.small, vcpus: 1, ram: 1.5}\n"},
			[]string{"nova_flavors[0].ram: want a whole number"}},
		{"flavor field misspelt", map[string]string{f: "nova_flavors:\n  - {name: m1.small, vcpu: 1, ram: 2}\n"},
			[]string{`nova_flavors[0].vcpu: unknown field (did you mean "vcpus"?)`, "nova_flavors[0].vcpus: required"}},
		{"flavor without a name", map[string]string{f: "nova_flavors:\n  - {vcpus: 1, ram: 2}\n"}, []string{"nova_flavors[0].name: required"}},
		{"subnet without a cidr", map[string]string{f: "neutron_networks:\n  - name: public\n    subnets:\n      - name: s\n"},
			[]string{"neutron_networks[0].subnets[0].cidr: required"}},
		{"subnets not a list", map[string]string{f: "neutron_networks:\n  - name: public\n    subnets: s\n"},
			[]string{"neutron_networks[0].subnets: want a list"}},
		{"pool start without end", map[string]string{f: "neutron_networks:\n  - name: p\n    subnets:\n      - {name: s, cidr: 10.0.0.0/24, allocation_pool_start: 10.0.0.5}\n"},
			[]string{"neutron_networks[0].subnets[0]: allocation_pool_start and allocation_pool_end go together"}},
		{"dns servers not a list", map[string]string{f: "neutron_networks:\n  - name: p\n    subnets:\n      - {name: s, cidr: 10.0.0.0/24, dns_nameservers: 1.1.1.1}\n"},
			[]string{"dns_nameservers: want a list of strings"}},
		{"dns server not a string", map[string]string{f: "neutron_networks:\n  - name: p\n    subnets:\n      - {name: s, cidr: 10.0.0.0/24, dns_nameservers: [[1]]}\n"},
			[]string{"dns_nameservers[0]: want a string"}},
		{"segmentation id a string", map[string]string{f: "neutron_networks:\n  - {name: p, provider_segmentation_id: vlan10}\n"},
			[]string{"neutron_networks[0].provider_segmentation_id: want a whole number"}},
		{"external not a boolean", map[string]string{f: "neutron_networks:\n  - {name: p, external: 3}\n"},
			[]string{"neutron_networks[0].external: want true or false, got the number 3"}},
		{"password a number, not shown", map[string]string{f: "openstack_helm_endpoints_nova_keystone_password: 918273645546372819\n"},
			[]string{"openstack_helm_endpoints_nova_keystone_password: want a string, got a number (a secret: its value is not shown)"}},
		{"every problem at once, across files", map[string]string{
			"group_vars/all/a.yml": "atmosphere_network_backend: linuxbridge\nnova_flavors: {}\n",
			"group_vars/all/b.yml": "keepalived_enabled: 7\nglance_images:\n  - {name: a}\n",
		}, []string{"group_vars/all/a.yml: atmosphere_network_backend", "group_vars/all/a.yml: nova_flavors: want a list",
			"group_vars/all/b.yml: keepalived_enabled", "group_vars/all/b.yml: glance_images[0].url: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, tt.files)
			inv, err := Load(dir, noEnv)
			if err == nil {
				_, err = inv.Settings()
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err %v, want Problems", err)
			}
			if strings.Contains(err.Error(), "918273645546372819") {
				t.Errorf("the problem shows the password: %v", err)
			}
			for _, w := range tt.want {
				found := false
				for _, p := range ps {
					found = found || strings.Contains(p.String(), w)
				}
				if !found {
					t.Errorf("no problem says %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hosts.ini")
	os.WriteFile(file, []byte("[all]\n"), 0o600)
	for _, dir := range []string{file, filepath.Join(t.TempDir(), "missing")} {
		_, err := Load(dir, noEnv)
		var ps Problems
		if !errors.As(err, &ps) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

func TestUnknownKeysWarn(t *testing.T) {
	dir := write(t, map[string]string{"group_vars/all.yml": "nova_flavours: []\nkubernetes_keepalived_vip: 10.0.0.1\ncompletely_custom: 1\n"})
	inv, err := Load(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Warnings) != 2 {
		t.Fatalf("warnings %v, want nova_flavours and completely_custom", inv.Warnings)
	}
	if w := inv.Warnings[1].String(); !strings.Contains(w, `group_vars/all.yml: nova_flavours: not a variable atmosphere knows`) ||
		!strings.Contains(w, `did you mean "nova_flavors"?`) {
		t.Errorf("warning %q", w)
	}
}

// FuzzLoad: any variables file is loaded or refused with Problems, never a
// panic or another error.
func FuzzLoad(f *testing.F) {
	f.Add("atmosphere_network_backend: ovn\n")
	f.Add("nova_flavors:\n  - {name: a, vcpus: 1, ram: 2}\n")
	f.Add("neutron_networks:\n  - name: p\n    subnets: [{name: s, cidr: 10.0.0.0/24}]\n")
	f.Add("glance_images: [{name: a, url: \"{{ lookup('env', 'X') | default('y', True) }}\"}]\n")
	f.Add("a: [1, 2\n")
	f.Fuzz(func(t *testing.T, content string) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		inv, err := Load(dir, noEnv)
		if err == nil {
			_, err = inv.Settings()
		}
		var ps Problems
		if err != nil && !errors.As(err, &ps) {
			t.Fatalf("an error that is not Problems: %v", err)
		}
		for _, p := range ps {
			if p.Message == "" {
				t.Fatalf("a problem without a message: %+v", p)
			}
		}
	})
}
