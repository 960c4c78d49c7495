package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// The references of the fidelity work (internal/kubephase/fidelity_test.go):
// the values and objects atmosphere's roles render for the fidelity
// inventory, and the differences from them that atmosphere documents.
const (
	fidelityValues    = "../testdata/fidelity/values"
	fidelityInventory = "../testdata/fidelity/inventory"
	differencesDoc    = "../docs/differences.md"
)

// ansibleComponents are the Helm components of the fidelity references
// (the values of each role, testdata/fidelity/values/<component>.json):
// the cloud the Ansible collection deployed has a release of each.
var ansibleComponents = referenceComponents()

// referenceComponents are the components fidelityValues has a values
// reference of, sorted.
func referenceComponents() []string {
	files, _ := filepath.Glob(filepath.Join(fidelityValues, "*.json")) // a constant pattern: no error
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return out
}

// kwokCloudVars are what the bed's inventory adds to the fidelity
// inventory, the same for the roles and for atmosphere (the roles merge a
// <prefix>_helm_values over what they render, as atmosphere does, so the
// bed's releases get them merged over the references): what a cluster
// whose pods never run needs (kwok.yml of the kwok inventory says why),
// and coredns's Service address in the kwok cluster's Service range
// (the reference's 10.96.0.20 is outside it).
const kwokCloudVars = `# The hosts, Kubernetes and Ceph exist: the Ansible units are provided.
atmosphere_hosts_provided: true
cert_manager_helm_values:
  webhook:
    admission: false
ingress_nginx_helm_values:
  controller:
    admissionWebhooks:
      enabled: false
    service:
      type: ClusterIP
kube_prometheus_stack_helm_values:
  prometheusOperator:
    admissionWebhooks:
      enabled: false
      patch:
        enabled: false
    tls:
      enabled: false
coredns_helm_values:
  service:
    clusterIP: 10.0.0.10
`

// ansibleCloud is a kwok cluster holding "a cloud atmosphere's Ansible
// deployed" (newAnsibleCloud), the inventory of that cloud, and a bed to
// run atmosphere on it.
type ansibleCloud struct {
	*bed
	// values are the values each component's release was installed
	// with, by component.
	values map[string]map[string]any
	// clusterSecrets are the passwords only the cluster had (what the
	// operators made), by "namespace/name key".
	clusterSecrets map[string]string
	// built is how long building the cloud took.
	built time.Duration
	// components are those of ansibleComponents the inventory enables
	// (the playbooks deploy ovn's only with its network backend).
	components []string
}

// enabledOf are the components of ansibleComponents the inventory at dir
// enables.
func enabledOf(t testing.TB, dir string) []string {
	t.Helper()
	cfg := inventoryConfig(t, dir)
	var out []string
	for _, name := range ansibleComponents {
		if c, _ := components.Default().Get(name); c.IsEnabled(cfg) {
			out = append(out, name)
		}
	}
	return out
}

// inventoryConfig is the configuration of the inventory at dir.
func inventoryConfig(t testing.TB, dir string) components.Config {
	t.Helper()
	loaded, err := inventory.Load(dir, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	is, err := loaded.Settings()
	if err != nil {
		t.Fatal(err)
	}
	return is.Config
}

// helmBin is the helm CLI the Makefile's tools target builds.
func helmBin(t testing.TB) string {
	t.Helper()
	p, err := testenv.Binary(testenv.DefaultToolsDir(), "helm")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newAnsibleCloud starts a kwok cluster with the stand-in operators and
// builds on it what atmosphere's Ansible collection leaves: every Helm
// release of the fidelity references installed by the helm CLI with the
// role's values, the objects the roles apply created as
// kubernetes.core.k8s creates them, the Secrets the operators make, and the
// inventory with generate_workspace.yml's secrets.
func newAnsibleCloud(t *testing.T) *ansibleCloud {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	helm := helmBin(t)
	began := time.Now()
	c := testenv.PrivateCluster(t, bedNodes)
	up := time.Since(began)
	cfg := c.Config()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	inv := testenv.CopyDir(t, fidelityInventory)
	writeFile(t, filepath.Join(inv, "group_vars", "all", "zz-kwok-cloud.yml"), kwokCloudVars)
	dropUnwritten(t, filepath.Join(inv, "group_vars", "all", "secrets.yml"))
	a := &ansibleCloud{
		bed: &bed{t: t, cluster: c, cfg: cfg, kubeconfig: c.Kubeconfig, inventory: inv, reports: t.TempDir(),
			client: kubernetes.NewForConfigOrDie(cfg)},
		values: map[string]map[string]any{}, clusterSecrets: map[string]string{}, components: enabledOf(t, inv),
	}
	start := time.Now()
	a.operatorSecrets(ctx)
	a.install(ctx, helm)
	a.built = time.Since(start)
	t.Logf("the Ansible-deployed cloud: %d releases and their objects in %s, on a kwok cluster started in %s (not deployed with this inventory: %v)",
		len(a.components), a.built.Round(time.Millisecond), up.Round(time.Millisecond), slices.DeleteFunc(slices.Clone(ansibleComponents), func(c string) bool { return slices.Contains(a.components, c) }))
	return a
}

// unwritten matches the secrets of the fidelity inventory that
// generate_workspace.yml never writes: the monitoring UIs' Keycloak client
// and oauth2-proxy cookie secrets, which the kube_prometheus_stack role has
// secretgen-controller make (Password objects), so that in an
// Ansible-deployed cloud they are only in those Secrets.
var unwritten = regexp.MustCompile(`^kube_prometheus_stack_\w+_(client|cookie)_secret:`)

// dropUnwritten removes from the secrets file the lines of unwritten,
// failing when it holds none (the fixture changed).
func dropUnwritten(t testing.TB, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	dropped := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if unwritten.MatchString(line) {
			dropped++
			continue
		}
		kept = append(kept, line)
	}
	if dropped == 0 {
		t.Fatalf("%s: no secret of %s to drop", file, unwritten)
	}
	writeFile(t, file, strings.Join(kept, "\n"))
}

// operatorSecrets makes the Secrets the operators made in the Ansible
// cloud and the roles read back into the charts' values (the reference's
// stand-in of kubernetes.core.k8s_info answers "<name>-<key>"): the
// Percona XtraDB cluster's users and each RabbitMQ cluster's default user.
// The stand-in RabbitMQ operator keeps a default user's Secret it finds.
func (a *ansibleCloud) operatorSecrets(ctx context.Context) {
	a.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openstack"}}
	if _, err := a.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		a.t.Fatal(err)
	}
	secret := func(name string, data map[string]string) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "openstack"}, StringData: data}
		if _, err := a.client.CoreV1().Secrets("openstack").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			a.t.Fatalf("the operator's Secret openstack/%s: %v", name, err)
		}
		for k, v := range data {
			a.clusterSecrets["openstack/"+name+" "+k] = v
		}
	}
	pxc := map[string]string{}
	for _, u := range []string{"clustercheck", "monitor", "operator", "proxyadmin", "replication", "root", "xtrabackup"} {
		pxc[u] = "percona-xtradb-" + u
	}
	secret("percona-xtradb", pxc)
	for _, c := range a.components {
		for _, o := range readObjects(a.t, c) {
			if o.GetKind() != "RabbitmqCluster" {
				continue
			}
			name := o.GetName() + "-default-user"
			secret(name, map[string]string{"username": name + "-user", "password": name + "-password",
				"host": o.GetName() + ".openstack.svc", "port": "5672", "provider": "rabbitmq", "type": "rabbitmq"})
		}
	}
}

