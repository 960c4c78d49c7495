package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// issuerTaskModules are the modules of the cluster_issuer role's tasks
// that the issuer references run: the objects it applies (recorded by the
// k8s stand-in), the releases of the webhook solvers' charts (godaddy's,
// infoblox's: recorded by the helm stand-in), the inclusions of the type
// and solver files, and route53's check of its authentication. The rest
// (the copy of the CA onto the host and its handlers, the upload of the
// webhook charts) is host work, left out.
var issuerTaskModules = []string{"kubernetes.core.k8s", "kubernetes.core.helm", "ansible.builtin.include_tasks", "ansible.builtin.assert"}

// renderIssuers renders, for each case of dir/cases.yaml (a name and the
// inventory variables of the case), the objects atmosphere's
// cluster_issuer role applies, into dir/<case>.jsonl, one JSON document a
// line, and the Helm releases it installs (a webhook solver's chart: its
// name, namespace and values), into dir/<case>.releases.jsonl, written
// only for a case that installs one: the role's tasks (tasks/main.yml and
// tasks/type/**, only the tasks of issuerTaskModules) run with its
// defaults and vars, the case's variables and atmosphere's ingress class
// and issuer, by playbook (an ansible-playbook) with the k8s and helm
// stand-ins of standins/ in place of kubernetes.core's.
func renderIssuers(ctx context.Context, playbook, roles, standins, dir string) error {
	for _, p := range []*string{&roles, &standins} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cases.yaml"))
	if err != nil {
		return err
	}
	var cases map[string]map[string]any
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "cases.yaml"), err)
	}
	tmp, err := os.MkdirTemp("", "atmosphere-fidelity-issuers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	role := filepath.Join(roles, "cluster_issuer")
	if err := issuerTasks(filepath.Join(role, "tasks"), filepath.Join(tmp, "tasks")); err != nil {
		return err
	}
	// kubernetes.core with the stand-in's action plugin and the real
	// collection's modules, first on the collections path.
	core := filepath.Join(tmp, "collections", "ansible_collections", "kubernetes", "core")
	if err := os.MkdirAll(filepath.Join(core, "plugins"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(standins, "ansible_collections", "kubernetes", "core", "plugins", "action"),
		filepath.Join(core, "plugins", "action")); err != nil {
		return err
	}
	play := []map[string]any{{"hosts": "localhost", "connection": "local", "gather_facts": false,
		"vars_files": []any{filepath.Join(role, "defaults", "main.yml"), filepath.Join(role, "vars", "main.yml")},
		"tasks":      []any{map[string]any{"ansible.builtin.include_tasks": filepath.Join(tmp, "tasks", "main.yml")}}}}
	rawPlay, err := yaml.Marshal(play)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "play.yml"), rawPlay, 0o644); err != nil {
		return err
	}
	var failed []error
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range cases {
			if !yield(k) {
				return
			}
		}
	}) {
		vars := map[string]any{"atmosphere_ingress_cluster_issuer": "atmosphere", "atmosphere_ingress_class_name": "atmosphere"}
		for k, v := range cases[name] {
			vars[k] = v
		}
		rawVars, err := yaml.Marshal(vars)
		if err != nil {
			return err
		}
		varsFile := filepath.Join(tmp, name+".vars.yml")
		if err := os.WriteFile(varsFile, rawVars, 0o600); err != nil {
			return err
		}
		out, err := filepath.Abs(filepath.Join(dir, name+".jsonl"))
		if err != nil {
			return err
		}
		releases := strings.TrimSuffix(out, ".jsonl") + ".releases.jsonl"
		for _, f := range []string{out, releases} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		cmd := exec.CommandContext(ctx, playbook, "-i", "localhost,", filepath.Join(tmp, "play.yml"), "-e", "@"+varsFile)
		cmd.Dir = tmp
		cmd.Env = append(pyenv.Clean(),
			"ANSIBLE_COLLECTIONS_PATH="+filepath.Join(tmp, "collections")+":/usr/share/ansible/collections:/usr/lib/python3/dist-packages",
			"ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=False", "ANSIBLE_INVENTORY_UNPARSED_WARNING=False",
			"ANSIBLE_RETRY_FILES_ENABLED=False", "ANSIBLE_LOCAL_TEMP="+filepath.Join(tmp, "ansible-tmp"),
			"FIDELITY_OBJECTS="+out, "FIDELITY_RELEASES="+releases)
		if raw, err := cmd.CombinedOutput(); err != nil {
			failed = append(failed, fmt.Errorf("issuer %s: %w\n%s", name, err, testenv.LastLines(string(raw), 12)))
			continue
		}
		fmt.Fprintf(os.Stderr, "fidelity: issuer %s: %s\n", name, out)
	}
	return errors.Join(failed...)
}

// issuerTasks copies the role's task files under src to dst, each with
// only its tasks of issuerTaskModules.
func issuerTasks(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var tasks []map[string]any
		if err := yaml.Unmarshal(raw, &tasks); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		kept := []map[string]any{}
		for _, t := range tasks {
			if slices.ContainsFunc(issuerTaskModules, func(m string) bool { _, ok := t[m]; return ok }) {
				kept = append(kept, t)
			}
		}
		out, err := yaml.Marshal(kept)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), out, 0o644)
	})
}
