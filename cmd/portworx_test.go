package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// The portworx variables of the tests' inventories: the API token is what
// no output may show.
const (
	portworxToken = "px-t0ken-5821-never-shown"
	portworxVars  = "csi_driver: portworx\nportworx_pure_flasharray_san_type: ISCSI\n" +
		"portworx_pure_json:\n  FlashArrays:\n    - MgmtEndPoint: 192.0.2.20\n      APIToken: " + portworxToken + "\n"
)

var storageClusters = schema.GroupVersionResource{Group: "core.libopenstorage.org", Version: "v1", Resource: "storageclusters"}

// TestDeployPortworx runs `atmosphere deploy --tags loki -vv` as a process
// with the kwok inventory (its hosts provided) and `csi_driver: portworx`
// on a cluster of its own: portworx is deployed in place of csi (no
// ceph-csi-rbd), its host phase reported provided; its namespace, the
// operator and the Secret of pure.json are applied, then the deploy waits
// for the CRD of StorageClusters (which the test bed's stand-in of the
// operator creates once the operator's Deployment is up), then applies
// the StorageCluster and the StorageClass general of pxd.portworx.com,
// which loki's claims name and are bound through (the test bed's stand-in
// provisioner plays it). The API token of portworx_pure_json is in the
// Secret and in no output. Then the same deploy again changes nothing.
func TestDeployPortworx(t *testing.T) {
	b := newKwokBed(t)
	if err := os.WriteFile(filepath.Join(b.inventory, "group_vars", "all", "csi.yml"), []byte(portworxVars), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "loki", "--output", "json", "-vv"}
	stdout, stderr, code := cli(t, b.env, args...)
	noToken := func(stdout, stderr string) {
		t.Helper()
		if strings.Contains(stdout, portworxToken) || strings.Contains(stderr, portworxToken) {
			t.Errorf("portworx_pure_json's API token was printed")
		}
	}
	noToken(stdout, stderr)
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), testenv.LastLines(stderr, 40))
	}
	units := deploytest.Events(t, stdout)
	install := units["portworx:install"]
	if e := units.Last("portworx:install"); e.Kind != deploy.Succeeded {
		t.Errorf("portworx:install ended %+v, want succeeded", e)
	}
	waited := slices.IndexFunc(install, func(e deploy.Event) bool {
		return e.Kind == deploy.Waiting && strings.Contains(e.Detail, "CustomResourceDefinition "+testenv.PortworxStorageClusterCRD)
	})
	if waited < 0 {
		t.Errorf("portworx:install reported no wait for the CRD %s: %+v", testenv.PortworxStorageClusterCRD, install)
	}
	if e := units.Last("portworx:host"); e.Kind != deploy.Unchanged && e.Kind != deploy.Succeeded {
		t.Errorf("portworx:host ended %+v, want it provided (the hosts are)", e)
	}
	if h, i := units["portworx:host"], install; len(h) == 0 || len(i) == 0 || i[0].Time.Before(h[len(h)-1].Time) {
		t.Errorf("portworx:install started before portworx:host ended")
	}
	if _, ran := units["csi:install"]; ran {
		t.Errorf("csi:install ran with csi_driver portworx")
	}
	for unit := range units {
		if k := units.Last(unit).Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s ended %s: %+v", unit, k, units.Last(unit))
		}
	}

	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	dyn := dynamic.NewForConfigOrDie(b.cfg)
	// The operator and the Secret in the first set, the StorageCluster
	// and the StorageClass in the set applied after the CRD was there.
	sets := map[string][]string{
		"atmosphere-manifests-portworx": {"Namespace//portworx", "ServiceAccount/kube-system/portworx-operator",
			"ClusterRole//portworx-operator", "ClusterRoleBinding//portworx-operator",
			"Deployment/kube-system/portworx-operator", "Secret/portworx/px-pure-secret"},
		"atmosphere-manifests-portworx-after-crd": {"StorageCluster/portworx/px-cluster-567cacc6-e39c-49da-9d35-2bafacfcf18c",
			"StorageClass//general"},
	}
	for name, want := range sets {
		s, err := cs.CoreV1().Secrets("portworx").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("inventory %s: %v", name, err)
			continue
		}
		var refs []struct{ Kind, Namespace, Name string }
		if err := json.Unmarshal(s.Data["objects"], &refs); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range refs {
			got = append(got, r.Kind+"/"+r.Namespace+"/"+r.Name)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("inventory %s lists %v, want %v", name, got, want)
		}
	}
	crd, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		Get(ctx, testenv.PortworxStorageClusterCRD, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the CRD of StorageClusters: %v", err)
	}
	sc, err := dyn.Resource(storageClusters).Namespace("portworx").Get(ctx, "px-cluster-567cacc6-e39c-49da-9d35-2bafacfcf18c", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the StorageCluster: %v", err)
	}
	if sc.GetCreationTimestamp().Time.Before(crd.GetCreationTimestamp().Time) {
		t.Errorf("the StorageCluster was made before the CRD")
	}
	op, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "portworx-operator", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the operator: %v", err)
	}
	if crd.GetCreationTimestamp().Time.Before(op.GetCreationTimestamp().Time) {
		t.Errorf("the CRD was there before the operator")
	}
	secret, err := cs.CoreV1().Secrets("portworx").Get(ctx, "px-pure-secret", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Secret px-pure-secret: %v", err)
	}
	if got, want := string(secret.Data["pure.json"]), `{"FlashArrays": [{"APIToken": "`+portworxToken+`", "MgmtEndPoint": "192.0.2.20"}]}`; got != want {
		t.Errorf("pure.json holds %d bytes, not portworx_pure_json as the role writes it", len(got))
	}
	class, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("StorageClass general: %v", err)
	}
	if class.Provisioner != "pxd.portworx.com" || class.Labels["atmosphere.vexxhost.com/component"] != "portworx-after-crd" {
		t.Errorf("StorageClass general: provisioner %s, labels %v; want portworx's", class.Provisioner, class.Labels)
	}
	lokiClaimsBoundWithoutCephCSI(t, cs)

	stdout, stderr, code = cli(t, b.env, args...)
	noToken(stdout, stderr)
	rerunChangesNothing(t, stdout, stderr, code)
}