// readObjects reads the objects the role of component applies (its
// recorded reference).
func readObjects(t testing.TB, component string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fidelityValues, "objects", component+".jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil // a hand-written reference: none recorded
	} else if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		o := map[string]any{}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("objects of %s: %v", component, err)
		}
		out = append(out, &unstructured.Unstructured{Object: o})
	}
	return out
}

// installDeps are, by component, the components of ansibleComponents its
// phases need (through components that are not among them), from the
// registry: the order the Ansible playbooks deploy them in.
func installDeps(t testing.TB, names []string) map[string][]string {
	t.Helper()
	reg := components.Default()
	want := map[string]bool{}
	for _, c := range names {
		want[c] = true
	}
	memo := map[string][]string{}
	var deps func(name string, seen map[string]bool) []string
	deps = func(name string, seen map[string]bool) []string {
		if d, ok := memo[name]; ok {
			return d
		}
		c, ok := reg.Get(name)
		if !ok {
			t.Fatalf("no component %s", name)
		}
		out := map[string]bool{}
		for _, p := range c.Phases {
			for _, n := range p.Needs {
				need, _, _ := strings.Cut(n, ":")
				if need == name || seen[need] {
					continue
				}
				if want[need] {
					out[need] = true
					continue
				}
				seen[need] = true
				for _, d := range deps(need, seen) {
					out[d] = true
				}
			}
		}
		memo[name] = slices.Sorted(maps.Keys(out))
		return memo[name]
	}
	res := map[string][]string{}
	for _, c := range names {
		res[c] = deps(c, map[string]bool{c: true})
	}
	return res
}

// install installs every component as the playbooks do, concurrently
// where their order allows: each once the components it needs are
// installed, its objects first (created by a client as
// kubernetes.core.k8s's), then its release by the helm CLI. A CRD that is
// not there yet (an object or chart of a kind another component's chart
// defines) is waited for, as the playbooks' retries do.
func (a *ansibleCloud) install(ctx context.Context, helm string) {
	a.t.Helper()
	deps := installDeps(a.t, a.components)
	overrides := bedOverrides(a.t)
	done := map[string]chan struct{}{}
	for _, c := range a.components {
		done[c] = make(chan struct{})
	}
	ap := newK8sModule(a.t, a.cfg)
	var mu sync.Mutex
	var errs []error
	failed := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	helmHome := a.t.TempDir()
	reg := components.Default()
	var wg sync.WaitGroup
	for _, name := range a.components {
		c, _ := reg.Get(name)
		values := referenceValues(a.t, name, overrides[name])
		a.values[name] = values
		valuesFile := filepath.Join(a.t.TempDir(), name+".json")
		raw, err := json.Marshal(values)
		if err != nil {
			a.t.Fatal(err)
		}
		writeFile(a.t, valuesFile, string(raw))
		chartDir := chartDirOf(a.t, c)
		objects := readObjects(a.t, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[name])
			for _, d := range deps[name] {
				<-done[d]
			}
			deadline := time.Now().Add(3 * time.Minute)
			for _, o := range objects {
				if err := ap.apply(ctx, o, c.Namespace, deadline); err != nil {
					failed(fmt.Errorf("%s: %w", name, err))
					return
				}
			}
			for {
				cmd := exec.CommandContext(ctx, helm, "upgrade", "--install", c.Release, chartDir, "--namespace", c.Namespace,
					"--create-namespace", "-f", valuesFile, "--kubeconfig", a.kubeconfig)
				cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+helmHome+"/cache", "HELM_CONFIG_HOME="+helmHome+"/config", "HELM_DATA_HOME="+helmHome+"/data")
				out, err := cmd.CombinedOutput()
				if err == nil {
					return
				}
				if !missingKind(string(out)) || time.Now().After(deadline) {
					failed(fmt.Errorf("helm upgrade --install %s (%s): %w\n%s", c.Release, name, err, out))
					return
				}
				time.Sleep(2 * time.Second)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		a.t.Fatalf("build the Ansible-deployed cloud:\n%v", errors.Join(errs...))
	}
}

// missingKind reports whether an error says a kind is not known (yet):
// its CRD is made by a component installed alongside.
func missingKind(msg string) bool {
	return strings.Contains(msg, "no matches for kind") || strings.Contains(msg, "resource mapping not found") ||
		strings.Contains(msg, "ensure CRDs are installed first")
}

// bedOverrides are the <prefix>_helm_values of kwokCloudVars, by component.
func bedOverrides(t testing.TB) map[string]map[string]any {
	t.Helper()
	vars := map[string]any{}
	if err := yaml.Unmarshal([]byte(kwokCloudVars), &vars); err != nil {
		t.Fatal(err)
	}
	byPrefix := components.Default().ValuesPrefixes()
	out := map[string]map[string]any{}
	for k, v := range vars {
		prefix, ok := strings.CutSuffix(k, "_helm_values")
		if !ok {
			continue
		}
		name, ok := byPrefix[prefix]
		if !ok {
			t.Fatalf("kwokCloudVars: %s names no component", k)
		}
		out[name] = v.(map[string]any)
	}
	return out
}

// referenceValues are the values the role of component gives Helm: its
// reference, with the inventory's <prefix>_helm_values merged over it as
// the role merges them (maps key by key, anything else replaced).
func referenceValues(t testing.TB, component string, over map[string]any) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fidelityValues, component+".json"))
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]any{}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("reference of %s: %v", component, err)
	}
	return mergeValues(v, over)
}

