package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// csiDriverDeploy is a deploy --tags loki of the kwok inventory with the
// CSI driver's variables vars (group_vars/all/zz-csi.yml), -vv, on a
// cluster of its own: it fails the test unless it succeeds with every
// unit succeeded or unchanged, none of the secrets printed, csi (ceph-csi-rbd)
// neither run nor installed, each of the driver's units (want) succeeded,
// and the StorageClass general the driver's, of provisioner, applied by
// provider, its claims in monitoring (loki's) bound. It returns the bed
// and the deploy's arguments, for a second run.
func csiDriverDeploy(t *testing.T, vars string, secrets []string, want []string, provider, provisioner string) (kwokBed, []string) {
	t.Helper()
	b := newKwokBed(t)
	if err := os.WriteFile(filepath.Join(b.inventory, "group_vars", "all", "zz-csi.yml"), []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "loki", "--output", "json", "-vv"}
	stdout, stderr, code := cli(t, b.env, args...)
	for _, text := range []string{stdout, stderr} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a secret of the CSI driver was printed")
			}
		}
	}
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), testenv.LastLines(stderr, 40))
	}
	units := deploytest.Events(t, stdout)
	for _, unit := range want {
		if e := units.Last(unit); e.Kind != deploy.Succeeded || !strings.Contains(e.Detail, "objects applied") {
			t.Errorf("%s ended %+v, want its objects applied", unit, e)
		}
	}
	if _, ran := units["csi:install"]; ran {
		t.Errorf("csi:install ran with csi_driver %s", provider)
	}
	for unit, evs := range units {
		last := evs[len(evs)-1]
		if last.Kind != deploy.Succeeded && last.Kind != deploy.Unchanged {
			t.Errorf("%s ended %s: %+v", unit, last.Kind, last)
		}
		t.Logf("%s: %s after %s: %s", unit, last.Kind, last.Time.Sub(evs[0].Time).Round(time.Second), last.Detail)
	}

	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("StorageClass general: %v", err)
	}
	if sc.Provisioner != provisioner || sc.Labels["atmosphere.vexxhost.com/component"] != provider ||
		sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("StorageClass general: provisioner %s, component %q, default %q; want %s's, the default", sc.Provisioner,
			sc.Labels["atmosphere.vexxhost.com/component"], sc.Annotations["storageclass.kubernetes.io/is-default-class"], provider)
	}
	lokiClaimsBoundWithoutCephCSI(t, cs)
	return b, args
}

// TestDeployStorPoolCSI runs `atmosphere deploy --tags loki -vv` as a
// process with the kwok inventory and `csi_driver: storpool` on a cluster
// of its own: storpool-csi applies the role's manifests (the plugins'
// service accounts, the controller plugin's Deployment, the CSIDriver
// csi.storpool.com, the node plugin's DaemonSet) in place of csi, and its
// StorageClass general (WaitForFirstConsumer, the inventory's template) is
// the one loki's claims name, bound once their pods are scheduled (the
// test bed's stand-in plays csi.storpool.com). Then the same deploy again
// changes nothing.
func TestDeployStorPoolCSI(t *testing.T) {
	b, args := csiDriverDeploy(t, "csi_driver: storpool\nstorpool_csi_template: hybrid-r3\n", nil,
		[]string{"storpool-csi:install"}, "storpool-csi", "csi.storpool.com")
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != "WaitForFirstConsumer" || sc.Parameters["template"] != "hybrid-r3" {
		t.Errorf("StorageClass general: binding %v, parameters %v; want WaitForFirstConsumer, template hybrid-r3", sc.VolumeBindingMode, sc.Parameters)
	}
	if _, err := cs.StorageV1().CSIDrivers().Get(ctx, "csi.storpool.com", metav1.GetOptions{}); err != nil {
		t.Errorf("CSIDriver csi.storpool.com: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "storpool-csi-controllerplugin", metav1.GetOptions{}); err != nil {
		t.Errorf("the controller plugin: %v", err)
	}
	if _, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "storpool-csi-nodeplugin", metav1.GetOptions{}); err != nil {
		t.Errorf("the node plugin: %v", err)
	}
	for _, sa := range []string{"storpool-csi-controller-sa", "storpool-csi-node-sa"} {
		if _, err := cs.CoreV1().ServiceAccounts("kube-system").Get(ctx, sa, metav1.GetOptions{}); err != nil {
			t.Errorf("ServiceAccount %s: %v", sa, err)
		}
	}
	stdout, stderr, code := cli(t, b.env, args...)
	rerunChangesNothing(t, stdout, stderr, code)
}

