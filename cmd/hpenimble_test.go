package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// The HPE Nimble array's test address and credentials.
const (
	hpeBackend  = "192.0.2.77"
	hpeUsername = "nimble-4dm1n-5521"
	hpePassword = "nimble-p4ss-8813"
)

// TestHPENimbleRefusedBeforeTheRun: with csi_driver hpe-nimble, plan
// refuses (exit 2) an inventory without the array's username and password
// and with an access protocol the role does not take, naming each key (the
// protocol's value and iscsi and fc), without showing the backend's
// password given elsewhere; with the credentials it plans hpe-csi-driver
// in place of csi.
func TestHPENimbleRefusedBeforeTheRun(t *testing.T) {
	inv := testenv.CopyDir(t, kwokInventory)
	const file = "group_vars/all/zz-csi.yml"
	write := func(vars string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(inv, file), []byte("csi_driver: hpe-nimble\n"+vars), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("hpe_nimble_csi_backend: " + hpeBackend + "\nhpe_nimble_csi_password: 12345678\nhpe_nimble_csi_access_protocol: nvme\n")
	_, stderr, code := cli(t, nil, "plan", "--inventory", inv)
	refusedNaming(t, code, stderr, []string{
		"hpe_nimble_csi_username: required with csi_driver hpe-nimble (the role asserts it), and not set or empty",
		file + ": hpe_nimble_csi_password: want a string, got a number",
		file + `: hpe_nimble_csi_access_protocol: want one of "iscsi", "fc", got the string "nvme"`,
	})
	if strings.Contains(stderr, "12345678") {
		t.Errorf("the refusal shows the password:\n%s", stderr)
	}
	write("hpe_nimble_csi_backend: " + hpeBackend + "\nhpe_nimble_csi_username: " + hpeUsername + "\nhpe_nimble_csi_password: " + hpePassword + "\n")
	stdout, stderr, code := cli(t, nil, "plan", "--inventory", inv)
	if code != 0 {
		t.Fatalf("plan with the credentials: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, " hpe-csi-driver:install ") || strings.Contains(stdout, " csi:install ") { // not iscsi's
		t.Errorf("the plan does not install hpe-csi-driver in place of csi:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, hpePassword) {
		t.Errorf("plan shows the password")
	}
}

// TestDeployHPENimble runs `atmosphere deploy --tags loki -vv` as a
// process with the kwok inventory, `csi_driver: hpe-nimble` and the
// array's credentials on a cluster of its own: hpe-csi-driver is installed
// (release kube-system/hpe-csi-driver) in place of csi (no ceph-csi-rbd
// release), then the Secret hpe-nimble-csi-secret holds the CSP's service
// and the array's backend and credentials, and the StorageClass general is
// csi.hpe.com's with the role's parameters; loki's claims are bound to
// volumes of that provisioner (played by the test bed's stand-in). No
// credential is printed. Then the same deploy again changes nothing.
func TestDeployHPENimble(t *testing.T) {
	b := newKwokBed(t)
	vars := "csi_driver: hpe-nimble\nhpe_nimble_csi_backend: " + hpeBackend + "\nhpe_nimble_csi_username: " + hpeUsername +
		"\nhpe_nimble_csi_password: " + hpePassword + "\n"
	if err := os.WriteFile(filepath.Join(b.inventory, "group_vars", "all", "csi.yml"), []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "loki", "--output", "json", "-vv"}
	stdout, stderr, code := cli(t, b.env, args...)
	noCredentials := func(stdout, stderr string) {
		t.Helper()
		for _, text := range []string{stdout, stderr} {
			if strings.Contains(text, hpeUsername) || strings.Contains(text, hpePassword) {
				t.Errorf("an HPE Nimble credential was printed")
			}
		}
	}
	noCredentials(stdout, stderr)
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), testenv.LastLines(stderr, 40))
	}
	units := deploytest.Events(t, stdout)
	if e := units.Last("hpe-csi-driver:install"); e.Kind != deploy.Succeeded || !strings.Contains(e.Detail, "install: new release") {
		t.Errorf("hpe-csi-driver:install ended %+v, want a new release", e)
	}
	for _, other := range []string{"csi:install", "local-path-provisioner:install"} {
		if _, ran := units[other]; ran {
			t.Errorf("%s ran with csi_driver hpe-nimble", other)
		}
	}
	if h, l := units.Last("hpe-csi-driver:install"), units["loki:install"]; len(l) == 0 || l[0].Time.Before(h.Time) {
		t.Errorf("loki:install started before hpe-csi-driver's StorageClass was applied")
	}
	for unit := range units {
		if k := units.Last(unit).Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s ended %s: %+v", unit, k, units.Last(unit))
		}
	}

	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "hpe-csi-controller", metav1.GetOptions{}); err != nil {
		t.Errorf("the release's controller Deployment: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "nimble-csp", metav1.GetOptions{}); err != nil {
		t.Errorf("the release's Nimble CSP: %v", err)
	}
	sec, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "hpe-nimble-csi-secret", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the array's Secret: %v", err)
	}
	want := map[string]string{"serviceName": "nimble-csp-svc", "servicePort": "8080", "backend": hpeBackend,
		"username": hpeUsername, "password": hpePassword}
	if len(sec.Data) != len(want) {
		t.Errorf("Secret hpe-nimble-csi-secret has %d keys, want %d", len(sec.Data), len(want))
	}
	for k, v := range want {
		if string(sec.Data[k]) != v {
			t.Errorf("Secret hpe-nimble-csi-secret: %s is not the one given (%d bytes)", k, len(sec.Data[k]))
		}
	}
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, "general", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("StorageClass general: %v", err)
	}
	params := map[string]string{"csi.storage.k8s.io/fstype": "xfs", "accessProtocol": "iscsi"}
	for _, call := range []string{"controller-publish", "node-publish", "node-stage", "provisioner"} {
		params["csi.storage.k8s.io/"+call+"-secret-name"] = "hpe-nimble-csi-secret"
		params["csi.storage.k8s.io/"+call+"-secret-namespace"] = "kube-system"
	}
	if sc.Provisioner != "csi.hpe.com" || sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" ||
		sc.ReclaimPolicy == nil || *sc.ReclaimPolicy != "Delete" || sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion ||
		sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != "Immediate" {
		t.Errorf("StorageClass general: provisioner %s, annotations %v, reclaim %v, expansion %v, binding %v; want the role's of csi.hpe.com",
			sc.Provisioner, sc.Annotations, sc.ReclaimPolicy, sc.AllowVolumeExpansion, sc.VolumeBindingMode)
	}
	if len(sc.Parameters) != len(params) {
		t.Errorf("StorageClass general: parameters %v, want %v", sc.Parameters, params)
	}
	for k, v := range params {
		if sc.Parameters[k] != v {
			t.Errorf("StorageClass general: parameter %s %q, want %q", k, sc.Parameters[k], v)
		}
	}
	lokiClaimsBoundWithoutCephCSI(t, cs)

	stdout, stderr, code = cli(t, b.env, args...)
	noCredentials(stdout, stderr)
	rerunChangesNothing(t, stdout, stderr, code)
}
