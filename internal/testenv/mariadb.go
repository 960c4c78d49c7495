package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/internal/mysqlconn"
)

// mariadbServer is the server binary of Debian's mariadb-server.
const mariadbServer = "/usr/sbin/mariadbd"

// MariaDB is a MySQL server of the test's own on loopback: Debian's
// mariadb-server with a fresh data directory, stopped when the test ends.
type MariaDB struct {
	// Addr is host:port; the administrator is root with RootPassword.
	Addr, RootPassword string
}

// StartMariaDB installs mariadb-server when missing, starts a server for
// the test and sets its root password; it stops when the test ends.
func StartMariaDB(t testing.TB) *MariaDB {
	t.Helper()
	m, stop, err := startMariaDB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// SharedMariaDB is one server for the whole test process, stopped by
// Teardown.
func SharedMariaDB(t testing.TB) *MariaDB {
	t.Helper()
	sharedDB.once.Do(func() { sharedDB.m, sharedDB.stop, sharedDB.err = startMariaDB() })
	if sharedDB.err != nil {
		t.Fatalf("the test MariaDB: %v", sharedDB.err)
	}
	return sharedDB.m
}

var sharedDB struct {
	once sync.Once
	m    *MariaDB
	stop func() error
	err  error
}

// stopSharedMariaDB stops the process's server, if it started one.
func stopSharedMariaDB() error {
	if sharedDB.stop == nil {
		return nil
	}
	return sharedDB.stop()
}

func startMariaDB() (m *MariaDB, stop func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := EnsurePackages(ctx, mariadbServer, "mariadb-server"); err != nil {
		return nil, nil, err
	}
	// Short: the socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*MariaDB, func() error, error) {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	data := filepath.Join(dir, "data")
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=root"} // mariadbd refuses to run as root unless told
	}
	if err := initMariaDBData(ctx, data); err != nil {
		return fail(err)
	}
	ports, err := FreePorts(1)
	if err != nil {
		return fail(err)
	}
	server := exec.Command(mariadbServer, append([]string{"--no-defaults", "--datadir=" + data,
		"--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "pid"),
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(ports[0]), "--skip-log-bin",
		"--innodb-buffer-pool-size=16M", "--log-error=" + filepath.Join(dir, "error.log")}, user...)...)
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := server.Start(); err != nil {
		return fail(err)
	}
	exited := make(chan struct{})
	go func() { _ = server.Wait(); close(exited) }()
	stop = func() error {
		_ = syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		return os.RemoveAll(dir)
	}
	m = &MariaDB{Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), RootPassword: "root-" + strconv.Itoa(ports[0])}
	db, err := m.waitUp(ctx, exited, filepath.Join(dir, "error.log"))
	if err != nil {
		return nil, nil, errors.Join(err, stop())
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "ALTER USER root@localhost IDENTIFIED BY ?", m.RootPassword); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("set MariaDB's root password: %w", err), stop())
	}
	return m, stop, nil
}

