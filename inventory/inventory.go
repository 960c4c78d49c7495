// Package inventory reads an atmosphere inventory directory as Ansible
// reads it: the hosts file (INI or YAML), group_vars/<group> and
// host_vars/<host> (each one file or a directory of files), the variables
// set in the hosts file, with Ansible's precedence, files and !vault values
// encrypted with ansible-vault decrypted. Jinja is not evaluated: a value
// that holds an expression is a problem naming its file and key, except the
// one simple form inventories use for environment switches,
// {{ lookup('env', 'X') | default('y', True) }}, which is resolved.
// Every problem is collected before anything touches a cluster.
package inventory

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
)

// MaxFileSize bounds one variables file; an inventory is small, and a
// huge file is a mistake (a disk image copied into group_vars).
const MaxFileSize = 4 << 20

// Problem is one thing wrong with an inventory, or one warning.
type Problem struct {
	// File is the file the key comes from, relative to the inventory.
	File string
	// Key is the variable's path ("nova_flavors[0].vcpus"); empty for a
	// problem with the whole file.
	Key string
	// Message says what was expected.
	Message string
}

func (p Problem) String() string {
	switch {
	case p.File == "" && p.Key == "":
		return p.Message
	case p.File == "":
		return p.Key + ": " + p.Message
	case p.Key == "":
		return p.File + ": " + p.Message
	}
	return p.File + ": " + p.Key + ": " + p.Message
}

// Problems is every problem found, as one error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return fmt.Sprintf("inventory has %d problem(s):\n%s", len(ps), strings.Join(lines, "\n"))
}

// ProblemWith is a problem with the variable at key (a path, as
// "nova_flavors[0].ram"), named by the file its top-level variable came
// from.
func (inv *Inventory) ProblemWith(key, message string) Problem {
	top, _, _ := strings.Cut(key, "[")
	top, _, _ = strings.Cut(top, ".")
	return Problem{File: inv.Sources[top], Key: key, Message: inv.Redact(message)}
}

// Inventory is a loaded inventory: its hosts file, as Ansible's ini and
// yaml inventory plugins read it, and the variables of every host from
// group_vars/, host_vars/ and the hosts file, with Ansible's precedence.
type Inventory struct {
	// Dir is the inventory directory.
	Dir string
	// Vars are the cluster-wide settings, what the components read: the
	// variables of SettingsHost, the first host of the controllers group,
	// because atmosphere's playbooks run the roles that deploy the charts
	// on controllers (infrastructure.yml: hosts: controllers;
	// openstack.yml and monitoring.yml: hosts: controllers[0]). With no
	// such host they are the variables every host has from all: the hosts
	// file's all vars, then group_vars/all.
	Vars map[string]any
	// Sources gives where each variable of Vars came from: its file,
	// relative to the inventory ("group_vars/all/main.yml"), or the line of
	// the hosts file that set it ("hosts.ini:12").
	Sources map[string]string
	// SettingsHost is the host whose variables Vars are; "" when there is
	// no host in controllers.
	SettingsHost string
	// Hosts is the hosts file for the Ansible parts, "" when there is none.
	Hosts string
	// HostNames are the hosts of the hosts file, in the order they first
	// appear (with ranges expanded).
	HostNames []string
	// Groups are the groups of the hosts file (with all and ungrouped),
	// each with its hosts and those of its children, in Ansible's order.
	Groups map[string][]string
	// Warnings are things that are not wrong but likely mistakes (unknown
	// keys, group_vars and host_vars of no group or host).
	Warnings []Problem

	// hostsFile is the parsed hosts file.
	hostsFile *hostsFile
	// groupVars and hostVars are the group_vars/<group> and
	// host_vars/<host> files' variables.
	groupVars, hostVars map[string]layer
	// secrets are the values decrypted from ansible-vault, longest first.
	secrets []string
}

// Options say how an inventory is loaded.
type Options struct {
	// Env looks environment variables up for the lookup('env') form and
	// ANSIBLE_VAULT_PASSWORD_FILE; os.LookupEnv when nil.
	Env func(string) (string, bool)
	// VaultPasswordFile is the file holding the ansible-vault password of
	// the inventory's encrypted files and !vault values; when empty,
	// $ANSIBLE_VAULT_PASSWORD_FILE (through Env).
	VaultPasswordFile string
}

