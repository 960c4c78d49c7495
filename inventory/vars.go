package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/vault"
)

// varExtensions are the extensions of variables files Ansible reads ("" is
// a file without one).
var varExtensions = []string{"", ".yml", ".yaml", ".json"}

// reader reads the files of one inventory.
type reader struct {
	dir  string
	opts Options
	inv  *Inventory
	// password is the vault password, read on first need; passwordErr
	// why there is none.
	password    []byte
	passwordErr error
	passwordSet bool
	// secrets are the values decrypted so far.
	secrets []string
	// layers are every variables file's and hosts file's variables, for
	// the unknown keys' warnings.
	layers []layer
}

func (r *reader) rel(path string) string {
	rel, err := filepath.Rel(r.dir, path)
	if err != nil {
		return path
	}
	return rel
}

// vaultPassword reads the vault password once: --vault-password-file, else
// $ANSIBLE_VAULT_PASSWORD_FILE.
func (r *reader) vaultPassword() ([]byte, error) {
	if !r.passwordSet {
		r.passwordSet = true
		file := r.opts.VaultPasswordFile
		if file == "" {
			file, _ = r.opts.Env("ANSIBLE_VAULT_PASSWORD_FILE")
		}
		if file == "" {
			r.passwordErr = errors.New("encrypted with ansible-vault, and no vault password given (--vault-password-file or ANSIBLE_VAULT_PASSWORD_FILE)")
		} else {
			r.password, r.passwordErr = vault.ReadPassword(file)
		}
	}
	return r.password, r.passwordErr
}

// decrypt decrypts a vault text, recording the plaintext as a secret.
func (r *reader) decrypt(data []byte) ([]byte, error) {
	pw, err := r.vaultPassword()
	if err != nil {
		return nil, err
	}
	plain, err := vault.Decrypt(data, pw)
	if errors.Is(err, vault.ErrWrongPassword) {
		return nil, errors.New("encrypted with ansible-vault, and the vault password given does not decrypt it")
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return plain, nil
}

// keep records decrypted values (the strings in v) as secrets.
func (r *reader) keep(v any) {
	switch v := v.(type) {
	case string:
		if v != "" {
			r.secrets = append(r.secrets, v)
		}
	case map[string]any:
		for _, x := range v {
			r.keep(x)
		}
	case []any:
		for _, x := range v {
			r.keep(x)
		}
	}
}

// unvault replaces the !vault values under n by their plaintext (as
// strings), recording them; path names n for problems.
func (r *reader) unvault(file, path string, n *yamlv3.Node) Problems {
	var problems Problems
	switch n.Kind {
	case yamlv3.DocumentNode, yamlv3.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yamlv3.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			problems = append(problems, r.unvault(file, p, c)...)
		}
	case yamlv3.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			problems = append(problems, r.unvault(file, p, n.Content[i+1])...)
		}
	case yamlv3.ScalarNode:
		if n.Tag != "!vault" {
			return nil
		}
		plain, err := r.decrypt([]byte(n.Value))
		if err != nil {
			return Problems{{File: file, Key: path, Message: err.Error()}}
		}
		r.secrets = append(r.secrets, string(plain))
		n.Tag, n.Style, n.Value = "!!str", yamlv3.DoubleQuotedStyle, string(plain)
	}
	return problems
}

