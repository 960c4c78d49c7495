package ansible

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// The tests of this file run atmosphere's own collection
// (../shared/atmosphere, installed as vexxhost.atmosphere) with the
// ansible-core it names, from the test environment's virtualenv
// (testenv.EnsureAnsibleEnv).
var (
	sharedAtmosphere  = filepath.Join("..", "..", "..", "shared", "atmosphere")
	sharedCollections = filepath.Join("..", "..", "..", "shared", "collections")
)

func testAnsible(t *testing.T) testenv.AnsibleEnv {
	t.Helper()
	a, err := testenv.EnsureAnsibleEnv(context.Background(), sharedAtmosphere, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// localhost is a host reached over the local connection, with the
// system's Python (not a pyenv shim's).
const localhost = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3"

// writeInventory writes a hosts file and returns its path.
func writeInventory(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hosts.ini")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// localInventory has localhost in each group atmosphere's playbooks name.
func localInventory(t *testing.T) string {
	return writeInventory(t, "[controllers]\n"+localhost+"\n[computes]\nlocalhost\n[cephs]\nlocalhost\n")
}

// standInCollections lays out a collections path holding the real
// vexxhost.ceph and vexxhost.kubernetes of ../shared/collections, with
// stand-in roles (testdata/standins) where ../shared has none:
// vexxhost.kubernetes's roles (left out of ../shared) and
// vexxhost.containers (not there at all).
func standInCollections(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	ns := filepath.Join(root, "ansible_collections", "vexxhost")
	standIns, err := filepath.Abs(filepath.Join("testdata", "standins", "ansible_collections", "vexxhost"))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := filepath.Abs(sharedCollections)
	if err != nil {
		t.Fatal(err)
	}
	k8s := filepath.Join(ns, "kubernetes")
	if err := os.MkdirAll(k8s, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		filepath.Join(ns, "ceph"):       filepath.Join(shared, "vexxhost.ceph"),
		filepath.Join(ns, "containers"): filepath.Join(standIns, "containers"),
		filepath.Join(k8s, "roles"):     filepath.Join(standIns, "kubernetes", "roles"),
	}
	entries, err := os.ReadDir(filepath.Join(shared, "vexxhost.kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		links[filepath.Join(k8s, e.Name())] = filepath.Join(shared, "vexxhost.kubernetes", e.Name())
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func component(t *testing.T, name string) (*components.Component, components.Phase) {
	t.Helper()
	c, ok := components.Default().Get(name)
	if !ok {
		t.Fatalf("no component %s", name)
	}
	return c, c.Phases[0]
}

// deployUnit deploys one unit through a run of the scheduler, and returns
// its notes and error.
func deployUnit(t *testing.T, e *Engine, c *components.Component, p components.Phase) ([]dag.Note, error) {
	t.Helper()
	return deploytest.RunUnit(context.Background(), components.UnitKey(c.Name, p.Name), func(ctx context.Context) error { return e.Deploy(ctx, c, p) })
}

func waits(notes []dag.Note) []string {
	var out []string
	for _, n := range notes {
		if n.Waiting != "" {
			out = append(out, n.Waiting)
		}
	}
	return out
}

// TestEngineRunsAtmosphereHostRoles runs atmosphere's own host roles
// through the engine on localhost: lpfc for real (it only looks for the
// lpfc module and does nothing without it), the others in check mode
// (udev would write rules into /etc/udev/rules.d and reload udev; iscsi
// and multipathd install packages and start services). Each run shows its
// tasks as they start and what it did; multipathd's check mode fails on a
// machine without multipath-tools (its handler restarts a service the
// package it would install provides), and the error names the handler,
// the host and ansible's message.
func TestEngineRunsAtmosphereHostRoles(t *testing.T) {
	a := testAnsible(t)
	inv := localInventory(t)
	_, multipathInstalled := exec.LookPath("multipathd")
	before := map[string]bool{}
	for _, f := range []string{"/etc/udev/rules.d/99-pure-storage.rules", "/etc/udev/rules.d/90-scsi-ua.rules", "/etc/multipath.conf"} {
		_, err := os.Stat(f)
		before[f] = err == nil
	}
	tests := []struct {
		component string
		check     bool
		wantTask  string
		wantDid   string // a prefix
		unchanged bool
		wantErr   *FailedError
	}{
		{component: "lpfc", wantTask: `TASK [vexxhost.atmosphere.lpfc : Detect if the "lpfc" module is loaded] on localhost`,
			wantDid: "ran vexxhost.atmosphere.lpfc on localhost: 0 changed", unchanged: true},
		{component: "udev", check: true, wantTask: "TASK [vexxhost.atmosphere.udev : Add udev rules for Pure Storage FlashArray] on localhost",
			wantDid: "ran vexxhost.atmosphere.udev on localhost: "},
		{component: "iscsi", check: true, wantTask: "TASK [vexxhost.atmosphere.iscsi : Install iscsi package] on localhost",
			wantDid: "ran vexxhost.atmosphere.iscsi on localhost: "},
		{component: "multipathd", check: true, wantTask: "TASK [vexxhost.atmosphere.multipathd : Install the multipathd package] on localhost",
			wantErr: &FailedError{Task: `vexxhost.atmosphere.multipathd : Restart "multipathd"`, Host: "localhost",
				Message: "Could not find the requested service multipathd"}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			d := &Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: []string{a.Collections}}
			if tt.check {
				d.Args = []string{"--check"}
			}
			if tt.wantErr != nil && multipathInstalled == nil {
				t.Skip("multipathd is installed here: its check mode does not fail")
			}
			e := &Engine{Deployer: d}
			c, p := component(t, tt.component)
			if problems := e.Check(context.Background(), c, p); len(problems) > 0 {
				t.Fatalf("check: %v", problems)
			}
			start := time.Now()
			notes, err := deployUnit(t, e, c, p)
			t.Logf("%s took %s", tt.component, time.Since(start).Round(time.Millisecond))
			if !slices.Contains(waits(notes), tt.wantTask) {
				t.Errorf("no note %q among %q", tt.wantTask, waits(notes))
			}
			if tt.wantErr != nil {
				var failed *FailedError
				if !errors.As(err, &failed) || failed.Task != tt.wantErr.Task || failed.Host != tt.wantErr.Host ||
					!strings.Contains(failed.Message, tt.wantErr.Message) {
					t.Fatalf("err = %v, want task %q on %s: %s", err, tt.wantErr.Task, tt.wantErr.Host, tt.wantErr.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			last := notes[len(notes)-1]
			if !strings.HasPrefix(last.Did, tt.wantDid) || last.Unchanged != tt.unchanged {
				t.Errorf("last note %+v, want did %q…, unchanged %v", last, tt.wantDid, tt.unchanged)
			}
		})
	}
	// Check mode wrote nothing.
	for f, was := range before {
		if _, err := os.Stat(f); (err == nil) != was {
			t.Errorf("%s: there before %v, after %v", f, was, err == nil)
		}
	}
}

// TestEngineCheck: every problem that would stop an Ansible unit is found
// before anything runs, one per missing thing, saying what to do.
func TestEngineCheck(t *testing.T) {
	a := testAnsible(t)
	inv := localInventory(t)
	standIns := standInCollections(t)
	noComputes := writeInventory(t, "[controllers]\n"+localhost+"\n")
	type want struct{ about, says string }
	tests := []struct {
		name      string
		component string
		d         Deployer
		want      []want
	}{
		{name: "a role of the collection", component: "lpfc",
			d: Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: []string{a.Collections}}},
		{name: "a playbook and the collections it imports", component: "ceph",
			d: Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: []string{a.Collections, standIns}}},
		{name: "no ansible-playbook", component: "lpfc",
			d:    Deployer{Bin: "/nonexistent/ansible-playbook", Inventory: inv},
			want: []want{{"ansible-playbook", "--ansible-playbook"}}},
		{name: "no collection", component: "iscsi",
			d: Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: []string{t.TempDir()}},
			want: []want{{"collection vexxhost.atmosphere",
				"iscsi: collection vexxhost.atmosphere is not installed (looked in " + "/"}}},
		{name: "no collection the playbook imports", component: "ceph",
			d:    Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: []string{a.Collections}},
			want: []want{{"collection vexxhost.ceph", "ansible-galaxy collection install vexxhost.ceph"}}},
		{name: "a host group the inventory lacks", component: "udev",
			d:    Deployer{Bin: a.Playbook(), Inventory: noComputes, CollectionsPaths: []string{a.Collections}},
			want: []want{{"hosts udev", `udev: host pattern "controllers:computes": no group or host "computes" in the inventory`}}},
		{name: "no inventory", component: "udev",
			d:    Deployer{Bin: a.Playbook(), CollectionsPaths: []string{a.Collections}},
			want: []want{{"inventory", "give an inventory with a hosts file"}}},
	}
	if _, err := os.Stat(testenv.AnsiblePlaybook); err == nil {
		tests = append(tests, struct {
			name      string
			component string
			d         Deployer
			want      []want
		}{name: "Debian's ansible-core 2.14", component: "lpfc",
			d:    Deployer{Bin: testenv.AnsiblePlaybook, Inventory: inv, CollectionsPaths: []string{a.Collections}},
			want: []want{{"requires_ansible vexxhost.atmosphere", "requires ansible-core >=2.15.0, and /usr/bin/ansible-playbook is 2.14"}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			e := &Engine{Deployer: &d}
			c, p := component(t, tt.component)
			problems := e.Check(context.Background(), c, p)
			if len(problems) != len(tt.want) {
				t.Fatalf("problems %v, want %d", problems, len(tt.want))
			}
			for i, w := range tt.want {
				if problems[i].About != w.about || !strings.Contains(problems[i].Err.Error(), w.says) {
					t.Errorf("problem %d: %s: %v, want %s: …%s…", i, problems[i].About, problems[i].Err, w.about, w.says)
				}
			}
		})
	}
}

// TestEnginePlanNamesTheHosts: plan lists each Ansible unit with what it
// runs and the hosts atmosphere's playbooks name.
func TestEnginePlanNamesTheHosts(t *testing.T) {
	a := testAnsible(t)
	inv := writeInventory(t, "[controllers]\nctl1\nctl2\n[computes]\ncmp1\n[cephs]\nnvme1\n")
	e := &Engine{Deployer: &Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: []string{a.Collections}}}
	tests := map[string]string{
		"iscsi":         "run (vexxhost.atmosphere.iscsi on ctl1, ctl2, cmp1)",
		"openstack-cli": "run (vexxhost.atmosphere.openstack_cli on ctl1, ctl2)",
		"ceph":          "run (vexxhost.atmosphere.ceph on ctl1, ctl2, cmp1, nvme1)",
		"openvswitch":   "run (2 tasks of openvswitch on ctl1, ctl2, cmp1, nvme1)",
	}
	for name, want := range tests {
		c, p := component(t, name)
		change, err := e.Plan(context.Background(), c, p)
		if err != nil || change.String() != want {
			t.Errorf("%s: plan %q, %v; want %q", name, change, err, want)
		}
	}
	if st, err := e.Status(context.Background(), &components.Component{Name: "iscsi"}); err != nil || st.State != engine.Untracked {
		t.Errorf("status %+v, %v; want untracked", st, err)
	}
}

var playLine = regexp.MustCompile(`play #\d+ \(([^)]*)\)`)

// TestCollectionPlaybooksWiring runs atmosphere's ceph and kubernetes
// playbooks (vexxhost.atmosphere.ceph, .kubernetes) through the engine with
// --syntax-check and --list-hosts: they import vexxhost.ceph's and
// vexxhost.kubernetes's site playbooks from ../shared/collections, whose
// missing roles (vexxhost.kubernetes's, vexxhost.containers') are
// stand-ins. Each play lands on the hosts of its group.
func TestCollectionPlaybooksWiring(t *testing.T) {
	a := testAnsible(t)
	inv := writeInventory(t, "[controllers]\nctl1\nctl2\n[computes]\ncmp1\n[cephs]\nnvme1\n")
	paths := []string{a.Collections, standInCollections(t)}
	tests := []struct {
		component string
		// plays are each play's pattern and hosts, in order.
		plays []string
	}{
		{"ceph", []string{"all: cmp1 ctl1 ctl2 nvme1", "controllers: ctl1 ctl2", "cephs: nvme1", "all: cmp1 ctl1 ctl2 nvme1"}},
		{"kubernetes", []string{"all: cmp1 ctl1 ctl2 nvme1", "controllers: ctl1 ctl2", "all: cmp1 ctl1 ctl2 nvme1",
			"controllers: ctl1 ctl2", "all: cmp1 ctl1 ctl2 nvme1", "all: cmp1 ctl1 ctl2 nvme1"}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			c, p := component(t, tt.component)
			for _, mode := range []string{"--syntax-check", "--list-hosts"} {
				out := &lines{}
				e := &Engine{Deployer: &Deployer{Bin: a.Playbook(), Inventory: inv, CollectionsPaths: paths,
					Args: []string{mode}, Output: out.add}}
				if problems := e.Check(context.Background(), c, p); len(problems) > 0 {
					t.Fatalf("check: %v", problems)
				}
				if _, err := deployUnit(t, e, c, p); err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				if mode == "--syntax-check" {
					continue
				}
				var plays []string
				cur := -1
				for _, l := range out.get() {
					l = strings.TrimSpace(strings.TrimPrefix(l, "["+tt.component+"] "))
					if m := playLine.FindStringSubmatch(l); m != nil {
						plays = append(plays, m[1]+":")
						cur = len(plays) - 1
						continue
					}
					if cur >= 0 && l != "" && !strings.Contains(l, ":") && !strings.HasPrefix(l, "hosts (") {
						plays[cur] += " " + l
					}
				}
				for i, pl := range plays {
					// --list-hosts lists a play's hosts in no set order.
					pattern, hosts, _ := strings.Cut(pl, ": ")
					f := strings.Fields(hosts)
					slices.Sort(f)
					plays[i] = pattern + ": " + strings.Join(f, " ")
				}
				if !slices.Equal(plays, tt.plays) {
					t.Errorf("plays %q, want %q\n%s", plays, tt.plays, strings.Join(out.get(), "\n"))
				}
			}
		})
	}
}

// taskNotes signals each task note of a run.
type taskNotes struct {
	dag.NopObserver[string]
	tasks chan string
}

func (n *taskNotes) Noted(_ string, note dag.Note, _ time.Time) {
	if note.Waiting != "" {
		select {
		case n.tasks <- note.Waiting:
		default:
		}
	}
}

// TestEngineCancelEndsThePlay: a run cancelled (the second Ctrl-C) while
// an Ansible unit's task hangs with a child of its own ends
// ansible-playbook and everything it started, and the unit's error is the
// cancellation.
func TestEngineCancelEndsThePlay(t *testing.T) {
	a := testAnsible(t)
	c := &components.Component{Name: "hangs", Ansible: &components.AnsibleWork{Hosts: "controllers", Tasks: []map[string]any{
		{"name": "Hang", "ansible.builtin.shell": "sleep 602 & sleep 602"},
	}}}
	p := components.Phase{Name: "install", Kind: components.Ansible}
	e := &Engine{Deployer: &Deployer{Bin: a.Playbook(), Inventory: localInventory(t), CollectionsPaths: []string{a.Collections}}}
	g := dag.New[string]()
	if err := g.AddNode("hangs:install", dag.Spec[string]{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &taskNotes{tasks: make(chan string, 8)}
	done := make(chan error, 1)
	go func() {
		_, _ = dag.Run(ctx, g, func(ctx context.Context, _ string) error {
			err := e.Deploy(ctx, c, p)
			done <- err
			return err
		}, dag.Options[string]{Observer: obs})
	}()
	deadline := time.After(2 * time.Minute)
	for hung := false; !hung; {
		select {
		case task := <-obs.tasks:
			hung = task == "TASK [Hang] on localhost"
		case err := <-done:
			t.Fatalf("the play ended before it hung: %v", err)
		case <-deadline:
			t.Fatal("the play never reached its task")
		}
	}
	sleeps := func() []testenv.Process {
		var out []testenv.Process
		for _, p := range testenv.Processes() {
			if strings.HasPrefix(p.Cmd, "sleep 602") {
				out = append(out, p)
			}
		}
		return out
	}
	for wait := time.Now().Add(30 * time.Second); len(sleeps()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatal("no sleep 602 found")
		}
	}
	cancelAt := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		t.Logf("the play ended %s after the cancel", time.Since(cancelAt).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the unit did not return after the cancel")
	}
	for _, p := range sleeps() {
		t.Errorf("process %d (%s) is left", p.PID, p.Cmd)
	}
}
