package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestIllTypedKnobsRefusedUntouched: a knob of the wrong type, of a
// component the run does not even select (octavia's key size) or of one
// it does (memcached's release name, a list), is refused by every verb
// before it starts — plan, deploy and Check — with exit 2 and every
// problem named by its file and key; deploy leaves the cluster untouched
// (no release, no state namespace).
func TestIllTypedKnobsRefusedUntouched(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	inv := testenv.CopyDir(t, kwokInventory)
	const file = "group_vars/all/zz-knobs.yml"
	bad := "octavia_tls_client_private_key_size: abc\nmemcached_helm_release_name: [1]\noctavia_amphora_flavor_ram: lots\n"
	if err := os.WriteFile(filepath.Join(inv, file), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + `: octavia_tls_client_private_key_size: want a whole number, got the string "abc"`,
		file + ": memcached_helm_release_name: want a string, got a list",
		file + `: octavia_amphora_flavor_ram: want a whole number, got the string "lots"`,
	}
	check := func(t *testing.T, code int, msg string) {
		t.Helper()
		refusedNaming(t, code, msg, want)
	}
	t.Run("plan", func(t *testing.T) {
		_, stderr, code := cli(t, nil, "plan", "--inventory", inv)
		check(t, code, stderr)
	})
	t.Run("deploy", func(t *testing.T) {
		_, stderr, code := cli(t, nil, "deploy", "--kubeconfig", kubeconfig, "--inventory", inv,
			"--tags", "memcached", "--charts", sharedCharts, "--report-dir", t.TempDir())
		check(t, code, stderr)
	})
	t.Run("check", func(t *testing.T) {
		err := (&action.Check{Config: action.New(action.Options{Kubeconfig: kubeconfig, Inventory: inv})}).Run(context.Background())
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		check(t, ExitCode(err), msg)
	})
	cs := kubernetes.NewForConfigOrDie(cfg)
	helm, err := cs.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(helm.Items) != 0 {
		t.Errorf("%d Helm release records written", len(helm.Items))
	}
	for _, ns := range []string{DefaultStateNamespace, "openstack"} {
		if got, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
			t.Errorf("namespace %s created (%s): the refused run touched the cluster", ns, got.CreationTimestamp)
		}
	}
}

