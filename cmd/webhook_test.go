package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// webhookInventory writes an inventory whose group_vars/all.yml is
// keepalived's interface and virtual IP, an ACME issuer, and vars.
func webhookInventory(t *testing.T, vars string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "keepalived_interface: br-ex\nkeepalived_vip: 10.96.250.10\n" +
		"cluster_issuer_type: acme\ncluster_issuer_acme_email: ops@example.com\n" + vars
	if err := os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlanWithAWebhookSolver: an inventory whose ACME issuer has the
// solver godaddy plans godaddy's webhook (not infoblox's) before
// cluster-issuer, takes cluster_issuer_acme_godaddy_helm_values as that
// webhook's values without a warning, and shows neither credential; one
// with the solver infoblox and no password is refused before the run
// (exit 2), naming the key, without the credentials it has.
func TestPlanWithAWebhookSolver(t *testing.T) {
	const key, secret = "godaddy-k3y-value", "godaddy-s3cr3t-value"
	inv := webhookInventory(t, "cluster_issuer_acme_solver: godaddy\n"+
		"cluster_issuer_acme_godaddy_api_key: "+key+"\ncluster_issuer_acme_godaddy_secret_key: "+secret+"\n"+
		"cluster_issuer_acme_godaddy_helm_values:\n  replicaCount: 2\n")
	out, stderr, err := run(t, "plan", "--inventory", inv)
	if err != nil || stderr != "" {
		t.Fatalf("plan: err %v, stderr %q\n%s", err, stderr, out)
	}
	if !strings.Contains(out, "cert-manager-webhook-godaddy:install") || strings.Contains(out, "cert-manager-webhook-infoblox-wapi") {
		t.Errorf("plan: want godaddy's webhook and not infoblox's:\n%s", out)
	}
	graph, _, err := run(t, "graph", "--inventory", inv, "--tags", "cluster-issuer")
	if err != nil {
		t.Fatal(err)
	}
	needs := ""
	for _, line := range strings.Split(graph, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "cluster-issuer:install") {
			needs = line
		}
	}
	if !strings.Contains(needs, "cert-manager-webhook-godaddy:install") {
		t.Errorf("cluster-issuer:install does not need godaddy's webhook (%q):\n%s", needs, graph)
	}
	for _, text := range []string{out, stderr, graph} {
		if strings.Contains(text, key) || strings.Contains(text, secret) {
			t.Errorf("a credential is shown:\n%s", text)
		}
	}

	const password = "infoblox-passw0rd"
	refused := webhookInventory(t, "cluster_issuer_acme_solver: infoblox\ncluster_issuer_acme_infoblox_host: wapi.example.com\n"+
		"cluster_issuer_acme_infoblox_username: admin\n")
	_, stderr, code := cli(t, nil, "plan", "--inventory", refused)
	for _, w := range []string{
		"cluster_issuer_acme_infoblox_password: required with cluster_issuer_type acme with the solver infoblox, and not set",
		"cluster_issuer_acme_infoblox_view: required with cluster_issuer_type acme with the solver infoblox, and not set",
	} {
		if code != ExitUsage || !strings.Contains(stderr, w) {
			t.Errorf("exit %d, want %d and %q:\n%s", code, ExitUsage, w, stderr)
		}
	}
	withPassword := webhookInventory(t, "cluster_issuer_acme_solver: infoblox\ncluster_issuer_acme_infoblox_password: "+password+"\n")
	_, stderr, code = cli(t, nil, "plan", "--inventory", withPassword)
	if code != ExitUsage || !strings.Contains(stderr, "cluster_issuer_acme_infoblox_host: required") || strings.Contains(stderr, password) {
		t.Errorf("exit %d, want %d, the host named and no password shown:\n%s", code, ExitUsage, stderr)
	}
}
