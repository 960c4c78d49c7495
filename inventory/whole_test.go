package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPrecedence: each level of Ansible's order sets probe_level, and the
// test adds the levels one by one, lowest first: each overrides the one
// below, and Sources names where the winner was set.
func TestPrecedence(t *testing.T) {
	// levels, lowest first: the file and what it adds (the hosts file is
	// built from its parts).
	type level struct {
		name, file, content, source string
	}
	levels := []level{
		{"hosts file all:vars", "hosts.ini#all", "[all:vars]\nprobe_level=all-inventory\n", "hosts.ini"},
		{"hosts file parent group vars", "hosts.ini#openstack", "[openstack:vars]\nprobe_level=parent-inventory\n", "hosts.ini"},
		{"hosts file child group vars", "hosts.ini#controllers", "[controllers:vars]\nprobe_level=child-inventory\n", "hosts.ini"},
		{"group_vars/all", "group_vars/all.yml", "probe_level: all-group-vars\n", "group_vars/all.yml"},
		{"group_vars/parent", "group_vars/openstack.yml", "probe_level: parent-group-vars\n", "group_vars/openstack.yml"},
		{"group_vars/child", "group_vars/controllers/main.yml", "probe_level: child-group-vars\n", "group_vars/controllers/main.yml"},
		{"host line in the hosts file", "hosts.ini#host", "", "hosts.ini:2"},
		{"host_vars", "host_vars/ctl1", "probe_level: host-vars\n", "host_vars/ctl1"},
	}
	for n := range levels {
		top := levels[n]
		t.Run(top.name, func(t *testing.T) {
			hostLine := "ctl1"
			hosts := ""
			files := map[string]string{"group_vars/all/base.yml": "other: 1\n"}
			for _, l := range levels[:n+1] {
				switch {
				case l.file == "hosts.ini#host":
					hostLine = "ctl1 probe_level=host-inventory"
				case strings.HasPrefix(l.file, "hosts.ini#"):
					hosts += l.content
				default:
					files[l.file] = l.content
				}
			}
			if files["group_vars/all.yml"] != "" {
				// Ansible reads one of group_vars/all (the directory,
				// when there is one) and group_vars/all.yml.
				delete(files, "group_vars/all/base.yml")
			}
			files["hosts.ini"] = "[controllers]\n" + hostLine + "\n\n[openstack:children]\ncontrollers\n\n" + hosts
			inv, err := Load(write(t, files), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"hosts file all:vars": "all-inventory", "hosts file parent group vars": "parent-inventory",
				"hosts file child group vars": "child-inventory", "group_vars/all": "all-group-vars",
				"group_vars/parent": "parent-group-vars", "group_vars/child": "child-group-vars",
				"host line in the hosts file": "host-inventory", "host_vars": "host-vars",
			}[top.name]
			if inv.SettingsHost != "ctl1" || inv.Vars["probe_level"] != want {
				t.Errorf("settings of %q: probe_level %v, want %q (from %s)", inv.SettingsHost, inv.Vars["probe_level"], want, top.name)
			}
			if got := inv.Sources["probe_level"]; !strings.HasPrefix(got, top.source) {
				t.Errorf("source %q, want %q", got, top.source)
			}
			vars, _, ok := inv.HostVars("ctl1")
			if !ok || vars["probe_level"] != want {
				t.Errorf("HostVars(ctl1): %v", vars["probe_level"])
			}
		})
	}
}

// TestGroupsOfOneDepth: groups of one depth apply by name, unless
// ansible_group_priority (in the hosts file) says otherwise; a deeper
// group beats both.
func TestGroupsOfOneDepth(t *testing.T) {
	tests := []struct {
		name, hosts, want string
	}{
		{"by name", "[aaa]\nctl1\n[zzz]\nctl1\n", "zzz"},
		{"by priority", "[aaa]\nctl1\n[zzz]\nctl1\n[aaa:vars]\nansible_group_priority=10\n", "aaa"},
		{"deeper wins", "[aaa]\nctl1\n[zzz]\nctl1\n[mmm:children]\nzzz\n[mmm:vars]\nansible_group_priority=99\n", "zzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(write(t, map[string]string{
				"hosts.ini":          tt.hosts,
				"group_vars/aaa.yml": "probe_group: aaa\n",
				"group_vars/zzz.yml": "probe_group: zzz\n",
				"group_vars/mmm.yml": "probe_group: mmm\n",
			}), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			vars, sources, _ := inv.HostVars("ctl1")
			if vars["probe_group"] != tt.want || sources["probe_group"] != "group_vars/"+tt.want+".yml" {
				t.Errorf("probe_group %v from %s, want %s", vars["probe_group"], sources["probe_group"], tt.want)
			}
		})
	}
}