func mergeValues(dst, src map[string]any) map[string]any {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = sv
	}
	return dst
}

// chartDirOf is the directory of the component's chart among the
// suite's --charts directories, at the registry's version.
func chartDirOf(t testing.TB, c *components.Component) string {
	t.Helper()
	for _, dir := range []string{sharedCharts, testCharts} {
		path := filepath.Join(dir, c.Chart.Name)
		raw, err := os.ReadFile(filepath.Join(path, "Chart.yaml"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Version string }
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if meta.Version != c.Chart.Version {
			t.Fatalf("%s is version %s, want %s", path, meta.Version, c.Chart.Version)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	t.Fatalf("no chart %s in %s or %s", c.Chart, sharedCharts, testCharts)
	return ""
}

// ansibleFieldManager is the field manager of what kubernetes.core.k8s
// writes: the Kubernetes Python client's user agent.
const ansibleFieldManager = "OpenAPI-Generator"

// k8sModule creates objects as kubernetes.core.k8s does (state: present,
// no server-side apply): a create, or, for an object that is there, a
// merge patch, by the Python client's field manager.
type k8sModule struct {
	dyn    dynamic.Interface
	client kubernetes.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newK8sModule(t testing.TB, cfg *rest.Config) *k8sModule {
	t.Helper()
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &k8sModule{dyn: dynamic.NewForConfigOrDie(cfg), client: kubernetes.NewForConfigOrDie(cfg),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
}

// recordedAs maps the apiVersion of a kind as the references record it to
// the one the API serves: the openstack_helm_ingress role's Ingresses are
// recorded without their group, and kubernetes.core.k8s takes a missing
// apiVersion (magnum's role misspells the key) as v1.
var recordedAs = map[string]string{"Ingress": "networking.k8s.io/v1"}

// secretgenKinds are secretgen-controller's kinds the roles apply, which
// the bed has no controller for: the bed holds the Secrets the controller
// made of them (secretgenSecret).
var secretgenKinds = map[string]bool{"Password": true, "SecretTemplate": true}

// apply creates (or merge-patches) o in namespace ns when it names none,
// waiting until deadline for its kind to be known.
func (m *k8sModule) apply(ctx context.Context, o *unstructured.Unstructured, ns string, deadline time.Time) error {
	o = o.DeepCopy()
	if secretgenKinds[o.GetKind()] {
		return m.secretgenSecret(ctx, o)
	}
	if _, ok := o.Object["apiVersion"]; !ok {
		delete(o.Object, "apiVerison")
		o.SetAPIVersion("v1")
	}
	if v, ok := recordedAs[o.GetKind()]; ok && o.GetAPIVersion() == "v1" {
		o.SetAPIVersion(v)
	}
	gvk := o.GroupVersionKind()
	for {
		mapping, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) && time.Now().Before(deadline) {
			m.mapper.Reset()
			time.Sleep(2 * time.Second)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = m.dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			if o.GetNamespace() == "" {
				o.SetNamespace(ns)
			}
			if err := ensureNamespace(ctx, m.client, o.GetNamespace()); err != nil {
				return err
			}
			ri = m.dyn.Resource(mapping.Resource).Namespace(o.GetNamespace())
		}
		_, err = ri.Create(ctx, o, metav1.CreateOptions{FieldManager: ansibleFieldManager})
		if apierrors.IsAlreadyExists(err) {
			data, merr := json.Marshal(o.Object)
			if merr != nil {
				return merr
			}
			_, err = ri.Patch(ctx, o.GetName(), types.MergePatchType, data, metav1.PatchOptions{FieldManager: ansibleFieldManager})
		}
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
		}
		return nil
	}
}

// ensureNamespace makes a namespace, as the roles' k8s tasks and the
// helm CLI's --create-namespace do.
func ensureNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		metav1.CreateOptions{FieldManager: ansibleFieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	return nil
}

// secretgenSecret makes the Secret secretgen-controller makes of a
// Password (a random "password") or a SecretTemplate (its stringData, and
// each data key the password of the input Secret it names).
func (m *k8sModule) secretgenSecret(ctx context.Context, o *unstructured.Unstructured) error {
	data := map[string][]byte{}
	if o.GetKind() == "Password" {
		data["password"] = []byte(randomPassword())
	} else {
		fixed, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "stringData")
		for k, v := range fixed {
			data[k] = []byte(v)
		}
		inputs := map[string]string{}
		resources, _, _ := unstructured.NestedSlice(o.Object, "spec", "inputResources")
		for _, r := range resources {
			r, _ := r.(map[string]any)
			name, _, _ := unstructured.NestedString(r, "ref", "name")
			inputs[fmt.Sprint(r["name"])] = name
		}
		derived, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "data")
		for k, v := range derived {
			input, ok := strings.CutSuffix(strings.TrimPrefix(v, "$(."), ".data.password)")
			if !ok || inputs[input] == "" {
				return fmt.Errorf("SecretTemplate %s: data %s: %q is not an input's password", o.GetName(), k, v)
			}
			s, err := m.client.CoreV1().Secrets(o.GetNamespace()).Get(ctx, inputs[input], metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("SecretTemplate %s: input %s: %w", o.GetName(), input, err)
			}
			data[k] = s.Data["password"]
		}
	}
	if err := ensureNamespace(ctx, m.client, o.GetNamespace()); err != nil {
		return err
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace()}, Data: data}
	if _, err := m.client.CoreV1().Secrets(o.GetNamespace()).Create(ctx, s, metav1.CreateOptions{FieldManager: "secretgen-controller"}); err != nil {
		return fmt.Errorf("the Secret of %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
	return nil
}

// randomPassword is a fresh random password.
func randomPassword() string {
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// servicesKinds are the kinds of work that need a service the kwok bed
// does not have: the OpenStack APIs and keystone (catalog, set-up), the
// cloud's MySQL (databases, keycloak:strict-mode), RabbitMQ (queues) and
// Keycloak (single sign-on). Helm and manifest units all run; the Ansible
// ones are provided (atmosphere_hosts_provided).
var servicesKinds = []components.Kind{components.OpenStack, components.Database, components.Queue, components.Keycloak}

// adoptSkips are the units of servicesKinds of the bed's inventory, as
// --skip-tags takes them.
func adoptSkips(t testing.TB, inv string) string {
	t.Helper()
	cfg := inventoryConfig(t, inv)
	var out []string
	for _, c := range components.Default().Components() {
		if !c.IsEnabled(cfg) {
			continue
		}
		for _, p := range c.Phases {
			if slices.Contains(servicesKinds, p.Kind) {
				out = append(out, c.Name+":"+p.Name)
			}
		}
	}
	return strings.Join(out, ",")
}

// args are the flags of a deploy of the cloud's inventory.
func (a *ansibleCloud) args(reports string, extra ...string) []string {
	return append([]string{"deploy", "--inventory", a.inventory, "--kubeconfig", a.kubeconfig,
		"--charts", sharedCharts, "--charts", testCharts, "--skip-tags", adoptSkips(a.t, a.inventory),
		"--report-dir", reports, "--output", "json"}, extra...)
}

// deploy runs a deploy of the cloud that must complete (exit 0, every unit
// succeeded or unchanged) and returns its events; it fails for any
// secret its note says it generated.
func (a *ansibleCloud) deploy(what string) deploytest.Units {
	evs, _ := a.deployNoting(what)
	return evs
}

// deployNoting is deploy that also returns the secrets the run's note
// says it took from the running cloud, by where ("release", "Secret").
func (a *ansibleCloud) deployNoting(what string) (deploytest.Units, map[string]int) {
	a.t.Helper()
	p, code := a.run(what, a.args(a.reports)...)
	if code != 0 {
		a.t.Fatalf("%s: exit %d, want 0\nstderr:\n%s", what, code, p.stderr.String())
	}
	generated, found := secretsNote(p.stderr.String())
	if len(generated) > 0 {
		a.t.Errorf("%s generated secrets: %s", what, strings.Join(generated, ", "))
	}
	evs := deploytest.Events(a.t, p.stdout.String())
	for unit, e := range evs {
		if k := e[len(e)-1].Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			a.t.Errorf("%s: %s ended %s (%s %s)", what, unit, k, e[len(e)-1].Detail, e[len(e)-1].Error)
		}
	}
	a.noChildren(p, what)
	return evs, found
}

// secretsNote reads a deploy's note (stderr), or a plan's output, of the secrets it generated
// (names) and of those it took from the running cloud, counted by the
// first word of where ("release", "Secret").
func secretsNote(stderr string) (generated []string, found map[string]int) {
	found = map[string]int{}
	lines := strings.Split(stderr, "\n")
	for i, line := range lines {
		line = strings.Replace(line, "secrets that would be ", "secrets that were ", 1) // a plan's
		if _, names, ok := strings.Cut(line, "secrets that were generated ("); ok {
			_, list, _ := strings.Cut(names, "): ")
			generated = append(generated, strings.Split(list, ", ")...)
		}
		if strings.Contains(line, "secrets that were taken from the running cloud (") {
			for _, l := range lines[i+1:] {
				if !strings.HasPrefix(l, "  ") {
					break
				}
				_, from, _ := strings.Cut(strings.TrimSpace(l), " from ")
				kind, _, _ := strings.Cut(from, " ")
				found[kind]++
			}
		}
	}
	return generated, found
}

// cloudState is what the adoption must keep: the revisions of every
// release, and the content of every object the deploys could write.
type cloudState struct {
	revisions map[string][]revision
	// objects are by "resource namespace/name" (objectContent).
	objects map[string]object
}

// object is an object's content and the Helm release that owns it
// ("namespace/name", "" for none).
type object struct {
	content map[string]any
	release string
	// component is the atmosphere component that applied it
	// (manifest.LabelComponent), "" for none.
	component string
}

// notCompared are the resources whose objects the cluster's own
// controllers write (events, nodes and their leases, the API server's
// records of Service addresses) and those made of other objects (pods,
// replica sets, endpoint slices: ownerReferences or the endpoints
// controller), which follow what made them.
var notCompared = []string{"events", "nodes", "leases", "componentstatuses", "endpointslices", "ipaddresses"}

// state reads the cloud's state.
func (a *ansibleCloud) state() cloudState {
	a.t.Helper()
	cfg := rest.CopyConfig(a.cfg)
	cfg.WarningHandler = rest.NoWarnings{} // v1 Endpoints' deprecation, at every read
	disc := discovery.NewDiscoveryClientForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	lists, err := disc.ServerPreferredResources()
	if err != nil {
		a.t.Fatalf("state: discovery: %v", err)
	}
	st := cloudState{revisions: a.releases(""), objects: map[string]object{}}
	hooks := a.hookOwners()
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			a.t.Fatalf("state: %v", err)
		}
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || slices.Contains(notCompared, r.Name) || strings.Contains(r.Name, "/") {
				continue
			}
			list, err := dyn.Resource(gv.WithResource(r.Name)).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				a.t.Fatalf("state: list %s: %v", r.Name, err)
			}
			for _, o := range list.Items {
				if len(o.GetOwnerReferences()) > 0 || (r.Name == "secrets" && o.GetLabels()["owner"] == "helm") ||
					(r.Name == "endpoints" && onlyController(o)) {
					continue // made of another object; a release's record (revisions)
				}
				key := fmt.Sprintf("%s %s/%s", r.Name, o.GetNamespace(), o.GetName())
				rel := ""
				if n := o.GetAnnotations()["meta.helm.sh/release-name"]; n != "" {
					rel = o.GetAnnotations()["meta.helm.sh/release-namespace"] + "/" + n
				} else {
					rel = hooks[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()]
				}
				st.objects[key] = object{objectContent(o), rel, o.GetLabels()[manifest.LabelComponent]}
			}
		}
	}
	return st
}

