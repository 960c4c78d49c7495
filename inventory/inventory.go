// Package inventory reads an atmosphere inventory directory: the variables
// of group_vars/all (one file or a directory of YAML files) and where the
// hosts file of the Ansible parts is. Jinja is not evaluated: a value that
// holds an expression is a problem naming its file and key, except the
// one simple form inventories use for environment switches,
// {{ lookup('env', 'X') | default('y', True) }}, which is resolved.
// Every problem is collected before anything touches a cluster.
package inventory

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

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
	return Problem{File: inv.Sources[top], Key: key, Message: message}
}

// Inventory is a loaded inventory.
type Inventory struct {
	// Dir is the inventory directory.
	Dir string
	// Vars are the variables of group_vars/all, later files overriding
	// earlier ones key by key, as Ansible reads them.
	Vars map[string]any
	// Sources gives the file each variable came from.
	Sources map[string]string
	// Hosts is the hosts file for the Ansible parts, "" when there is none.
	Hosts string
	// Warnings are things that are not wrong but likely mistakes (unknown
	// keys).
	Warnings []Problem
}

//go:embed keys.txt
var keysFile string

// ownKeys are the variables atmosphere-go adds to the roles' own.
var ownKeys = []string{
	"atmosphere_image_mirror",     // a registry every image is pulled from
	"atmosphere_database_address", // where the cloud's MySQL answers, when not at its Service's cluster IP
	"neutron_coredns_cluster_ip",  // read by the coredns role, declared by none
}

// ownSecretKeys match the secrets atmosphere-go keeps where the roles have
// secretgen-controller make them: the monitoring UIs' Keycloak client and
// oauth2-proxy cookie secrets, by client id.
var ownSecretKeys = regexp.MustCompile(`^kube_prometheus_stack_[a-z0-9_]+_(client|cookie)_secret$`)

// knownKeys are the variables atmosphere's roles declare, and ownKeys.
var knownKeys = func() []string {
	keys := slices.Clone(ownKeys)
	for _, line := range strings.Split(keysFile, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	return keys
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
// the lookup('env') form (os.LookupEnv when nil). It returns Problems
// when anything is wrong, with every problem found.
func Load(dir string, env func(string) (string, bool)) (*Inventory, error) {
	if env == nil {
		env = os.LookupEnv
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, Problems{{File: dir, Message: fmt.Sprintf("cannot read the inventory directory: %v", errors.Unwrap(err))}}
	}
	if !info.IsDir() {
		return nil, Problems{{File: dir, Message: "the inventory must be a directory (holding group_vars/ and a hosts file)"}}
	}
	inv := &Inventory{Dir: dir, Vars: map[string]any{}, Sources: map[string]string{}}
	var problems Problems
	files, err := varFiles(dir)
	if err != nil {
		return nil, Problems{{File: "group_vars", Message: err.Error()}}
	}
	for _, f := range files {
		problems = append(problems, inv.readVars(f, env)...)
	}
	for _, name := range []string{"hosts.ini", "hosts.yml", "hosts.yaml", "hosts", "inventory.ini", "inventory.yml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			inv.Hosts = filepath.Join(dir, name)
			break
		}
	}
	inv.Warnings = inv.unknownKeys()
	if len(problems) > 0 {
		return inv, problems
	}
	return inv, nil
}

// varFiles lists group_vars/all.yml and the YAML files under
// group_vars/all/, in the order Ansible reads them (sorted).
func varFiles(dir string) ([]string, error) {
	var files []string
	for _, name := range []string{"all.yml", "all.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, "group_vars", name)); err == nil {
			files = append(files, filepath.Join(dir, "group_vars", name))
		}
	}
	root := filepath.Join(dir, "group_vars", "all")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == root {
			return fs.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no variables: want group_vars/all.yml or YAML files under group_vars/all/")
	}
	return files, nil
}

func (inv *Inventory) readVars(path string, env func(string) (string, bool)) Problems {
	rel, _ := filepath.Rel(inv.Dir, path)
	info, err := os.Stat(path)
	if err != nil {
		return Problems{{File: rel, Message: err.Error()}}
	}
	if info.Size() > MaxFileSize {
		return Problems{{File: rel, Message: fmt.Sprintf("%d bytes: more than the %d a variables file may hold", info.Size(), MaxFileSize)}}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Problems{{File: rel, Message: err.Error()}}
	}
	var vars map[string]any
	if err := yaml.Unmarshal(raw, &vars); err != nil {
		return Problems{{File: rel, Message: "not valid YAML of variables: " + strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")}}
	}
	var problems Problems
	for k, v := range vars {
		resolved, ps := resolve(rel, k, v, env)
		problems = append(problems, ps...)
		inv.Vars[k] = resolved
		inv.Sources[k] = rel
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Key < problems[j].Key })
	return problems
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
// intended one.
func (inv *Inventory) unknownKeys() []Problem {
	var warnings []Problem
	for k := range inv.Vars {
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
		warnings = append(warnings, Problem{File: inv.Sources[k], Key: k, Message: msg})
	}
	sort.Slice(warnings, func(i, j int) bool { return warnings[i].Key < warnings[j].Key })
	return warnings
}
