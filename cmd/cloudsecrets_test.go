package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestSecretsOfAReleaseAnotherToolMade: on a cluster of its own, a glance
// release installed by Helm as another tool would (no label of
// atmosphere's) holds glance's database and keystone passwords, which the
// inventory lacks. The plan takes both from the release (named with where,
// never a value), generates neither. Once the inventory sets the keystone
// one to another value, deploy (and its dry run) refuse with exit 2 before
// anything changes, naming the variable, the inventory's file, the release
// and the path of its values, and neither value; the release keeps its
// revision and no secret is stored; a run that leaves glance alone is not
// refused. The secrets store holding another value is refused likewise.
func TestSecretsOfAReleaseAnotherToolMade(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	ctx := t.Context()
	const (
		dbPassword       = "cloudGlanceDatabasePassword1234"
		keystonePassword = "cloudGlanceKeystonePassword5678"
		inventoryValue   = "inventoryGlanceKeystoneDiffers9"
	)
	f, err := helmrelease.NewFactory(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	helmCfg, err := f.ActionConfig(ctx, "openstack", nil)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(helmCfg)
	install.ReleaseName, install.Namespace, install.CreateNamespace = "glance", "openstack", true
	if _, err := install.RunWithContext(ctx, &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "glance", Version: "0.1.0"}},
		map[string]any{"endpoints": map[string]any{
			"oslo_db":  map[string]any{"auth": map[string]any{"glance": map[string]any{"username": "glance", "password": dbPassword}}},
			"identity": map[string]any{"auth": map[string]any{"glance": map[string]any{"username": "glance", "password": keystonePassword}}},
		}}); err != nil {
		t.Fatalf("install glance as another tool: %v", err)
	}

	inv := testenv.CopyDir(t, kwokInventory)
	common := []string{"--inventory", inv, "--kubeconfig", kubeconfig, "--charts", sharedCharts, "--charts", testCharts, "--tags", "glance"}
	noValue := func(step, out string) {
		t.Helper()
		for _, v := range []string{dbPassword, keystonePassword, inventoryValue} {
			if strings.Contains(out, v) {
				t.Errorf("%s: the output shows a password:\n%s", step, out)
			}
		}
	}

	stdout, stderr, code := cli(t, nil, append([]string{"plan"}, common...)...)
	noValue("plan", stdout+stderr)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, testenv.LastLines(stdout, 30), testenv.LastLines(stderr, 30))
	}
	taken, generated := planSecrets(stdout)
	for _, want := range []string{
		"openstack_helm_endpoints_glance_mariadb_password from release openstack/glance (endpoints.oslo_db.auth.glance.password)",
		"openstack_helm_endpoints_glance_keystone_password from release openstack/glance (endpoints.identity.auth.glance.password)",
	} {
		if !slices.Contains(taken, want) {
			t.Errorf("the plan does not take %q; it takes %q", want, taken)
		}
	}
	for _, name := range generated {
		if strings.HasPrefix(name, "openstack_helm_endpoints_glance_") && name != "openstack_helm_endpoints_glance_rabbitmq_password" {
			t.Errorf("the plan would generate %s, which the release holds", name)
		}
	}

	// The inventory and the release disagree on one.
	file := filepath.Join(inv, "group_vars", "all", "secrets.yml")
	if err := os.WriteFile(file, []byte("openstack_helm_endpoints_glance_keystone_password: "+inventoryValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A deploy that went ahead would write its report there.
	reports := []string{"--report-dir", t.TempDir()}
	for _, args := range [][]string{{"deploy", "--dry-run"}, append([]string{"deploy"}, reports...)} {
		stdout, stderr, code := cli(t, nil, append(args, common...)...)
		step := strings.Join(args, " ")
		noValue(step, stdout+stderr)
		if code != ExitUsage {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", step, code, ExitUsage, testenv.LastLines(stdout, 20), testenv.LastLines(stderr, 20))
		}
		for _, want := range []string{"secret openstack_helm_endpoints_glance_keystone_password", "group_vars/all/secrets.yml",
			"release openstack/glance", "endpoints.identity.auth.glance.password", "nothing was changed"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: the refusal does not say %q:\n%s", step, want, stderr)
			}
		}
		if strings.Contains(stderr, "glance_mariadb_password") {
			t.Errorf("%s: refused the database password, on which they agree:\n%s", step, stderr)
		}
	}
	// A run of units that leave glance's release alone is not refused.
	memcached := []string{"deploy", "--dry-run", "--inventory", inv, "--kubeconfig", kubeconfig, "--charts", sharedCharts, "--charts", testCharts, "--tags", "memcached"}
	if stdout, stderr, code := cli(t, nil, memcached...); code != 0 {
		t.Errorf("deploy --dry-run --tags memcached: exit %d, want 0\n%s\n%s", code, testenv.LastLines(stdout, 10), testenv.LastLines(stderr, 10))
	}
	// Nothing changed: the release's one revision, no secret stored.
	cs := kubernetes.NewForConfigOrDie(cfg)
	helmSecrets, err := cs.CoreV1().Secrets("openstack").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=glance"})
	if err != nil || len(helmSecrets.Items) != 1 {
		t.Errorf("glance has %d revisions (%v), want its one", len(helmSecrets.Items), err)
	}
	if _, err := cs.CoreV1().Secrets("atmosphere").Get(ctx, "atmosphere-secrets", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("secrets stored by a refused deploy: %v", err)
	}

	// The inventory sets none, but the secrets store holds another value.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "atmosphere"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("atmosphere").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "atmosphere-secrets"},
		Data: map[string][]byte{"keystone.glance": []byte(inventoryValue)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = cli(t, nil, append([]string{"deploy", "--dry-run"}, common...)...)
	noValue("deploy --dry-run, the store disagreeing", stdout+stderr)
	if want := "secret openstack_helm_endpoints_glance_keystone_password: the secrets store atmosphere/atmosphere-secrets sets a value other than the one release openstack/glance (endpoints.identity.auth.glance.password) holds"; code != ExitUsage || !strings.Contains(stderr, want) {
		t.Errorf("the store disagreeing: exit %d, want %d saying %q:\n%s", code, ExitUsage, want, testenv.LastLines(stderr, 20))
	}
}

// planSecrets reads the plan's secrets: those taken from the running
// cloud ("name from where") and those generated (names).
func planSecrets(out string) (taken, generated []string) {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if _, names, ok := strings.Cut(l, "secrets that would be generated"); ok {
			_, list, _ := strings.Cut(names, ": ")
			generated = strings.Split(list, ", ")
		}
		if strings.HasPrefix(l, "secrets that would be taken from the running cloud") {
			for _, m := range lines[i+1:] {
				if !strings.HasPrefix(m, "  ") {
					break
				}
				taken = append(taken, strings.TrimSpace(m))
			}
		}
	}
	return taken, generated
}