// TestDeployIBMBlockCSI runs `atmosphere deploy --tags loki -vv` as a
// process with the kwok inventory and `csi_driver: ibm-block` on a cluster
// of its own: ibm-block-csi-operator applies IBM's operator (its CRDs, its
// Deployment), then ibm-block-csi-driver the IBMBlockCSI resource, the
// Secret ibm-block-csi-credentials with the inventory's credentials and
// the StorageClass general (pool, I/O group, thin), which loki's claims
// name, bound (the test bed's stand-in plays block.csi.ibm.com; no
// operator runs: the resource is applied, as the role applies it). No
// credential is printed with -vv; the same deploy again changes nothing.
func TestDeployIBMBlockCSI(t *testing.T) {
	const user, password = "csi-us3r-5521", "ibm-pa55-8807"
	vars := "csi_driver: ibm-block\nibm_block_csi_driver_management_address: flash.example.com\n" +
		"ibm_block_csi_driver_username: " + user + "\nibm_block_csi_driver_password: " + password + "\n" +
		"ibm_block_csi_driver_pool: pool0\nibm_block_csi_driver_io_group: io_grp0\n"
	b, args := csiDriverDeploy(t, vars, []string{password}, []string{"ibm-block-csi-operator:install", "ibm-block-csi-driver:install"},
		"ibm-block-csi-driver", "block.csi.ibm.com")
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"pool": "pool0", "io_group": "io_grp0", "SpaceEfficiency": "thin",
		"csi.storage.k8s.io/secret-name": "ibm-block-csi-credentials", "csi.storage.k8s.io/secret-namespace": "kube-system"} {
		if sc.Parameters[k] != v {
			t.Errorf("StorageClass general: %s %q, want %q", k, sc.Parameters[k], v)
		}
	}
	s, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "ibm-block-csi-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the credentials' Secret: %v", err)
	}
	if string(s.Data["management_address"]) != "flash.example.com" || string(s.Data["username"]) != user || string(s.Data["password"]) != password {
		t.Errorf("Secret ibm-block-csi-credentials does not hold the inventory's credentials (%d keys)", len(s.Data))
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "ibm-block-csi-operator", metav1.GetOptions{}); err != nil {
		t.Errorf("the operator: %v", err)
	}
	cr, err := dynamic.NewForConfigOrDie(b.cfg).Resource(schema.GroupVersionResource{Group: "csi.ibm.com", Version: "v1", Resource: "ibmblockcsis"}).
		Namespace("kube-system").Get(ctx, "ibm-block-csi", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("IBMBlockCSI ibm-block-csi: %v", err)
	}
	if repo, _, _ := unstructured.NestedString(cr.Object, "spec", "controller", "repository"); !strings.HasSuffix(repo, "/ibm-block-csi-driver-controller") {
		t.Errorf("IBMBlockCSI's controller repository %q, want the image table's", repo)
	}
	stdout, stderr, code := cli(t, b.env, args...)
	for _, text := range []string{stdout, stderr} {
		if strings.Contains(text, password) {
			t.Errorf("the password was printed by the second deploy")
		}
	}
	rerunChangesNothing(t, stdout, stderr, code)
}
