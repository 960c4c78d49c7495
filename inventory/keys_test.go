package inventory

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"golang.org/x/crypto/ssh"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
)

// sharedAtmosphere is atmosphere's Ansible checkout.
const sharedAtmosphere = "../../shared/atmosphere"

var (
	jinjaExpr  = regexp.MustCompile(`\{\{(.*?)\}\}`)
	quotedText = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	identifier = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// jinjaWords are the names in Jinja expressions that are no variable:
// tests, operators, constants, the play's magic variables and loop items.
var jinjaWords = map[string]bool{"is": true, "not": true, "defined": true, "undefined": true, "in": true, "and": true,
	"or": true, "if": true, "else": true, "true": true, "false": true, "True": true, "False": true, "none": true,
	"None": true, "item": true, "lookup": true, "query": true, "playbook_dir": true, "inventory_hostname": true,
	"hostvars": true, "groups": true, "group_names": true, "ansible_facts": true, "omit": true}

// playbookVars are the variables atmosphere's playbooks (dir/*.yml) read in
// their expressions ({{ … }} and when:) and do not set themselves (vars:,
// set_fact, register), sorted.
func playbookVars(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no playbooks in %s: %v", dir, err)
	}
	read, set := map[string]bool{}, map[string]bool{}
	var walk func(v any, when bool)
	expr := func(s string) {
		s = quotedText.ReplaceAllString(s, "")
		for _, loc := range identifier.FindAllStringIndex(s, -1) {
			name := s[loc[0]:loc[1]]
			before := strings.TrimRight(s[:loc[0]], " ")
			after := strings.TrimLeft(s[loc[1]:], " ")
			keyword := strings.HasPrefix(after, "=") && !strings.HasPrefix(after, "==")
			if strings.HasSuffix(before, "|") || strings.HasSuffix(before, ".") || jinjaWords[name] ||
				strings.HasPrefix(after, "(") || keyword {
				continue // a filter, an attribute, a function, a keyword argument, a word
			}
			read[name] = true
		}
	}
	walk = func(v any, when bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				switch k {
				case "vars", "ansible.builtin.set_fact", "set_fact":
					if m, ok := x.(map[string]any); ok {
						for name := range m {
							set[name] = true
						}
					}
				case "register":
					if s, ok := x.(string); ok {
						set[s] = true
					}
				}
				walk(x, k == "when" || k == "that")
			}
		case []any:
			for _, x := range v {
				walk(x, when)
			}
		case string:
			if when {
				expr(v)
			}
			for _, m := range jinjaExpr.FindAllStringSubmatch(v, -1) {
				expr(m[1])
			}
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(doc, false)
	}
	for name := range set {
		delete(read, name)
	}
	return slices.Sorted(maps.Keys(read))
}

// roleDefaults are the keys of every role's defaults/main.yml under
// roles, with the roles declaring each.
func roleDefaults(t *testing.T, roles string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(roles, "*", "defaults", "main.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no role defaults under %s: %v", roles, err)
	}
	out := map[string][]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vars map[string]any
		if err := yaml.Unmarshal(raw, &vars); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		role := filepath.Base(filepath.Dir(filepath.Dir(f)))
		for k := range vars {
			out[k] = append(out[k], role)
		}
	}
	return out
}

