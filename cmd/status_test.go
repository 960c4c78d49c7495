package cmd

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/golden"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestStatusOnTheCluster: status reads the releases and manifest
// inventories of the test cluster: absent first (exit 1), then deployed and
// applied (exit 0), as text and as JSON.
func TestStatusOnTheCluster(t *testing.T) {
	// A cluster of its own: the shared one may hold a deploy (make demo).
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	ctx := context.Background()
	args := []string{"status", "--kubeconfig", kubeconfig, "--tags", "memcached,cluster-issuer"}

	out, _, err := run(t, args...)
	if ExitCode(err) != ExitFailure || !strings.Contains(err.Error(), "2 of 2 components not healthy: cluster-issuer absent, memcached absent") {
		t.Fatalf("before the deploy: exit %d err %v\n%s", ExitCode(err), err, out)
	}

	f, err := helmrelease.NewFactory(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	chart, err := loader.Load(filepath.Join("..", "testdata", "charts", "probe"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := helmrelease.New(f, nil).Deploy(ctx, helmrelease.Release{Name: "memcached", Namespace: "openstack", Chart: chart,
		Values: map[string]any{"message": "status"}, Timeout: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ac, err := f.ActionConfig(ctx, "openstack", nil)
		if err == nil {
			_, err = action.NewUninstall(ac).Run("memcached")
		}
		if err != nil {
			t.Errorf("uninstall: %v", err)
		}
	})
	applier, err := manifest.NewApplierForConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cm map[string]any
	if err := yaml.Unmarshal([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: status-probe}\ndata: {a: '1'}"), &cm); err != nil {
		t.Fatal(err)
	}
	set := manifest.Set{Component: "cluster-issuer", Namespace: "cert-manager", Objects: []manifest.Object{{Unstructured: &unstructured.Unstructured{Object: cm}}}}
	if _, err := applier.Apply(ctx, set); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		set.Objects = nil
		if _, err := applier.Apply(context.Background(), set); err != nil {
			t.Errorf("prune: %v", err)
		}
		// And the inventory itself, so that the next run finds it absent.
		if err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Secrets("cert-manager").Delete(context.Background(),
			"atmosphere-manifests-cluster-issuer", metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete the inventory: %v", err)
		}
	})

	out, _, err = run(t, args...)
	if err != nil {
		t.Fatalf("after the deploy: %v\n%s", err, out)
	}
	for _, want := range []string{"COMPONENT", "memcached", "deployed", "probe-", "cluster-issuer", "applied", "1 objects"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, append(args, "--output", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first ComponentStatus
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.State == "" {
		t.Fatalf("json status:\n%s", out)
	}
	if first.Component != "cluster-issuer" && first.Component != "memcached" {
		t.Errorf("json status: %+v", first)
	}
}

// TestStatusDrift: status --drift after a deploy of memcached finds no
// drift (exit 0); after kubectl-style edits — the release's Deployment
// scaled, a key of its ConfigMap changed, a label of memcached's own
// Service changed — it names each object and field (golden), exit 1, and
// as JSON; the next deploy with --repair-drift puts them back (the release
// is upgraded for its drift: Helm alone leaves an unchanged release as it
// is), and status --drift exits 0 again.
func TestStatusDrift(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	ctx := context.Background()
	deployArgs := []string{"deploy", "--kubeconfig", kubeconfig, "--inventory", kwokInventory, "--tags", "memcached",
		"--charts", sharedCharts, "--report-dir", t.TempDir(), "--output", "json"}
	statusArgs := []string{"status", "--drift", "--kubeconfig", kubeconfig, "--inventory", kwokInventory, "--tags", "memcached"}
	if out, stderr, code := cli(t, nil, deployArgs...); code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, stderr)
	}
	if out, stderr, code := cli(t, nil, statusArgs...); code != ExitOK || out != "no drift in 1 components\n" {
		t.Fatalf("status --drift after the deploy: exit %d\n%s\n%s", code, out, stderr)
	}

	cs := kubernetes.NewForConfigOrDie(cfg)
	// kubectl scale deployment memcached-memcached --replicas 3
	scale, err := cs.AppsV1().Deployments("openstack").GetScale(ctx, "memcached-memcached", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 3
	if _, err := cs.AppsV1().Deployments("openstack").UpdateScale(ctx, "memcached-memcached", scale, metav1.UpdateOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	// kubectl edit configmap memcached-memcached-bin: one key changed.
	cm, err := cs.CoreV1().ConfigMaps("openstack").Get(ctx, "memcached-memcached-bin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["memcached.sh"] = "#!/bin/sh\nexec memcached -v\n"
	if _, err := cs.CoreV1().ConfigMaps("openstack").Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	// kubectl label service memcached-metrics component=edited --overwrite
	svc, err := cs.CoreV1().Services("openstack").Get(ctx, "memcached-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Labels["component"] = "edited"
	if _, err := cs.CoreV1().Services("openstack").Update(ctx, svc, metav1.UpdateOptions{FieldManager: "kubectl-label"}); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := cli(t, nil, statusArgs...)
	if code != ExitFailure {
		t.Errorf("status --drift after the edits: exit %d, want 1\n%s", code, stderr)
	}
	golden.Check(t, "status-drift.txt", out)
	if !strings.Contains(stderr, "3 objects of 1 components drifted from what was applied: memcached") {
		t.Errorf("status --drift: stderr\n%s", stderr)
	}
	out, _, code = cli(t, nil, append(statusArgs, "--output", "json")...)
	var row ComponentStatus
	if code != ExitFailure || json.Unmarshal([]byte(out), &row) != nil || len(row.Drift) != 3 {
		t.Fatalf("status --drift --output json: exit %d\n%s", code, out)
	}
	if f := row.Drift[0].Fields; row.Drift[0].Object != "ConfigMap openstack/memcached-memcached-bin" || len(f) != 1 || f[0].Path != "data[\"memcached.sh\"]" {
		t.Errorf("json drift: %+v", row.Drift[0])
	}

	out, stderr, code = cli(t, nil, append(deployArgs, "--repair-drift")...)
	if code != ExitOK {
		t.Fatalf("deploy again: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "upgrade: drift") {
		t.Errorf("the second deploy did not say it upgraded memcached for its drift:\n%s", out)
	}
	if out, stderr, code := cli(t, nil, statusArgs...); code != ExitOK || out != "no drift in 1 components\n" {
		t.Fatalf("status --drift after the second deploy: exit %d\n%s\n%s", code, out, stderr)
	}
	d, err := cs.AppsV1().Deployments("openstack").Get(ctx, "memcached-memcached", metav1.GetOptions{})
	if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("the deploy did not scale memcached-memcached back: %v %v", d.Spec.Replicas, err)
	}
}