// hookOwners are the releases ("namespace/name") of the hooks of their
// last revisions (Helm puts no release annotations on a hook), by "Kind
// namespace/name".
func (a *ansibleCloud) hookOwners() map[string]string {
	a.t.Helper()
	d := driver.NewSecrets(a.client.CoreV1().Secrets(""))
	rels, err := d.List(func(*release.Release) bool { return true })
	if err != nil {
		a.t.Fatalf("list the Helm releases: %v", err)
	}
	latest := map[string]*release.Release{}
	for _, r := range rels {
		key := r.Namespace + "/" + r.Name
		if l, ok := latest[key]; !ok || r.Version > l.Version {
			latest[key] = r
		}
	}
	out := map[string]string{}
	for key, r := range latest {
		for _, h := range r.Hooks {
			var m struct {
				Metadata struct{ Namespace string } `json:"metadata"`
			}
			_ = yaml.Unmarshal([]byte(h.Manifest), &m)
			ns := m.Metadata.Namespace
			if ns == "" {
				ns = r.Namespace
			}
			out[h.Kind+" "+ns+"/"+h.Name] = key
		}
	}
	return out
}

// onlyController reports whether only the endpoints controller wrote an
// Endpoints object (a Service's with a selector).
func onlyController(o unstructured.Unstructured) bool {
	for _, f := range o.GetManagedFields() {
		if f.Manager != "kube-controller-manager" {
			return false
		}
	}
	return true
}

