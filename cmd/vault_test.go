package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

const (
	vaultInventory = "../testdata/inventories/vault"
	vaultPassword  = vaultInventory + "/test-vault-password"
	wrongPassword  = "../internal/vault/testdata/wrong-password"
)

// vaultPlaintexts are the values encrypted in the vault inventory (and in
// inventory/testdata/vault-bad-backend.yml): no output may show them.
var vaultPlaintexts = []string{"vault-file-plaintext-Zq7xW2", "vault-value-plaintext-Hk3pR9", "linuxbridge-plaintext-Tr5v"}

func checkNoPlaintext(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, p := range vaultPlaintexts {
			if strings.Contains(text, p) {
				t.Errorf("%s: the decrypted value %s appears in the output:\n%s", what, p, text)
			}
		}
	}
}

// TestVaultInventory: plan and deploy --dry-run read the vault inventory
// (group_vars/controllers, host_vars/ctl1, an encrypted file, a !vault
// value) with the password from --vault-password-file or
// ANSIBLE_VAULT_PASSWORD_FILE; without it, or with a wrong one, they exit
// 2 naming each encrypted file; no decrypted value reaches any output.
func TestVaultInventory(t *testing.T) {
	// The settings are ctl1's: ovn from group_vars/controllers, keepalived
	// from host_vars/ctl1, the BGP agent (frr-k8s) from the encrypted file.
	read := []string{"ovn network backend", "keepalived:install", "frr-k8s:install"}
	bad := testenv.CopyDir(t, vaultInventory)
	raw, err := os.ReadFile("../inventory/testdata/vault-bad-backend.yml")
	if err != nil {
		t.Fatal(err)
	}
	// In ctl1's host_vars, above group_vars/controllers' backend.
	if err := os.WriteFile(filepath.Join(bad, "host_vars", "ctl1", "zz-bad.yml"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want []string // in stdout (exit 0) or stderr
	}{
		{"plan, --vault-password-file", nil, []string{"plan", "--inventory", vaultInventory, "--vault-password-file", vaultPassword}, 0, read},
		{"plan, ANSIBLE_VAULT_PASSWORD_FILE", []string{"ANSIBLE_VAULT_PASSWORD_FILE=" + vaultPassword}, []string{"plan", "--inventory", vaultInventory}, 0, read},
		{"plan, no password", nil, []string{"plan", "--inventory", vaultInventory}, 2, []string{
			"group_vars/controllers/vault.yml: encrypted with ansible-vault, and no vault password given",
			"host_vars/ctl1/vault.yml: openstack_helm_endpoints_glance_keystone_password: encrypted with ansible-vault"}},
		{"plan, wrong password", nil, []string{"plan", "--inventory", vaultInventory, "--vault-password-file", wrongPassword}, 2, []string{
			"group_vars/controllers/vault.yml: encrypted with ansible-vault, and the vault password given does not decrypt it",
			"host_vars/ctl1/vault.yml: openstack_helm_endpoints_glance_keystone_password: encrypted with ansible-vault, and the vault password given does not decrypt it"}},
		{"deploy --dry-run, wrong password", nil, []string{"deploy", "--dry-run", "--inventory", vaultInventory, "--vault-password-file", wrongPassword}, 2, []string{
			"group_vars/controllers/vault.yml: encrypted with ansible-vault, and the vault password given does not decrypt it"}},
		{"password file missing", nil, []string{"plan", "--inventory", vaultInventory, "--vault-password-file", "/nonexistent/pass"}, 2, []string{
			"--vault-password-file /nonexistent/pass: read the vault password file"}},
		{"an encrypted value of the wrong kind, not shown", nil, []string{"plan", "-v", "-v", "--inventory", bad, "--vault-password-file", vaultPassword}, 2, []string{
			`host_vars/ctl1/zz-bad.yml: atmosphere_network_backend: "[vault-encrypted]": want "openvswitch" or "ovn"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := cli(t, tt.env, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			out := stdout
			if tt.code != 0 {
				out = stderr
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			checkNoPlaintext(t, tt.name, stdout, stderr)
		})
	}
}

// TestVaultInventoryDryRun: deploy --dry-run (with debug logs) against a
// cluster plans glance, whose values carry the !vault password, and the
// decrypted values appear in no output.
func TestVaultInventoryDryRun(t *testing.T) {
	_, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	stdout, stderr, code := cli(t, nil, "deploy", "--dry-run", "-v", "-v", "--tags", "glance", "--inventory", vaultInventory,
		"--vault-password-file", vaultPassword, "--kubeconfig", kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("deploy --dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"ovn network backend", "glance:install", "install"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("the dry run's plan lacks %q:\n%s", w, stdout)
		}
	}
	checkNoPlaintext(t, "deploy --dry-run", stdout, stderr)
}
