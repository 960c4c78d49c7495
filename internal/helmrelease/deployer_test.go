package helmrelease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func TestMain(m *testing.M) {
	kube.ManagedFieldsManager = "atmosphere"
	testenv.Main(m)
}

func loadChart(t testing.TB, path string) *chart.Chart {
	t.Helper()
	c, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func probeChart(t testing.TB) *chart.Chart {
	return loadChart(t, filepath.Join("..", "..", "testdata", "charts", "probe"))
}

func newDeployer(t testing.TB) (*Deployer, *rest.Config) {
	t.Helper()
	cfg := testenv.Kube(t)
	cfg.QPS, cfg.Burst = 100, 200
	f, err := NewFactory(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(f, nil), cfg
}

// helmCLI returns a runner of the helm CLI (make tools builds it) on the
// test cluster's namespace ns, with Helm's own directories of its own: it
// returns the output, and fails the test when helm fails.
func helmCLI(t *testing.T, ns string) func(args ...string) []byte {
	t.Helper()
	helmBin, err := testenv.Binary(testenv.DefaultToolsDir(), "helm")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := testenv.Kubeconfig(t)
	return func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(helmBin, append(args, "--kubeconfig", kubeconfig, "--namespace", ns)...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %v: %v\n%s", args, err, out)
		}
		return out
	}
}

// lastRelease reads the last revision of a release from Helm's storage.
func lastRelease(t *testing.T, d *Deployer, namespace, name string) *release.Release {
	t.Helper()
	cfg, err := d.factory.ActionConfig(t.Context(), namespace, nil)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := cfg.Releases.Last(name)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestInstallNoOpUpgrade(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	ctx := context.Background()
	r := Release{Name: "probe", Namespace: ns, Chart: probeChart(t), Values: map[string]any{"message": "one"},
		Images: map[string]string{"probe": "registry.invalid/probe:1.0"}, Timeout: 2 * time.Minute}

	steps := []struct {
		name     string
		change   func(*Release)
		action   Action
		reasons  []string
		revision int
	}{
		{"install", nil, Install, []string{"new release"}, 1},
		{"same again changes nothing", nil, Unchanged, nil, 1},
		{"a value changes", func(r *Release) { r.Values = map[string]any{"message": "two"} }, Upgrade, []string{"values"}, 2},
		{"an image changes", func(r *Release) { r.Images = map[string]string{"probe": "registry.invalid/probe:1.1"} }, Upgrade, []string{"images"}, 3},
		{"and then nothing", nil, Unchanged, nil, 3},
		{"drifted: upgraded all the same", func(r *Release) { r.Drifted = []string{"Deployment x/probe: spec.replicas 1 → 3"} }, Upgrade,
			[]string{"drift: Deployment x/probe: spec.replicas 1 → 3"}, 4},
		{"drift with a change: the change says why", func(r *Release) { r.Values = map[string]any{"message": "three"} }, Upgrade, []string{"values"}, 5},
		{"no drift: nothing", func(r *Release) { r.Drifted = nil }, Unchanged, nil, 5},
	}
	if st, err := d.Status(ctx, "probe", ns); err != nil || st.Found {
		t.Fatalf("status before the install: %+v err %v", st, err)
	}
	if _, found, err := d.Manifest(ctx, "probe", ns); err != nil || found {
		t.Fatalf("manifest before the install: found %v err %v", found, err)
	}
	for _, s := range steps {
		if s.change != nil {
			s.change(&r)
		}
		plan, err := d.Plan(ctx, r)
		if err != nil {
			t.Fatalf("%s: plan: %v", s.name, err)
		}
		res, err := d.Deploy(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res.Action != s.action || plan.Action != s.action || res.NewRevision != s.revision ||
			strings.Join(res.Reasons, ",") != strings.Join(s.reasons, ",") {
			t.Errorf("%s: plan %s, did %s %v to revision %d; want %s %v to %d",
				s.name, plan.Action, res.Action, res.Reasons, res.NewRevision, s.action, s.reasons, s.revision)
		}
	}
	rel := lastRelease(t, d, ns, "probe")
	if text, found, err := d.Manifest(ctx, "probe", ns); err != nil || !found || text != rel.Manifest {
		t.Errorf("manifest of the deployed revision: found %v err %v", found, err)
	}
	if rel.Info.Status != release.StatusDeployed || rel.Version != 5 {
		t.Errorf("last revision %d is %s", rel.Version, rel.Info.Status)
	}
	st, err := d.Status(ctx, "probe", ns)
	if err != nil || !st.Found || st.Status != "deployed" || st.Revision != 5 || !strings.HasPrefix(st.Chart, "probe-") || st.Updated.IsZero() {
		t.Errorf("status %+v err %v", st, err)
	}
}

func TestNamespacelessManifestLandsInTheReleaseNamespace(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	if _, err := d.Deploy(context.Background(), Release{Name: "nsless", Namespace: ns, Chart: probeChart(t),
		Values: map[string]any{"replicas": 0, "hook": false}}); err != nil {
		t.Fatal(err)
	}
	cs := d.factory.Clientset()
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "nsless-config", metav1.GetOptions{}); err != nil {
		t.Errorf("ConfigMap not in the release namespace %s: %v", ns, err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(context.Background(), "nsless-config", metav1.GetOptions{}); err == nil {
		t.Error("ConfigMap landed in default")
	}
}

func TestPendingReleaseIsRepaired(t *testing.T) {
	for _, status := range []release.Status{release.StatusPendingUpgrade, release.StatusPendingInstall} {
		t.Run(string(status), func(t *testing.T) {
			d, cfg := newDeployer(t)
			ns := testenv.Namespace(t, cfg)
			ctx := context.Background()
			r := Release{Name: "stuck", Namespace: ns, Chart: probeChart(t), Values: map[string]any{"hook": false}}
			if _, err := d.Deploy(ctx, r); err != nil {
				t.Fatal(err)
			}
			// Leave the release as a killed run would.
			acfg, err := d.factory.ActionConfig(ctx, ns, nil)
			if err != nil {
				t.Fatal(err)
			}
			rel, err := acfg.Releases.Last("stuck")
			if err != nil {
				t.Fatal(err)
			}
			rel.SetStatus(status, "interrupted")
			if err := acfg.Releases.Update(rel); err != nil {
				t.Fatal(err)
			}
			res, err := d.Deploy(ctx, r)
			if err != nil {
				t.Fatalf("repair: %v", err)
			}
			if !res.Unlock || res.Action != Upgrade || res.NewRevision != 2 {
				t.Errorf("repair did %+v", res)
			}
			if got := lastRelease(t, d, ns, "stuck"); got.Info.Status != release.StatusDeployed {
				t.Errorf("after repair: %s", got.Info.Status)
			}
		})
	}
}

func TestEarlyFailures(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		reason string
		object string
	}{
		{"image never pulls", map[string]any{"fail": "image-pull", "hook": false}, "ImagePullBackOff", "Deployment/"},
		{"hook job fails", map[string]any{"fail": "hook"}, "BackoffLimitExceeded", "Job/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, cfg := newDeployer(t)
			ns := testenv.Namespace(t, cfg)
			// The release may wait ten minutes; the test gives it two. Only
			// an early failure ends it in time with a PodFailure.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := d.Deploy(ctx, Release{Name: "broken", Namespace: ns, Chart: probeChart(t), Values: tt.values, Timeout: 10 * time.Minute})
			var pf *PodFailure
			if !errors.As(err, &pf) {
				t.Fatalf("err = %v, want a PodFailure", err)
			}
			if pf.Reason != tt.reason || !strings.HasPrefix(pf.Object, tt.object) || pf.Pod == "" {
				t.Errorf("failure %+v, want reason %s on a %s", pf, tt.reason, tt.object)
			}
			if !strings.Contains(err.Error(), "pod broken") {
				t.Errorf("error does not name the pod: %v", err)
			}
			if rel := lastRelease(t, d, ns, "broken"); rel.Info.Status != release.StatusFailed {
				t.Errorf("release %s, want failed", rel.Info.Status)
			}
			// The next run, with the fault gone, repairs it.
			fixed := map[string]any{"hook": tt.values["hook"]}
			if res, err := d.Deploy(context.Background(), Release{Name: "broken", Namespace: ns, Chart: probeChart(t), Values: fixed, Timeout: time.Minute}); err != nil || res.Action != Upgrade {
				t.Errorf("repair: %+v, %v", res, err)
			}
		})
	}
}

// TestUpgradeToAnImageThatNeverPullsFails: a Deployment of one replica
// allowed one unavailable is not ready until its new pod is. Helm alone
// calls it ready as soon as its new ReplicaSet is observed, which is at
// once when the template is one it ran before (its ReplicaSet is reused):
// the upgrade to a broken image would be called done. A rollback from the
// broken image waits on the good pods only.
func TestUpgradeToAnImageThatNeverPullsFails(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	good := map[string]any{"hook": false, "maxUnavailable": 1}
	bad := map[string]any{"hook": false, "maxUnavailable": 1, "image": testenv.NeverPullsImage}
	deploy := func(values map[string]any) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, err := d.Deploy(ctx, Release{Name: "lax", Namespace: ns, Chart: probeChart(t), Values: values, Timeout: 10 * time.Minute})
		return err
	}
	// Between the bad upgrades, a Rollback puts the good revision back:
	// its wait must not take the bad ReplicaSet's pods for its own.
	for i, values := range []map[string]any{good, bad, nil, bad, good, bad} {
		if values == nil {
			res, err := d.Deploy(context.Background(), Release{Name: "lax", Namespace: ns, Chart: probeChart(t), Values: bad, Rollback: true, Timeout: time.Minute})
			if err != nil || res.Action != Rollback {
				t.Fatalf("deploy %d (rollback): %+v, %v", i, res, err)
			}
			continue
		}
		err := deploy(values)
		if values["image"] == nil {
			if err != nil {
				t.Fatalf("deploy %d (good image): %v", i, err)
			}
			continue
		}
		var pf *PodFailure
		if !errors.As(err, &pf) || pf.Reason != "ImagePullBackOff" {
			t.Errorf("deploy %d (image that never pulls): err = %v, want an ImagePullBackOff PodFailure", i, err)
		}
		if rel := lastRelease(t, d, ns, "lax"); rel.Info.Status != release.StatusFailed {
			t.Errorf("deploy %d: release %s, want failed", i, rel.Info.Status)
		}
	}
}

func TestCancelLeavesTheReleaseFailedNotPending(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	d.Waiting = func(_, object string) {
		if strings.HasPrefix(object, "Deployment/") {
			once.Do(cancel)
		}
	}
	_, err := d.Deploy(ctx, Release{Name: "waiting", Namespace: ns, Chart: probeChart(t),
		Values: map[string]any{"unschedulable": true, "hook": false}, Timeout: 10 * time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if rel := lastRelease(t, d, ns, "waiting"); rel.Info.Status != release.StatusFailed {
		t.Errorf("after cancel the release is %s, want failed", rel.Info.Status)
	}
}

func TestConcurrentReleasesInTwoNamespaces(t *testing.T) {
	d, cfg := newDeployer(t)
	nsA, nsB := testenv.Namespace(t, cfg), testenv.Namespace(t, cfg)
	c := probeChart(t)
	values := map[string]any{"replicas": 0, "hook": false}
	for i := range 50 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, ns := range []string{nsA, nsB} {
			wg.Go(func() {
				_, errs[j] = d.Deploy(context.Background(), Release{Name: fmt.Sprintf("r%d", i), Namespace: ns, Chart: c, Values: values})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	for _, ns := range []string{nsA, nsB} {
		secrets, err := d.factory.Clientset().CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil {
			t.Fatal(err)
		}
		if len(secrets.Items) != 50 {
			t.Errorf("%s holds %d release secrets, want 50", ns, len(secrets.Items))
		}
	}
}

func TestTimeoutSaysWhyEachObjectWaits(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	_, err := d.Deploy(context.Background(), Release{Name: "waits", Namespace: ns, Chart: probeChart(t),
		Values: map[string]any{"unschedulable": true, "hook": false}, Timeout: 5 * time.Second})
	var timeout *WaitTimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("err = %v, want a WaitTimeoutError", err)
	}
	if !strings.Contains(err.Error(), "Deployment/"+ns+"/waits") || !strings.Contains(err.Error(), "Unschedulable") {
		t.Errorf("the timeout does not say what waits and why: %v", err)
	}
}

// TestHelmCLISeesAndManagesReleases checks that our releases are ordinary
// Helm releases: the helm CLI lists them and their history, rolls one back,
// and the next deploy brings back the wanted state.
func TestHelmCLISeesAndManagesReleases(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	helm := helmCLI(t, ns)
	ctx := context.Background()
	r := Release{Name: "probe", Namespace: ns, Chart: probeChart(t), Values: map[string]any{"message": "one", "hook": false}, Timeout: time.Minute}
	if _, err := d.Deploy(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Values = map[string]any{"message": "two", "hook": false}
	if _, err := d.Deploy(ctx, r); err != nil {
		t.Fatal(err)
	}

	var list []struct{ Name, Namespace, Revision, Status, Chart string }
	if err := json.Unmarshal(helm("list", "-o", "json"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "probe" || list[0].Revision != "2" || list[0].Status != "deployed" {
		t.Errorf("helm list: %+v", list)
	}
	var history []struct {
		Revision int
		Status   string
	}
	if err := json.Unmarshal(helm("history", "probe", "-o", "json"), &history); err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Status != "superseded" || history[1].Status != "deployed" {
		t.Errorf("helm history: %+v", history)
	}

	helm("rollback", "probe", "1", "--wait")
	if rel := lastRelease(t, d, ns, "probe"); rel.Version != 3 || rel.Config["message"] != "one" {
		t.Fatalf("after helm rollback: revision %d values %v", rel.Version, rel.Config)
	}
	// The operator rolled back by hand; the next deploy restores what the
	// configuration wants.
	res, err := d.Deploy(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != Upgrade || !slices.Contains(res.Reasons, "values") || res.NewRevision != 4 {
		t.Errorf("deploy after a manual rollback: %+v", res)
	}
	if rel := lastRelease(t, d, ns, "probe"); rel.Config["message"] != "two" {
		t.Errorf("values after the deploy: %v", rel.Config)
	}
}

// TestHeldClusterIPNamesTheHolder: a release asking for a fixed cluster IP
// another Service holds fails naming that Service, and succeeds once
// given a free one (the failed release is upgraded).
func TestHeldClusterIPNamesTheHolder(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	ctx := context.Background()
	held, free := testenv.StaticServiceIP(t, cfg, 13), testenv.StaticServiceIP(t, cfg, 14)
	fixed := func(name, ip string) Release {
		return Release{Name: name, Namespace: ns, Chart: probeChart(t), Timeout: time.Minute,
			Values: map[string]any{"replicas": 0, "hook": false, "clusterIP": ip}}
	}
	if _, err := d.Deploy(ctx, fixed("holder", held)); err != nil {
		t.Fatal(err)
	}
	_, err := d.Deploy(ctx, fixed("taker", held))
	var he *ClusterIPHeldError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v, want a ClusterIPHeldError", err)
	}
	if want := "Service " + ns + "/holder-fixed"; he.IP != held || he.Holder != want {
		t.Errorf("held %s by %q, want %s by %q", he.IP, he.Holder, held, want)
	}
	if !strings.Contains(err.Error(), "install "+ns+"/taker: Service \"taker-fixed\" is invalid") ||
		!strings.Contains(err.Error(), "already allocated: it is held by Service "+ns+"/holder-fixed") {
		t.Errorf("error does not say what failed: %v", err)
	}
	t.Logf("refused: %v", err)
	res, err := d.Deploy(ctx, fixed("taker", free))
	if err != nil || res.Action != Upgrade {
		t.Fatalf("with a free IP: %+v, %v", res, err)
	}
	svc, err := d.factory.Clientset().CoreV1().Services(ns).Get(ctx, "taker-fixed", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != free {
		t.Errorf("taker-fixed has cluster IP %s, want %s", svc.Spec.ClusterIP, free)
	}
}

// TestBeforeChangeRunsOnlyWhenTheReleaseChanges: the hook runs before an
// install and an upgrade, not when nothing changed; its error stops the
// deploy before Helm acts.
func TestBeforeChangeRunsOnlyWhenTheReleaseChanges(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	ctx := context.Background()
	var ran []string
	r := Release{Name: "hooked", Namespace: ns, Chart: probeChart(t), Timeout: time.Minute,
		Values: map[string]any{"replicas": 0, "hook": false, "message": "one"}}
	r.BeforeChange = func(ctx context.Context, client kubernetes.Interface) error {
		// The release's last revision is what it was before the change.
		_, err := client.CoreV1().ConfigMaps(ns).Get(ctx, "hooked-config", metav1.GetOptions{})
		ran = append(ran, fmt.Sprintf("config present: %v", err == nil))
		return nil
	}
	steps := []struct {
		message string
		action  Action
		ran     []string
	}{
		{"one", Install, []string{"config present: false"}},
		{"one", Unchanged, []string{"config present: false"}},
		{"two", Upgrade, []string{"config present: false", "config present: true"}},
	}
	for _, s := range steps {
		r.Values["message"] = s.message
		res, err := d.Deploy(ctx, r)
		if err != nil || res.Action != s.action || !slices.Equal(ran, s.ran) {
			t.Errorf("message %s: did %s (err %v), hook calls %v; want %s, %v", s.message, res.Action, err, ran, s.action, s.ran)
		}
	}
	r.Values["message"] = "three"
	r.BeforeChange = func(context.Context, kubernetes.Interface) error { return errors.New("cannot remove the old Job") }
	_, err := d.Deploy(ctx, r)
	if err == nil || !strings.Contains(err.Error(), "before the upgrade of "+ns+"/hooked: cannot remove the old Job") {
		t.Errorf("a failing hook: %v", err)
	}
	if rel := lastRelease(t, d, ns, "hooked"); rel.Version != 2 || rel.Info.Status != release.StatusDeployed {
		t.Errorf("after a failing hook the release is at revision %d, %s; want 2, deployed (Helm never acted)", rel.Version, rel.Info.Status)
	}
}

// TestNotWaitedFor: a release whose DaemonSet never becomes available
// (its pods cannot be scheduled) is installed when the DaemonSet is
// excepted from its wait, the result naming it and why; without the
// exception, with one that names another kind, or with one until a Secret
// that is there (the release's own stuck-secret: Helm applies it before it
// waits), the install times out naming the DaemonSet. The release's other
// objects are still waited for.
func TestNotWaitedFor(t *testing.T) {
	skip := WaitException{Kind: "DaemonSet", Name: "stuck-agent", Why: "its pods mount what a later unit makes"}
	withSecret := func(name string) WaitException { e := skip; e.UntilSecret = name; return e }
	for _, tc := range []struct {
		name   string
		except []WaitException
		done   bool
	}{
		{"excepted: installed", []WaitException{skip}, true},
		{"excepted until a Secret that is not there: installed", []WaitException{withSecret("stuck-needed")}, true},
		{"excepted until a Secret that is there: times out", []WaitException{withSecret("stuck-secret")}, false},
		{"not excepted: times out", nil, false},
		{"another kind of that name: times out", []WaitException{{Kind: "Deployment", Name: "stuck-agent", Why: "x"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, cfg := newDeployer(t)
			ns := testenv.Namespace(t, cfg)
			var waited []string
			var mu sync.Mutex
			d.Waiting = func(_, object string) {
				mu.Lock()
				defer mu.Unlock()
				if !slices.Contains(waited, object) {
					waited = append(waited, object)
				}
			}
			res, err := d.Deploy(context.Background(), Release{Name: "stuck", Namespace: ns, Chart: probeChart(t),
				Values:       map[string]any{"hook": false, "daemonset": "unavailable", "secret": map[string]any{"a": "1"}},
				NotWaitedFor: tc.except, Timeout: 10 * time.Second})
			daemonSet := "DaemonSet/" + ns + "/stuck-agent"
			if !tc.done {
				var timeout *WaitTimeoutError
				if !errors.As(err, &timeout) || !strings.Contains(err.Error(), daemonSet) || strings.Contains(err.Error(), "Deployment/") {
					t.Fatalf("err = %v, want a WaitTimeoutError naming %s alone", err, daemonSet)
				}
				if len(res.NotWaited) > 0 {
					t.Errorf("not waited for: %q, want none", res.NotWaited)
				}
				t.Logf("times out: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("install with the DaemonSet excepted: %v", err)
			}
			if want := []string{daemonSet + " (" + skip.Why + ")"}; !slices.Equal(res.NotWaited, want) {
				t.Errorf("not waited for: %q, want %q", res.NotWaited, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if slices.Contains(waited, daemonSet) {
				t.Errorf("the wait waited on the excepted DaemonSet: %q", waited)
			}
			// The Deployment is still waited for: it is ready when the
			// install is done.
			dep, err := d.factory.Clientset().AppsV1().Deployments(ns).Get(context.Background(), "stuck", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if dep.Status.AvailableReplicas != 1 {
				t.Errorf("the Deployment after the install: %d available, want 1", dep.Status.AvailableReplicas)
			}
			ds, err := d.factory.Clientset().AppsV1().DaemonSets(ns).Get(context.Background(), "stuck-agent", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st := ds.Status; st.DesiredNumberScheduled == 0 || st.NumberAvailable != 0 {
				t.Errorf("the excepted DaemonSet: %d desired, %d available; want it on the nodes and unavailable", st.DesiredNumberScheduled, st.NumberAvailable)
			}
		})
	}
}
