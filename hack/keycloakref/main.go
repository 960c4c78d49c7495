// Command keycloakref makes the reference of what atmosphere's Ansible
// roles make in Keycloak: it runs the roles' own Keycloak tasks (the
// community.general.keycloak_* tasks of roles/keystone/tasks/main.yml and
// roles/kube_prometheus_stack/tasks/main.yml, read from ../shared/atmosphere
// at run time and copied verbatim into a generated task file) with the
// ansible of the test environment (ansible-core and the `ansible` package's
// collections, from PyPI) against a real Keycloak, then reads the realms
// back through the admin API (internal/keycloakdump) and writes one
// normalized JSON file per realm into --out.
//
//	go run ./hack/keycloakref [--out testdata/fidelity/keycloak] [--inventory testdata/inventories/kwok]
//
// The Keycloak is a fresh one of the test bed's (testenv.KeycloakInstance
// in a temporary directory, stopped at the end), so the realms start
// empty; --keycloak-url (with $KEYCLOAK_ADMIN_USER and
// $KEYCLOAK_ADMIN_PASSWORD) uses a running one instead, which must not
// hold the realms yet. See README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/keycloakdump"
	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// roleFiles are the roles whose Keycloak tasks make the reference, in the
// order atmosphere's playbooks run them (keystone before
// kube_prometheus_stack: both write the realm "atmosphere" by default).
var roleFiles = []string{"keystone", "kube_prometheus_stack"}

func main() {
	shared := flag.String("atmosphere", "../shared/atmosphere", "the Ansible atmosphere checkout")
	inventory := flag.String("inventory", "testdata/inventories/kwok", "the inventory whose group_vars/all/*.yml the roles get")
	out := flag.String("out", "testdata/fidelity/keycloak", "where <realm>.json are written")
	kcURL := flag.String("keycloak-url", "", "a running Keycloak to use (admin from $KEYCLOAK_ADMIN_USER, $KEYCLOAK_ADMIN_PASSWORD) instead of a fresh one")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *shared, *inventory, *out, *kcURL); err != nil {
		fmt.Fprintf(os.Stderr, "keycloakref: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, shared, inventory, out, kcURL string) error {
	shared, err := filepath.Abs(shared)
	if err != nil {
		return err
	}
	varFiles, err := filepath.Glob(filepath.Join(inventory, "group_vars", "all", "*.yml"))
	if err != nil || len(varFiles) == 0 {
		return fmt.Errorf("inventory %s: no group_vars/all/*.yml", inventory)
	}
	ansible, err := testenv.EnsureAnsibleEnv(ctx, shared, os.Stderr)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "atmosphere-keycloakref-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var kc testenv.KeycloakServer
	if kcURL != "" {
		kc = testenv.KeycloakServer{URL: kcURL, AdminUser: os.Getenv("KEYCLOAK_ADMIN_USER"), AdminPassword: os.Getenv("KEYCLOAK_ADMIN_PASSWORD")}
	} else {
		inst := &testenv.KeycloakInstance{StateDir: filepath.Join(tmp, "keycloak"), Private: true, Log: os.Stderr}
		t := time.Now()
		if err := inst.Start(ctx); err != nil {
			return err
		}
		defer inst.Stop()
		kc = inst.Server
		fmt.Fprintf(os.Stderr, "keycloakref: Keycloak %s up in %s\n", testenv.KeycloakVersion, time.Since(t).Round(time.Second))
	}

	play, err := writePlay(tmp, shared, kc)
	if err != nil {
		return err
	}
	realmsFile := filepath.Join(tmp, "realms.json")
	args := []string{play, "-i", "localhost,", "-e", "ansible_python_interpreter=" + filepath.Join(ansible.Bin, "python"),
		"-e", "keycloakref_realms_file=" + realmsFile}
	for _, f := range varFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return err
		}
		args = append(args, "-e", "@"+abs)
	}
	// Last: what the test bed decides (the Keycloak, the hosts the kwok
	// inventory derives, the secrets atmosphere would generate).
	args = append(args, "-e", "@"+filepath.Join(tmp, "testbed.yml"))
	if v := os.Getenv("KEYCLOAKREF_VERBOSE"); v != "" {
		args = append(args, v)
	}
	for run := 1; run <= 2; run++ {
		// The second run shows the tasks idempotent (or not): its recap
		// is printed.
		cmd := exec.CommandContext(ctx, ansible.Playbook(), args...)
		cmd.Dir = tmp
		cmd.Env = append(pyenv.Clean(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=False",
			"ANSIBLE_INVENTORY_UNPARSED_WARNING=False", "ANSIBLE_RETRY_FILES_ENABLED=False",
			"ANSIBLE_LOCAL_TEMP="+filepath.Join(tmp, "ansible-tmp"))
		raw, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("ansible-playbook (run %d): %w\n%s", run, err, testenv.LastLines(redact(string(raw), kc.AdminPassword), 30))
		}
		fmt.Fprintf(os.Stderr, "keycloakref: run %d: %s\n", run, recap(string(raw)))
	}
	raw, err := os.ReadFile(realmsFile)
	if err != nil {
		return err
	}
	var realms []string
	if err := json.Unmarshal(raw, &realms); err != nil {
		return fmt.Errorf("%s: %w", realmsFile, err)
	}
	realms = uniq(realms)
	dump, err := keycloakdump.Dump(ctx, kc.URL, kc.AdminUser, kc.AdminPassword, realms)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, realm := range realms {
		doc, err := json.MarshalIndent(dump[realm], "", "  ")
		if err != nil {
			return err
		}
		dest := filepath.Join(out, realm+".json")
		if err := os.WriteFile(dest, append(doc, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "keycloakref: %s\n", dest)
	}
	return nil
}