// TestSettingsHost: the settings are the variables of the first host of
// controllers (its own hosts, then its children's), else those of all.
func TestSettingsHost(t *testing.T) {
	tests := []struct {
		name, hosts, host, want string
	}{
		{"first controller", "[controllers]\nctl2\nctl1\n", "ctl2", "ctl2"},
		{"through a child group", "[controllers:children]\nctl_a\n[ctl_a]\nctl9\n", "ctl9", "ctl9"},
		{"no controllers", "[computes]\nkvm1\n", "", "all"},
		{"no hosts file", "", "", "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{
				"group_vars/all.yml":  "probe_host: all\n",
				"host_vars/ctl1.yml":  "probe_host: ctl1\n",
				"host_vars/ctl2.yml":  "probe_host: ctl2\n",
				"host_vars/ctl9.yml":  "probe_host: ctl9\n",
				"host_vars/kvm1.yaml": "probe_host: kvm1\n",
			}
			if tt.hosts != "" {
				files["hosts.ini"] = tt.hosts
			}
			inv, err := Load(write(t, files), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if inv.SettingsHost != tt.host || inv.Vars["probe_host"] != tt.want {
				t.Errorf("settings host %q with probe_host %v, want %q and %s", inv.SettingsHost, inv.Vars["probe_host"], tt.host, tt.want)
			}
		})
	}
}

// TestVarsFilesAsAnsibleFindsThem: group_vars/<group> and host_vars/<host>
// in each form, every file warned about for unknown keys, those of no
// group or host warned about too.
func TestVarsFilesAsAnsibleFindsThem(t *testing.T) {
	inv, err := Load(write(t, map[string]string{
		"hosts.yml":                          "all:\n  children:\n    controllers:\n      hosts:\n        ctl1:\n          nova_flavours_x: 1\n",
		"group_vars/all":                     "probe_a: plain file without extension\n",
		"group_vars/controllers/10.yml":      "probe_b: first\n",
		"group_vars/controllers/20.json":     `{"probe_b": "second", "probe_c": "json"}`,
		"group_vars/controllers/sub/.hidden": "probe_b: hidden\n",
		"group_vars/controllers/zz~":         "probe_b: backup\n",
		"group_vars/controllers/sub/30":      "nova_flavours: []\n",
		"group_vars/computes.yml":            "probe_d: no such group\n",
		"host_vars/ctl1.json":                `{"probe_e": "json host"}`,
		"host_vars/ghost/main.yml":           "probe_e: no such host\n",
		"group_vars/controllers/readme.md":   "not read: not a vars extension\n",
		"group_vars/controllers.yml":         "probe_f: shadowed by the directory\n",
	}), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"probe_a": "plain file without extension", "probe_b": "second", "probe_c": "json", "probe_e": "json host"}
	for k, v := range want {
		if inv.Vars[k] != v {
			t.Errorf("%s = %v, want %q", k, inv.Vars[k], v)
		}
	}
	if _, ok := inv.Vars["probe_d"]; ok {
		t.Errorf("group_vars/computes.yml was read for a group the hosts file lacks")
	}
	if _, ok := inv.Vars["probe_f"]; ok {
		t.Errorf("group_vars/controllers.yml was read beside group_vars/controllers/, which Ansible reads instead")
	}
	var warnings []string
	for _, w := range inv.Warnings {
		warnings = append(warnings, w.String())
	}
	all := strings.Join(warnings, "\n")
	for _, w := range []string{
		"group_vars/computes.yml: no group computes in the hosts file",
		"host_vars/ghost: no host ghost in the hosts file",
		"group_vars/controllers.yml: not read: group_vars/controllers is (Ansible reads only the first of controllers, controllers.yml, controllers.yaml and controllers.json that exists)",
		`group_vars/controllers/sub/30: nova_flavours: not a variable atmosphere knows; it is passed to the Ansible parts as is (did you mean "nova_flavors"?)`,
		"hosts.yml:6: nova_flavours_x: not a variable",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("no warning says %q in:\n%s", w, all)
		}
	}
}

const vaultInventory = "../testdata/inventories/vault"