// objectContent is what an object holds: all but its status and the
// metadata the API server manages (resourceVersion, managedFields,
// generation, uid, creationTimestamp), its labels and annotations without
// the labels atmosphere's applier documents it puts on what it applies
// (manifest.LabelManagedBy=atmosphere, manifest.LabelComponent).
func objectContent(o unstructured.Unstructured) map[string]any {
	o = *o.DeepCopy()
	out := map[string]any{}
	for k, v := range o.Object {
		if k != "status" && k != "metadata" {
			out[k] = v
		}
	}
	if o.GetKind() == "Job" {
		// The API server's: a Job's selector and its pods' labels name
		// the Job's uid (a hook Job made again by an upgrade has a new one).
		spec, _ := out["spec"].(map[string]any)
		if manual, _ := spec["manualSelector"].(bool); !manual {
			delete(spec, "selector")
		}
		for _, l := range []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"} {
			unstructured.RemoveNestedField(spec, "template", "metadata", "labels", l)
		}
	}
	labels := o.GetLabels()
	if labels[manifest.LabelManagedBy] == "atmosphere" {
		delete(labels, manifest.LabelManagedBy)
	}
	delete(labels, manifest.LabelComponent)
	md := map[string]any{}
	if len(labels) > 0 {
		md["labels"] = labels
	}
	if a := o.GetAnnotations(); len(a) > 0 {
		md["annotations"] = a
	}
	if f := o.GetFinalizers(); len(f) > 0 {
		md["finalizers"] = f
	}
	out["metadata"] = md
	return out
}

// settledState reads the state until two reads a few seconds apart agree
// (the stand-ins and controllers are done with what was just made), or
// limit passes.
func (a *ansibleCloud) settledState(limit time.Duration) cloudState {
	a.t.Helper()
	deadline := time.Now().Add(limit)
	prev := a.state()
	for {
		time.Sleep(3 * time.Second)
		cur := a.state()
		if len(changedObjects(prev, cur)) == 0 || time.Now().After(deadline) {
			return cur
		}
		prev = cur
	}
}

// changedObjects lists the keys of the objects whose content differs
// between two states, or that one has and the other does not.
func changedObjects(before, after cloudState) []string {
	var out []string
	for k, o := range after.objects {
		if b, ok := before.objects[k]; !ok || !equalJSON(b.content, o.content) {
			out = append(out, k)
		}
	}
	for k := range before.objects {
		if _, ok := after.objects[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func equalJSON(a, b any) bool {
	ra, err1 := json.Marshal(a)
	rb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ra, rb)
}

// fieldsChanged names the top-level fields (and metadata's) that differ
// between two contents, never their values (a Secret's data).
func fieldsChanged(a, b map[string]any) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(a, b))) {
		if k == "metadata" {
			am, _ := a[k].(map[string]any)
			bm, _ := b[k].(map[string]any)
			for _, mk := range slices.Sorted(maps.Keys(mergeKeys(am, bm))) {
				if equalJSON(am[mk], bm[mk]) {
					continue
				}
				al, _ := am[mk].(map[string]string)
				bl, _ := bm[mk].(map[string]string)
				if al == nil && bl == nil {
					out = append(out, "metadata."+mk)
					continue
				}
				keys := map[string]bool{}
				for k := range al {
					keys[k] = true
				}
				for k := range bl {
					keys[k] = true
				}
				for _, k := range slices.Sorted(maps.Keys(keys)) {
					if av, ok := al[k]; !ok || av != bl[k] {
						out = append(out, fmt.Sprintf("metadata.%s[%s]", mk, k))
					}
				}
			}
			continue
		}
		if !equalJSON(a[k], b[k]) {
			if am, ok := a[k].(map[string]any); ok {
				if bm, ok := b[k].(map[string]any); ok {
					for _, sk := range slices.Sorted(maps.Keys(mergeKeys(am, bm))) {
						if !equalJSON(am[sk], bm[sk]) {
							out = append(out, k+"."+sk)
						}
					}
					continue
				}
			}
			out = append(out, k)
		}
	}
	return out
}

func mergeKeys(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// documentedDifferences are the components whose values docs/differences.md
// lists differences from their role's for (rows whose path is not an
// object's): their releases are upgraded; every other component's values
// are the role's exactly.
func documentedDifferences(t testing.TB) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(differencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| ") {
			continue
		}
		component, path := strings.TrimSpace(cells[1]), strings.Trim(strings.TrimSpace(cells[2]), "`")
		if component == "component" || strings.HasPrefix(component, "---") || strings.HasPrefix(path, "object ") {
			continue
		}
		if slices.Contains(ansibleComponents, component) {
			out[component] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no documented difference read", differencesDoc)
	}
	return out
}

// noted reports whether a run's last event of unit says what in its note
// (a unit adopted by a run that was then killed may have had no event
// printed: a later run finds it unchanged).
func noted(unit, what string, runs []deploytest.Units) bool {
	for _, evs := range runs {
		if l := evs.Last(unit); l.Kind != "" && strings.Contains(l.Detail, what) {
			return true
		}
	}
	return false
}

// manifestInventory is the type of the Secrets atmosphere's applier
// keeps what it applied in (internal/manifest), in each set's namespace.
const manifestInventory = "atmosphere.vexxhost.com/inventory"

// adoption is what an adopting deploy did, by release.
type adoption struct {
	// adopted are the releases kept at their revision; upgraded the ones
	// given new revisions, with the units' reasons; created the releases
	// and objects the cloud did not have.
	adopted  []string
	upgraded map[string]string
	created  []string
	// state is the state's new objects in the state namespace.
	state []string
}

