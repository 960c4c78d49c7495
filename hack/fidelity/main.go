// Command fidelity renders the reference Helm values of atmosphere's roles
// (../shared/atmosphere/roles) and the objects they apply, for the golden
// tests of internal/kubephase: `make fidelity-references` runs it and writes
// testdata/fidelity/values/<component>.json, one file per Helm component,
// and testdata/fidelity/values/objects/<component>.jsonl.
//
// Each role is rendered by its own ansible-playbook run of reference.yml:
// the role is laid out in a temporary roles directory with its defaults,
// vars, meta and templates, and dump.yml in place of its tasks, so that its
// meta dependencies (openstack_helm_endpoints among them) run for real and
// its own tasks do not. ansible-core runs from a virtualenv kept outside the
// clone with the collection's Python requirements (venv.go), and the
// collections are atmosphere's own (vexxhost.atmosphere: ../shared/atmosphere)
// and those of ../shared/collections, with their real filters and lookups;
// the ones under standins/ stand in only for what needs a live cluster or
// host (see README.md), and may never hide a file of a real collection.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// roleExceptions are the components whose role is not named after them;
// any other component's role is its name with '_' for '-' (role).
var roleExceptions = map[string]string{"csi": "ceph_csi_rbd", "hpe-csi-driver": "hpe_nimble_csi"}

// handWritten are the components whose reference is not rendered:
// cert-manager's values come from a role outside ../shared, and its
// reference is written by hand.
var handWritten = []string{"cert-manager"}

// role is the role that deploys a component.
func role(component string) string {
	if r, ok := roleExceptions[component]; ok {
		return r
	}
	return strings.ReplaceAll(component, "-", "_")
}

// csiDriverComponents are the components of a CSI driver but the
// inventory's (rbd), by the driver: rendered only by a run with
// --csi-driver of theirs, into a directory of its own (the Makefile's
// fidelity-references target), as the fidelity test reads them.
var csiDriverComponents = map[string]string{"local-path-provisioner": components.CSIDriverLocalPath,
	"hpe-csi-driver": components.CSIDriverHPENimble,
	"storpool-csi":   components.CSIDriverStorPool, "ibm-block-csi-driver": components.CSIDriverIBMBlock,
	"portworx": components.CSIDriverPortworx}

// issuerWebhooks are the components of the cluster_issuer role's webhook
// solvers (godaddy's, infoblox's charts): their role deploys them inside
// its tasks, not as a role of their own, so that their values are
// rendered with cluster-issuer's references (--issuers: the releases of
// the cases with their solver), never by a role's run.
var issuerWebhooks = []string{"cert-manager-webhook-godaddy", "cert-manager-webhook-infoblox-wapi"}

