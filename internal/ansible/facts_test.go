package ansible

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/openstackphase"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// sharedCephCollection is the vexxhost.ceph collection atmosphere's ceph
// roles call (its pool and key modules).
const sharedCephCollection = "../../../shared/collections/vexxhost.ceph"

// factsComponent is the component of the registry whose phase reads facts
// through Ansible: the test names none.
func factsComponent(t *testing.T) (*components.Component, components.Phase) {
	t.Helper()
	for _, c := range components.Default().Components() {
		for _, p := range c.Phases {
			if p.Kind == components.AnsibleFacts {
				return c, p
			}
		}
	}
	t.Fatal("no component reads facts through Ansible")
	return nil, components.Phase{}
}

// notesOf runs one unit of work in a dag run and returns its notes.
func notesOf(t *testing.T, work func(ctx context.Context) error) ([]dag.Note, error) {
	t.Helper()
	g := dag.New[string]()
	if err := g.AddNode("unit", dag.Spec[string]{}); err != nil {
		t.Fatal(err)
	}
	obs := &noteLog{}
	_, err := dag.Run(context.Background(), g, func(ctx context.Context, _ string) error { return work(ctx) },
		dag.Options[string]{Observer: obs})
	return obs.got, err
}

type noteLog struct {
	dag.NopObserver[string]
	got []dag.Note
}

func (n *noteLog) Noted(_ string, note dag.Note, _ time.Time) { n.got = append(n.got, note) }