// waitUp connects as root without a password until the server answers.
func (m *MariaDB) waitUp(ctx context.Context, exited <-chan struct{}, errorLog string) (*sql.DB, error) {
	for {
		db, err := mysqlconn.Open(ctx, m.Addr, "root", "", "")
		if err == nil {
			return db, nil
		}
		select {
		case <-exited:
			raw, _ := os.ReadFile(errorLog)
			return nil, fmt.Errorf("mariadbd exited: %s", LastLines(string(raw), 10))
		case <-ctx.Done():
			return nil, fmt.Errorf("MariaDB at %s did not answer: %w", m.Addr, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// As connects as user to database (none when empty), failing the test
// when it cannot.
func (m *MariaDB) As(t testing.TB, user, password, database string) *sql.DB {
	t.Helper()
	db, err := m.Open(user, password, database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Open connects as user to database (none when empty).
func (m *MariaDB) Open(user, password, database string) (*sql.DB, error) {
	return mysqlconn.Open(context.Background(), m.Addr, user, password, database)
}

// mariaDBState is what StartMariaDBAt records in its state directory:
// the server, its root password (the file is 0600) and its process.
type mariaDBState struct {
	Addr, RootPassword string
	// PID leads the server's session and process group.
	PID int
}

func mariaDBStatePath(dir string) string { return filepath.Join(dir, "state.json") }

// StartMariaDBAt brings up the MariaDB of the state directory dir, the
// test bed's stand-in for the cloud's MySQL: the one running from there
// (its state file names it and it answers its root), else a new one
// (mariadb-server installed when missing; data, log and state file in dir)
// on a free loopback port with a generated root password, detached: it
// outlives this process until StopMariaDBAt. A lock file beside dir makes
// one process start it while the others wait and then reuse it.
func StartMariaDBAt(ctx context.Context, dir string) (*MariaDB, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if m, err := ReuseMariaDBAt(ctx, dir); err == nil {
		return m, nil
	}
	if err := StopMariaDBAt(dir); err != nil { // not answering: replace it
		return nil, err
	}
	installCtx, cancelInstall := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelInstall()
	if err := EnsurePackages(installCtx, mariadbServer, "mariadb-server"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	password, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	st := mariaDBState{Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), RootPassword: password}
	st.PID, err = startDetachedMariaDB(ctx, dir, st.Addr, password)
	if st.PID > 0 {
		// Recorded even when it did not come up, for StopMariaDBAt.
		err = errors.Join(err, writeState(mariaDBStatePath(dir), st))
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start MariaDB in %s: %w", dir, err), StopMariaDBAt(dir))
	}
	return &MariaDB{Addr: st.Addr, RootPassword: st.RootPassword}, nil
}

// ReuseMariaDBAt is the server StartMariaDBAt started from dir, when it
// runs and answers its root within 5 s; an error says why not. It starts
// nothing.
func ReuseMariaDBAt(ctx context.Context, dir string) (*MariaDB, error) {
	st, err := readMariaDBState(dir)
	if err != nil {
		return nil, fmt.Errorf("no MariaDB recorded in %s: %w", dir, err)
	}
	if !Alive(st.PID) {
		return nil, fmt.Errorf("the MariaDB of %s (pid %d) is gone", dir, st.PID)
	}
	m := &MariaDB{Addr: st.Addr, RootPassword: st.RootPassword}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	db, err := mysqlconn.Open(ctx, m.Addr, "root", m.RootPassword, "")
	if err != nil {
		return nil, fmt.Errorf("the MariaDB of %s: %w", dir, err)
	}
	return m, db.Close()
}

// StopMariaDBAt stops the server started from dir, if one runs (SIGTERM,
// SIGKILL after 10 s), and forgets it; the directory is kept.
func StopMariaDBAt(dir string) error {
	st, err := readMariaDBState(dir)
	if err != nil {
		return nil // nothing recorded
	}
	stopGroup(st.PID, st.PID)
	return rmMissingOK(mariaDBStatePath(dir))
}

func readMariaDBState(dir string) (*mariaDBState, error) {
	return readState(mariaDBStatePath(dir), func(st *mariaDBState) bool { return st.PID > 0 && st.Addr != "" })
}

// TestDatabase is the cloud's MySQL of a test cluster.
type TestDatabase struct {
	*MariaDB
	// Keycloak is the name of keycloak's database and user on it, the
	// cluster's own (the process's clusters share the server).
	Keycloak string
}

// databaseCount numbers the TestDatabases of this process.
var databaseCount atomic.Int64

// ProvideDatabase stands in for the cloud's MySQL (Percona XtraDB
// Cluster) for deploys to a test cluster: the process's MariaDB
// (SharedMariaDB) through UseDatabase, with a keycloak database and user
// of the cluster's own.
func ProvideDatabase(t testing.TB, cfg *rest.Config, inventoryDir string) *TestDatabase {
	t.Helper()
	m := SharedMariaDB(t)
	db := &TestDatabase{MariaDB: m, Keycloak: fmt.Sprintf("keycloak_%d", databaseCount.Add(1))}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := UseDatabase(ctx, cfg, m, inventoryDir, db.Keycloak); err != nil {
		t.Fatal(err)
	}
	return db
}

// perconaUsers are the keys of the Percona XtraDB Cluster's Secret of its
// users' passwords (percona-xtradb-cluster's objects).
var perconaUsers = []string{"clustercheck", "monitor", "operator", "proxyadmin", "replication", "root", "xtrabackup"}

// UseDatabase points deploys of the inventory copy at inventoryDir to the
// cluster of cfg at the server m in place of the cloud's MySQL: m's root
// password is every user's of the Secret openstack/percona-xtradb that
// atmosphere reads (made before the deploy, so atmosphere keeps it as an
// operator's; set again when it holds another root password, as one an
// earlier deploy generated does, which m would refuse), and
// group_vars/all/zz-test-database.yml says where m answers
// (atmosphere_database_address) and, when keycloak is not empty, the name
// of keycloak's database and user.
func UseDatabase(ctx context.Context, cfg *rest.Config, m *MariaDB, inventoryDir, keycloak string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := kubeutil.EnsureNamespace(ctx, cs, "openstack"); err != nil {
		return fmt.Errorf("the namespace of the MySQL Secret: %w", err)
	}
	data := map[string][]byte{}
	for _, k := range perconaUsers {
		data[k] = []byte(m.RootPassword)
	}
	secrets := cs.CoreV1().Secrets("openstack")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "percona-xtradb"}, Data: data}
	_, err = secrets.Create(ctx, secret, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var live *corev1.Secret
		live, err = secrets.Get(ctx, secret.Name, metav1.GetOptions{})
		if err == nil && string(live.Data["root"]) != m.RootPassword {
			live.Data = data
			_, err = secrets.Update(ctx, live, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("give Secret openstack/percona-xtradb the test MySQL's root password: %w", err)
	}
	content := "# The test MariaDB stands in for Percona XtraDB Cluster's MySQL.\natmosphere_database_address: " + m.Addr + "\n"
	if keycloak != "" {
		content += fmt.Sprintf("keycloak_database_name: %s\nkeycloak_database_username: %s\n", keycloak, keycloak)
	}
	if err := writeTestVars(inventoryDir, "zz-test-database.yml", content); err != nil {
		return fmt.Errorf("point the inventory at the test MySQL: %w", err)
	}
	return nil
}

// writeTestVars writes content as the inventory copy's variables file
// group_vars/all/<name>, which the test bed adds to an inventory.
func writeTestVars(inventoryDir, name, content string) error {
	vars := filepath.Join(inventoryDir, "group_vars", "all", name)
	if err := os.MkdirAll(filepath.Dir(vars), 0o755); err != nil {
		return err
	}
	return os.WriteFile(vars, []byte(content), 0o644)
}

// initMariaDBData makes MariaDB's system tables in the data directory data
// (mariadb-install-db, as root when this process is root). mariadbd's
// bootstrap, on a fresh machine right after the package's install and with
// the machine loaded, has been seen to fail once and pass on the next try:
// on a failure the directory is wiped and the bootstrap run once more. The
// error carries the bootstrap's own [ERROR] lines (its last lines are only
// its advice) of each try.
func initMariaDBData(ctx context.Context, data string) error {
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=root"} // mariadbd refuses to run as root unless told
	}
	var tries []string
	for try := 1; try <= 2; try++ {
		if err := os.RemoveAll(data); err != nil {
			return fmt.Errorf("clearing %s for mariadb-install-db: %w", data, err)
		}
		install := exec.CommandContext(ctx, "mariadb-install-db", append([]string{"--no-defaults", "--datadir=" + data,
			"--auth-root-authentication-method=normal", "--skip-test-db"}, user...)...)
		out, err := install.CombinedOutput()
		if err == nil {
			return nil
		}
		tries = append(tries, fmt.Sprintf("try %d: %v\n%s", try, err, bootstrapErrors(string(out))))
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("mariadb-install-db --datadir=%s failed:\n%s", data, strings.Join(tries, "\n"))
}

// bootstrapErrors is what of mariadb-install-db's output says why it
// failed: the lines with [ERROR] or ERROR, else its last ten lines.
func bootstrapErrors(out string) string {
	var errs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "ERROR") {
			errs = append(errs, line)
		}
	}
	if len(errs) == 0 {
		return LastLines(out, 10)
	}
	return strings.Join(errs, "\n")
}
