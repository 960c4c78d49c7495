package kubephase

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
)

func TestMain(m *testing.M) {
	kube.ManagedFieldsManager = manifest.FieldManager
	log.SetOutput(io.Discard) // the chart loader warns about apiVersion v1 charts
	testenv.Main(m)
}

var (
	sharedCharts = filepath.Join("..", "..", "..", "shared", "atmosphere", "charts")
	testCharts   = filepath.Join("..", "..", "testdata", "charts")
)

// kwokValues are the kwok inventory's <name>_helm_values, by component
// (the name or the release's, "_" for "-"), as a deploy maps them.
func kwokValues(t testing.TB) map[string]values.Values {
	t.Helper()
	inv, err := inventory.Load(kwokInventory, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	s, err := inv.Settings()
	if err != nil {
		t.Fatal(err)
	}
	byPrefix := components.Default().ValuesPrefixes()
	out := map[string]values.Values{}
	for prefix, v := range s.HelmValues {
		name, ok := byPrefix[prefix]
		if !ok {
			t.Fatalf("%s: %s_helm_values names no component", kwokInventory, prefix)
		}
		out[name] = v
	}
	return out
}

// chartLoader loads the pinned charts from atmosphere's chart directory
// and the test charts.
func chartLoader() *charts.Loader {
	return &charts.Loader{Catalog: charts.Default(), Sources: []charts.Source{
		charts.DirSource{Dir: sharedCharts}, charts.DirSource{Dir: testCharts}}}
}

// kwokInventory is the inventory of the test clusters.
const kwokInventory = "../../testdata/inventories/kwok"

func newStack(t testing.TB, cfg *rest.Config, overrides map[string]values.Values) *Stack {
	t.Helper()
	f, err := helmrelease.NewFactory(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	applier, err := manifest.NewApplierForConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The kwok inventory's variables (its ceph facts among them), and
	// secrets generated into the cluster as a deploy does.
	inv, err := inventory.Load(kwokInventory, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	settings := components.DefaultSettings()
	settings.Vars = inv.Vars
	cs := kubernetes.NewForConfigOrDie(cfg)
	store := &secrets.Store{Client: cs, Namespace: "kube-system", Name: "atmosphere-stack-test-secrets"}
	settings.Secret = func(name string) (string, error) { return store.Get(context.Background(), secrets.VarKey(name)) }
	settings.ClusterSecret = func(name, key string) (string, error) {
		sec, err := cs.CoreV1().Secrets("openstack").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return string(sec.Data[key]), nil
	}
	// kwok's pods run nothing to exec into: the guards' commands are
	// recorded (testenv.RecordedExec).
	guarded, err := NewKube(cfg)
	if err != nil {
		t.Fatal(err)
	}
	guarded.Exec = &testenv.RecordedExec{}
	return &Stack{
		Cluster:   guarded,
		Charts:    chartLoader(),
		Helm:      helmrelease.New(f, nil),
		Manifests: applier,
		Config:    settings,
		Overrides: overrides,
		Timeouts:  testTimeouts(),
	}
}

// testTimeouts bound every component to three minutes: on kwok a healthy
// release is ready in seconds, and a stuck one should fail the test well
// before go test's own timeout.
func testTimeouts() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, c := range components.Default().Components() {
		out[c.Name] = 3 * time.Minute
	}
	return out
}

// kubeUnits are the Helm and manifest units of the default deployment.
func kubeUnits(t testing.TB, reg *components.Registry, cfg components.Config) *dag.Graph[string] {
	t.Helper()
	g, err := reg.Graph(cfg, components.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, key := range g.Keys() {
		name, phase := components.SplitUnit(key)
		c, _ := reg.Get(name)
		if p, _ := c.Phase(phase); p.Kind == components.Helm || p.Kind == components.Manifest {
			keys = append(keys, key)
		}
	}
	// In the whole graph's order: a unit that needed an OpenStack unit
	// left out needs what that one needed.
	sub, err := g.Contract(keys)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func deploy(t *testing.T, s *Stack, g *dag.Graph[string]) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	reg := components.Default()
	start := time.Now()
	res, err := reg.Run(ctx, g, s, dag.Options[string]{Concurrency: 16, Resources: components.DefaultCaps()})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	took := time.Since(start)
	var units []dag.NodeResult[string]
	for _, n := range res.Nodes {
		units = append(units, n)
	}
	slices.SortFunc(units, func(a, b dag.NodeResult[string]) int { return int(b.End.Sub(b.Start) - a.End.Sub(a.Start)) })
	var slowest []string
	for _, n := range units[:min(5, len(units))] {
		slowest = append(slowest, fmt.Sprintf("%s %s", n.Key, n.End.Sub(n.Start).Round(time.Millisecond)))
	}
	t.Logf("run took %s; slowest units: %s", took.Round(time.Millisecond), strings.Join(slowest, ", "))
	return took
}

// releases lists every Helm release of the cluster: name → last revision.
func releases(t *testing.T, cs kubernetes.Interface) map[string]*release.Release {
	t.Helper()
	secrets, err := cs.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*release.Release{}
	for _, s := range secrets.Items {
		key := s.Namespace + "/" + s.Labels["name"]
		v := 0
		fmt.Sscan(s.Labels["version"], &v)
		if cur, ok := out[key]; ok && cur.Version >= v {
			continue
		}
		out[key] = &release.Release{Name: s.Labels["name"], Namespace: s.Namespace, Version: v,
			Info: &release.Info{Status: release.Status(s.Labels["status"])}}
	}
	return out
}

// TestRealChartsDeploy installs every Helm and manifest component of the
// default (openvswitch) deployment from atmosphere's own charts, on a
// cluster of its own, through the scheduler; then re-runs it (nothing may
// change) and runs it once more with one value changed (only that release
// may be upgraded).
func TestRealChartsDeploy(t *testing.T) {
	cfg := testenv.PrivateKube(t, 3)
	cfg.QPS, cfg.Burst = 200, 400
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	overrides := kwokValues(t)
	s := newStack(t, cfg, overrides)
	reg := components.Default()
	g := kubeUnits(t, reg, s.Config.Config)

	took := deploy(t, s, g)
	first := releases(t, cs)
	var helmUnits, manifestUnits int
	for _, key := range g.Keys() {
		name, phase := components.SplitUnit(key)
		c, _ := reg.Get(name)
		if p, _ := c.Phase(phase); p.Kind == components.Helm {
			helmUnits++
			if r, ok := first[c.Namespace+"/"+c.Release]; !ok || r.Info.Status != release.StatusDeployed || r.Version != 1 {
				t.Errorf("%s: release %s/%s is %+v, want deployed at revision 1", name, c.Namespace, c.Release, r)
			}
		} else {
			manifestUnits++
		}
	}
	t.Logf("first run: %d releases and %d manifest components in %s", helmUnits, manifestUnits, took.Round(time.Millisecond))
	if len(first) != helmUnits {
		t.Errorf("%d releases in the cluster, want %d", len(first), helmUnits)
	}
	checkHookJobsComplete(t, cs)
	checkNothingInDefault(t, cs)
	checkExtraObjects(t, cfg)
	if _, err := cs.AppsV1().DaemonSets("openstack").Get(context.Background(), "magnum-cluster-api-proxy", metav1.GetOptions{}); err != nil {
		t.Errorf("magnum's proxy, applied after its release: %v", err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(context.Background(), "magnum-cluster-api", metav1.GetOptions{}); err != nil {
		t.Errorf("magnum's cluster role binding, applied before its release: %v", err)
	}

	// Second run: nothing changes.
	s = newStack(t, cfg, overrides)
	took = deploy(t, s, g)
	for _, o := range s.Outcomes() {
		if o.Helm != nil && o.Helm.Action != helmrelease.Unchanged {
			t.Errorf("re-run: %s %s: %s %v", o.Component, o.Phase, o.Helm.Action, o.Helm.Reasons)
		}
		if o.Manifests != nil && len(o.Manifests.Changed)+o.Manifests.Pruned+o.Manifests.Created > 0 {
			t.Errorf("re-run: %s changed objects: %+v", o.Component, o.Manifests)
		}
	}
	if second := releases(t, cs); !sameRevisions(first, second) {
		t.Errorf("the re-run made new revisions")
	}
	t.Logf("no-op re-run: %s, 0 new revisions", took.Round(time.Millisecond))

	// Third run: one value of memcached changes; only memcached upgrades.
	changed := maps.Clone(overrides)
	changed["memcached"] = values.Merge(overrides["memcached"], values.Values{"pod": map[string]any{"replicas": map[string]any{"server": int64(2)}}})
	s = newStack(t, cfg, changed)
	deploy(t, s, g)
	var upgraded []string
	for _, o := range s.Outcomes() {
		if o.Helm != nil && o.Helm.Action != helmrelease.Unchanged {
			upgraded = append(upgraded, fmt.Sprintf("%s(%s %v)", o.Component, o.Helm.Action, o.Helm.Reasons))
		}
	}
	if len(upgraded) != 1 || !strings.HasPrefix(upgraded[0], "memcached(upgrade [values])") {
		t.Errorf("one changed value upgraded %v, want memcached alone, for its values", upgraded)
	}
	third := releases(t, cs)
	for key, r := range third {
		want := first[key].Version
		if key == "openstack/memcached" {
			want++
		}
		if r.Version != want || r.Info.Status != release.StatusDeployed {
			t.Errorf("%s: revision %d %s, want %d deployed", key, r.Version, r.Info.Status, want)
		}
	}
}

func sameRevisions(a, b map[string]*release.Release) bool {
	if len(a) != len(b) {
		return false
	}
	for k, r := range a {
		if o, ok := b[k]; !ok || o.Version != r.Version || o.Info.Status != r.Info.Status {
			return false
		}
	}
	return true
}

// checkHookJobsComplete checks that every Helm hook Job left in the cluster
// completed.
func checkHookJobsComplete(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	jobs, err := cs.BatchV1().Jobs("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hooks := 0
	for _, j := range jobs.Items {
		if _, ok := j.Annotations["helm.sh/hook"]; !ok {
			continue
		}
		hooks++
		complete := slices.ContainsFunc(j.Status.Conditions, func(c batchv1.JobCondition) bool {
			return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
		})
		if !complete {
			t.Errorf("hook Job %s/%s is not complete: %+v", j.Namespace, j.Name, j.Status)
		}
	}
	t.Logf("%d hook Jobs left in the cluster, all complete", hooks)
}

// checkNothingInDefault checks that no release put objects in "default":
// charts' namespace-less manifests land in their release namespace.
func checkNothingInDefault(t testing.TB, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=Helm"}
	var found []string
	// A List that fails fails the check: it must not pass for want of
	// looking.
	listed := func(kind string, err error) bool {
		if err != nil {
			t.Errorf("list the %ss of default: %v", kind, err)
		}
		return err == nil
	}
	if l, err := cs.CoreV1().ConfigMaps("default").List(ctx, sel); listed("ConfigMap", err) {
		for _, o := range l.Items {
			found = append(found, "ConfigMap/"+o.Name)
		}
	}
	if l, err := cs.AppsV1().Deployments("default").List(ctx, sel); listed("Deployment", err) {
		for _, o := range l.Items {
			found = append(found, "Deployment/"+o.Name)
		}
	}
	if l, err := cs.CoreV1().Services("default").List(ctx, sel); listed("Service", err) {
		for _, o := range l.Items {
			found = append(found, "Service/"+o.Name)
		}
	}
	if l, err := cs.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{}); listed("Secret", err) {
		for _, o := range l.Items {
			found = append(found, "Secret/"+o.Name)
		}
	}
	if len(found) > 0 {
		t.Errorf("objects landed in default: %v", found)
	}
}

// checkExtraObjects checks that the Helm components' own objects (the
// certificates and issuers of valkey, libvirt and octavia) were applied by
// atmosphere.
func checkExtraObjects(t *testing.T, cfg *rest.Config) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(cfg)
	want := map[string][]string{
		"certificates": {"valkey-ca", "valkey-server", "libvirt-vnc-ca", "libvirt-api-ca", "octavia-client-ca", "octavia-server-ca", "octavia-client-certs"},
		"issuers":      {"valkey", "libvirt-vnc", "libvirt-api", "octavia-client", "octavia-server"},
	}
	// Each service's RabbitMQ cluster and public Ingress, keycloak's Ingress,
	// the operators' CRDs applied by atmosphere itself.
	for _, o := range []struct {
		gvr             schema.GroupVersionResource
		namespace, name string
	}{
		{schema.GroupVersionResource{Group: "rabbitmq.com", Version: "v1beta1", Resource: "rabbitmqclusters"}, "openstack", "rabbitmq-nova"},
		{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, "openstack", "compute"},
		{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, "auth-system", "keycloak"},
		{schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}, "", "rabbitmqclusters.rabbitmq.com"},
		{schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}, "", "prometheuses.monitoring.coreos.com"},
		{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, "openstack", "container-infra-registry"},
		{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "openstack", "memcached-metrics"},
		{schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}, "cert-manager", "kube-prometheus-stack-ca"},
		{schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}, "", "kube-prometheus-stack"},
	} {
		u, err := dyn.Resource(o.gvr).Namespace(o.namespace).Get(context.Background(), o.name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s %s: %v", o.gvr.Resource, o.name, err)
			continue
		}
		managers := []string{}
		for _, f := range u.GetManagedFields() {
			managers = append(managers, f.Manager)
		}
		if !slices.Contains(managers, manifest.FieldManager) {
			t.Errorf("%s %s is not applied by atmosphere: managers %v", o.gvr.Resource, o.name, managers)
		}
	}
	// The oauth2-proxy sidecars' environment holds the client's and the
	// cookie's secrets, as secretgen-controller would make it.
	cs := kubernetes.NewForConfigOrDie(cfg)
	secretOf := func(name, key string) string {
		s, err := cs.CoreV1().Secrets("monitoring").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("Secret monitoring/%s: %v", name, err)
			return ""
		}
		return string(s.Data[key])
	}
	client := secretOf("kube-prometheus-stack-prometheus-client-secret", "password")
	cookie := secretOf("kube-prometheus-stack-prometheus-cookie-secret", "password")
	if client == "" || cookie == "" || secretOf("kube-prometheus-stack-prometheus-oauth2-proxy", "OAUTH2_PROXY_CLIENT_SECRET") != client ||
		secretOf("kube-prometheus-stack-prometheus-oauth2-proxy", "OAUTH2_PROXY_COOKIE_SECRET") != cookie {
		t.Error("prometheus's oauth2-proxy Secret does not hold its client and cookie secrets")
	}
	for resource, names := range want {
		gvr := schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: resource}
		for _, name := range names {
			u, err := dyn.Resource(gvr).Namespace("openstack").Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				t.Errorf("%s %s: %v", resource, name, err)
				continue
			}
			if u.GetLabels()[manifest.LabelManagedBy] != "atmosphere" {
				t.Errorf("%s %s is not atmosphere's: labels %v", resource, name, u.GetLabels())
			}
		}
	}
}