// referenced are the components whose reference is rendered, sorted: each
// Helm component of the registry that gives its chart values of its own,
// but the hand-written ones and the issuer's webhooks; with csiDriver
// (csi_driver) other than rbd, that driver's components alone (a manifest
// one among them, portworx, for its objects only: objectsOnly), and
// without it none of them.
func referenced(csiDriver string) []string {
	var names []string
	for _, c := range components.Default().Components() {
		driver, ofADriver := csiDriverComponents[c.Name]
		switch {
		case slices.Contains(issuerWebhooks, c.Name):
			continue
		case csiDriver != "" && csiDriver != components.CSIDriverRBD && driver != csiDriver:
			continue
		case (csiDriver == "" || csiDriver == components.CSIDriverRBD) && ofADriver:
			continue
		}
		if (c.Chart != nil && c.HasOwnValues() && !slices.Contains(handWritten, c.Name)) || (ofADriver && objectsOnly(c.Name)) {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

// objectsOnly says a component's reference is of its objects alone: a
// manifest component (no chart, so no values), rendered for a CSI driver
// of its own (portworx, whose role applies objects and installs no chart).
func objectsOnly(name string) bool {
	c, ok := components.Default().Get(name)
	return ok && c.Chart == nil && c.HasObjects()
}

func main() {
	shared := flag.String("atmosphere", "../shared/atmosphere", "the Ansible atmosphere checkout (the vexxhost.atmosphere collection)")
	collections := flag.String("collections", "../shared/collections", "the collections atmosphere depends on (vexxhost.kubernetes, vexxhost.ceph)")
	inventory := flag.String("inventory", "testdata/fidelity/inventory", "the inventory the references are rendered for")
	out := flag.String("out", "testdata/fidelity/values", "where the references are written")
	only := flag.String("components", "", "render only these components, comma-separated")
	jobs := flag.Int("jobs", 2, "ansible-playbook runs at once")
	backend := flag.String("network-backend", "", "atmosphere_network_backend of the run (openvswitch when empty, as the molecule inventory has it)")
	csiDriver := flag.String("csi-driver", "", "csi_driver of the run (rbd when empty, as the molecule inventory has it); another renders that driver's components alone")
	issuers := flag.String("issuers", "", "render cluster-issuer's references instead, for the cases of DIR/cases.yaml, into DIR")
	playbook := flag.String("ansible-playbook", "ansible-playbook", "the ansible-playbook --issuers runs (with the kubernetes.core collection)")
	flag.Parse()
	if *issuers != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := renderIssuers(ctx, *playbook, filepath.Join(*shared, "roles"), "hack/fidelity/standins", *issuers); err != nil {
			fmt.Fprintf(os.Stderr, "fidelity: %v\n", err)
			os.Exit(1)
		}
		return
	}
	names := referenced(*csiDriver)
	if *only != "" {
		known := names
		names = strings.Split(*only, ",")
		for _, n := range names {
			if !slices.Contains(known, n) {
				fmt.Fprintf(os.Stderr, "fidelity: --components: unknown component %q\n", n)
				os.Exit(2)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *shared, *collections, *inventory, *out, *backend, *csiDriver, names, *jobs); err != nil {
		fmt.Fprintf(os.Stderr, "fidelity: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, shared, sharedCollections, inventory, out, backend, csiDriver string, names []string, jobs int) error {
	playbook, err := filepath.Abs("hack/fidelity/reference.yml")
	if err != nil {
		return err
	}
	here := filepath.Dir(playbook)
	roles, err := filepath.Abs(filepath.Join(shared, "roles"))
	if err != nil {
		return err
	}
	varFiles, err := filepath.Glob(filepath.Join(inventory, "group_vars", "all", "*.yml"))
	if err != nil || len(varFiles) == 0 {
		return fmt.Errorf("inventory %s: no group_vars/all/*.yml", inventory)
	}
	venv, err := ensureVenv(ctx, shared)
	if err != nil {
		return err
	}
	collections, err := os.MkdirTemp("", "atmosphere-fidelity-collections-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(collections)
	if err := layCollections(collections, shared, sharedCollections, filepath.Join(here, "standins")); err != nil {
		return fmt.Errorf("laying out the collections: %w", err)
	}
	ansible := ansibleRun{bin: venv, collections: collections}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var mu sync.Mutex
	var failed []error
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, name := range names {
		g.Go(func() error {
			dest, err := filepath.Abs(filepath.Join(out, name+".json"))
			if err != nil {
				return err
			}
			objects := filepath.Join(filepath.Dir(dest), "objects", name+".jsonl")
			if objectsOnly(name) {
				dest = "" // no values: dump.yml writes none
			}
			if err := render(ctx, ansible, playbook, here, roles, role(name), dest, objects, backend, csiDriver, varFiles); err != nil {
				mu.Lock()
				failed = append(failed, fmt.Errorf("%s (role %s): %w", name, role(name), err))
				mu.Unlock()
				return nil
			}
			fmt.Fprintf(os.Stderr, "fidelity: %s: %s\n", name, cmp.Or(dest, objects))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return errors.Join(failed...)
}

// ansibleRun is where ansible-playbook runs from: the virtualenv's bin
// directory, and the collections directory laid out by layCollections.
type ansibleRun struct{ bin, collections string }

// render runs reference.yml for one role; its values are written to
// dest (none when dest is empty: a role without a chart), the objects it
// and its meta dependencies would apply (its RabbitMQ cluster) to
// objects, one JSON document a line, and the CustomResourceDefinitions its
// tasks wait for an operator to create, if any, to crdWaitsFile(objects).
// csiDriver, when set, is given as csi_driver after the inventory's
// variables.
func render(ctx context.Context, ansible ansibleRun, playbook, here, roles, role, dest, objects, backend, csiDriver string, varFiles []string) error {
	tmp, err := os.MkdirTemp("", "atmosphere-fidelity-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	overlay := filepath.Join(tmp, "roles", role)
	if err := os.MkdirAll(filepath.Join(overlay, "tasks"), 0o755); err != nil {
		return err
	}
	for _, d := range []string{"defaults", "vars", "meta", "templates", "files"} {
		if _, err := os.Stat(filepath.Join(roles, role, d)); err == nil {
			if err := os.Symlink(filepath.Join(roles, role, d), filepath.Join(overlay, d)); err != nil {
				return err
			}
		}
	}
	// Roles read their charts' CRDs from {{ role_path }}/../../charts.
	if err := os.Symlink(filepath.Join(filepath.Dir(roles), "charts"), filepath.Join(tmp, "charts")); err != nil {
		return err
	}
	dump, err := os.ReadFile(filepath.Join(here, "dump.yml"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(overlay, "tasks", "main.yml"), dump, 0o644); err != nil {
		return err
	}
	objectTasks, err := objectTasks(filepath.Join(roles, role, "tasks", "main.yml"), role)
	if err != nil {
		return err
	}
	if err := os.WriteFile(objectsFile(overlay), objectTasks, 0o644); err != nil {
		return err
	}
	args := []string{playbook, "-i", "localhost,", "-e", "fidelity_role=" + role, "-e", "fidelity_out=" + dest,
		"-e", "ansible_python_interpreter=" + filepath.Join(ansible.bin, "python")}
	if dest == "" {
		args = append(args, "-e", "fidelity_values=false")
	}
	if v := os.Getenv("FIDELITY_VERBOSE"); v != "" {
		args = append(args, v) // -vvv: the plugins' tracebacks
	}
	for _, f := range varFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return err
		}
		args = append(args, "-e", "@"+abs)
	}
	if csiDriver != "" {
		args = append(args, "-e", "csi_driver="+csiDriver)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(ansible.bin, "ansible-playbook"), args...)
	cmd.Dir = tmp
	cmd.Env = append(pyenv.Clean(),
		"ANSIBLE_ROLES_PATH="+strings.Join([]string{filepath.Join(tmp, "roles"), filepath.Join(here, "roles"), roles}, ":"),
		// The collections of the ansible package (community.general, …) come
		// after these, from the virtualenv's site-packages.
		"ANSIBLE_COLLECTIONS_PATH="+ansible.collections,
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=False", "ANSIBLE_INVENTORY_UNPARSED_WARNING=False",
		"ANSIBLE_RETRY_FILES_ENABLED=False", "ANSIBLE_LOCAL_TEMP="+filepath.Join(tmp, "ansible-tmp"),
		"ATMOSPHERE_NETWORK_BACKEND="+backend,
		"FIDELITY_OBJECTS="+objects,
		"FIDELITY_CRD_WAITS="+crdWaitsFile(objects),
	)
	if err := os.MkdirAll(filepath.Dir(objects), 0o755); err != nil {
		return err
	}
	for _, f := range []string{objects, crdWaitsFile(objects)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if raw, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, testenv.LastLines(string(raw), 12))
	}
	// A role that applies no object has an empty file, so that a missing
	// one is told from a role without objects.
	f, err := os.OpenFile(objects, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// crdWaitsFile is where the k8s_info stand-in records the
// CustomResourceDefinitions a role's tasks wait for beside its objects
// file (<component>.jsonl): <component>.crd-waits.ndjson, one JSON
// document a line, {"crd": name, "after": the number of objects recorded
// before the wait}; no file for a role that waits for none.
func crdWaitsFile(objects string) string {
	return strings.TrimSuffix(objects, ".jsonl") + ".crd-waits.ndjson"
}
