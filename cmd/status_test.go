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