// HostVars returns the variables of host, with Ansible's precedence (low
// to high): the hosts file's vars of all, then of the host's groups
// (parents before children, groups of one depth by
// ansible_group_priority then name), group_vars/all,
// group_vars/<group> in the same order of groups, the variables on the
// host's lines of the hosts file, host_vars/<host>. Each layer replaces
// whole top-level variables, as Ansible's default hash_behaviour. sources
// says where each came from. ok is false for a host the hosts file does
// not name.
func (inv *Inventory) HostVars(host string) (vars map[string]any, sources map[string]string, ok bool) {
	if inv.hostsFile == nil || !slices.Contains(inv.HostNames, host) {
		return nil, nil, false
	}
	vars, sources = merge(inv.layersOf(host))
	return vars, sources, true
}

// layersOf are the layers of a host's variables, lowest first; "" is the
// layers every host has from all.
func (inv *Inventory) layersOf(host string) []layer {
	hf := inv.hostsFile
	var groups []string
	if host != "" {
		groups = hf.hostGroups(host)
	}
	layers := []layer{hf.groups["all"].vars}
	for _, g := range groups {
		layers = append(layers, hf.groups[g].vars)
	}
	layers = append(layers, inv.groupVars["all"])
	for _, g := range groups {
		layers = append(layers, inv.groupVars[g])
	}
	if host != "" {
		layers = append(layers, hf.hostVars[host], inv.hostVars[host])
	}
	return layers
}

// merge puts layers together, later ones replacing earlier ones' top-level
// variables.
func merge(layers []layer) (map[string]any, map[string]string) {
	vars, sources := map[string]any{}, map[string]string{}
	for _, l := range layers {
		for k, v := range l.vars {
			vars[k] = v
			sources[k] = l.sources[k]
		}
	}
	return vars, sources
}

// Secrets are the values decrypted from ansible-vault (every string of an
// encrypted file, every !vault value), longest first: what no output may
// show.
func (inv *Inventory) Secrets() []string { return slices.Clone(inv.secrets) }

// Redact hides every value decrypted from ansible-vault in s, as it is and
// as Go quotes it.
func (inv *Inventory) Redact(s string) string {
	for _, secret := range inv.secrets {
		s = strings.ReplaceAll(s, secret, "[vault-encrypted]")
		if q := strconv.Quote(secret); q[1:len(q)-1] != secret {
			s = strings.ReplaceAll(s, q[1:len(q)-1], "[vault-encrypted]")
		}
	}
	return s
}

// redact hides the decrypted values in problems' messages.
func (inv *Inventory) redact(ps Problems) Problems {
	for i := range ps {
		ps[i].Message = inv.Redact(ps[i].Message)
	}
	return ps
}

//go:embed keys.txt
var keysFile string

// ownKeys are the variables atmosphere-go adds to the roles' own.
var ownKeys = []string{
	"atmosphere_image_mirror",     // a registry every image is pulled from
	"atmosphere_database_address", // where the cloud's MySQL answers, when not at its Service's cluster IP
	"atmosphere_rabbitmq_address", // where every RabbitMQ cluster's management API answers, when not at its Service's cluster IP
	"neutron_coredns_cluster_ip",  // read by the coredns role, declared by none
	"atmosphere_hosts_provided",   // the hosts, the cluster and Ceph exist: the Ansible units run nothing
	"_ceph_provisioners_keyring",  // the role's fact of client.admin's key, given when ceph's facts phase cannot read it
}

// ownSecretKeys match the secrets atmosphere-go keeps where the roles have
// secretgen-controller make them: the monitoring UIs' Keycloak client and
// oauth2-proxy cookie secrets, by client id.
var ownSecretKeys = regexp.MustCompile(`^kube_prometheus_stack_[a-z0-9_]+_(client|cookie)_secret$`)