// parseVars reads a variables file's content: YAML (or JSON) of a mapping,
// a whole file encrypted with ansible-vault, or YAML holding !vault values.
// file names it in problems.
func (r *reader) parseVars(file string, raw []byte) (map[string]any, Problems) {
	encrypted := vault.IsEncrypted(raw)
	if encrypted {
		plain, err := r.decrypt(raw)
		if err != nil {
			return nil, Problems{{File: file, Message: err.Error()}}
		}
		raw = plain
	}
	if bytes.Contains(raw, []byte("!vault")) {
		var doc yamlv3.Node
		if err := yamlv3.Unmarshal(raw, &doc); err != nil {
			return nil, Problems{{File: file, Message: "not valid YAML of variables: " + err.Error()}}
		}
		if ps := r.unvault(file, "", &doc); len(ps) > 0 {
			return nil, ps
		}
		out, err := yamlv3.Marshal(&doc)
		if err != nil {
			return nil, Problems{{File: file, Message: "re-encode after decrypting !vault values: " + err.Error()}}
		}
		raw = out
	}
	var vars map[string]any
	if err := yaml.Unmarshal(raw, &vars); err != nil {
		msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
		if encrypted {
			// The parser quotes the text it stumbles on.
			msg = "the decrypted text is not YAML of variables"
		}
		return nil, Problems{{File: file, Message: "not valid YAML of variables: " + msg}}
	}
	if encrypted {
		r.keep(vars)
	}
	return vars, nil
}

// readVars reads one variables file into a layer whose sources name it,
// resolving the lookup('env') form.
func (r *reader) readVars(path string) (layer, Problems) {
	rel := r.rel(path)
	l := newLayer()
	info, err := os.Stat(path)
	if err != nil {
		return l, Problems{{File: rel, Message: err.Error()}}
	}
	if info.Size() > MaxFileSize {
		return l, Problems{{File: rel, Message: fmt.Sprintf("%d bytes: more than the %d a variables file may hold", info.Size(), MaxFileSize)}}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return l, Problems{{File: rel, Message: err.Error()}}
	}
	vars, problems := r.parseVars(rel, raw)
	for k, v := range vars {
		resolved, ps := resolve(rel, k, v, r.opts.Env)
		problems = append(problems, ps...)
		l.set(k, resolved, rel)
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Key < problems[j].Key })
	r.layers = append(r.layers, l)
	return l, problems
}

// entityVars reads <kind>/<name> as Ansible's host_group_vars plugin finds
// it: the first of <name>, <name>.yml, <name>.yaml and <name>.json that
// exists, a directory being read whole (its files of those extensions,
// recursively, in sorted order, hidden ones and backups~ left out). Later
// files replace earlier ones' variables. It returns how many files it read.
func (r *reader) entityVars(kind, name string) (layer, int, Problems) {
	base := filepath.Join(r.dir, kind, name)
	var files []string
	for _, ext := range varExtensions {
		info, err := os.Stat(base + ext)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			files = []string{base + ext}
			break
		}
		err = filepath.WalkDir(base+ext, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n := d.Name()
			if path != base+ext && (strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~")) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() && slices.Contains(varExtensions, filepath.Ext(n)) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return newLayer(), 0, Problems{{File: r.rel(base + ext), Message: err.Error()}}
		}
		break
	}
	var problems Problems
	var layers []layer
	for _, f := range files {
		l, ps := r.readVars(f)
		layers, problems = append(layers, l), append(problems, ps...)
	}
	vars, sources := merge(layers)
	return layer{vars: vars, sources: sources}, len(files), problems
}

// strays warns of the entries of group_vars or host_vars that name no
// group or host of the hosts file, and of those another entry of the same
// name shadows (Ansible reads only the first of <name>, <name>.yml,
// <name>.yaml and <name>.json that exists, as entityVars does): Ansible
// never reads them.
func strays[V any](r *reader, kind string, known map[string]V) []Problem {
	entries, err := os.ReadDir(filepath.Join(r.dir, kind))
	if err != nil {
		return nil
	}
	what := map[string]string{"group_vars": "group", "host_vars": "host"}[kind]
	var out []Problem
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		name := n
		if ext := filepath.Ext(n); slices.Contains(varExtensions, ext) {
			name = strings.TrimSuffix(n, ext)
		}
		if _, ok := known[name]; !ok {
			out = append(out, Problem{File: filepath.Join(kind, n),
				Message: fmt.Sprintf("no %s %s in the hosts file: Ansible does not read these variables", what, name)})
			continue
		}
		if read := readEntry(filepath.Join(r.dir, kind), name); read != "" && read != n {
			out = append(out, Problem{File: filepath.Join(kind, n),
				Message: fmt.Sprintf("not read: %s is (Ansible reads only the first of %s, %s.yml, %s.yaml and %s.json that exists)", filepath.Join(kind, read), name, name, name, name)})
		}
	}
	return out
}

