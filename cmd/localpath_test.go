package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestDeployLocalPathProvisioner runs `atmosphere deploy --tags loki` as a
// process with the kwok inventory and `csi_driver: local-path-provisioner`
// on a cluster of its own: local-path-provisioner is installed (release
// local-path-storage/local-path-provisioner) in place of csi (no
// ceph-csi-rbd release), its StorageClass general is the one loki's claims
// name, and they are bound to volumes of its provisioner (played by the
// test bed's stand-in). Then the same deploy again changes nothing.
func TestDeployLocalPathProvisioner(t *testing.T) {
	b := newKwokBed(t)
	if err := os.WriteFile(filepath.Join(b.inventory, "group_vars", "all", "csi.yml"), []byte("csi_driver: local-path-provisioner\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "loki", "--output", "json"}
	stdout, stderr, code := cli(t, b.env, args...)
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), stderr)
	}
	units := deploytest.Events(t, stdout)
	if e := units.Last("local-path-provisioner:install"); e.Kind != deploy.Succeeded || !strings.Contains(e.Detail, "install: new release") {
		t.Errorf("local-path-provisioner:install ended %+v, want a new release", e)
	}
	if _, ran := units["csi:install"]; ran {
		t.Errorf("csi:install ran with csi_driver local-path-provisioner")
	}
	for unit := range units {
		if k := units.Last(unit).Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s ended %s: %+v", unit, k, units.Last(unit))
		}
	}

	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("StorageClass general: %v", err)
	}
	if sc.Provisioner != "cluster.local/local-path-provisioner" || sc.Annotations["meta.helm.sh/release-name"] != "local-path-provisioner" {
		t.Errorf("StorageClass general: provisioner %s, release %q; want local-path-provisioner's", sc.Provisioner, sc.Annotations["meta.helm.sh/release-name"])
	}
	if _, err := cs.AppsV1().Deployments("local-path-storage").Get(ctx, "local-path-provisioner", metav1.GetOptions{}); err != nil {
		t.Errorf("local-path-provisioner's Deployment: %v", err)
	}
	lokiClaimsBoundWithoutCephCSI(t, cs)

	stdout, stderr, code = cli(t, b.env, args...)
	rerunChangesNothing(t, stdout, stderr, code)
}

// lokiClaimsBoundWithoutCephCSI: with a CSI driver other than rbd, no
// ceph-csi-rbd node plugin is deployed, loki's claims (in monitoring) are
// of the StorageClass general and bound through the driver's provisioner
// (the test bed's stand-in), and every StorageClass has a provisioner that
// serves it (checkStorageClassesServed).
func lokiClaimsBoundWithoutCephCSI(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := t.Context()
	if _, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "ceph-csi-rbd-nodeplugin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ceph-csi-rbd's node plugin: %v, want none", err)
	}
	claims, err := cs.CoreV1().PersistentVolumeClaims("monitoring").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims.Items) == 0 {
		t.Errorf("loki made no claim in monitoring")
	}
	for _, c := range claims.Items {
		if c.Spec.StorageClassName == nil || *c.Spec.StorageClassName != "general" || c.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim monitoring/%s: class %v, %s; want general, Bound", c.Name, c.Spec.StorageClassName, c.Status.Phase)
		}
	}
	checkStorageClassesServed(t, cs)
}