// writePlay writes into dir the task files of the roles' Keycloak tasks,
// the test bed's variables (testbed.yml, 0600: the admin password and the
// client secrets) and the playbook, and returns the playbook's path.
func writePlay(dir, shared string, kc testenv.KeycloakServer) (string, error) {
	var tasks []any
	var varsFiles []any
	for _, role := range roleFiles {
		roleDir := filepath.Join(shared, "roles", role)
		text, names, err := keycloakTasks(filepath.Join(roleDir, "tasks", "main.yml"))
		if err != nil {
			return "", err
		}
		if os.Getenv("KEYCLOAKREF_SHOW_SECRETS") != "" {
			// To see why a task failed: its output is hidden otherwise.
			text = []byte(strings.ReplaceAll(string(text), "no_log: true", "no_log: false"))
		}
		file := filepath.Join(dir, role+".keycloak.yml")
		if err := os.WriteFile(file, text, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(os.Stderr, "keycloakref: %s: %s\n", role, strings.Join(names, "; "))
		varsFiles = append(varsFiles, filepath.Join(roleDir, "defaults", "main.yml"))
		if role == "kube_prometheus_stack" {
			tasks = append(tasks, clientSecretsStandIn)
		}
		tasks = append(tasks, map[string]any{"name": "Keycloak tasks of " + role, "ansible.builtin.include_tasks": file})
	}
	tasks = append(tasks, map[string]any{
		"name": "Record the realms",
		"ansible.builtin.copy": map[string]any{
			"dest":    "{{ keycloakref_realms_file }}",
			"content": "{{ (keystone_domains | map(attribute='keycloak_realm') | list + [kube_prometheus_stack_keycloak_realm]) | to_json }}",
		},
	})
	// A fresh Keycloak on a loaded machine may take longer than the
	// modules' 10 s to make a realm: run settings, not the roles' tasks.
	play := []any{map[string]any{"hosts": "localhost", "connection": "local", "gather_facts": false,
		"module_defaults": map[string]any{"group/community.general.keycloak": map[string]any{"connection_timeout": 120}},
		"vars_files":      varsFiles, "tasks": tasks}}
	raw, err := yaml.Marshal(play)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return "", err
	}
	vars, err := testbedVars(kc)
	if err != nil {
		return "", err
	}
	raw, err = yaml.Marshal(vars)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(filepath.Join(dir, "testbed.yml"), raw, 0o600)
}