// readEntry is the entry of dir Ansible reads the variables of name from:
// the first of name, name.yml, name.yaml and name.json that exists, "" when
// none does.
func readEntry(dir, name string) string {
	for _, ext := range varExtensions {
		if _, err := os.Stat(filepath.Join(dir, name+ext)); err == nil {
			return name + ext
		}
	}
	return ""
}

// hostsFile reads the hosts file at path: YAML as Ansible's yaml plugin
// reads it (isYAMLHosts), INI otherwise (its ini plugin). Its variables
// are resolved as those of the variables files.
func (r *reader) hostsFile(path string) (*hostsFile, Problems) {
	rel := r.rel(path)
	info, err := os.Stat(path)
	if err != nil {
		return nil, Problems{{File: rel, Message: err.Error()}}
	}
	if info.Size() > MaxFileSize {
		return nil, Problems{{File: rel, Message: fmt.Sprintf("%d bytes: more than the %d a hosts file may hold", info.Size(), MaxFileSize)}}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: rel, Message: err.Error()}}
	}
	if vault.IsEncrypted(raw) {
		if raw, err = r.decrypt(raw); err != nil {
			return nil, Problems{{File: rel, Message: err.Error()}}
		}
	}
	var hf *hostsFile
	var problems Problems
	if isYAMLHosts(path, raw) {
		hf, problems = parseYAML(rel, raw, r.nodeVars)
	} else {
		hf, problems = parseINI(rel, raw)
	}
	if hf == nil {
		return nil, problems
	}
	resolveLayer := func(l layer) {
		for k, v := range l.vars {
			resolved, ps := resolve(l.sources[k], k, v, r.opts.Env)
			l.vars[k], problems = resolved, append(problems, ps...)
		}
		r.layers = append(r.layers, l)
	}
	for _, g := range slices.Sorted(maps.Keys(hf.groups)) {
		resolveLayer(hf.groups[g].vars)
	}
	for _, h := range hf.hosts {
		resolveLayer(hf.hostVars[h])
	}
	return hf, problems
}

// isYAMLHosts reports whether Ansible reads the hosts file at path with its
// yaml plugin: a .yml, .yaml or .json name, or no extension and content
// that is a YAML mapping (the yaml plugin is tried before the ini one, and
// an INI file is not a YAML mapping).
func isYAMLHosts(path string, raw []byte) bool {
	switch filepath.Ext(path) {
	case ".yml", ".yaml", ".json":
		return true
	case "":
		var doc yamlv3.Node
		return yamlv3.Unmarshal(raw, &doc) == nil && len(doc.Content) == 1 && doc.Content[0].Kind == yamlv3.MappingNode
	}
	return false
}

// nodeVars turns a YAML node of variables of a hosts file into Go values
// as a variables file's are read (YAML 1.1 booleans, numbers as float64),
// decrypting its !vault values.
func (r *reader) nodeVars(where string, n *yamlv3.Node) (map[string]any, Problems) {
	if n.Kind != yamlv3.MappingNode {
		return nil, Problems{{File: where, Message: "want a mapping of variables"}}
	}
	if ps := r.unvault(where, "", n); len(ps) > 0 {
		return nil, ps
	}
	raw, err := yamlv3.Marshal(n)
	if err != nil {
		return nil, Problems{{File: where, Message: err.Error()}}
	}
	var vars map[string]any
	if err := yaml.Unmarshal(raw, &vars); err != nil {
		return nil, Problems{{File: where, Message: "not valid YAML of variables: " + err.Error()}}
	}
	return vars, nil
}
