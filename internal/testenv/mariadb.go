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
// Cluster) for deploys to a test cluster: the process's MariaDB, its root
// password in the Secret openstack/percona-xtradb atmosphere reads (made
// first, so atmosphere keeps it as an operator's), and in the inventory
// copy at inventoryDir its address (atmosphere_database_address) and a
// keycloak database and user of the cluster's own.
func ProvideDatabase(t testing.TB, cfg *rest.Config, inventoryDir string) *TestDatabase {
	t.Helper()
	m := SharedMariaDB(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openstack"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	data := map[string]string{}
	for _, k := range []string{"clustercheck", "monitor", "operator", "proxyadmin", "replication", "root", "xtrabackup"} {
		data[k] = m.RootPassword
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "percona-xtradb"}, StringData: data}
	if _, err := cs.CoreV1().Secrets("openstack").Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	db := &TestDatabase{MariaDB: m, Keycloak: fmt.Sprintf("keycloak_%d", databaseCount.Add(1))}
	vars := filepath.Join(inventoryDir, "group_vars", "all", "zz-test-database.yml")
	content := fmt.Sprintf("# The test MariaDB stands in for Percona XtraDB Cluster's MySQL.\n"+
		"atmosphere_database_address: %s\nkeycloak_database_name: %s\nkeycloak_database_username: %s\n", m.Addr, db.Keycloak, db.Keycloak)
	if err := os.WriteFile(vars, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return db
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