// checkAdoption compares the cloud before an adopting deploy with after it
// (evs are the events of its runs, the last run's last): 0 new revisions
// for every component whose values are its role's, the others upgraded
// with their reasons, no object's content changed but what an upgraded
// release owns (and no Secret's data, whoever owns it), nothing new but in
// the state namespace, of an upgraded release or of a component the cloud
// did not have.
func (a *ansibleCloud) checkAdoption(documented map[string]bool, before, after cloudState, evs ...deploytest.Units) adoption {
	a.t.Helper()
	reg := components.Default()
	res := adoption{upgraded: map[string]string{}}
	releaseOf := map[string]string{} // release "namespace/name" to component
	for _, name := range a.components {
		c, _ := reg.Get(name)
		releaseOf[c.Namespace+"/"+c.Release] = name
		unit := name + ":install"
		var last deploy.Event
		for _, e := range evs {
			if l := e.Last(unit); l.Kind != "" {
				last = l
			}
		}
		rel := c.Namespace + "/" + c.Release
		was, now := before.revisions[rel], after.revisions[rel]
		if len(was) == 0 {
			a.t.Errorf("%s: the Ansible cloud has no release %s", name, rel)
			continue
		}
		newRevs := len(now) - len(was)
		switch {
		case newRevs == 0:
			res.adopted = append(res.adopted, name)
			if documented[name] {
				a.t.Errorf("%s: no new revision, but docs/differences.md lists differences of its values from the role's", name)
			}
			// After an interrupted run, the next may find it adopted.
			if !noted(unit, "adopt", evs) && !(len(evs) > 1 && last.Kind == deploy.Unchanged) {
				a.t.Errorf("%s: kept at its revision, but no run's note of %s says adopt (last: %s %q)", name, unit, last.Kind, last.Detail)
			}
		case documented[name]:
			res.upgraded[name] = fmt.Sprintf("%d new revision(s): %s", newRevs, last.Detail)
			if !strings.HasPrefix(last.Detail, "upgrade") {
				a.t.Errorf("%s: %d new revisions, its unit says %q (%s), want an upgrade with its reasons", name, newRevs, last.Detail, last.Kind)
			}
		default:
			a.t.Errorf("%s: %d new revision(s) of %s (%s %q), want none: its values are its role's", name, newRevs, rel, last.Kind, last.Detail)
		}
	}
	upgradedRel := map[string]bool{}
	for name := range res.upgraded {
		c, _ := reg.Get(name)
		upgradedRel[c.Namespace+"/"+c.Release] = true
	}
	for rel := range after.revisions {
		if _, ok := before.revisions[rel]; !ok {
			res.created = append(res.created, "release "+rel)
		}
	}
	for _, k := range changedObjects(before, after) {
		b, inBefore := before.objects[k]
		o, inAfter := after.objects[k]
		isSecret := strings.HasPrefix(k, "secrets ")
		switch {
		case !inBefore && (strings.Contains(k, " "+stateNS+"/") || k == "namespaces /"+stateNS || o.content["type"] == manifestInventory):
			res.state = append(res.state, k)
		case !inBefore && (upgradedRel[o.release] || (o.release != "" && releaseOf[o.release] == "")):
			res.created = append(res.created, k)
		case !inBefore && o.component != "":
			res.created = append(res.created, k)
		case !inBefore:
			a.t.Errorf("new object %s, of no upgraded release nor component the cloud lacked", k)
		case !inAfter && upgradedRel[b.release] && !isSecret:
			// removed by its release's upgrade (a Job atmosphere does natively)
		case !inAfter:
			a.t.Errorf("object %s is gone", k)
		case upgradedRel[b.release] && !isSecret:
			// changed by its release's upgrade
		default:
			a.t.Errorf("object %s changed: %s", k, strings.Join(fieldsChanged(b.content, o.content), ", "))
		}
	}
	slices.Sort(res.adopted)
	slices.Sort(res.created)
	return res
}

// disagreeing is the password the disagreement case gives the inventory
// another value of than the cluster's glance release holds.
const disagreeing = "openstack_helm_endpoints_glance_keystone_password"

// refusedSecret matches a secret a refusal names ("  secret <name>: ...").
var refusedSecret = regexp.MustCompile(`(?m)^\s*secret (\S+):`)

// inventoryVars are the variables of an inventory directory.
func inventoryVars(t testing.TB, dir string) map[string]any {
	t.Helper()
	inv, err := inventory.Load(dir, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return inv.Vars
}

// knownValues are every value the cloud had before atmosphere ran: the
// inventory's, the data of every Secret, the strings of the releases'
// values and what only the operators' Secrets held.
func (a *ansibleCloud) knownValues(before cloudState) map[string]bool {
	a.t.Helper()
	out := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out[v] = true
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(inventoryVars(a.t, fidelityInventory))
	for _, v := range a.values {
		walk(v)
	}
	for _, v := range a.clusterSecrets {
		out[v] = true
	}
	for k, o := range before.objects {
		if !strings.HasPrefix(k, "secrets ") {
			continue
		}
		data, _ := o.content["data"].(map[string]any)
		for _, v := range data {
			if raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(v)); err == nil {
				out[string(raw)] = true
			}
		}
	}
	return out
}

// generated lists the entries of atmosphere's secrets store whose value
// the cloud did not have before (knownValues): generated, not found.
func (a *ansibleCloud) generated(known map[string]bool) (found int, generated []string) {
	a.t.Helper()
	for k, v := range a.storeSecrets() {
		if known[v] {
			found++
		} else {
			generated = append(generated, k)
		}
	}
	slices.Sort(generated)
	return found, generated
}

