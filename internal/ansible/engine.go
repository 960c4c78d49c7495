package ansible

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

// Engine is the engine of Ansible work (engine.Engine): each unit is the
// ansible-playbook run its component declares (JobFor), against the hosts
// of the operator's inventory (Deployer.Inventory), with the collections
// installed where ansible finds them.
//
// Before anything runs, Check finds: ansible-playbook (Deployer.Bin, else
// from PATH) and its ansible-core as new as the collection asks
// (requires_ansible of its meta/runtime.yml); the inventory, read by
// ansible-inventory beside it; the hosts of the unit's play; and every
// collection the unit's playbook, role or imported playbooks name
// ("vexxhost.atmosphere", and "vexxhost.ceph" for a playbook that imports
// vexxhost.ceph.site), looked for as ansible looks for them: in
// Deployer.CollectionsPaths (--collections-path) when set, else in the
// paths ansible-galaxy reports (ANSIBLE_COLLECTIONS_PATH, ansible.cfg's
// collections_path, the defaults, the Python installation's). Each
// missing thing is one problem, however many units meet it.
//
// Deploy runs the unit, telling the run each task it reaches ("TASK
// [iscsi : Install iscsi package] on ctl1, ctl2") and, at the end, what
// the play changed; a failure names the task, the host and ansible's
// message (*FailedError). Plan says what would run on which hosts; Status
// is untracked (a play leaves nothing in the cluster to read).
//
// An Engine is safe for concurrent use once made; what it learns of the
// installation and the inventory it learns once.
type Engine struct {
	// Deployer runs the plays: which ansible-playbook, which inventory,
	// where collections are, the vault password file.
	Deployer *Deployer

	once        sync.Once
	binErr      error
	version     string // ansible-core's, "2.15.13"
	inv         *Inventory
	invErr      error
	roots       []string // collections paths, in ansible's order
	collections map[string]string
}

var _ engine.Engine = (*Engine)(nil)

func (e *Engine) bin() string {
	if e.Deployer.Bin != "" {
		return e.Deployer.Bin
	}
	return "ansible-playbook"
}

// sibling is another ansible program beside ansible-playbook (from PATH
// when ansible-playbook is).
func (e *Engine) sibling(name string) string {
	if b := e.bin(); strings.ContainsRune(b, filepath.Separator) {
		return filepath.Join(filepath.Dir(b), name)
	}
	return name
}

// env is the environment of the ansible programs the engine asks.
func (e *Engine) env() []string {
	env := append(os.Environ(), "ANSIBLE_NOCOLOR=1")
	if len(e.Deployer.CollectionsPaths) > 0 {
		env = append(env, "ANSIBLE_COLLECTIONS_PATH="+strings.Join(e.Deployer.CollectionsPaths, string(os.PathListSeparator)))
	}
	return append(env, e.Deployer.Env...)
}

var coreVersion = regexp.MustCompile(`\[core ([0-9][0-9.]*)`)

// learn finds, once, ansible-playbook and its version, the inventory's
// hosts and where collections are.
func (e *Engine) learn(ctx context.Context) {
	e.once.Do(func() {
		path, err := exec.LookPath(e.bin())
		if err != nil {
			e.binErr = fmt.Errorf("ansible-playbook not found (%w): install ansible-core 2.15 or later (`pip install 'ansible-core>=2.15.9,<2.19' 'ansible>=11,<12'`), or name it with --ansible-playbook", err)
			return
		}
		cmd := exec.CommandContext(ctx, path, "--version")
		cmd.Env = e.env()
		out, err := cmd.Output()
		if err != nil {
			e.binErr = fmt.Errorf("%s --version: %w", path, err)
			return
		}
		if m := coreVersion.FindSubmatch(out); m != nil {
			e.version = string(m[1])
		}
		if e.Deployer.Inventory == "" {
			e.invErr = errors.New("Ansible work needs the hosts: give an inventory with a hosts file (hosts.ini, hosts.yml), or say the hosts, the cluster and Ceph exist (atmosphere_hosts_provided: true, --hosts-provided)")
		} else {
			var args []string
			if e.Deployer.VaultPasswordFile != "" {
				args = append(args, "--vault-password-file", e.Deployer.VaultPasswordFile)
			}
			e.inv, e.invErr = LoadInventory(ctx, e.sibling("ansible-inventory"), e.Deployer.Inventory, args...)
		}
		e.roots, e.collections = e.collectionsPaths(ctx)
	})
}