// TestUnimplementedKnobValuesRefused: a knob value the roles take and
// atmosphere-go does not implement (a CSI driver but rbd,
// local-path-provisioner, hpe-nimble, storpool, ibm-block and portworx, a renamed release, a release moved to another
// namespace), a value no role takes (a Helm timeout without its unit), a
// setting atmosphere's playbooks refuse and a credential an issuer type or
// solver requires and the inventory lacks (godaddy's secret key, its API
// key given) are refused by plan and deploy before
// they start (exit 2), each naming the file, the knob, its value and what
// is supported; the credential given is not shown, and deploy leaves the
// cluster untouched.
func TestUnimplementedKnobValuesRefused(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	inv := testenv.CopyDir(t, kwokInventory)
	const file = "group_vars/all/zz-knobs.yml"
	bad := "csi_driver: powerstore\ncluster_issuer_type: acme\ncluster_issuer_acme_email: ops@example.com\n" +
		"cluster_issuer_acme_solver: godaddy\ncluster_issuer_acme_godaddy_api_key: godaddy-k3y-value\n" +
		"atmosphere_ceph_enabled: true\n" +
		"nova_helm_release_name: compute\nkeystone_helm_release_namespace: identity\nnova_helm_timeout: 600\n" +
		"octavia_amphora_image_disk_format: qcow3\noctavia_management_subnet_cidr: 172.24.0.0\n"
	if err := os.WriteFile(filepath.Join(inv, file), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + `: csi_driver: want one of "rbd", "local-path-provisioner", "hpe-nimble", "storpool", "ibm-block", "portworx" (atmosphere's role also takes "powerstore"`,
		`got the string "powerstore"`,
		"cluster_issuer_acme_godaddy_secret_key: required with cluster_issuer_type acme with the solver godaddy, and not set",
		file + ": atmosphere_ceph_enabled: no longer supported",
		file + `: nova_helm_release_name: want "nova" (atmosphere-go does not rename releases), got the string "compute"`,
		file + `: keystone_helm_release_namespace: want "openstack" (atmosphere-go does not move releases to another namespace), got the string "identity"`,
		file + `: nova_helm_timeout: want a duration greater than zero with its unit, as Helm's --timeout takes it ("10m0s", "600s"), got the number 600`,
		file + `: octavia_amphora_image_disk_format: want one of "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop", got the string "qcow3"`,
		file + `: octavia_management_subnet_cidr: want a network in CIDR notation (172.24.0.0/22), got "172.24.0.0"`,
	}
	check := func(t *testing.T, code int, msg string) {
		t.Helper()
		refusedNaming(t, code, msg, want)
		if strings.Contains(msg, "godaddy-k3y-value") {
			t.Errorf("the message shows a credential:\n%s", msg)
		}
	}
	t.Run("plan", func(t *testing.T) {
		_, stderr, code := cli(t, nil, "plan", "--inventory", inv)
		check(t, code, stderr)
	})
	t.Run("deploy", func(t *testing.T) {
		_, stderr, code := cli(t, nil, "deploy", "--kubeconfig", kubeconfig, "--inventory", inv,
			"--tags", "cluster-issuer", "--charts", sharedCharts, "--report-dir", t.TempDir())
		check(t, code, stderr)
	})
	t.Run("a credential missing", func(t *testing.T) {
		missing := "cluster_issuer_type: ca\ncluster_issuer_ca_certificate: x\n"
		if err := os.WriteFile(filepath.Join(inv, file), []byte(missing), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := cli(t, nil, "plan", "--inventory", inv)
		if w := "cluster_issuer_ca_private_key: required with cluster_issuer_type ca, and not set"; code != ExitUsage || !strings.Contains(stderr, w) {
			t.Errorf("exit %d, want %d and %q:\n%s", code, ExitUsage, w, stderr)
		}
	})
	cs := kubernetes.NewForConfigOrDie(cfg)
	for _, ns := range []string{DefaultStateNamespace, "cert-manager"} {
		if got, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
			t.Errorf("namespace %s created (%s): the refused run touched the cluster", ns, got.CreationTimestamp)
		}
	}
}

// refusedNaming checks a run was refused as bad input (ExitUsage) with a
// message holding each of want.
func refusedNaming(t *testing.T, code int, msg string, want []string) {
	t.Helper()
	if code != ExitUsage {
		t.Errorf("exit %d, want %d:\n%s", code, ExitUsage, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("the message lacks %q:\n%s", w, msg)
		}
	}
}

// TestKeepalivedNeedsItsAddress: keepalived enabled (the default) without
// its virtual IP or its interface is refused by plan before it starts
// (exit 2), naming each missing key and the role's hint; with
// keepalived_enabled: false the same inventory plans, without keepalived.
func TestKeepalivedNeedsItsAddress(t *testing.T) {
	const file = "group_vars/all/keepalived.yml"
	tests := []struct {
		name, keepalived string
		// refused are what the refusal names; none when the plan runs.
		refused []string
	}{
		{"no virtual IP", "keepalived_interface: br-ex\n",
			[]string{"keepalived_vip: keepalived is enabled and needs keepalived_vip", "set them, or keepalived_enabled: false"}},
		{"neither", "{}\n", []string{"keepalived_interface: keepalived is enabled and needs keepalived_interface and keepalived_vip",
			"keepalived_vip: keepalived is enabled and needs keepalived_interface and keepalived_vip", "set them, or keepalived_enabled: false"}},
		{"disabled", "keepalived_interface: br-ex\nkeepalived_enabled: false\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testenv.CopyDir(t, kwokInventory)
			if err := os.WriteFile(filepath.Join(inv, file), []byte(tt.keepalived), 0o600); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := cli(t, nil, "plan", "--inventory", inv)
			if tt.refused != nil {
				refusedNaming(t, code, stderr, tt.refused)
				return
			}
			if code != 0 || strings.Contains(stdout, "keepalived:install") {
				t.Errorf("exit %d, want 0 and a plan without keepalived:\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}