// ansibleRoles are the roles of atmosphere's collection that the
// registry's Ansible units run (their Role, the roles of their Playbook's
// plays, with the roles those list as meta dependencies): Ansible reads
// their defaults itself.
func ansibleRoles(t *testing.T) map[string]bool {
	t.Helper()
	const fqcn = "vexxhost.atmosphere."
	out := map[string]bool{}
	var add func(role string)
	add = func(role string) {
		role = strings.TrimPrefix(role, fqcn)
		if out[role] || strings.Contains(role, ".") {
			return // seen, or another collection's
		}
		out[role] = true
		raw, err := os.ReadFile(filepath.Join(sharedAtmosphere, "roles", role, "meta", "main.yml"))
		if err != nil {
			return
		}
		var meta struct {
			Dependencies []any `json:"dependencies"`
		}
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			t.Fatalf("meta of %s: %v", role, err)
		}
		for _, d := range meta.Dependencies {
			switch d := d.(type) {
			case string:
				add(d)
			case map[string]any:
				name, _ := d["role"].(string)
				add(name)
			}
		}
	}
	for _, c := range components.Default().Components() {
		if c.Ansible == nil {
			continue
		}
		if c.Ansible.Role != "" {
			add(c.Ansible.Role)
		}
		if p, ok := strings.CutPrefix(c.Ansible.Playbook, fqcn); ok {
			raw, err := os.ReadFile(filepath.Join(sharedAtmosphere, "playbooks", p+".yml"))
			if err != nil {
				t.Fatalf("%s's playbook: %v", c.Name, err)
			}
			var plays []struct {
				Roles []any `json:"roles"`
			}
			if err := yaml.Unmarshal(raw, &plays); err != nil {
				t.Fatalf("%s's playbook: %v", c.Name, err)
			}
			for _, play := range plays {
				for _, r := range play.Roles {
					switch r := r.(type) {
					case string:
						add(r)
					case map[string]any:
						name, _ := r["role"].(string)
						add(name)
					}
				}
			}
		}
	}
	return out
}

// readKeys are the variables atmosphere-go reads, each with who reads it:
// the components' knobs, the settings' variables (recorded as Settings
// reads them), <component>_helm_values, and the defaults of the roles
// its Ansible units run.
func readKeys(t *testing.T, defaults map[string][]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	reg := components.Default()
	for _, c := range reg.Components() {
		for _, k := range c.Knobs() {
			out[k] = "a knob of " + c.Name
		}
	}
	for _, k := range components.SharedKnobs() {
		out[k] = "a knob of the shared rendering"
	}
	settingsRead = func(key string) { out[key] = "the settings" }
	defer func() { settingsRead = nil }()
	if _, err := (&Inventory{Vars: map[string]any{}, Sources: map[string]string{}}).Settings(); err != nil {
		t.Fatal(err)
	}
	for name := range renderedSecrets(t) {
		out[name] = "a secret the components read (the inventory's, else a generated one)"
	}
	for prefix := range reg.ValuesPrefixes() {
		out[prefix+"_helm_values"] = "the Helm values of a component"
	}
	roles := ansibleRoles(t)
	for k, declaring := range defaults {
		for _, r := range declaring {
			if roles[r] {
				out[k] = "the role " + r + ", which an Ansible unit runs"
			}
		}
	}
	return out
}