// refusesDisagreement: with the inventory giving the secret disagreeing
// another value than old, the one the cloud holds (a release's values, an
// object the roles made), a deploy is refused with exit 2 naming the
// secret and no other, the cluster untouched, and neither value printed
// or written anywhere.
func (a *ansibleCloud) refusesDisagreement(disagreeing, old string) {
	a.t.Helper()
	inv := testenv.CopyDir(a.t, a.inventory)
	pw := randomPassword()
	writeFile(a.t, filepath.Join(inv, "group_vars", "all", "zz-disagree.yml"), fmt.Sprintf("%s: %q\n", disagreeing, pw))
	before := a.settledSnapshot(time.Minute)
	reports := a.t.TempDir()
	args := a.args(reports)
	args[slices.Index(args, "--inventory")+1] = inv
	p, code := a.run("deploy with a disagreeing password", args...)
	stderr := p.stderr.String()
	if code != 2 {
		a.t.Errorf("deploy with a disagreeing password: exit %d, want 2\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, disagreeing) {
		a.t.Errorf("the refusal does not name %s:\n%s", disagreeing, stderr)
	}
	// Every other password of the inventory is the cloud's: a refusal
	// naming another is a false one.
	for _, m := range refusedSecret.FindAllStringSubmatch(stderr, -1) {
		if m[1] != disagreeing {
			a.t.Errorf("the refusal names %s, on which the inventory and the cloud agree:\n%s", m[1], stderr)
		}
	}
	if diff := changes(before, a.snapshot()); len(diff) > 0 {
		a.t.Errorf("the refused run changed the cluster:\n  %s", strings.Join(diff, "\n  "))
	}
	outs := append([]output{{"its stdout", []string{kindJSON}, p.stdout.String()}, {"its stderr", []string{kindStderr}, stderr}},
		reportOutputs(a.t, reports)...)
	for _, l := range findLeaks(map[string]string{"the inventory's value": pw, "the cluster's value": old}, outs) {
		a.t.Errorf("%s of %s appears %s in %s", l.secret, disagreeing, l.form, l.in.what)
	}
	a.t.Logf("disagreement on %s: exit %d, %d outputs scanned for both values", disagreeing, code, len(outs))
}

// plan runs a dry run of the deploy (the same path: one JSON object per
// unit) and `atmosphere plan`, touching nothing: each unit's planned change,
// and the secrets the plan would take from the running cloud, counted by
// kind of place (secretsNote), after it says it would generate none.
func (a *ansibleCloud) plan() (map[string]string, map[string]int) {
	a.t.Helper()
	before := a.snapshot()
	p, code := a.run("dry run", a.args(a.reports, "--dry-run")...)
	if code != 0 {
		a.t.Fatalf("dry run: exit %d\nstderr:\n%s", code, p.stderr.String())
	}
	planned := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
		var u struct{ Unit, Change string }
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			a.t.Fatalf("dry run: a line that is not a unit: %q: %v", line, err)
		}
		planned[u.Unit] = u.Change
	}
	args := []string{"plan", "--inventory", a.inventory, "--kubeconfig", a.kubeconfig,
		"--charts", sharedCharts, "--charts", testCharts, "--skip-tags", adoptSkips(a.t, a.inventory)}
	p, code = a.run("plan", args...)
	if code != 0 {
		a.t.Fatalf("plan: exit %d\nstderr:\n%s", code, p.stderr.String())
	}
	generated, found := secretsNote(p.stdout.String())
	if len(generated) > 0 {
		a.t.Errorf("the plan would generate secrets the cloud has: %s", strings.Join(generated, ", "))
	}
	if diff := changes(before, a.snapshot()); len(diff) > 0 {
		a.t.Errorf("the dry run and the plan changed the cluster:\n  %s", strings.Join(diff, "\n  "))
	}
	return planned, found
}

// checkPlan fails for each release the adoption kept whose unit the dry run
// did not plan "adopt", and each it upgraded not planned "upgrade".
func (a *ansibleCloud) checkPlan(planned map[string]string, got adoption) {
	a.t.Helper()
	for _, name := range got.adopted {
		if c := planned[name+":install"]; !strings.HasPrefix(c, "adopt") {
			a.t.Errorf("%s:install was adopted, but planned %q", name, c)
		}
	}
	for name := range got.upgraded {
		if c := planned[name+":install"]; !strings.HasPrefix(c, "upgrade (made by another tool") {
			a.t.Errorf("%s:install was upgraded, but planned %q", name, c)
		}
	}
	a.t.Logf("the dry run planned %d releases adopt and %d upgrade, as the deploy did", len(got.adopted), len(got.upgraded))
}

// outcomes counts a run's units by how they ended ("succeeded: adopt").
func outcomes(evs deploytest.Units) map[string]int {
	out := map[string]int{}
	for _, es := range evs {
		l := es[len(es)-1]
		what := string(l.Kind)
		// The note's first word ("adopt", "upgrade", "provided"), or
		// "objects" for a manifest unit's count of objects applied.
		if f := strings.Fields(l.Detail); len(f) > 0 && (l.Kind == deploy.Succeeded || l.Kind == deploy.Unchanged) {
			word := strings.TrimSuffix(f[0], ":")
			if _, err := strconv.Atoi(word); err == nil {
				word = "objects"
			}
			what += ": " + word
		}
		out[what]++
	}
	return out
}

func (r adoption) String() string {
	var up []string
	for _, name := range slices.Sorted(maps.Keys(r.upgraded)) {
		up = append(up, name+" ("+r.upgraded[name]+")")
	}
	return fmt.Sprintf("%d releases adopted with 0 new revisions (%s); %d upgraded: %s; created: %d (%s); atmosphere's state: %d objects (%s)",
		len(r.adopted), strings.Join(r.adopted, ", "), len(r.upgraded), strings.Join(up, "; "),
		len(r.created), strings.Join(r.created, ", "), len(r.state), strings.Join(r.state, ", "))
}

// allUnchanged fails for each unit of a run that did not end unchanged,
// and when the cloud differs from want.
func (a *ansibleCloud) allUnchanged(what string, evs deploytest.Units, want cloudState) {
	a.t.Helper()
	for unit, es := range evs {
		if l := es[len(es)-1]; l.Kind != deploy.Unchanged {
			a.t.Errorf("%s: %s ended %s (%s), want unchanged", what, unit, l.Kind, l.Detail)
		}
	}
	now := a.settledState(time.Minute)
	for _, k := range changedObjects(want, now) {
		if strings.Contains(k, " "+stateNS+"/") {
			continue // atmosphere's state: the durations it measured
		}
		a.t.Errorf("%s: object %s changed", what, k)
	}
	for rel, revs := range now.revisions {
		if len(revs) != len(want.revisions[rel]) {
			a.t.Errorf("%s: release %s has %d revisions, had %d", what, rel, len(revs), len(want.revisions[rel]))
		}
	}
}