// TestCephFactsFromTheLiveCeph runs the Ceph facts play through
// ansible-playbook against the test bed's real Ceph monitor (the
// monitors' group is this host, over the local connection; cephadm is the
// test bed's stand-in), twice: the first run makes the kube pool and the
// client.kube key, the second changes nothing and reads the same key; the
// charts' values carry the cluster's real fsid, monitor and keys, and no
// key reaches the output.
func TestCephFactsFromTheLiveCeph(t *testing.T) {
	// The key module writes the new key's keyring into the monitor's
	// /etc/ceph, as on a monitor host: removed after, unless it was there.
	const kubeKeyring = "/etc/ceph/ceph.client.kube.keyring"
	if _, err := os.Stat(kubeKeyring); os.IsNotExist(err) {
		t.Cleanup(func() { os.Remove(kubeKeyring) })
	}
	ceph := testenv.StartCeph(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := testenv.EnsureAnsible(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	collection, err := filepath.Abs(sharedCephCollection)
	if err != nil {
		t.Fatal(err)
	}
	ns := filepath.Join(dir, "collections", "ansible_collections", "vexxhost")
	if err := os.MkdirAll(ns, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(collection, filepath.Join(ns, "ceph")); err != nil {
		t.Fatal(err)
	}
	hosts := filepath.Join(dir, "hosts.ini")
	inventory := "[controllers]\nmon1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" +
		"[cephs]\nmon1\n[all:vars]\nansible_python_interpreter=/usr/bin/python3\n"
	if err := os.WriteFile(hosts, []byte(inventory), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := LoadInventory(ctx, filepath.Join(filepath.Dir(bin), "ansible-inventory"), hosts)
	if err != nil {
		t.Fatal(err)
	}
	out := &lines{}
	d := &Deployer{Bin: bin, Inventory: hosts, Output: out.add,
		Env: append(ceph.Env(), "ANSIBLE_COLLECTIONS_PATH="+filepath.Join(dir, "collections"), "ANSIBLE_HOST_KEY_CHECKING=False")}

	c, phase := factsComponent(t)
	facts := &openstackphase.Facts{}
	settings := components.DefaultSettings()
	settings.Vars = map[string]any{}
	settings.Facts = facts.Of
	e := &FactsEngine{Runner: d, Settings: settings, Hosts: inv.Hosts, Store: facts.Set}
	if problems := e.Check(ctx, c, phase); len(problems) != 0 {
		t.Fatalf("check: %v", problems)
	}

	var keys []string
	for i, wantChanged := range []bool{true, false} {
		start := time.Now()
		notes, err := notesOf(t, func(ctx context.Context) error { return e.Deploy(ctx, c, phase) })
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, strings.Join(out.get(), "\n"))
		}
		t.Logf("run %d: the facts phase took %s", i+1, time.Since(start).Round(10*time.Millisecond))
		last := notes[len(notes)-1]
		if last.Unchanged == wantChanged || !strings.HasPrefix(last.Did, "read 6 facts from controllers[0]") {
			t.Errorf("run %d: note %+v, want changed=%v, read 6 facts", i+1, last, wantChanged)
		}
		key, err := ceph.Ceph(ctx, "auth", "print-key", "client.kube")
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, strings.TrimSpace(string(key)))
		if got := facts.Of(c.Name)["keyring"]; got != keys[i] {
			t.Errorf("run %d: the keyring fact is not client.kube's key", i+1)
		}
	}
	if keys[0] == "" || keys[0] != keys[1] {
		t.Error("client.kube's key changed between the runs")
	}
	pools, err := ceph.Ceph(ctx, "osd", "pool", "ls")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(pools)); !slices.Equal(got, []string{"kube"}) {
		t.Errorf("pools %v, want [kube]", got)
	}
	app, err := ceph.Ceph(ctx, "osd", "pool", "application", "get", "kube")
	if err != nil || !strings.Contains(string(app), `"rbd"`) {
		t.Errorf("kube's applications %s (%v), want rbd", app, err)
	}
	admin, err := ceph.Ceph(ctx, "auth", "print-key", "client.admin")
	if err != nil {
		t.Fatal(err)
	}

	// The charts' values and objects carry the live cluster's facts.
	registry := components.Default()
	csi, _ := registry.Get("csi")
	v, err := csi.OwnValues(settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	cluster := v["csiConfig"].([]any)[0].(map[string]any)
	if cluster["clusterID"] != ceph.FSID || !slices.Equal(cluster["monitors"].([]any), []any{ceph.IP}) {
		t.Errorf("csiConfig %v, want fsid %s and monitor %s", cluster, ceph.FSID, ceph.IP)
	}
	if v["storageClass"].(map[string]any)["clusterID"] != ceph.FSID {
		t.Errorf("storageClass %v, want clusterID %s", v["storageClass"], ceph.FSID)
	}
	if v["secret"].(map[string]any)["userKey"] != keys[0] {
		t.Error("csi's secret.userKey is not client.kube's key")
	}
	provisioners, _ := registry.Get("ceph-provisioners")
	objs, err := provisioners.Objects(settings)
	if err != nil {
		t.Fatal(err)
	}
	var sawKey, sawMonitor bool
	for _, o := range objs {
		switch o.GetKind() {
		case "Secret":
			sawKey = o.Object["stringData"].(map[string]any)["key"] == strings.TrimSpace(string(admin))
		case "Endpoints":
			subsets := o.Object["subsets"].([]any)
			addrs := subsets[0].(map[string]any)["addresses"].([]any)
			sawMonitor = len(addrs) == 1 && addrs[0].(map[string]any)["ip"] == ceph.IP
		}
	}
	if !sawKey || !sawMonitor {
		t.Errorf("ceph-provisioners' objects: client.admin key in the Secret %v, monitor in the Endpoints %v; want both", sawKey, sawMonitor)
	}

	// rook-ceph-cluster's external cluster: the rook-ceph-mon Secret and
	// the rook-ceph-mon-endpoints ConfigMap, as the rook_ceph_cluster role
	// makes them from the monitor.
	monKey, err := ceph.Ceph(ctx, "auth", "print-key", "mon.")
	if err != nil {
		t.Fatal(err)
	}
	rook, _ := registry.Get("rook-ceph-cluster")
	// The gateway's keystone user and public Ingress need these.
	settings.Vars["openstack_helm_endpoints_region_name"] = "RegionOne"
	settings.Vars["openstack_helm_endpoints_keystone_api_host"] = "identity.example.com"
	settings.Secret = func(name string) (string, error) { return "secret-of-" + name, nil }
	if objs, err = rook.Objects(settings); err != nil {
		t.Fatal(err)
	}
	var monSecret map[string]any
	var monEndpoints string
	for _, o := range objs {
		switch o.GetKind() + "/" + o.GetName() {
		case "Secret/rook-ceph-mon":
			monSecret = o.Object["stringData"].(map[string]any)
		case "ConfigMap/rook-ceph-mon-endpoints":
			monEndpoints, _ = o.Object["data"].(map[string]any)["data"].(string)
		}
	}
	if monSecret == nil || monSecret["fsid"] != ceph.FSID || monSecret["admin-secret"] != strings.TrimSpace(string(admin)) ||
		monSecret["mon-secret"] != strings.TrimSpace(string(monKey)) {
		t.Errorf("rook-ceph-mon: fsid %v, the admin key %v, the monitors' key %v; want %s and both keys", monSecret["fsid"],
			monSecret["admin-secret"] == strings.TrimSpace(string(admin)), monSecret["mon-secret"] == strings.TrimSpace(string(monKey)), ceph.FSID)
	}
	if name, addr, _ := strings.Cut(monEndpoints, "="); name == "" || !strings.HasPrefix(addr, ceph.IP+":") {
		t.Errorf("rook-ceph-mon-endpoints data %q, want the leader's name=%s:port", monEndpoints, ceph.IP)
	}

	// No key reached the output.
	for _, line := range out.get() {
		for _, secret := range []string{keys[0], strings.TrimSpace(string(admin)), strings.TrimSpace(string(monKey))} {
			if strings.Contains(line, secret) {
				t.Fatalf("a Ceph key reached the output: %q", strings.ReplaceAll(line, secret, "[KEY]"))
			}
		}
	}
	if _, err := exec.LookPath("cephadm"); err == nil {
		t.Log("note: a real cephadm is on PATH; the play used the stand-in first on its PATH")
	}
}

// fakeRunner stands for ansible-playbook in the checks' test: it is never
// run.
type fakeRunner struct{}

func (fakeRunner) RunFacts(context.Context, Job) (Yield, error) { return Yield{}, nil }

// TestFactsCheck: with facts missing from the inventory, the check before
// the run names them when the play cannot read them (no host in the
// monitors' group, no hosts file, no Ansible); it says nothing when the
// inventory gives them all or the play can run.
func TestFactsCheck(t *testing.T) {
	c, phase := factsComponent(t)
	given := map[string]any{
		"ceph_csi_rbd_ceph_fsid":     "6f2b7f3a-1c1e-4f0e-9d6a-0c9c2f0a7b10",
		"ceph_csi_rbd_monitors":      []any{"10.0.0.1"},
		"ceph_csi_rbd_keyring":       "AQBkey==",
		"_ceph_provisioners_keyring": map[string]any{"key": "AQBadmin=="},
	}
	withControllers := func(pattern string) ([]string, error) {
		if pattern == "controllers[0]" {
			return []string{"ctl1"}, nil
		}
		return nil, nil
	}
	noHosts := func(string) ([]string, error) { return nil, nil }
	tests := []struct {
		name   string
		vars   map[string]any
		hosts  func(string) ([]string, error)
		runner FactRunner
		want   []string // in the one problem; none when empty
	}{
		{"all given, nothing else", given, nil, nil, nil},
		{"none given, a monitor and Ansible", map[string]any{}, withControllers, fakeRunner{}, nil},
		{"none given, no monitor", map[string]any{}, noHosts, fakeRunner{},
			[]string{"ceph_csi_rbd_ceph_fsid, ceph_csi_rbd_monitors, ceph_csi_rbd_keyring, _ceph_provisioners_keyring.key", "no host controllers[0]"}},
		{"none given, no hosts file", map[string]any{}, nil, fakeRunner{}, []string{"ceph_csi_rbd_ceph_fsid", "no hosts file"}},
		{"none given, no Ansible", map[string]any{}, withControllers, nil, []string{"ceph_csi_rbd_keyring", "Ansible is not available"}},
		{"admin key missing, no monitor", map[string]any{"ceph_csi_rbd_ceph_fsid": "x", "ceph_csi_rbd_monitors": []any{"10.0.0.1"},
			"ceph_csi_rbd_keyring": "AQBkey=="}, noHosts, fakeRunner{}, []string{"does not give _ceph_provisioners_keyring.key, and"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := components.DefaultSettings()
			s.Vars = tt.vars
			e := &FactsEngine{Runner: tt.runner, Settings: s, Hosts: tt.hosts, Store: func(string, string, string) {}}
			problems := e.Check(context.Background(), c, phase)
			if len(tt.want) == 0 {
				if len(problems) != 0 {
					t.Fatalf("problems %v, want none", problems)
				}
				return
			}
			if len(problems) != 1 {
				t.Fatalf("problems %v, want one", problems)
			}
			msg := problems[0].Err.Error()
			t.Logf("check: %s", msg)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("problem %q does not say %q", msg, w)
				}
			}
		})
	}
}

// TestParseYield: the facts file's strings stay as they are, other values
// become their JSON text; a file that is not facts is an error that quotes
// nothing of it.
func TestParseYield(t *testing.T) {
	y, err := parseYield("c", []byte(`{"changed": "True", "facts": {"fsid": "abc", "monitors": ["10.0.0.1"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !y.Changed || y.Facts["fsid"] != "abc" || y.Facts["monitors"] != `["10.0.0.1"]` {
		t.Errorf("yield %+v", y)
	}
	if _, err := parseYield("c", []byte(`AQBsecret==`)); err == nil || strings.Contains(err.Error(), "AQBsecret") {
		t.Errorf("error %v: want one that does not quote the file", err)
	}
}