// TestRoleDefaultsReadOrListed walks every key of every role's
// defaults/main.yml: each is read by atmosphere-go (readKeys) or listed,
// with a reason, in unused-keys.yaml, and not both; an entry no role
// declares any more is stale.
func TestRoleDefaultsReadOrListed(t *testing.T) {
	defaults := roleDefaults(t, filepath.Join(sharedAtmosphere, "roles"))
	read := readKeys(t, defaults)
	var unused map[string]string
	if err := yaml.Unmarshal(unusedKeysFile, &unused); err != nil {
		t.Fatalf("unused-keys.yaml: %v", err)
	}
	if len(defaults) < 100 || len(read) < 100 {
		t.Fatalf("%d role defaults, %d read: the walk is broken", len(defaults), len(read))
	}
	for _, k := range slices.Sorted(maps.Keys(defaults)) {
		switch reason, listed := unused[k]; {
		case read[k] != "" && listed:
			t.Errorf("%s (roles %v) is read (%s) but listed in unused-keys.yaml as not: %s", k, defaults[k], read[k], reason)
		case read[k] == "" && !listed:
			t.Errorf("%s (roles %v) is neither read nor listed, with a reason, in unused-keys.yaml", k, defaults[k])
		case listed && strings.TrimSpace(reason) == "":
			t.Errorf("unused-keys.yaml: %s has no reason", k)
		case listed && strings.Contains(reason, "NOT HONOURED"):
			// A knob left at the role's default while the operator sets
			// it is a silent substitute: read it, or refuse its values.
			t.Errorf("unused-keys.yaml: %s is listed as not honoured yet: read it or refuse what is not supported", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(unused)) {
		if _, ok := defaults[k]; !ok {
			t.Errorf("unused-keys.yaml: %s is in no role's defaults any more", k)
		}
	}
}

// TestPlaybookVariablesKnown: every variable atmosphere's playbooks read
// and every knob of the components is known to the unknown-key warning,
// and each entry of playbook-keys.yaml is read by a playbook and declared
// by no role; an inventory setting the playbooks' switches and knobs gets
// no warning for them, a misspelt key still gets one, and so does a
// variable atmosphere-go does not honour yet (unused-keys.yaml).
func TestPlaybookVariablesKnown(t *testing.T) {
	vars := playbookVars(t, filepath.Join(sharedAtmosphere, "playbooks"))
	if !slices.Contains(vars, "atmosphere_staffeln_enabled") {
		t.Fatalf("the playbooks' variables %v lack atmosphere_staffeln_enabled: the extraction is broken", vars)
	}
	for _, v := range vars {
		if !Declared(v) {
			t.Errorf("the playbooks read %s, which the unknown-key warning does not know", v)
		}
	}
	var listed map[string]string
	if err := yaml.Unmarshal(playbookKeysFile, &listed); err != nil {
		t.Fatal(err)
	}
	defaults := roleDefaults(t, filepath.Join(sharedAtmosphere, "roles"))
	for k := range listed {
		if !slices.Contains(vars, k) {
			t.Errorf("playbook-keys.yaml: no playbook reads %s any more", k)
		}
		if _, ok := defaults[k]; ok {
			t.Errorf("playbook-keys.yaml: %s is declared by the roles %v (keys.txt has it)", k, defaults[k])
		}
	}
	for _, c := range components.Default().Components() {
		for _, k := range c.Knobs() {
			if !Declared(k) {
				t.Errorf("%s reads %s, which the unknown-key warning does not know", c.Name, k)
			}
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "atmosphere_staffeln_enabled: false\novn_bgp_agent_enabled: true\nceph_csi_rbd_ceph_fsid: x\n" +
		"cluster_issuer_acme_email: ops@example.com\natmosphere_staffeln_enabeld: false\n"
	if err := os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, w := range inv.Warnings {
		warned = append(warned, w.Key)
	}
	if want := []string{"atmosphere_staffeln_enabeld"}; !slices.Equal(warned, want) {
		t.Errorf("warnings for %v, want %v: the misspelt key alone", warned, want)
	}
}

// renderedSecrets are the secrets the components read when rendered (their
// values, objects and database grants) with both network backends and
// every optional component on.
func renderedSecrets(t *testing.T) map[string]bool {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	sshKey := string(pem.EncodeToMemory(block))
	read := map[string]bool{}
	for _, backend := range []string{components.BackendOpenvswitch, components.BackendOVN} {
		s := components.DefaultSettings()
		s.Config = components.Config{NetworkBackend: backend, BGPAgent: true, Staffeln: true, Keepalived: true}
		s.Vars = map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com", "openstack_helm_endpoints_region_name": "RegionOne",
			"cluster_issuer_acme_email": "ops@example.com",
			// As atmosphere's generate_workspace playbook writes them:
			// keepalived, enabled here, needs them.
			"keepalived_interface": "br-ex", "keepalived_vip": "10.96.250.10"}
		s.Secret = func(name string) (string, error) {
			read[name] = true
			if strings.HasSuffix(name, "_ssh_key") {
				return sshKey, nil
			}
			return "secret", nil
		}
		s.PeekSecret = s.Secret
		s.ClusterSecret = func(string, string) (string, error) { return "secret", nil }
		for _, c := range components.Default().Components() {
			if !c.IsEnabled(s.Config) {
				continue
			}
			chart := values.Values{}
			if c.Chart != nil {
				raw, err := os.ReadFile(filepath.Join(sharedAtmosphere, "charts", c.Chart.Name, "values.yaml"))
				if err == nil {
					if chart, err = values.Parse(c.Chart.Name, raw); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err1 := c.OwnValues(s, chart)
			_, err2 := c.Objects(s)
			_, err3 := c.DatabaseGrants(s)
			if err := errors.Join(err1, err2, err3); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
		}
	}
	if len(read) == 0 {
		t.Fatal("no secret read: the recording does not record")
	}
	return read
}