// TestAdoptAnsibleCloud is issue #26's test with real parts: on a kwok
// cluster holding a cloud atmosphere's Ansible deployed
// (newAnsibleCloud), a deploy with that cloud's inventory
//   - is refused (exit 2, the cluster untouched, neither value printed)
//     while the inventory and the glance release disagree on a password;
//   - adopts every release whose values are its role's with 0 new
//     revisions and upgrades the ones docs/differences.md lists, with
//     their reasons; changes no object's content and no Secret's data;
//     keeps in its secrets store only values the cloud had;
//   - then changes nothing on a second deploy, nor on a third with a
//     password taken out of the inventory (read from the cluster);
//   - interrupted (SIGINT) or killed (SIGKILL) while adopting, leaves the
//     cloud for the next deploy to bring to the same end state.
func TestAdoptAnsibleCloud(t *testing.T) {
	began := time.Now()
	documented := documentedDifferences(t)
	var clean adoption
	var builds []string
	t.Run("adopt", func(t *testing.T) {
		a := newAnsibleCloud(t)
		builds = append(builds, a.built.Round(time.Second).String())
		before := a.settledState(time.Minute)
		known := a.knownValues(before)
		planned, planFound := a.plan()
		start := time.Now()
		evs, fromCloud := a.deployNoting("adopting deploy")
		took := time.Since(start)
		after := a.settledState(time.Minute)
		clean = a.checkAdoption(documented, before, after, evs)
		a.checkPlan(planned, clean)
		if !maps.Equal(planFound, fromCloud) {
			t.Errorf("the plan said it would take %v secrets from the running cloud, the deploy took %v", planFound, fromCloud)
		}
		found, gen := a.generated(known)
		if len(gen) > 0 {
			t.Errorf("the secrets store holds %d values the cloud did not have (generated): %s", len(gen), strings.Join(gen, ", "))
		}
		summary(t, "adopting deploy in %s: units %v; %s; secrets taken from the running cloud: %v; secrets store: %d values the cloud had, %d generated",
			took.Round(time.Millisecond), outcomes(evs), clean, fromCloud, found, len(gen))

		a.allUnchanged("second deploy", a.deploy("second deploy"), after)

		// A password the inventory no longer gives, which the glance
		// release holds: read from the cluster, not generated.
		secretsFile := filepath.Join(a.inventory, "group_vars", "all", "secrets.yml")
		raw, err := os.ReadFile(secretsFile)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(line, disagreeing+":") {
				kept = append(kept, line)
			}
		}
		if len(kept) == len(strings.Split(string(raw), "\n")) {
			t.Fatalf("%s gives no %s", secretsFile, disagreeing)
		}
		writeFile(t, secretsFile, strings.Join(kept, "\n"))
		evs, fromCloud = a.deployNoting("deploy without " + disagreeing)
		a.allUnchanged("deploy without "+disagreeing, evs, after)
		if fromCloud["release"] == 0 {
			t.Errorf("deploy without %s: its note names no secret taken from a release", disagreeing)
		}
		if _, gen := a.generated(known); len(gen) > 0 {
			t.Errorf("without %s in the inventory, the store holds generated values: %s", disagreeing, strings.Join(gen, ", "))
		}
		a.noPendingRelease("after the deploys")
	})
	t.Run("disagreement", func(t *testing.T) {
		// A cloud of its own: a deploy that is not refused adopts it.
		a := newAnsibleCloud(t)
		builds = append(builds, a.built.Round(time.Second).String())
		old, _ := inventoryVars(t, a.inventory)[disagreeing].(string)
		if old == "" {
			t.Fatalf("the fidelity inventory gives no %s", disagreeing)
		}
		a.refusesDisagreement(disagreeing, old)
		// One only a Secret the roles made holds (no release's values):
		// the monitoring UI's oauth2-proxy cookie.
		cookie, err := a.client.CoreV1().Secrets("monitoring").Get(t.Context(), "kube-prometheus-stack-prometheus-cookie-secret", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a.refusesDisagreement("kube_prometheus_stack_prometheus_cookie_secret", string(cookie.Data["password"]))
	})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(signalName[sig], func(t *testing.T) {
			a := newAnsibleCloud(t)
			builds = append(builds, a.built.Round(time.Second).String())
			before := a.settledState(time.Minute)
			known := a.knownValues(before)
			p := a.start(a.args(a.reports)...)
			at := adoptSignals[sig]
			var units []string
			if at.unit != "" {
				units = []string{at.unit}
			}
			sent := signalAt(t, p, at, sig, units...)
			code := a.wait(p, "adopting deploy, signalled", 5*time.Minute)
			if code == 2 {
				t.Fatalf("the adopting deploy was refused:\n%s", p.stderr.String())
			}
			out := p.stdout.String()
			first := deploytest.Events(t, out[:strings.LastIndexByte(out, '\n')+1])
			flying := inFlightAt(first, sent)
			a.noChildren(p, "adopting deploy, signalled")
			t.Logf("%s at %s: exit %d, %d units in flight (%s)", signalName[sig], at, code, len(flying), strings.Join(flying, ", "))
			if len(flying) == 0 {
				t.Errorf("%s landed with no unit in flight: it proved nothing", signalName[sig])
			}
			next := a.deploy("deploy after the " + signalName[sig])
			after := a.settledState(time.Minute)
			got := a.checkAdoption(documented, before, after, first, next)
			// checkAdoption holds both to docs/differences.md; when the
			// uninterrupted adoption ran too, the two agree.
			if clean.upgraded != nil && (!slices.Equal(got.adopted, clean.adopted) ||
				!slices.Equal(slices.Sorted(maps.Keys(got.upgraded)), slices.Sorted(maps.Keys(clean.upgraded)))) {
				t.Errorf("end state after the %s differs from the uninterrupted adoption's:\n got: %s\nwant: %s", signalName[sig], got, clean)
			}
			if _, gen := a.generated(known); len(gen) > 0 {
				t.Errorf("the secrets store holds generated values: %s", strings.Join(gen, ", "))
			}
			a.noPendingRelease("after the deploy after the " + signalName[sig])
			a.allUnchanged("second deploy", a.deploy("second deploy"), after)
			summary(t, "%s at %s with %d units in flight (%s), then a deploy: %s", signalName[sig], at, len(flying), strings.Join(flying, ", "), got)
		})
	}
	summary(t, "test in %s; Ansible-deployed clouds built in %s", time.Since(began).Round(time.Second), strings.Join(builds, ", "))
}

var signalName = map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGKILL: "SIGKILL"}

// adoptSignals are where the adopting deploy is signalled: SIGINT at its
// 12th started unit (releases being adopted in flight), SIGKILL once
// keystone's upgrade (its values differ from the role's) started.
var adoptSignals = map[syscall.Signal]point{
	syscall.SIGINT:  {nth: 12, delay: 200 * time.Millisecond},
	syscall.SIGKILL: {unit: "keystone:install", delay: 500 * time.Millisecond},
}