// playbookKeysFile are the variables atmosphere's playbooks read that no
// role declares, each with what reads it.
//
//go:embed playbook-keys.yaml
var playbookKeysFile []byte

// unusedKeysFile are the variables of the roles' defaults atmosphere-go
// does not read, each with the reason (TestRoleDefaultsReadOrListed).
//
//go:embed unused-keys.yaml
var unusedKeysFile []byte

// knownKeys are the variables atmosphere's roles declare, those its
// playbooks read, the knobs the components read, and ownKeys, sorted.
var knownKeys = func() []string {
	keys := slices.Clone(ownKeys)
	for _, line := range strings.Split(keysFile, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	var playbooks map[string]string
	if err := yaml.Unmarshal(playbookKeysFile, &playbooks); err != nil {
		panic("inventory/playbook-keys.yaml: " + err.Error())
	}
	keys = slices.AppendSeq(keys, maps.Keys(playbooks))
	for _, c := range components.Default().Components() {
		keys = append(keys, c.Knobs()...)
	}
	keys = append(keys, components.SharedKnobs()...)
	slices.Sort(keys)
	return slices.Compact(keys)
}()

// Declared reports whether one of atmosphere's roles declares the variable
// key (its defaults or vars), whether or not this build uses it.
func Declared(key string) bool {
	return slices.Contains(knownKeys, key) || ownSecretKeys.MatchString(key)
}

// ansiblePrefixes are variables of the Ansible collections (kubernetes,
// ceph, hosts) that atmosphere hands to them as they are.
var ansiblePrefixes = []string{"ansible_", "kubernetes_", "ceph_", "containerd_", "csi_", "kubelet_", "cilium_", "calico_"}

// Load reads the inventory in dir; env looks environment variables up for
// the lookup('env') form and the vault password file (os.LookupEnv when
// nil). It is LoadWith without a --vault-password-file.
func Load(dir string, env func(string) (string, bool)) (*Inventory, error) {
	return LoadWith(dir, Options{Env: env})
}

// hostsFileNames are the names of the hosts file, in the order looked for.
var hostsFileNames = []string{"hosts.ini", "hosts.yml", "hosts.yaml", "hosts", "inventory.ini", "inventory.yml", "inventory.yaml"}

// LoadWith reads the inventory in dir as Ansible reads it: the hosts file
// (INI, or YAML for a .yml or .yaml name), group_vars/<group> and
// host_vars/<host> (each a file <name>, <name>.yml, <name>.yaml or
// <name>.json, the first found, or a directory of such files read in
// sorted order, as Ansible's host_group_vars plugin finds them), files
// encrypted with ansible-vault and !vault values decrypted with the
// password of opts. It returns Problems when anything is wrong, with every
// problem found (the inventory too, for its warnings); a decrypted value
// never appears in a problem.
func LoadWith(dir string, opts Options) (*Inventory, error) {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, Problems{{File: dir, Message: fmt.Sprintf("cannot read the inventory directory: %v", errors.Unwrap(err))}}
	}
	if !info.IsDir() {
		return nil, Problems{{File: dir, Message: "the inventory must be a directory (holding group_vars/ and a hosts file)"}}
	}
	inv := &Inventory{Dir: dir, groupVars: map[string]layer{}, hostVars: map[string]layer{}}
	r := &reader{dir: dir, opts: opts, inv: inv}
	var problems Problems
	for _, name := range hostsFileNames {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			inv.Hosts = filepath.Join(dir, name)
			break
		}
	}
	if inv.Hosts != "" {
		hf, ps := r.hostsFile(inv.Hosts)
		problems = append(problems, ps...)
		inv.hostsFile = hf
	}
	if inv.hostsFile == nil {
		inv.hostsFile = newHostsFile()
		inv.hostsFile.finish("")
	}
	hf := inv.hostsFile
	inv.HostNames = slices.Clone(hf.hosts)
	inv.Groups = map[string][]string{}
	for name := range hf.groups {
		inv.Groups[name] = hf.groupHosts(name)
	}
	files := 0
	for _, g := range slices.Sorted(maps.Keys(hf.groups)) {
		l, n, ps := r.entityVars("group_vars", g)
		inv.groupVars[g], files, problems = l, files+n, append(problems, ps...)
	}
	for _, h := range hf.hosts {
		l, n, ps := r.entityVars("host_vars", h)
		inv.hostVars[h], files, problems = l, files+n, append(problems, ps...)
	}
	if files == 0 && len(problems) == 0 {
		return nil, Problems{{File: "group_vars", Message: "no variables: want group_vars/all.yml or YAML files under group_vars/all/"}}
	}
	inv.Warnings = append(strays(r, "group_vars", hf.groups), strays(r, "host_vars", hf.hostVars)...)
	if hosts := inv.Groups["controllers"]; len(hosts) > 0 {
		inv.SettingsHost = hosts[0]
	}
	inv.Vars, inv.Sources = merge(inv.layersOf(inv.SettingsHost))
	slices.SortFunc(r.secrets, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	inv.secrets = slices.Compact(r.secrets)
	inv.Warnings = append(inv.Warnings, unknownKeys(r.layers)...)
	if len(problems) > 0 {
		return inv, inv.redact(problems)
	}
	return inv, nil
}

