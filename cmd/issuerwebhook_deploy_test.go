package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestDeployGoDaddySolver runs `atmosphere deploy --tags cluster-issuer`
// as a process with the kwok inventory and an ACME issuer whose solver is
// godaddy, on a cluster of its own: godaddy's webhook is installed (release
// cert-manager/cert-manager-webhook-godaddy) before cluster-issuer, which
// applies the credentials' Secret (token: key:secret), the Role and
// RoleBinding and the ClusterIssuer with the webhook's dns01 solver;
// neither credential is printed; a second deploy changes nothing.
func TestDeployGoDaddySolver(t *testing.T) {
	const key, secret = "gd-k3y-4217", "gd-s3cr3t-9931"
	b := newKwokBed(t)
	vars := "cluster_issuer_type: acme\ncluster_issuer_acme_email: ops@example.com\ncluster_issuer_acme_solver: godaddy\n" +
		"cluster_issuer_acme_godaddy_api_key: " + key + "\ncluster_issuer_acme_godaddy_secret_key: " + secret + "\n"
	if err := os.WriteFile(filepath.Join(b.inventory, "group_vars", "all", "zz-issuer.yml"), []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "cluster-issuer", "--output", "json", "-vv"}
	stdout, stderr, code := cli(t, b.env, args...)
	for _, text := range []string{stdout, stderr} {
		if strings.Contains(text, key) || strings.Contains(text, secret) {
			t.Errorf("a godaddy credential was printed")
		}
	}
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), testenv.LastLines(stderr, 40))
	}
	units := deploytest.Events(t, stdout)
	if e := units.Last("cert-manager-webhook-godaddy:install"); e.Kind != deploy.Succeeded || !strings.Contains(e.Detail, "install: new release") {
		t.Errorf("cert-manager-webhook-godaddy:install ended %+v, want a new release", e)
	}
	if _, ran := units["cert-manager-webhook-infoblox-wapi:install"]; ran {
		t.Errorf("infoblox's webhook ran with the solver godaddy")
	}
	if w, ci := units.Last("cert-manager-webhook-godaddy:install"), units["cluster-issuer:install"]; len(ci) == 0 || ci[0].Time.Before(w.Time) {
		t.Errorf("cluster-issuer:install started before godaddy's webhook ended")
	}

	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(b.cfg)
	s, err := cs.CoreV1().Secrets("cert-manager").Get(ctx, "godaddy-api-key", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the credentials' Secret: %v", err)
	}
	if got := string(s.Data["token"]); got != key+":"+secret {
		t.Errorf("Secret godaddy-api-key holds a token of %d bytes, not the key and secret joined by a colon", len(got))
	}
	if _, err := cs.RbacV1().Roles("cert-manager").Get(ctx, "webhook-godaddy:secret-reader", metav1.GetOptions{}); err != nil {
		t.Errorf("the Role reading the Secret: %v", err)
	}
	if _, err := cs.RbacV1().RoleBindings("cert-manager").Get(ctx, "webhook-godaddy:secret-reader", metav1.GetOptions{}); err != nil {
		t.Errorf("the RoleBinding: %v", err)
	}
	dyn := dynamic.NewForConfigOrDie(b.cfg)
	issuers, err := dyn.Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}).
		List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list the ClusterIssuers: %v", err)
	}
	found := false
	for _, ci := range issuers.Items {
		solvers, _, _ := unstructured.NestedSlice(ci.Object, "spec", "acme", "solvers")
		for _, sv := range solvers {
			m, _ := sv.(map[string]any)
			name, _, _ := unstructured.NestedString(m, "dns01", "webhook", "solverName")
			group, _, _ := unstructured.NestedString(m, "dns01", "webhook", "groupName")
			ref, _, _ := unstructured.NestedString(m, "dns01", "webhook", "config", "apiKeySecretRef", "name")
			if name == "godaddy" && group != "" && ref == "godaddy-api-key" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no ClusterIssuer with godaddy's webhook solver: %d issuers", len(issuers.Items))
	}

	stdout, stderr, code = cli(t, b.env, args...)
	rerunChangesNothing(t, stdout, stderr, code)
}
