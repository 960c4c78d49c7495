package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/golden"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

const (
	kwokInventory = "../testdata/inventories/kwok"
	sharedCharts  = "../../shared/atmosphere/charts"
	testCharts    = "../testdata/charts"
)

// cli runs the test binary as the atmosphere command, in a process of its
// own, and returns its stdout, stderr and exit code.
func cli(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	c := exec.Command(os.Args[0], args...)
	c.Env = append(append(os.Environ(), "ATMOSPHERE_TEST_AS_CLI=1"), env...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// kwokBed is what a deploy test of the whole command runs against: a
// 3-node cluster of the test's own with the stand-in operators running
// (until the test ends), the test keystone, a copy of the kwok inventory
// whose database the test bed's MariaDB provides, and the environment that
// names the keystone cloud.
type kwokBed struct {
	cfg                   *rest.Config
	kubeconfig, inventory string
	db                    *testenv.TestDatabase
	env                   []string
}

func newKwokBed(t *testing.T) kwokBed {
	t.Helper()
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 3)
	clouds := testenv.KeystoneClouds(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	inv := testenv.CopyDir(t, kwokInventory)
	useKeycloak(t, inv)
	db := testenv.ProvideDatabase(t, cfg, inv)
	testenv.ProvideRabbitMQ(t, cfg, inv)
	deploytest.GiveServicesPasswords(t, inv, db.RootPassword)
	return kwokBed{cfg: cfg, kubeconfig: kubeconfig, inventory: inv, db: db,
		env: []string{"OS_CLIENT_CONFIG_FILE=" + clouds, "OS_CLOUD=atmosphere-test"}}
}

// useKeycloak points the inventory's Keycloak work (keystone's and the
// monitoring's sso phases) at the test Keycloak, with its admin, in realms
// of this test's own.
func useKeycloak(t *testing.T, inv string) {
	t.Helper()
	kc := testenv.Keycloak(t)
	realm := fmt.Sprintf("kwok-%d", time.Now().UnixNano()%1e12)
	vars := fmt.Sprintf("keystone_keycloak_server_url: %q\nkube_prometheus_stack_keycloak_server_url: %q\n"+
		"keystone_keycloak_admin_user: %q\nkube_prometheus_stack_keycloak_admin_user: %q\nkeycloak_admin_password: %q\n"+
		"keystone_keycloak_realm: %q\nkube_prometheus_stack_keycloak_realm: %q\n",
		kc.URL, kc.URL, kc.AdminUser, kc.AdminUser, kc.AdminPassword, realm, realm)
	if err := os.WriteFile(filepath.Join(inv, "group_vars", "all", "keycloak.yml"), []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDeployStatusUpgrade runs `atmosphere deploy` as a process against a
// cluster of its own and the test keystone, with the molecule inventory (and
// the kwok overlay) on memcached, keystone's chart and glance's chart with
// what they need (glance's keystone Jobs not made: glance:catalog does
// their work); then `status`; then deploy again (nothing changes); then
// `upgrade glance` with a changed value (glance alone is upgraded).
func TestDeployStatusUpgrade(t *testing.T) {
	b := newKwokBed(t)
	cfg, kubeconfig, inv, db := b.cfg, b.kubeconfig, b.inventory, b.db
	reports := t.TempDir()
	env := b.env
	common := []string{"--inventory", inv, "--kubeconfig", kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", reports}
	tags := "memcached,keystone,glance"

	stdout, stderr, code := cli(t, env, append([]string{"deploy", "--tags", tags, "--output", "json"}, common...)...)
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	first := deploytest.Events(t, stdout)
	for _, unit := range []string{"memcached:install", "keystone:install", "keystone:sso", "keystone:setup", "glance:catalog", "glance:install",
		"percona-xtradb-cluster:install", "cert-manager:install"} {
		evs := first[unit]
		done := evs[len(evs)-1].Kind
		// The test keystone outlives the cluster: its set-up may be there
		// from an earlier run.
		if strings.HasSuffix(unit, ":setup") || strings.HasSuffix(unit, ":catalog") {
			if done == deploy.Unchanged {
				done = deploy.Succeeded
			}
		}
		if len(evs) < 2 || evs[0].Kind != deploy.Started || done != deploy.Succeeded {
			t.Errorf("%s: events %+v, want started … succeeded", unit, evs)
		}
	}
	if e := first.Last("glance:install"); !strings.Contains(e.Detail, "install: new release (revision 1)") || e.Duration <= 0 {
		t.Errorf("glance:install ended with %+v", e)
	}
	if e := first.Last("kubernetes:install"); e.Kind != deploy.Unchanged || e.Detail != "provided by the environment" {
		t.Errorf("kubernetes:install (Ansible) ended with %+v, want unchanged, provided by the environment", e)
	}
	waited := slices.ContainsFunc(first["keystone:install"], func(e deploy.Event) bool {
		return e.Kind == deploy.Waiting && strings.HasPrefix(e.Detail, "Job/openstack/keystone-")
	})
	if !waited {
		t.Errorf("keystone:install never said which Job it waited on: %+v", first["keystone:install"])
	}
	md, _ := filepath.Glob(filepath.Join(reports, "deploy-*.md"))
	svg, _ := filepath.Glob(filepath.Join(reports, "deploy-*.svg"))
	if len(md) != 1 || len(svg) != 1 {
		t.Fatalf("reports %v %v, want one Markdown and one SVG", md, svg)
	}
	report, _ := os.ReadFile(md[0])
	if !strings.Contains(string(report), "| glance:install | helm | succeeded |") && !strings.Contains(string(report), "| **glance:install** | helm | succeeded |") {
		t.Errorf("the report has no row for glance:install:\n%s", report)
	}

	// Nothing the run printed or wrote holds a secret it generated.
	cs := kubernetes.NewForConfigOrDie(cfg)
	// glance's keystone, db-init and rabbit-init Jobs are not made:
	// glance:catalog, glance:database and glance:queue did their work.
	jobs, err := cs.BatchV1().Jobs("openstack").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var glanceJobs []string
	for _, j := range jobs.Items {
		if strings.HasPrefix(j.Name, "glance-") {
			glanceJobs = append(glanceJobs, j.Name)
		}
		if strings.Contains(j.Name, "-ks-") || strings.HasSuffix(j.Name, "-db-init") || strings.HasSuffix(j.Name, "-rabbit-init") {
			t.Errorf("Job %s was made: a chart's keystone, db-init or rabbit-init Job, which the catalog, database and queue phases do", j.Name)
		}
	}
	// glance:database made glance's database and user, with the password
	// its chart's values carry (the test bed's, GiveServicesPasswords).
	if conn, err := db.Open("glance", "glance-"+db.RootPassword, "glance"); err != nil {
		t.Errorf("glance's user cannot use its database: %v", err)
	} else {
		conn.Close()
	}
	if !slices.Contains(glanceJobs, "glance-db-sync") {
		t.Errorf("glance's Jobs are %q, want glance-db-sync among them", glanceJobs)
	}
	sec, err := cs.CoreV1().Secrets(DefaultStateNamespace).Get(context.Background(), secrets.DefaultName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the generated secrets: %v", err)
	}
	if len(sec.Data) == 0 {
		t.Errorf("no secret generated: keystone:setup and glance:catalog should have made service passwords")
	}
	// keystone:sso ran before keystone:install: the OIDC metadata its pods
	// mount carries the realm's discovery document, as the role's.
	oidc, err := cs.CoreV1().ConfigMaps("openstack").Get(context.Background(), "keystone-openid-metadata", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("keystone's OIDC metadata: %v", err)
	}
	providers := 0
	for k, v := range oidc.Data {
		if !strings.HasSuffix(k, "-oidc-provider") {
			continue
		}
		providers++
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal([]byte(v), &doc); err != nil || !strings.HasSuffix(doc.Issuer, "/realms/"+strings.TrimSuffix(k, "-oidc-provider")) || doc.JWKSURI == "" {
			t.Errorf("%s is not the realm's discovery document: %.300s", k, v)
		}
	}
	if providers == 0 {
		t.Errorf("keystone-openid-metadata has no provider: keys %v", slices.Collect(maps.Keys(oidc.Data)))
	}
	// keycloak's database and user were made in the cloud's MySQL (the
	// test MariaDB) with the password its values carry.
	// MariaDB has no Percona strict mode to loosen and put back.
	for unit, want := range map[string]deploy.Kind{"keycloak:database": deploy.Succeeded, "keycloak:strict-mode": deploy.Unchanged} {
		if e := first.Last(unit); e.Kind != want {
			t.Errorf("%s ended with %+v, want %s", unit, e, want)
		}
	}
	if conn, err := db.Open(db.Keycloak, string(sec.Data["keycloak_database_password"]), db.Keycloak); err != nil {
		t.Errorf("keycloak's user cannot use its database: %v", err)
	} else {
		conn.Close()
	}
	// The generated ones (keystone's Keycloak client secret among them:
	// keystone:sso made the client with it) and Keycloak's admin password,
	// which keystone:sso logged in with.
	scanned := map[string]string{}
	for k, v := range sec.Data {
		scanned[k] = string(v)
	}
	raw, err := os.ReadFile(filepath.Join(inv, "group_vars", "all", "keycloak.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var kcVars map[string]string
	if err := yaml.Unmarshal(raw, &kcVars); err != nil || kcVars["keycloak_admin_password"] == "" {
		t.Fatalf("the test Keycloak's admin password in the inventory: %v", err)
	}
	scanned["keycloak_admin_password"] = kcVars["keycloak_admin_password"]
	if _, ok := scanned["keystone_keycloak_client_secret"]; !ok {
		t.Errorf("no keystone_keycloak_client_secret generated; generated: %v", slices.Sorted(maps.Keys(scanned)))
	}
	for k, v := range scanned {
		for what, text := range map[string]string{"stdout": stdout, "stderr": stderr, "report": string(report)} {
			if strings.Contains(text, v) {
				t.Errorf("the secret %s appears in %s", k, what)
			}
		}
	}

	stdout, stderr, code = cli(t, env, "status", "--kubeconfig", kubeconfig, "--inventory", inv, "--tags", "memcached,keystone,glance,cert-manager", "--output", "json")
	if code != 0 {
		t.Fatalf("status: exit %d\n%s\n%s", code, stdout, stderr)
	}
	golden.Check(t, "status-deployed.jsonl", normalStatus(stdout))
	var rows []ComponentStatus
	dec := json.NewDecoder(strings.NewReader(stdout))
	for dec.More() {
		var r ComponentStatus
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 4 {
		t.Fatalf("status rows %+v, want 4", rows)
	}
	for _, r := range rows {
		if r.State != "deployed" || r.Revision != 1 || r.LastDuration <= 0 {
			t.Errorf("status %+v, want deployed at revision 1, with the duration the deploy measured", r)
		}
	}

	// Again: nothing changes.
	stdout, stderr, code = cli(t, env, append([]string{"deploy", "--tags", tags, "--output", "json"}, common...)...)
	rerunChangesNothing(t, stdout, stderr, code)

	// upgrade glance with one value changed: glance alone is upgraded.
	extra := "glance_helm_values:\n  pod:\n    replicas:\n      api: 2\n"
	if err := os.WriteFile(filepath.Join(inv, "group_vars", "all", "upgrade.yml"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = cli(t, env, append([]string{"upgrade", "glance", "--output", "json"}, common...)...)
	if code != 0 {
		t.Fatalf("upgrade: exit %d\n%s\n%s", code, stdout, stderr)
	}
	golden.Check(t, "events-upgrade-glance.jsonl", normalEvents(t, stdout))
	up := deploytest.Events(t, stdout)
	if units := slices.Sorted(maps.Keys(up)); !slices.Equal(units, []string{"glance:catalog", "glance:database", "glance:install", "glance:queue", "glance:rabbitmq"}) {
		t.Errorf("upgrade glance ran %v, want glance's five units alone", units)
	}
	for _, u := range []string{"glance:database", "glance:catalog", "glance:rabbitmq", "glance:queue"} {
		if e := up.Last(u); e.Kind != deploy.Unchanged {
			t.Errorf("upgrade glance: %s ended %+v, want unchanged", u, e)
		}
	}
	if e := up.Last("glance:install"); e.Kind != deploy.Succeeded || !strings.Contains(e.Detail, "upgrade: values (revision 2)") {
		t.Errorf("upgrade glance: glance:install ended %+v, want upgraded for its values to revision 2", e)
	}
}

// TestDeployRefusesABadChartUntouched: a chart whose content does not match
// its pinned digest is refused before anything is written: exit 2, the
// component and the mismatch named, no release, no lease.
func TestDeployRefusesABadChartUntouched(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	charts := t.TempDir()
	src := filepath.Join(sharedCharts, "memcached")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		dst := filepath.Join(charts, "memcached", rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "values.yaml" {
			raw = append(raw, []byte("\ntampered: true\n")...)
		}
		return os.WriteFile(dst, raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cli(t, nil, "deploy", "--kubeconfig", kubeconfig, "--inventory", kwokInventory,
		"--tags", "memcached", "--charts", charts, "--report-dir", t.TempDir())
	if code != ExitUsage || !strings.Contains(stderr, "memcached") || !strings.Contains(stderr, "nothing was changed") || !strings.Contains(stderr, "digest") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 naming memcached and the digest", code, stderr)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	helm, err := cs.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(helm.Items) != 0 {
		t.Errorf("%d Helm release records written", len(helm.Items))
	}
	if ns, err := cs.CoreV1().Namespaces().Get(context.Background(), DefaultStateNamespace, metav1.GetOptions{}); err == nil {
		t.Errorf("namespace %s created (%s): the refused run touched the cluster", DefaultStateNamespace, ns.CreationTimestamp)
	}
}

// rerunChangesNothing fails the test unless a deploy run again (its
// stdout, stderr and exit code) exited 0 and every unit it ran ended
// unchanged.
func rerunChangesNothing(t *testing.T, stdout, stderr string, code int) {
	t.Helper()
	if code != 0 {
		t.Fatalf("second deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), stderr)
	}
	for unit, evs := range deploytest.Events(t, stdout) {
		if k := evs[len(evs)-1].Kind; k != deploy.Unchanged {
			t.Errorf("second deploy: %s ended %s (%s), want unchanged", unit, k, evs[len(evs)-1].Detail)
		}
	}
}