// collectionsPaths are where ansible looks for collections: the
// Deployer's when set, else those ansible-galaxy lists collections in,
// else ansible's defaults; and the collections ansible-galaxy found in
// them (by name, its path), nil when it could not be asked.
func (e *Engine) collectionsPaths(ctx context.Context) ([]string, map[string]string) {
	if len(e.Deployer.CollectionsPaths) > 0 {
		return e.Deployer.CollectionsPaths, nil
	}
	cmd := exec.CommandContext(ctx, e.sibling("ansible-galaxy"), "collection", "list", "--format", "json")
	cmd.Env = e.env()
	out, err := cmd.Output()
	var listed map[string]map[string]json.RawMessage
	if err != nil || json.Unmarshal(out, &listed) != nil {
		return e.Deployer.collectionsPaths(), nil
	}
	var roots []string
	found := map[string]string{}
	for dir, colls := range listed {
		// dir is a root's ansible_collections.
		root := filepath.Dir(dir)
		roots = append(roots, root)
		for name := range colls {
			if _, ok := found[name]; !ok {
				found[name] = root
			}
		}
	}
	slices.Sort(roots)
	for _, d := range e.Deployer.collectionsPaths() {
		if !slices.Contains(roots, d) {
			roots = append(roots, d)
		}
	}
	return roots, found
}

// Inventory is the inventory's hosts as ansible reads them.
func (e *Engine) Inventory(ctx context.Context) (*Inventory, error) {
	e.learn(ctx)
	if e.binErr != nil {
		return nil, e.binErr
	}
	return e.inv, e.invErr
}

// collectionDir is where a collection is: the first collections path
// that has it.
func (e *Engine) collectionDir(name string) (string, bool) {
	ns, coll, _ := strings.Cut(name, ".")
	if root, ok := e.collections[name]; ok {
		return filepath.Join(root, "ansible_collections", ns, coll), true
	}
	for _, root := range e.roots {
		dir := filepath.Join(root, "ansible_collections", ns, coll)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir, true
		}
	}
	return "", false
}

// need is one thing of a collection a unit runs: a playbook or a role.
type need struct {
	collection, kind, name string
}

func splitFQCN(s string) (need, bool) {
	m := fqcn.FindStringSubmatch(s)
	if m == nil {
		return need{}, false
	}
	return need{collection: m[1] + "." + m[2], name: m[3]}, true
}

// checkCollections finds every collection the job needs that is missing
// (a playbook's imports followed), each problem about the collection.
func (e *Engine) checkCollections(c *components.Component, job Job) []engine.Problem {
	var queue []need
	if n, ok := splitFQCN(job.Playbook); ok {
		n.kind = "playbook"
		queue = append(queue, n)
	}
	if job.Play != nil {
		if n, ok := splitFQCN(job.Play.Role); ok {
			n.kind = "role"
			queue = append(queue, n)
		}
	}
	var problems []engine.Problem
	seen := map[need]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		dir, ok := e.collectionDir(n.collection)
		if !ok {
			problems = append(problems, engine.Problem{About: "collection " + n.collection,
				Err: fmt.Errorf("%s: %w", c.Name, &MissingCollectionError{Collection: n.collection, Searched: e.roots})})
			continue
		}
		if p := e.checkRequires(c, n.collection, dir); p != nil {
			problems = append(problems, *p)
		}
		if n.kind == "role" {
			if st, err := os.Stat(filepath.Join(dir, "roles", n.name)); err != nil || !st.IsDir() {
				problems = append(problems, engine.Problem{About: "role " + n.collection + "." + n.name,
					Err: fmt.Errorf("%s: collection %s (%s) has no role %s", c.Name, n.collection, dir, n.name)})
			}
			continue
		}
		path := ""
		for _, ext := range []string{".yml", ".yaml"} {
			if _, err := os.Stat(filepath.Join(dir, "playbooks", n.name+ext)); err == nil {
				path = filepath.Join(dir, "playbooks", n.name+ext)
				break
			}
		}
		if path == "" {
			problems = append(problems, engine.Problem{About: "playbook " + n.collection + "." + n.name,
				Err: fmt.Errorf("%s: collection %s (%s) has no playbook %s", c.Name, n.collection, dir, n.name)})
			continue
		}
		imports, err := importedPlaybooks(path)
		if err != nil {
			problems = append(problems, engine.Problem{About: "playbook " + path, Err: fmt.Errorf("%s: %w", c.Name, err)})
			continue
		}
		queue = append(queue, imports...)
	}
	return problems
}

// importedPlaybooks are the collection playbooks a playbook imports by
// FQCN (import_playbook: vexxhost.ceph.site).
func importedPlaybooks(path string) ([]need, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var plays []map[string]any
	if err := yaml.Unmarshal(raw, &plays); err != nil {
		return nil, fmt.Errorf("playbook %s: %w", path, err)
	}
	var out []need
	for _, p := range plays {
		for _, key := range []string{"import_playbook", "ansible.builtin.import_playbook"} {
			if s, ok := p[key].(string); ok {
				if n, ok := splitFQCN(s); ok {
					n.kind = "playbook"
					out = append(out, n)
				}
			}
		}
	}
	return out, nil
}

var requiresAnsible = regexp.MustCompile(`^\s*>=\s*([0-9][0-9.]*)\s*$`)