// TestDeployPortworxWithoutItsCRD: with csi_driver portworx and its
// variables missing, deploy is refused before it starts (exit 2), naming
// each; with them, when the operator never creates the CRD of
// StorageClusters (the stand-in is paused for its Deployment), `deploy
// --tags portworx` fails portworx:install at its bound (--unit-timeout
// 20s) with an error naming the CRD, having applied the operator but
// neither the StorageCluster nor the StorageClass general.
func TestDeployPortworxWithoutItsCRD(t *testing.T) {
	b := newKwokBed(t)
	vars := filepath.Join(b.inventory, "group_vars", "all", "csi.yml")
	if err := os.WriteFile(vars, []byte("csi_driver: portworx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "portworx", "--output", "json", "--unit-timeout", "20s"}
	stdout, stderr, code := cli(t, b.env, args...)
	if code != 2 || !strings.Contains(stderr, "portworx_pure_json: required with csi_driver portworx") ||
		!strings.Contains(stderr, "portworx_pure_flasharray_san_type: required with csi_driver portworx") {
		t.Errorf("deploy without portworx's variables: exit %d, stderr:\n%s\nwant exit 2 naming both", code, stderr)
	}

	if err := os.WriteFile(vars, []byte(portworxVars), 0o600); err != nil {
		t.Fatal(err)
	}
	// The operator's Deployment as the stand-in leaves it alone: the
	// deploy's apply keeps the annotation (another manager's field).
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	labels := map[string]string{"name": "portworx-operator"}
	paused := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "portworx-operator", Namespace: "kube-system",
			Annotations: map[string]string{testenv.StandInPaused: "true"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "portworx-operator", Image: "portworx/px-operator:25.2.1"}}}}},
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Create(ctx, paused, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stdout, stderr, code = cli(t, b.env, args...)
	noSecret := !strings.Contains(stdout, portworxToken) && !strings.Contains(stderr, portworxToken)
	if !noSecret {
		t.Errorf("portworx_pure_json's API token was printed")
	}
	if code == 0 {
		t.Fatalf("deploy succeeded without the CRD\nstdout:\n%s", testenv.LastLines(stdout, 40))
	}
	units := deploytest.Events(t, stdout)
	e := units.Last("portworx:install")
	if e.Kind != deploy.Failed || !strings.Contains(e.Error, "CustomResourceDefinition "+testenv.PortworxStorageClusterCRD) ||
		!strings.Contains(e.Error, "not created") {
		t.Errorf("portworx:install ended %+v, want failed naming the CRD %s, not created", e, testenv.PortworxStorageClusterCRD)
	}
	if took := time.Since(start); took > 3*time.Minute {
		t.Errorf("the deploy took %s: the wait for the CRD is not bounded by --unit-timeout", took)
	}
	t.Logf("portworx:install: %s", e.Error)
	if _, err := cs.CoreV1().Secrets("portworx").Get(ctx, "px-pure-secret", metav1.GetOptions{}); err != nil {
		t.Errorf("Secret px-pure-secret, applied before the wait: %v", err)
	}
	dyn := dynamic.NewForConfigOrDie(b.cfg)
	if _, err := dyn.Resource(storageClusters).Namespace("portworx").List(ctx, metav1.ListOptions{}); err == nil {
		t.Errorf("StorageClusters are served: the CRD was made")
	}
	if class, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{}); err == nil && class.Provisioner == "pxd.portworx.com" {
		t.Errorf("portworx's StorageClass general was applied without the CRD")
	}
}
