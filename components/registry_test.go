package components

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/dag"
)

const shared = "../../shared"

func TestDefaultRegistryHas58Components(t *testing.T) {
	if n := len(Default().Components()); n != 58 {
		t.Errorf("%d components, want 58", n)
	}
}

func TestChartVersionsMatchTheSharedCharts(t *testing.T) {
	dir := filepath.Join(shared, "atmosphere", "charts")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("shared charts not found beside the checkout: %v", err)
	}
	for _, c := range Default().Components() {
		if c.Chart == nil {
			if slices.Contains(c.Kinds, Helm) {
				t.Errorf("%s: Helm component without a chart", c.Name)
			}
			continue
		}
		if c.Release == "" || c.Namespace == "" {
			t.Errorf("%s: release %q namespace %q", c.Name, c.Release, c.Namespace)
		}
		e, ok := charts.Default().Lookup(*c.Chart)
		if !ok {
			t.Errorf("%s: chart %s is not in the catalogue", c.Name, c.Chart)
			continue
		}
		if e.IsOCI() {
			continue // cert-manager is not among the shared charts
		}
		raw, err := os.ReadFile(filepath.Join(dir, c.Chart.Name, "Chart.yaml"))
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		var meta struct{ Name, Version string }
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Name != c.Chart.Name || meta.Version != c.Chart.Version {
			t.Errorf("%s: registry pins %s, Chart.yaml says %s@%s", c.Name, c.Chart, meta.Name, meta.Version)
		}
	}
}