// checkRequires compares ansible-core's version with the collection's
// requires_ansible (its lower bound).
func (e *Engine) checkRequires(c *components.Component, name, dir string) *engine.Problem {
	raw, err := os.ReadFile(filepath.Join(dir, "meta", "runtime.yml"))
	if err != nil || e.version == "" {
		return nil
	}
	var meta struct {
		RequiresAnsible string `json:"requires_ansible"`
	}
	if yaml.Unmarshal(raw, &meta) != nil {
		return nil
	}
	m := requiresAnsible.FindStringSubmatch(meta.RequiresAnsible)
	if m == nil || !versionLess(e.version, m[1]) {
		return nil
	}
	return &engine.Problem{About: "requires_ansible " + name, Err: fmt.Errorf(
		"%s: collection %s requires ansible-core %s, and %s is %s: install a newer one (`pip install 'ansible-core>=2.15.9,<2.19' 'ansible>=11,<12'`) and name it with --ansible-playbook",
		c.Name, name, meta.RequiresAnsible, e.bin(), e.version)}
}

// versionLess compares dotted versions numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// Check finds what would stop the unit's play, touching nothing.
func (e *Engine) Check(ctx context.Context, c *components.Component, p components.Phase) []engine.Problem {
	job, ok := JobFor(c)
	if !ok {
		return []engine.Problem{{About: "ansible work " + c.Name, Err: fmt.Errorf("%s: phase %s is Ansible work, and the component declares none", c.Name, p.Name)}}
	}
	e.learn(ctx)
	if e.binErr != nil {
		return []engine.Problem{{About: "ansible-playbook", Err: e.binErr}}
	}
	var problems []engine.Problem
	if e.invErr != nil {
		problems = append(problems, engine.Problem{About: "inventory", Err: e.invErr})
	} else if _, err := HostsOf(e.inv, c); err != nil {
		problems = append(problems, engine.Problem{About: "hosts " + c.Name, Err: fmt.Errorf("%s: %w", c.Name, err)})
	}
	return append(problems, e.checkCollections(c, job)...)
}

// what names what a job runs: its playbook, its role, or its tasks.
func what(c *components.Component, j Job) string {
	switch {
	case j.Playbook != "":
		return j.Playbook
	case j.Play.Role != "":
		return j.Play.Role
	}
	return fmt.Sprintf("%d tasks of %s", len(j.Play.Tasks), c.Name)
}

// hostsText lists hosts, the first few of many.
func hostsText(hosts []string) string {
	const show = 5
	switch {
	case len(hosts) == 0:
		return "no host"
	case len(hosts) > show:
		return fmt.Sprintf("%s and %d more", strings.Join(hosts[:show], ", "), len(hosts)-show)
	}
	return strings.Join(hosts, ", ")
}

// unit is the job of a unit and the hosts it runs on.
func (e *Engine) unit(ctx context.Context, c *components.Component) (Job, []string, error) {
	job, ok := JobFor(c)
	if !ok {
		return Job{}, nil, fmt.Errorf("%s: no Ansible work declared", c.Name)
	}
	inv, err := e.Inventory(ctx)
	if err != nil {
		return Job{}, nil, err
	}
	hosts, err := HostsOf(inv, c)
	if err != nil {
		return Job{}, nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	return job, hosts, nil
}

// Plan says what the unit runs, on which hosts: "run
// (vexxhost.atmosphere.iscsi on ctl1, ctl2)".
func (e *Engine) Plan(ctx context.Context, c *components.Component, _ components.Phase) (engine.Change, error) {
	job, hosts, err := e.unit(ctx, c)
	if err != nil {
		return engine.Change{}, err
	}
	return engine.Change{Action: "run", Why: []string{what(c, job) + " on " + hostsText(hosts)}}, nil
}

// Deploy runs the unit's play.
func (e *Engine) Deploy(ctx context.Context, c *components.Component, _ components.Phase) error {
	job, hosts, err := e.unit(ctx, c)
	if err != nil {
		return err
	}
	run := dag.ReporterFrom(ctx)
	on := " on " + hostsText(hosts)
	job.OnTask = func(task string) { run.Note(dag.Note{Waiting: "TASK [" + task + "]" + on}) }
	// The collections were looked for as ansible looks for them (Check);
	// Run's own look-up, in ansible's default paths only, is not needed.
	d := *e.Deployer
	d.collectionsChecked = true
	recap, err := d.RunRecap(ctx, job)
	return e.done(ctx, c, job, hosts, recap, err)
}

func (e *Engine) done(ctx context.Context, c *components.Component, job Job, hosts []string, recap Recap, err error) error {
	if err != nil {
		return err
	}
	did := fmt.Sprintf("ran %s on %s", what(c, job), hostsText(hosts))
	if len(recap) > 0 {
		did += fmt.Sprintf(": %d changed", recap.Changed())
	}
	dag.ReporterFrom(ctx).Note(dag.Note{Did: did, Unchanged: len(recap) > 0 && recap.Changed() == 0})
	return nil
}

// Status is untracked: a play leaves nothing in the cluster to read.
func (e *Engine) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
