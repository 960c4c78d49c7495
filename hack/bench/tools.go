package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// tools are the paths of the programs compared.
type tools struct {
	atmosphere, helm, helmfile, ansiblePlaybook string
	// inventory and charts are atmosphere's inputs; skip the units left out
	// of the comparison (every unit that is not Helm work).
	inventory string
	charts    []string
	skip      []string
	// concurrency caps the releases in flight (helmfile's --concurrency;
	// atmosphere's own cap on Kubernetes API work).
	concurrency int
}

// atmosphereDeploy is `atmosphere deploy` of the Helm work, extra flags
// added.
func (t tools) atmosphereDeploy(ctx context.Context, b *bed, reports string, extra ...string) *exec.Cmd {
	args := []string{"deploy", "--inventory", t.inventory, "--kubeconfig", b.kubeconfig, "--output", "json", "--report-dir", reports}
	for _, c := range t.charts {
		args = append(args, "--charts", c)
	}
	if len(t.skip) > 0 {
		args = append(args, "--skip-tags", strings.Join(t.skip, ","))
	}
	return exec.CommandContext(ctx, t.atmosphere, append(args, extra...)...)
}

// exportValues writes the user-supplied values of every release atmosphere
// deployed on b into dir, one file per release, as its role would give
// them (roles: the chart Jobs atmosphere's phases do natively given back),
// and returns their paths by release id: the other tools deploy the roles'
// values, every chart Job with them.
func exportValues(b *bed, releases []release, dir string, roles rolesValues) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range releases {
		flags := genericclioptions.NewConfigFlags(false)
		flags.KubeConfig, flags.Namespace = &b.kubeconfig, &r.Namespace
		cfg := new(action.Configuration)
		if err := cfg.Init(flags, r.Namespace, "secret", func(string, ...any) {}); err != nil {
			return nil, err
		}
		deployed, err := action.NewGetValues(cfg).Run(r.Name)
		if err != nil {
			return nil, fmt.Errorf("values of %s: %w", r.id(), err)
		}
		vals, err := roles(r, deployed)
		if err != nil {
			return nil, fmt.Errorf("the role's values of %s: %w", r.id(), err)
		}
		raw, err := yaml.Marshal(vals)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, r.Namespace+"-"+r.Name+".yaml")
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			return nil, err
		}
		out[r.id()] = p
	}
	return out, nil
}

// writeHelmfile writes a helmfile.yaml of the releases with their needs,
// the waits atmosphere does (resources ready, Jobs complete), and returns
// its path.
func writeHelmfile(dir string, releases []release, values map[string]string) (string, error) {
	type hfRelease struct {
		Name      string   `json:"name"`
		Namespace string   `json:"namespace"`
		Chart     string   `json:"chart"`
		Values    []string `json:"values"`
		Needs     []string `json:"needs,omitempty"`
	}
	doc := map[string]any{
		"helmDefaults": map[string]any{
			"wait": true, "waitForJobs": true, "timeout": 600, "createNamespace": true,
		},
	}
	var rs []hfRelease
	for _, r := range releases {
		rs = append(rs, hfRelease{Name: r.Name, Namespace: r.Namespace, Chart: r.ChartDir, Values: []string{values[r.id()]}, Needs: r.Needs})
	}
	doc["releases"] = rs
	raw, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "helmfile.yaml")
	return p, os.WriteFile(p, raw, 0o600)
}

// helmfileSync is `helmfile sync` of the file.
func (t tools) helmfileSync(ctx context.Context, file string) *exec.Cmd {
	return exec.CommandContext(ctx, t.helmfile, "--file", file, "--helm-binary", t.helm, "sync",
		"--concurrency", strconv.Itoa(t.concurrency), "--skip-deps")
}

// helmSerial is `helm upgrade --install --wait` of each release, one after
// another in dependency order: the shape of the Ansible deploy.
func (t tools) helmSerial(ctx context.Context, releases []release, values map[string]string) []*exec.Cmd {
	var cmds []*exec.Cmd
	for _, r := range releases {
		cmds = append(cmds, exec.CommandContext(ctx, t.helm, "upgrade", "--install", r.Name, r.ChartDir,
			"--namespace", r.Namespace, "--create-namespace", "--values", values[r.id()],
			"--wait", "--wait-for-jobs", "--timeout", "10m"))
	}
	return cmds
}

// ansiblePlay writes a playbook that deploys the releases with
// kubernetes.core.helm, one task each, as an atmosphere role does, and
// returns the command that runs it.
func (t tools) ansiblePlay(ctx context.Context, b *bed, dir string, releases []release, values map[string]string) (*exec.Cmd, error) {
	var tasks []map[string]any
	for _, r := range releases {
		tasks = append(tasks, map[string]any{
			"name": "deploy " + r.id(),
			"kubernetes.core.helm": map[string]any{
				"name": r.Name, "chart_ref": r.ChartDir, "release_namespace": r.Namespace,
				"create_namespace": true, "values_files": []string{values[r.id()]},
				"wait": true, "wait_timeout": "600s", "kubeconfig": b.kubeconfig, "binary_path": t.helm,
			},
		})
	}
	play := []map[string]any{{"hosts": "localhost", "connection": "local", "gather_facts": false, "tasks": tasks}}
	raw, err := yaml.Marshal(play)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "helm.yml")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		return nil, err
	}
	inv, err := testenv.LocalInventory(dir)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, t.ansiblePlaybook, "-i", inv, p)
	return cmd, nil
}

// versionOf runs a program's version command and returns its first line.
func versionOf(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// rolesValues turns the values a release was deployed with into its
// role's.
type rolesValues func(r release, deployed map[string]any) (map[string]any, error)

// rolesValuesOf gives back, in a release's deployed values, the chart Jobs
// whose work atmosphere's phases do natively (the keystone, db-init and
// rabbit-init Jobs), as the component's role leaves them
// (components.Component.WithChartJobs): its own values are rendered from
// the inventory (secrets generated in memory: only which Jobs they set is
// read) with the inventory's <role>_helm_values over them.
func rolesValuesOf(reg *components.Registry, inv *inventory.Inventory, s *inventory.Settings) rolesValues {
	settings := components.DefaultSettings()
	settings.Config, settings.Vars, settings.Sources = s.Config, inv.Vars, inv.Sources
	if s.ImageTable != nil {
		settings.Images = s.ImageTable
	}
	// Secrets of their kind (an SSH key is one), generated in memory.
	store := &secrets.Store{Client: fake.NewClientset(), Namespace: "bench"}
	generated := func(name string) (string, error) {
		return store.Get(context.Background(), secrets.VarKey(name))
	}
	settings.Secret, settings.PeekSecret = generated, generated
	settings.ClusterSecret = func(string, string) (string, error) { return "bench", nil }
	prefixes := reg.ValuesPrefixes()
	return func(r release, deployed map[string]any) (map[string]any, error) {
		c, ok := reg.Get(r.Component)
		if !ok {
			return nil, fmt.Errorf("no component %s", r.Component)
		}
		ch, err := loader.Load(r.ChartDir)
		if err != nil {
			return nil, err
		}
		own, err := c.OwnValues(settings, ch.Values)
		if err != nil {
			return nil, err
		}
		for prefix, name := range prefixes {
			if name == c.Name {
				own = values.Merge(own, s.HelmValues[prefix])
			}
		}
		return c.WithChartJobs(own, deployed), nil
	}
}