// clientSecretsStandIn registers kube_prometheus_stack_client_secrets as
// the role's "Collect all client secrets" task does (k8s_info of the
// secretgen Password of each client), from the test bed's generated
// secrets: the Passwords and Secrets need a live cluster with secretgen.
var clientSecretsStandIn = map[string]any{
	"name":         "Stand in for the role's client secret Passwords (what \"Collect all client secrets\" registers)",
	"no_log":       true,
	"loop":         "{{ kube_prometheus_stack_keycloak_clients }}",
	"loop_control": map[string]any{"label": "{{ item.id }}"},
	"ansible.builtin.set_fact": map[string]any{
		"kube_prometheus_stack_client_secrets": map[string]any{
			"results": "{{ (kube_prometheus_stack_client_secrets.results | default([])) + [{'password': {'item': item}, " +
				"'resources': [{'data': {'password': keycloakref_client_secrets[item.id] | b64encode}}]}] }}",
		},
	},
}

// testbedVars are the variables the run adds to the inventory's: the
// Keycloak to write to (for both roles: the URL and the master realm's
// admin), the public hosts the kwok inventory leaves to be derived from
// keystone's (keycloak.<domain>, dashboard.<domain>, the monitoring UIs),
// keystone's client secret and the monitoring clients' secrets (random:
// the reference names them by role).
func testbedVars(kc testenv.KeycloakServer) (map[string]any, error) {
	secret := func() (string, error) {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return fmt.Sprintf("%x", b), nil
	}
	clientSecrets := map[string]any{}
	for _, id := range []string{"alertmanager", "grafana", "prometheus"} {
		s, err := secret()
		if err != nil {
			return nil, err
		}
		clientSecrets[id] = s
	}
	ks, err := secret()
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"keycloak_admin_password":                   kc.AdminPassword,
		"keystone_keycloak_admin_user":              kc.AdminUser,
		"keystone_keycloak_server_url":              kc.URL,
		"kube_prometheus_stack_keycloak_admin_user": kc.AdminUser,
		"kube_prometheus_stack_keycloak_server_url": kc.URL,
		"keystone_keycloak_client_secret":           ks,
		"keycloakref_client_secrets":                clientSecrets,
		// The kwok inventory sets keystone's public host; the others are
		// derived from its domain, as atmosphere-go derives them.
		"keycloak_host": "keycloak.{{ openstack_helm_endpoints_keystone_api_host.split('.', 1)[1] }}",
		"openstack_helm_endpoints_horizon_api_host": "dashboard.{{ openstack_helm_endpoints_keystone_api_host.split('.', 1)[1] }}",
		"kube_prometheus_stack_grafana_host":        "grafana.{{ openstack_helm_endpoints_keystone_api_host.split('.', 1)[1] }}",
		"kube_prometheus_stack_prometheus_host":     "prometheus.{{ openstack_helm_endpoints_keystone_api_host.split('.', 1)[1] }}",
		"kube_prometheus_stack_alertmanager_host":   "alertmanager.{{ openstack_helm_endpoints_keystone_api_host.split('.', 1)[1] }}",
	}, nil
}

// recap is the PLAY RECAP line of ansible-playbook's output, and the
// tasks that reported a change.
func recap(out string) string {
	lines := strings.Split(out, "\n")
	line, task := "(no recap)", ""
	var changed []string
	for i, l := range lines {
		if name, ok := strings.CutPrefix(l, "TASK ["); ok {
			task, _, _ = strings.Cut(name, "]")
		}
		if strings.HasPrefix(l, "changed: ") && !slices.Contains(changed, task) {
			changed = append(changed, task)
		}
		if strings.HasPrefix(l, "PLAY RECAP") && i+1 < len(lines) {
			line = strings.Join(strings.Fields(lines[i+1]), " ")
		}
	}
	if len(changed) > 0 {
		line += "; changed: " + strings.Join(changed, "; ")
	}
	return line
}

// redact hides a secret in ansible's output.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "<admin password>")
}

func uniq(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