// TestVault: the vault inventory's encrypted file and !vault value are
// read with the right password (from the option or the environment), and
// refused naming each file without it or with a wrong one.
func TestVault(t *testing.T) {
	password := filepath.Join(vaultInventory, "test-vault-password")
	wrong := "../internal/vault/testdata/wrong-password"
	tests := []struct {
		name string
		opts Options
		want []string // problems, each a substring of one; none when read
	}{
		{"the option", Options{Env: noEnv, VaultPasswordFile: password}, nil},
		{"the environment", Options{Env: envOf(map[string]string{"ANSIBLE_VAULT_PASSWORD_FILE": password})}, nil},
		{"the option over the environment", Options{Env: envOf(map[string]string{"ANSIBLE_VAULT_PASSWORD_FILE": wrong}), VaultPasswordFile: password}, nil},
		{"no password", Options{Env: noEnv}, []string{
			"group_vars/controllers/vault.yml: encrypted with ansible-vault, and no vault password given (--vault-password-file or ANSIBLE_VAULT_PASSWORD_FILE)",
			"host_vars/ctl1/vault.yml: openstack_helm_endpoints_glance_keystone_password: encrypted with ansible-vault, and no vault password given"}},
		{"wrong password", Options{Env: noEnv, VaultPasswordFile: wrong}, []string{
			"group_vars/controllers/vault.yml: encrypted with ansible-vault, and the vault password given does not decrypt it",
			"host_vars/ctl1/vault.yml: openstack_helm_endpoints_glance_keystone_password: encrypted with ansible-vault, and the vault password given does not decrypt it"}},
		{"password file missing", Options{Env: noEnv, VaultPasswordFile: "/nonexistent/vault-pass"}, []string{
			"group_vars/controllers/vault.yml: read the vault password file: open /nonexistent/vault-pass",
			"host_vars/ctl1/vault.yml: openstack_helm_endpoints_glance_keystone_password: read the vault password file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := LoadWith(vaultInventory, tt.opts)
			if len(tt.want) > 0 {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) != len(tt.want) {
					t.Fatalf("err %v, want %d problems", err, len(tt.want))
				}
				for i, w := range tt.want {
					if !strings.Contains(ps[i].String(), w) {
						t.Errorf("problem %q, want %q", ps[i], w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]string{
				"openstack_helm_endpoints_nova_keystone_password":   {"vault-file-plaintext-Zq7xW2", "group_vars/controllers/vault.yml"},
				"openstack_helm_endpoints_glance_keystone_password": {"vault-value-plaintext-Hk3pR9", "host_vars/ctl1/vault.yml"},
				"atmosphere_network_backend":                        {"ovn", "group_vars/controllers/network.yml"},
			}
			for k, w := range want {
				if inv.Vars[k] != w[0] || inv.Sources[k] != w[1] {
					t.Errorf("%s = %v from %s, want %q from %s", k, inv.Vars[k], inv.Sources[k], w[0], w[1])
				}
			}
			if inv.Vars["ovn_bgp_agent_enabled"] != true || inv.Vars["keepalived_enabled"] != true {
				t.Errorf("encrypted boolean %v, host_vars boolean %v", inv.Vars["ovn_bgp_agent_enabled"], inv.Vars["keepalived_enabled"])
			}
			if s := inv.Secrets(); !slices.Contains(s, "vault-file-plaintext-Zq7xW2") || !slices.Contains(s, "vault-value-plaintext-Hk3pR9") || len(s) != 2 {
				t.Errorf("secrets %q, want the two decrypted strings", s)
			}
			if got := inv.Redact(`a "vault-value-plaintext-Hk3pR9" b`); got != `a "[vault-encrypted]" b` {
				t.Errorf("redacted %q", got)
			}
			// The other controllers do not have ctl1's host_vars.
			vars, _, _ := inv.HostVars("ctl2")
			if _, ok := vars["openstack_helm_endpoints_glance_keystone_password"]; ok || vars["keepalived_enabled"] != nil {
				t.Errorf("ctl2 has ctl1's host_vars: %v", vars)
			}
		})
	}
}

// TestVaultValuesNeverInProblems: a problem with a decrypted value (an
// ill-typed setting, in group_vars or in a YAML hosts file) does not show
// it.
func TestVaultValuesNeverInProblems(t *testing.T) {
	badBackend, err := os.ReadFile("testdata/vault-bad-backend.yml")
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := os.ReadFile("testdata/vault-hosts.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := write(t, map[string]string{"group_vars/all/bad.yml": string(badBackend), "hosts.yml": string(hosts)})
	inv, err := LoadWith(dir, Options{Env: noEnv, VaultPasswordFile: filepath.Join(vaultInventory, "test-vault-password")})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Vars["openstack_helm_endpoints_glance_keystone_password"] != "vault-value-plaintext-Hk3pR9" ||
		inv.Sources["openstack_helm_endpoints_glance_keystone_password"] != "hosts.yml:6" {
		t.Errorf("the !vault value of the hosts file: %v from %s", inv.Vars["openstack_helm_endpoints_glance_keystone_password"],
			inv.Sources["openstack_helm_endpoints_glance_keystone_password"])
	}
	_, err = inv.Settings()
	if err == nil || !strings.Contains(err.Error(), `group_vars/all/bad.yml: atmosphere_network_backend: "[vault-encrypted]": want "openvswitch" or "ovn"`) {
		t.Errorf("err %v, want the bad backend named without its value", err)
	}
	if err != nil && strings.Contains(err.Error(), "linuxbridge-plaintext") {
		t.Errorf("the problem shows the decrypted value: %v", err)
	}
	if p := inv.ProblemWith("atmosphere_network_backend", "got linuxbridge-plaintext-Tr5v").String(); strings.Contains(p, "plaintext") {
		t.Errorf("ProblemWith shows the decrypted value: %s", p)
	}
}
