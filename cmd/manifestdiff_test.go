package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestDeployDryRunDiffManifestUnit runs `atmosphere deploy --tags
// cluster-issuer` as a process (a manifest unit: an ACME ClusterIssuer
// with godaddy's solver and the Secret of its credentials) on a cluster of
// its own, then changes the issuer's e-mail and the godaddy secret key in
// the inventory: `deploy --dry-run --diff` shows, for cluster-issuer, the
// e-mail's line changed and the Secret's token named as changed, nothing
// else, no credential, and the cluster is as the deploy left it. Before the
// change, the unit is planned unchanged, with no diff.
func TestDeployDryRunDiffManifestUnit(t *testing.T) {
	const key, secret, secret2 = "gd-k3y-5108", "gd-s3cr3t-4471", "gd-s3cr3t-8823"
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	inv := testenv.CopyDir(t, kwokInventory)
	issuer := func(email, secretKey string) {
		t.Helper()
		vars := "cluster_issuer_type: acme\ncluster_issuer_acme_email: " + email + "\ncluster_issuer_acme_solver: godaddy\n" +
			"cluster_issuer_acme_godaddy_api_key: " + key + "\ncluster_issuer_acme_godaddy_secret_key: " + secretKey + "\n"
		if err := os.WriteFile(filepath.Join(inv, "group_vars", "all", "zz-issuer.yml"), []byte(vars), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--inventory", inv, "--kubeconfig", kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", "cluster-issuer"}
	noCredential := func(step string, texts ...string) {
		t.Helper()
		for _, text := range texts {
			for _, c := range []string{key, secret, secret2} {
				if strings.Contains(text, c) {
					t.Errorf("%s: a godaddy credential was printed", step)
				}
			}
		}
	}
	issuer("ops@example.com", secret)
	stdout, stderr, code := cli(t, nil, slices.Concat([]string{"deploy", "--output", "json"}, common)...)
	noCredential("deploy", stdout, stderr)
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), testenv.LastLines(stderr, 40))
	}

	// As deployed, the unit is planned unchanged and shows no diff.
	stdout, stderr, code = cli(t, nil, slices.Concat([]string{"deploy", "--dry-run", "--diff", "--output", "json"}, common)...)
	if u := plannedUnits(t, stdout)["cluster-issuer:install"]; code != 0 || u.Change != "unchanged" || u.Diff != "" {
		t.Errorf("deploy --dry-run --diff right after the deploy: exit %d, cluster-issuer:install %+v, want unchanged and no diff\nstderr:\n%s", code, u, stderr)
	}

	issuer("infra@example.com", secret2)
	stdout, stderr, code = cli(t, nil, slices.Concat([]string{"deploy", "--dry-run", "--diff"}, common)...)
	noCredential("deploy --dry-run --diff", stdout, stderr)
	_, diff, found := strings.Cut(stdout, "\ncluster-issuer:install: ")
	if code != 0 {
		t.Fatalf("deploy --dry-run --diff: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !found {
		t.Errorf("deploy --dry-run --diff shows no diff for cluster-issuer:install:\n%s", stdout)
	}
	var changed []string
	for _, l := range strings.Split(diff, "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			changed = append(changed, l[:1]+strings.TrimSpace(l[1:]))
		}
	}
	want := []string{"-email: ops@example.com", "+email: infra@example.com", "-token: (hidden)", "+token: (hidden, changed)"}
	if !slices.Equal(changed, want) {
		t.Errorf("cluster-issuer:install's diff changes %q, want %q:\n%s", changed, want, diff)
	}
	for _, head := range []string{"--- deployed ClusterIssuer ", "--- deployed Secret cert-manager/godaddy-api-key\n"} {
		if !strings.Contains(diff, head) {
			t.Errorf("the diff has no %q:\n%s", head, diff)
		}
	}

	// The dry run changed nothing.
	cs := kubernetes.NewForConfigOrDie(cfg)
	s, err := cs.CoreV1().Secrets("cert-manager").Get(ctx, "godaddy-api-key", metav1.GetOptions{})
	if err != nil || string(s.Data["token"]) != key+":"+secret {
		t.Errorf("the dry run changed Secret godaddy-api-key (%v)", err)
	}
	issuers, err := dynamic.NewForConfigOrDie(cfg).Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}).
		List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range issuers.Items {
		if email, _, _ := unstructured.NestedString(ci.Object, "spec", "acme", "email"); email != "" && email != "ops@example.com" {
			t.Errorf("the dry run changed ClusterIssuer %s's e-mail to %q", ci.GetName(), email)
		}
	}
}

// plannedUnit is a unit of `deploy --dry-run --output json`'s plan.
type plannedUnit struct{ Unit, Change, Diff string }

// plannedUnits reads the units of `deploy --dry-run --output json`'s
// output, a JSON object a line, by unit.
func plannedUnits(t *testing.T, stdout string) map[string]plannedUnit {
	t.Helper()
	out := map[string]plannedUnit{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var u plannedUnit
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("the plan's line %q: %v", line, err)
		}
		out[u.Unit] = u
	}
	return out
}