// measured reads the parallel orchestrator's timings.
func measured(t *testing.T) map[string]time.Duration {
	t.Helper()
	f, err := os.Open(filepath.Join(shared, "data", "seed-aio-ovn-durations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Duration{}
	for _, row := range rows[1:] {
		sec, err := strconv.Atoi(row[1])
		if err != nil {
			t.Fatal(err)
		}
		out[row[0]] = time.Duration(sec) * time.Second
	}
	return out
}

func TestEstimatesAreTheMeasuredDurations(t *testing.T) {
	m := measured(t)
	reg := Default()
	for name, d := range m {
		c, ok := reg.Get(name)
		if !ok {
			t.Errorf("timings name %s, which the registry lacks", name)
			continue
		}
		if c.Estimate() != d {
			t.Errorf("%s: estimate %v, measured %v", name, c.Estimate(), d)
		}
	}
}

func TestGraphIsValidForEveryConfiguration(t *testing.T) {
	reg := Default()
	for _, backend := range []string{BackendOpenvswitch, BackendOVN} {
		for _, flags := range []int{0, 1, 2, 3, 4, 5, 6, 7} {
			for _, driver := range append([]string{""}, CSIDrivers...) {
				cfg := Config{NetworkBackend: backend, BGPAgent: flags&1 != 0, Staffeln: flags&2 != 0, Keepalived: flags&4 != 0,
					CSIDriver: driver}
				for _, whole := range []bool{false, true} {
					if _, err := reg.Graph(cfg, GraphOptions{WholeComponents: whole}); err != nil {
						t.Errorf("%+v whole=%v: %v", cfg, whole, err)
					}
				}
			}
		}
	}
}

func TestConditionalComponents(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		present  []string
		absent   []string
		needsOf  string
		needsHas []string
		// needsLacks are needs needsOf must not have.
		needsLacks []string
	}{
		{
			name: "default: openvswitch with coredns", cfg: DefaultConfig(),
			present: []string{"coredns", "openvswitch", "staffeln", "keepalived", "csi"},
			absent:  []string{"ovn", "frr-k8s", "local-path-provisioner"},
			needsOf: "neutron:install", needsHas: []string{"coredns:install", "keystone:install"},
		},
		{
			name: "ovn with the BGP agent", cfg: Config{NetworkBackend: BackendOVN, BGPAgent: true},
			present: []string{"ovn", "frr-k8s", "openvswitch", "csi"}, absent: []string{"coredns", "staffeln", "keepalived", "local-path-provisioner"},
			needsOf: "neutron:install", needsHas: []string{"ovn:install"},
		},
		{
			name: "the rbd CSI driver: the database's storage from csi", cfg: DefaultConfig(),
			present: []string{"csi"}, absent: []string{"local-path-provisioner"},
			needsOf: "percona-xtradb-cluster:install", needsHas: []string{"csi:install"}, needsLacks: []string{"local-path-provisioner:install"},
		},
		{
			name:    "the local-path-provisioner CSI driver: the database's storage from it",
			cfg:     Config{NetworkBackend: BackendOpenvswitch, CSIDriver: CSIDriverLocalPath},
			present: []string{"local-path-provisioner"}, absent: []string{"csi"},
			needsOf: "percona-xtradb-cluster:install", needsHas: []string{"local-path-provisioner:install"}, needsLacks: []string{"csi:install"},
		},
		{
			name:    "the portworx CSI driver: the database's storage from it",
			cfg:     Config{NetworkBackend: BackendOpenvswitch, CSIDriver: CSIDriverPortworx},
			present: []string{"portworx"}, absent: []string{"csi", "local-path-provisioner"},
			needsOf: "percona-xtradb-cluster:install", needsHas: []string{"portworx:install"}, needsLacks: []string{"csi:install"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Default().Graph(tt.cfg, GraphOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.present {
				if len(Units(g, []string{c})) == 0 {
					t.Errorf("%s missing", c)
				}
			}
			for _, c := range tt.absent {
				if len(Units(g, []string{c})) != 0 {
					t.Errorf("%s present", c)
				}
			}
			n, _ := g.Node(tt.needsOf)
			for _, need := range tt.needsHas {
				if !slices.Contains(n.Needs, need) {
					t.Errorf("%s needs %v, want %s among them", tt.needsOf, n.Needs, need)
				}
			}
			for _, need := range tt.needsLacks {
				if slices.Contains(n.Needs, need) {
					t.Errorf("%s needs %v, want no %s among them", tt.needsOf, n.Needs, need)
				}
			}
		})
	}
}

func TestPhaseNeeds(t *testing.T) {
	g, err := Default().Graph(DefaultConfig(), GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		unit, ancestor string
		want           bool
	}{
		{"neutron:install", "nova:install", false},
		// neutron's set-up calls neutron's API alone; octavia's and
		// manila's call nova's, neutron's, glance's and cinder's APIs, not
		// their set-ups' objects (#25, docs/edges.md).
		{"neutron:setup", "nova:setup", false},
		{"neutron:setup", "nova:install", false},
		{"neutron:setup", "neutron:install", true},
		// The role's order: realm and client in Keycloak, then the chart
		// (its OIDC metadata carries the realm's discovery document),
		// then the federation in keystone.
		{"keystone:install", "keycloak:install", true},
		{"keystone:install", "keystone:sso", true},
		{"keystone:sso", "keystone:install", false},
		{"keystone:sso", "keycloak:strict-mode", true},
		{"keystone:setup", "keystone:install", true},
		{"keystone:setup", "keycloak:install", true},
		{"octavia:setup", "octavia:install", false},
		{"octavia:setup", "neutron:setup", false},
		{"octavia:setup", "nova:setup", false},
		{"octavia:setup", "neutron:install", true},
		{"octavia:setup", "nova:install", true},
		{"octavia:setup", "glance:install", true},
		{"octavia:setup", "cinder:install", true},
		{"manila:setup", "glance:install", true},
		{"manila:setup", "neutron:setup", false},
		// A service's RabbitMQ cluster and its queue come first: they wait
		// for no catalog entry, set-up or keycloak realm, but for the
		// default StorageClass its persistence claims (#25).
		{"keystone:rabbitmq", "keystone:sso", false},
		{"keystone:sso", "keystone:queue", true},
		{"octavia:queue", "octavia:setup", false},
		{"nova:rabbitmq", "csi:install", true},
		{"octavia:install", "octavia:setup", true},
		{"octavia:catalog", "keystone:install", true},
		{"octavia:catalog", "keystone:setup", false},
		{"glance:install", "glance:catalog", true},
		{"manila:install", "manila:setup", true},
		{"magnum:install", "glance:install", false},
		{"magnum:setup", "glance:install", true},
		{"manila:setup", "cinder:install", true},
	}
	for _, tt := range tests {
		got := slices.Contains(g.Ancestors(tt.unit), tt.ancestor)
		if got != tt.want {
			t.Errorf("%s waits for %s: %v, want %v", tt.unit, tt.ancestor, got, tt.want)
		}
	}
}

func TestWholeComponentsUnionTheirPhases(t *testing.T) {
	g, err := Default().Graph(DefaultConfig(), GraphOptions{WholeComponents: true})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := g.Node("keystone")
	if !ok {
		t.Fatal("no keystone unit")
	}
	for _, need := range []string{"keycloak", "percona-xtradb-cluster", "memcached"} {
		if !slices.Contains(n.Needs, need) {
			t.Errorf("keystone needs %v, want %s among them", n.Needs, need)
		}
	}
	if !slices.Contains(n.Resources, ResourceKeycloakAdmin) || !slices.Contains(n.Resources, ResourceKubeAPI) {
		t.Errorf("keystone holds %v", n.Resources)
	}
	if n.Cost != 229*time.Second {
		t.Errorf("keystone cost %v, want 229s", n.Cost)
	}
}

func TestCriticalPathOfTheMeasuredTimings(t *testing.T) {
	g, err := Default().Graph(DefaultConfig(), GraphOptions{WholeComponents: true, Durations: measured(t)})
	if err != nil {
		t.Fatal(err)
	}
	path, length, err := g.CriticalPath()
	if err != nil {
		t.Fatal(err)
	}
	// kubernetes 506 + cert-manager 31 + the Percona operator 10 and
	// cluster 91 + keycloak 172 + keystone 229 + placement 120 + nova 231
	// + octavia 289: nova no longer waits for glance (316), whose image
	// service its compute pods wait for themselves, and octavia's set-up
	// no longer for neutron's (200), whose networks it does not read
	// (#25, docs/edges.md).
	if length != 1679*time.Second {
		t.Errorf("critical path %v (%v), want 1679s", length, path)
	}
}

func TestDurationsSplitAWholeComponentByItsEstimates(t *testing.T) {
	g, err := Default().Graph(DefaultConfig(), GraphOptions{Durations: map[string]time.Duration{
		"octavia":         578 * time.Second, // twice the estimate
		"neutron:install": time.Second,
	}})
	if err != nil {
		t.Fatal(err)
	}
	for unit, want := range map[string]time.Duration{
		"octavia:install": 372 * time.Second, "octavia:setup": 178 * time.Second, "octavia:catalog": 6 * time.Second,
		"octavia:database": 4 * time.Second, "octavia:rabbitmq": 16 * time.Second, "octavia:queue": 2 * time.Second,
		"neutron:install": time.Second, "neutron:setup": 20 * time.Second,
	} {
		if n, _ := g.Node(unit); n.Cost != want {
			t.Errorf("%s: %v, want %v", unit, n.Cost, want)
		}
	}
}

func TestSelect(t *testing.T) {
	reg := Default()
	got, err := reg.Select(DefaultConfig(), []string{"nova", "keystone", "nova"})
	if err != nil || !slices.Equal(got, []string{"keystone", "nova"}) {
		t.Errorf("Select = %v, %v", got, err)
	}
	_, err = reg.Select(DefaultConfig(), []string{"keystne", "ovn", "zzzzzzzz"})
	for _, want := range []string{`unknown component "keystne" (did you mean "keystone"?)`, `"ovn" is disabled`, `unknown component "zzzzzzzz"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q in it", err, want)
		}
	}
}

func TestNewRegistryReportsEveryProblem(t *testing.T) {
	_, err := NewRegistry(
		&Component{Name: "a", Phases: []Phase{{Name: "install", Kind: Helm, Needs: []string{"ghost", "b:nope"}}}},
		&Component{Name: "b", Phases: []Phase{{Name: "install", Kind: "bogus"}}},
		&Component{Name: "b", Phases: []Phase{{Name: "install", Kind: Helm}}},
		&Component{Name: "c"},
	)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{`needs unknown component "ghost"`, `needs unknown phase "nope" of b`,
		`unknown kind "bogus"`, "b: declared twice", "c: no phases"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// fakeDeployer records the phases it was asked to deploy and fails those
// listed in fail.
type fakeDeployer struct {
	mu   sync.Mutex
	done []string
	fail map[string]bool
}

func (f *fakeDeployer) Deploy(_ context.Context, c *Component, p Phase) error {
	key := UnitKey(c.Name, p.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[key] {
		return errors.New("chart broke")
	}
	f.done = append(f.done, key)
	return nil
}

func TestRunWithAFakeDeployer(t *testing.T) {
	reg := Default()
	for _, whole := range []bool{false, true} {
		g, err := reg.Graph(DefaultConfig(), GraphOptions{WholeComponents: whole})
		if err != nil {
			t.Fatal(err)
		}
		f := &fakeDeployer{fail: map[string]bool{"nova:install": true}}
		res, err := reg.Run(context.Background(), g, f, dag.Options[string]{Concurrency: 8, Resources: DefaultCaps()})
		if err == nil || !strings.Contains(err.Error(), "nova install: chart broke") {
			t.Fatalf("whole=%v: err = %v, want nova's failure", whole, err)
		}
		if got := res.Failed(); len(got) != 1 || !strings.HasPrefix(got[0], "nova") {
			t.Errorf("whole=%v: root causes %v", whole, got)
		}
		// Phases of a component run in order, and neutron's chart and
		// set-up do not wait for nova; octavia's set-up does.
		pos := func(k string) int { return slices.Index(f.done, k) }
		if pos("keystone:install") < 0 || pos("keystone:setup") < pos("keystone:install") {
			t.Errorf("whole=%v: keystone phases out of order: %v", whole, f.done)
		}
		if !whole {
			if pos("neutron:install") < 0 {
				t.Error("neutron's install was skipped for nova's failure")
			}
			if pos("neutron:setup") < 0 {
				t.Error("neutron's setup was skipped for nova's failure")
			}
			if pos("octavia:setup") >= 0 {
				t.Error("octavia's setup ran though nova failed")
			}
		}
	}
}

// BenchmarkSimulateMeasuredTimings lowers the registry with the measured
// timings and simulates it under the default caps, with the bounds: what
// `atmosphere simulate` does besides reading the file.
func BenchmarkSimulateMeasuredTimings(b *testing.B) {
	reg := Default()
	f, err := os.Open(filepath.Join(shared, "data", "seed-aio-ovn-durations.csv"))
	if err != nil {
		b.Fatal(err)
	}
	durations, err := reg.ReadTimings(f, "timings", false)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g, err := reg.Graph(Config{}, GraphOptions{AllComponents: true, WholeComponents: true, Durations: durations})
		if err != nil {
			b.Fatal(err)
		}
		opts := dag.Options[string]{Resources: DefaultCaps()}
		if _, err := dag.Simulate(g, func(k string) (time.Duration, error) {
			n, _ := g.Node(k)
			return n.Cost, nil
		}, opts); err != nil {
			b.Fatal(err)
		}
		if _, err := dag.LowerBounds(g, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPhaseSharesOfMeasuredTimings: a component's measured time split over
// its phases by their estimates gives each phase whole milliseconds whose
// sum is the component's time (no float remainder in plans and reports).
func TestPhaseSharesOfMeasuredTimings(t *testing.T) {
	reg := Default()
	f, err := os.Open(filepath.Join(shared, "data", "seed-aio-ovn-durations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	durations, err := reg.ReadTimings(f, "timings", false)
	if err != nil {
		t.Fatal(err)
	}
	g, err := reg.Graph(Config{}, GraphOptions{AllComponents: true, Durations: durations})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]time.Duration{}
	for _, key := range g.Keys() {
		n, _ := g.Node(key)
		if n.Cost%time.Millisecond != 0 {
			t.Errorf("%s: %s is not whole milliseconds", key, n.Cost)
		}
		name, _ := SplitUnit(key)
		sums[name] += n.Cost
	}
	for name, whole := range durations {
		if diff := sums[name] - whole; diff < -time.Millisecond || diff > time.Millisecond {
			t.Errorf("%s: its phases sum to %s, measured %s", name, sums[name], whole)
		}
	}
}

// TestOVNWaitsForItsStorage: the ovn chart's ovsdb StatefulSets claim
// volumes of the class ceph-csi-rbd makes, so ovn installs after csi.
func TestOVNWaitsForItsStorage(t *testing.T) {
	c := DefaultConfig()
	c.NetworkBackend = BackendOVN
	g, err := Default().Graph(c, GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(g.Ancestors("ovn:install"), "csi:install") {
		t.Errorf("ovn:install does not wait for csi:install; it waits for %v", g.Ancestors("ovn:install"))
	}
	c.CSIDriver = CSIDriverLocalPath
	if g, err = Default().Graph(c, GraphOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(g.Ancestors("ovn:install"), "local-path-provisioner:install") {
		t.Errorf("with csi_driver local-path-provisioner, ovn:install does not wait for local-path-provisioner:install; it waits for %v",
			g.Ancestors("ovn:install"))
	}
}

// TestStorageUsersNeedEveryProvider: a phase that needs one of the
// components providing the StorageClass general (storageProviders, one
// for each CSI driver) needs them all, so that it waits for its storage
// whichever driver the inventory picks; exactly one provider is enabled
// for each driver, and the one its name says.
func TestStorageUsersNeedEveryProvider(t *testing.T) {
	users := 0
	for _, c := range Default().Components() {
		for _, p := range c.Phases {
			n := 0
			for _, provider := range storageProviders {
				if slices.ContainsFunc(p.Needs, func(need string) bool { return need == provider || strings.HasPrefix(need, provider+":") }) {
					n++
				}
			}
			if n > 0 {
				users++
			}
			if n > 0 && n < len(storageProviders) {
				t.Errorf("%s needs %v: some of the StorageClass general's providers %v, not all", UnitKey(c.Name, p.Name), p.Needs, storageProviders)
			}
		}
	}
	if users < 5 {
		t.Errorf("%d phases need the StorageClass general's providers, want kube-prometheus-stack, loki, ovn, percona-xtradb-cluster, valkey at least", users)
	}
	want := map[string]string{CSIDriverRBD: "csi", CSIDriverLocalPath: "local-path-provisioner", CSIDriverHPENimble: "hpe-csi-driver", CSIDriverStorPool: "storpool-csi", CSIDriverIBMBlock: "ibm-block-csi-driver", CSIDriverPortworx: "portworx"}
	for _, driver := range CSIDrivers {
		var enabled []string
		for _, name := range storageProviders {
			if c, ok := Default().Get(name); ok && c.IsEnabled(Config{CSIDriver: driver}) {
				enabled = append(enabled, name)
			}
		}
		if len(enabled) != 1 || enabled[0] != want[driver] {
			t.Errorf("csi_driver %s enables %v, want %s alone", driver, enabled, want[driver])
		}
	}
}
