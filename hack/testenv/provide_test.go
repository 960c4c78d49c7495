package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// demoInventory is make demo's committed inventory (its files linked from
// the kwok one's).
const demoInventory = "../../testdata/inventories/demo"

// TestProvide: make demo's inventory copy against a cluster an earlier
// deploy left (the percona-xtradb Secret with a generated root password,
// a RabbitmqCluster whose default user's Secret names a user the RabbitMQ
// does not know). provide starts the MariaDB and RabbitMQ of the state
// directory, empties the copy's directory, copies the inventory (linked
// files whole), and the copy, read as the deploy reads it, names their
// addresses and the shared RabbitMQ users' passwords and no database
// user's; the Secret's root password is what the MariaDB accepts; the
// stale default user logs in to the RabbitMQ as an administrator. Run
// twice, the second run reuses both servers and makes no user. The
// committed inventory is left as it was.
func TestProvide(t *testing.T) {
	c := testenv.PrivateCluster(t, 1)
	cfg := c.Config()
	gvk := schema.GroupVersionKind{Group: "rabbitmq.com", Version: "v1beta1", Kind: "RabbitmqCluster"}
	testenv.CreateCRD(t, cfg, gvk)
	state := t.TempDir()
	e := &env{cluster: &testenv.Cluster{Name: c.Name, WorkDir: c.WorkDir},
		rabbitmq: filepath.Join(state, "rabbitmq"), mariadb: filepath.Join(state, "mariadb")}
	if e.kubeconfig() != c.Kubeconfig {
		t.Fatalf("env's kubeconfig %s, want the cluster's %s", e.kubeconfig(), c.Kubeconfig)
	}
	t.Cleanup(func() {
		if err := testenv.StopMariaDBAt(e.mariadb); err != nil {
			t.Error(err)
		}
		if err := testenv.StopRabbitMQAt(e.rabbitmq); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// What an earlier deploy left in the cluster.
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openstack"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := map[string]string{"root": "generated-root", "operator": "generated-operator"}
	if _, err := cs.CoreV1().Secrets("openstack").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "percona-xtradb"}, StringData: stale},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := dynamic.NewForConfigOrDie(cfg).Resource(gvk.GroupVersion().WithResource("rabbitmqclusters")).Namespace("openstack")
	rc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": gvk.GroupVersion().String(), "kind": gvk.Kind,
		"metadata": map[string]any{"name": "rabbitmq-nova", "namespace": "openstack"}}}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, err := res.Create(ctx, rc, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) { // the CRD may not be served yet
			t.Fatal(err)
		}
	}
	user, password := "default_user_stale", "stale-password"
	if _, err := cs.CoreV1().Secrets("openstack").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rabbitmq-nova-default-user"},
		StringData: map[string]string{"username": user, "password": password}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "demo-inventory")
	leftover := filepath.Join(out, "group_vars", "all", "zz-left-over.yml")
	if err := os.MkdirAll(filepath.Dir(leftover), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(leftover, []byte("atmosphere_database_address: 10.0.0.1:3306\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := listFiles(t, demoInventory)
	if err := e.provide(ctx, demoInventory, out); err != nil {
		t.Fatalf("provide: %v", err)
	}
	m, err := testenv.ReuseMariaDBAt(ctx, e.mariadb)
	if err != nil {
		t.Fatal(err)
	}
	r, err := testenv.ReuseRabbitMQAt(ctx, e.rabbitmq)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("%s survived provide (%v), want the directory emptied first", leftover, err)
	}
	info, err := os.Lstat(filepath.Join(out, "group_vars", "all", "kwok.yml"))
	if err != nil || !info.Mode().IsRegular() {
		t.Errorf("the copy's kwok.yml: %v %v, want a regular file (the link's target copied)", info, err)
	}
	imageEnv := func(k string) (string, bool) {
		if strings.HasPrefix(k, "ATMOSPHERE_") {
			return "http://127.0.0.1:1/" + k, true
		}
		return "", false
	}
	inv, err := inventory.Load(out, imageEnv)
	if err != nil {
		t.Fatalf("the copy does not load: %v", err)
	}
	for k, want := range map[string]string{
		"atmosphere_database_address":                     m.Addr,
		"atmosphere_rabbitmq_address":                     r.ManagementAddr,
		"openstack_helm_endpoints_nova_rabbitmq_password": "nova-atmosphere-test-rabbitmq",
	} {
		if got, _ := inv.Vars[k].(string); got != want {
			t.Errorf("the copy's %s: %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"openstack_helm_endpoints_nova_mariadb_password", "keycloak_database_name"} {
		if v, ok := inv.Vars[k]; ok {
			t.Errorf("the copy sets %s (%v), want it left to the deploy", k, v)
		}
	}
	secret, err := cs.CoreV1().Secrets("openstack").Get(ctx, "percona-xtradb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"root", "operator", "xtrabackup"} {
		if string(secret.Data[k]) != m.RootPassword {
			t.Errorf("Secret percona-xtradb's %s is not the MariaDB's root password", k)
		}
	}
	db, err := m.Open("root", string(secret.Data["root"]), "")
	if err != nil {
		t.Errorf("root with the Secret's password: %v", err)
	} else {
		db.Close()
	}
	if name, tags := managementWhoami(ctx, t, r.ManagementURL, user, password); name != user || !strings.Contains(tags, "administrator") {
		t.Errorf("the stale default user in the RabbitMQ: %q tagged %q, want %s tagged administrator", name, tags, user)
	}

	if err := e.provide(ctx, demoInventory, out); err != nil {
		t.Fatalf("provide again: %v", err)
	}
	if again, err := testenv.ReuseMariaDBAt(ctx, e.mariadb); err != nil || *again != *m {
		t.Errorf("the second provide's MariaDB: %v %v, want the first's at %s", again, err, m.Addr)
	}
	if made, err := testenv.SyncRabbitMQDefaultUsers(ctx, cfg, r); err != nil || made != 0 {
		t.Errorf("default users made after provide: %d %v, want none", made, err)
	}
	if after := listFiles(t, demoInventory); after != before {
		t.Errorf("the committed inventory changed:\n%s\nwant:\n%s", after, before)
	}
}

// managementWhoami is who user is to the RabbitMQ management API at base,
// and its tags (joined).
func managementWhoami(ctx context.Context, t *testing.T, base, user, password string) (name, tags string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", resp.Status
	}
	var me struct {
		Name string `json:"name"`
		Tags any    `json:"tags"` // a list, or a comma-separated string on older servers
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(me.Tags)
	return me.Name, string(raw)
}

// listFiles names every file under dir with its size and mode.
func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(path + " " + info.Mode().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