// envLookup is the one Jinja form resolved: lookup('env', 'X'), with an
// optional default('y') or default('y', True).
var envLookup = regexp.MustCompile(`^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)\s*(?:\|\s*default\(\s*(?:'([^']*)'|"([^"]*)")\s*(,\s*(?:True|true)\s*)?\)\s*)?\}\}$`)

// resolve walks a value, resolving the env form and reporting any other
// Jinja expression.
func resolve(file, key string, v any, env func(string) (string, bool)) (any, Problems) {
	switch v := v.(type) {
	case string:
		if !strings.Contains(v, "{{") && !strings.Contains(v, "{%") {
			return v, nil
		}
		m := envLookup.FindStringSubmatch(strings.TrimSpace(v))
		if m == nil {
			return v, Problems{{File: file, Key: key, Message: fmt.Sprintf("Jinja is not evaluated: %q (write the value itself, or {{ lookup('env', 'X') | default('y', True) }})", v)}}
		}
		value, _ := env(m[1])
		def := m[2] + m[3]
		// Ansible's env lookup gives "" for an unset variable: default()
		// alone keeps it, default(…, True) replaces empty values too.
		if value == "" && m[4] != "" {
			value = def
		}
		return value, nil
	case map[string]any:
		var problems Problems
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, ps := resolve(file, key+"."+k, x, env)
			out[k], problems = r, append(problems, ps...)
		}
		return out, problems
	case []any:
		var problems Problems
		out := make([]any, len(v))
		for i, x := range v {
			r, ps := resolve(file, fmt.Sprintf("%s[%d]", key, i), x, env)
			out[i], problems = r, append(problems, ps...)
		}
		return out, problems
	}
	return v, nil
}

// unknownKeys warns of variables no role declares, with the likely
// intended one, once for each place that sets one. (Every variable the
// roles declare is read by a component, refused when set to what
// atmosphere-go does not support, or listed in unused-keys.yaml with why
// it has no effect here: none is silently left at the role's default.)
func unknownKeys(layers []layer) []Problem {
	var warnings []Problem
	seen := map[Problem]bool{}
	for _, l := range layers {
		for k := range l.vars {
			// <component>_helm_values are checked against the components
			// (Settings.HelmValues), which the roles do not all declare.
			if strings.HasSuffix(k, "_helm_values") {
				continue
			}
			if Declared(k) || slices.ContainsFunc(ansiblePrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
				continue
			}
			msg := "not a variable atmosphere knows; it is passed to the Ansible parts as is"
			if near := suggest.Nearest(k, knownKeys); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			w := Problem{File: l.sources[k], Key: k, Message: msg}
			if !seen[w] {
				seen[w] = true
				warnings = append(warnings, w)
			}
		}
	}
	sort.Slice(warnings, func(i, j int) bool {
		return cmp.Or(strings.Compare(warnings[i].Key, warnings[j].Key), strings.Compare(warnings[i].File, warnings[j].File)) < 0
	})
	return warnings
}
