// Command testenv starts and stops the test environment of `make test`: a
// kwok cluster on loopback, a keystone server, the Debian ansible,
// Debian's nova, placement, neutron, glance and cinder APIs, a Keycloak
// (Maven Central's distribution, run by a Java 21 or later), Debian's
// rabbitmq-server with its management plugin, and a MariaDB standing in for
// the cloud's MySQL. Its
// state lives under .cache/ (or $ATMOSPHERE_STATE_DIR), and it writes
// an env file that points the tests at what it started.
//
//	go run ./hack/testenv up [--nodes N] [--openstack=false] [--keycloak=false] [--rabbitmq=false] [--mariadb=false]
//	                                       start, or reuse what runs; without
//	                                       the APIs, Keycloak or RabbitMQ, the
//	                                       first test that needs them starts them
//	                                       (the MariaDB is make demo's: provide
//	                                       starts it when up did not)
//	go run ./hack/testenv down             stop everything and remove the state
//	go run ./hack/testenv status           exit 0 when everything answers
//	go run ./hack/testenv standins         play the operators kwok runs no pod of
//	                                       (until interrupted), making the
//	                                       RabbitmqClusters' default users in the
//	                                       RabbitMQ when it runs
//	go run ./hack/testenv provide --inventory SRC --out DIR
//	                                       copy the inventory SRC to DIR (emptied
//	                                       first) pointed at the test bed's MariaDB
//	                                       and RabbitMQ in place of the cloud's
//	                                       MySQL and RabbitMQ clusters, and give
//	                                       the cluster what they accept (make
//	                                       demo's inventory)
//	go run ./hack/testenv ansible          make (or reuse) the cached ansible-core
//	                                       virtualenv and collections path, and
//	                                       print their variables
//	go run ./hack/testenv images -- CMD…   serve a tiny raw and qcow2 disk image
//	                                       on loopback and run CMD with their URLs
//	                                       in $ATMOSPHERE_DEMO_IMAGE_RAW and
//	                                       $ATMOSPHERE_DEMO_IMAGE_QCOW2 (make demo's
//	                                       images); its exit status is CMD's
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			os.Exit(exit.ExitCode())
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

type env struct {
	cluster   *testenv.Cluster
	keystone  *testenv.Keystone
	openstack *testenv.OpenStack
	keycloak  *testenv.KeycloakInstance
	// rabbitmq is RabbitMQ's state directory, mariadb the MariaDB's.
	rabbitmq, mariadb string
	envFile           string
	// sharedAtmosphere is atmosphere's collection (../shared/atmosphere).
	sharedAtmosphere string
}

func newEnv(nodes int) *env {
	// The environment variables point the tests at this environment; they
	// must not point testenv itself at another one.
	os.Unsetenv(testenv.EnvKubeconfig)
	os.Unsetenv(testenv.EnvClouds)
	os.Unsetenv(testenv.EnvOpenStackClouds)
	os.Unsetenv(testenv.EnvKeycloakURL)
	os.Unsetenv(testenv.EnvRabbitMQURL)
	state := testenv.DefaultStateDir()
	keystone := &testenv.Keystone{StateDir: filepath.Join(state, "keystone"), Timeout: 3 * time.Minute}
	return &env{
		cluster:  &testenv.Cluster{Name: "atmosphere", Nodes: nodes, WorkDir: filepath.Join(state, "kwok"), Timeout: 3 * time.Minute},
		keystone: keystone,
		// The tests find these in the same directory when `up` did not
		// start them (testenv.OpenStackAPIs).
		openstack: &testenv.OpenStack{StateDir: filepath.Join(state, "openstack"), KeystoneClouds: filepath.Join(keystone.StateDir, "clouds.yaml")},
		// The tests find it in the same directory when `up` did not start
		// it (testenv.Keycloak).
		keycloak: &testenv.KeycloakInstance{StateDir: filepath.Join(state, "keycloak"), Log: os.Stderr},
		// The tests find it in the same directory when `up` did not start
		// it (testenv.SharedRabbitMQ).
		rabbitmq: filepath.Join(state, "rabbitmq"),
		// Only make demo's deploy uses it (provide); the tests start
		// MariaDBs of their own (testenv.SharedMariaDB).
		mariadb: filepath.Join(state, "mariadb"),
		envFile: filepath.Join(state, "testenv.env"),
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("testenv", flag.ContinueOnError)
	nodes := fs.Int("nodes", 3, "kwok nodes to create")
	sharedAtmosphere := fs.String("shared-atmosphere", filepath.Join("..", "shared", "atmosphere"), "atmosphere's collection, installed as vexxhost.atmosphere")
	withAPIs := fs.Bool("openstack", true, "start the OpenStack APIs too (else the first test that needs them does)")
	withKeycloak := fs.Bool("keycloak", true, "start Keycloak too (else the first test that needs it does)")
	withRabbitMQ := fs.Bool("rabbitmq", true, "start RabbitMQ too (else the first test that needs it does)")
	withMariaDB := fs.Bool("mariadb", true, "start the MariaDB that stands in for the cloud's MySQL too (else provide does)")
	inventory := fs.String("inventory", "", "provide: the inventory to copy")
	out := fs.String("out", "", "provide: where the copy goes (emptied first)")
	if len(args) == 0 {
		return usageError{errors.New("usage: testenv up [--nodes N] | down | status | standins | provide --inventory SRC --out DIR | ansible | images -- CMD…")}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if args[0] == "images" {
		// Before newEnv: the command gets the environment as it is (the
		// test bed's variables the demo's inventory looks up included).
		return withImages(ctx, fs.Args())
	}
	e := newEnv(*nodes)
	e.sharedAtmosphere = *sharedAtmosphere
	switch args[0] {
	case "up":
		return e.up(ctx, *nodes, optional{apis: *withAPIs, keycloak: *withKeycloak, rabbitmq: *withRabbitMQ, mariadb: *withMariaDB})
	case "ansible":
		a, err := e.ansible(ctx)
		if err != nil {
			return err
		}
		fmt.Print(ansibleVars(a))
		return nil
	case "down":
		return e.down()
	case "status":
		return e.status(ctx)
	case "standins":
		return e.standIns(ctx)
	case "provide":
		if *inventory == "" || *out == "" {
			return usageError{errors.New("provide: --inventory and --out are required")}
		}
		return e.provide(ctx, *inventory, *out)
	}
	return usageError{fmt.Errorf("unknown action %q: want up, down, status, standins, provide, ansible or images", args[0])}
}

func (e *env) kubeconfig() string {
	return filepath.Join(e.cluster.WorkDir, "clusters", e.cluster.Name, "kubeconfig.yaml")
}

// status checks that the cluster and keystone of the env file answer, and
// Keycloak, RabbitMQ and the MariaDB when they were started.
func (e *env) status(ctx context.Context) error {
	if _, err := os.Stat(e.envFile); err != nil {
		return fmt.Errorf("not up: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if err := testenv.Prepare(ctx, cfg, 0); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	os.Setenv(testenv.EnvClouds, e.keystone.StateDir+"/clouds.yaml")
	defer os.Unsetenv(testenv.EnvClouds)
	if err := (&testenv.Keystone{}).Start(ctx); err != nil {
		return fmt.Errorf("keystone: %w", err)
	}
	kc := ""
	if st := e.keycloak.PID(); st > 0 || strings.Contains(readFile(e.envFile), testenv.EnvKeycloakURL+"=") {
		// Started by `up` (or by a test, from the same state directory): it
		// must answer.
		probe := &testenv.KeycloakInstance{StateDir: e.keycloak.StateDir}
		if err := probe.Reuse(ctx); err != nil {
			return fmt.Errorf("keycloak: %w", err)
		}
		kc = ", keycloak " + probe.Server.URL
	}
	mq := ""
	if strings.Contains(readFile(e.envFile), testenv.EnvRabbitMQURL+"=") {
		// Started by `up` (or by a test): it must answer.
		r, err := testenv.ReuseRabbitMQAt(ctx, e.rabbitmq)
		if err != nil {
			return fmt.Errorf("rabbitmq: %w", err)
		}
		mq = ", rabbitmq " + r.ManagementURL
	}
	db := ""
	if _, err := os.Stat(filepath.Join(e.mariadb, "state.json")); err == nil {
		// Started by `up` or `provide`: it must answer.
		m, err := testenv.ReuseMariaDBAt(ctx, e.mariadb)
		if err != nil {
			return fmt.Errorf("mariadb: %w", err)
		}
		db = ", mariadb " + m.Addr
	}
	fmt.Printf("up: kubeconfig %s, clouds %s%s%s%s\n", e.kubeconfig(), e.keystone.StateDir+"/clouds.yaml", kc, mq, db)
	return nil
}

// readFile is the file's content, empty when it cannot be read.
func readFile(path string) string {
	raw, _ := os.ReadFile(path)
	return string(raw)
}

// optional is what `up` starts beside the cluster and keystone.
type optional struct{ apis, keycloak, rabbitmq, mariadb bool }

func (e *env) up(ctx context.Context, nodes int, with optional) error {
	if e.status(ctx) == nil {
		cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
		if err != nil {
			return err
		}
		if err := testenv.Prepare(ctx, cfg, nodes); err != nil { // up to the asked node count
			return err
		}
		// An env file of an older testenv lacks the ansible's variables.
		raw, err := os.ReadFile(e.envFile)
		if err != nil {
			return err
		}
		if !strings.Contains(string(raw), testenv.EnvAnsible+"=") {
			a, err := e.ansible(ctx)
			if err != nil {
				return err
			}
			if err := os.WriteFile(e.envFile, append(raw, ansibleVars(a)...), 0o600); err != nil {
				return err
			}
		}
		return e.upOptional(ctx, with)
	}
	start := time.Now()
	if _, err := testenv.EnsureAnsible(ctx); err != nil {
		return err
	}
	a, err := e.ansible(ctx)
	if err != nil {
		return err
	}
	if _, err := e.cluster.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("cluster up in %s: %d kwok nodes, kubeconfig %s\n", time.Since(start).Round(time.Millisecond), nodes, e.kubeconfig())
	t := time.Now()
	if err := e.keystone.Start(ctx); err != nil {
		return errors.Join(err, e.down())
	}
	fmt.Printf("keystone up in %s at %s, clouds %s\n", time.Since(t).Round(time.Millisecond), e.keystone.URL, e.keystone.Clouds)
	content := fmt.Sprintf("%s=%s\n%s=%s\n", testenv.EnvKubeconfig, e.kubeconfig(), testenv.EnvClouds, e.keystone.Clouds) + ansibleVars(a)
	if err := os.WriteFile(e.envFile, []byte(content), 0o600); err != nil {
		return err
	}
	return e.upOptional(ctx, with)
}

// upOptional starts the OpenStack APIs, Keycloak, RabbitMQ and the MariaDB
// when asked: at once, as none needs another.
func (e *env) upOptional(ctx context.Context, with optional) error {
	var wg sync.WaitGroup
	var apisErr, kcErr, mqErr, dbErr error
	if with.apis {
		wg.Go(func() { apisErr = e.upAPIs(ctx) })
	}
	if with.keycloak {
		wg.Go(func() { kcErr = e.upKeycloak(ctx) })
	}
	if with.rabbitmq {
		wg.Go(func() { mqErr = e.upRabbitMQ(ctx) })
	}
	if with.mariadb {
		wg.Go(func() { dbErr = e.upMariaDB(ctx) })
	}
	wg.Wait()
	return errors.Join(apisErr, kcErr, mqErr, dbErr)
}

// upMariaDB starts the MariaDB that stands in for the cloud's MySQL (or
// finds it running). Its root password stays in its state file: only
// provide reads it.
func (e *env) upMariaDB(ctx context.Context) error {
	t := time.Now()
	m, err := testenv.StartMariaDBAt(ctx, e.mariadb)
	if err != nil {
		return fmt.Errorf("mariadb: %w", err)
	}
	fmt.Printf("mariadb up in %s at %s, log %s\n", time.Since(t).Round(time.Millisecond), m.Addr, filepath.Join(e.mariadb, "error.log"))
	return nil
}

// upRabbitMQ starts RabbitMQ (or finds it running) and adds its addresses
// and administrator to the env file.
func (e *env) upRabbitMQ(ctx context.Context) error {
	t := time.Now()
	r, err := testenv.StartRabbitMQAt(ctx, e.rabbitmq)
	if err != nil {
		return fmt.Errorf("rabbitmq: %w", err)
	}
	fmt.Printf("rabbitmq up in %s: management %s, AMQP %s, log %s\n", time.Since(t).Round(time.Millisecond), r.ManagementURL, r.AMQPAddr,
		filepath.Join(e.rabbitmq, "rabbitmq.log"))
	return e.setEnv(map[string]string{testenv.EnvRabbitMQURL: r.ManagementURL, testenv.EnvRabbitMQAMQP: r.AMQPAddr,
		testenv.EnvRabbitMQUser: r.AdminUser, testenv.EnvRabbitMQPassword: r.AdminPassword})
}

// upKeycloak starts Keycloak (or finds it running) and adds its URL and
// admin to the env file.
func (e *env) upKeycloak(ctx context.Context) error {
	t := time.Now()
	if err := e.keycloak.Start(ctx); err != nil {
		return fmt.Errorf("keycloak: %w (log under %s)", err, e.keycloak.StateDir)
	}
	kc := e.keycloak.Server
	fmt.Printf("keycloak up in %s at %s, log %s\n", time.Since(t).Round(time.Millisecond), kc.URL, filepath.Join(e.keycloak.StateDir, "keycloak.log"))
	return e.setEnv(map[string]string{testenv.EnvKeycloakURL: kc.URL, testenv.EnvKeycloakUser: kc.AdminUser, testenv.EnvKeycloakPassword: kc.AdminPassword})
}

// envMu serialises the env file's updates of parts started at once.
var envMu sync.Mutex

// setEnv sets variables of the env file, replacing their earlier lines.
func (e *env) setEnv(vars map[string]string) error {
	envMu.Lock()
	defer envMu.Unlock()
	raw, err := os.ReadFile(e.envFile)
	if err != nil {
		return err
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		name, _, _ := strings.Cut(l, "=")
		if _, ok := vars[name]; !ok && l != "" {
			lines = append(lines, l)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		lines = append(lines, name+"="+vars[name])
	}
	return os.WriteFile(e.envFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// upAPIs starts the OpenStack APIs (or finds them running) and adds their
// clouds.yaml to the env file.
func (e *env) upAPIs(ctx context.Context) error {
	t := time.Now()
	if err := e.openstack.Start(ctx); err != nil {
		return fmt.Errorf("OpenStack APIs: %w (logs under %s)", err, e.openstack.StateDir)
	}
	fmt.Printf("OpenStack APIs up in %s in region %s, clouds %s, logs under %s\n", time.Since(t).Round(time.Millisecond),
		testenv.OpenStackRegion, e.openstack.Clouds, e.openstack.StateDir)
	return e.setEnv(map[string]string{testenv.EnvOpenStackClouds: e.openstack.Clouds})
}

// ansible makes (or reuses) the test ansible: atmosphere's ansible-core in
// a cached virtualenv, and vexxhost.atmosphere in a collections path.
func (e *env) ansible(ctx context.Context) (testenv.AnsibleEnv, error) {
	t := time.Now()
	a, err := testenv.EnsureAnsibleEnv(ctx, e.sharedAtmosphere, os.Stderr)
	if err != nil {
		return a, fmt.Errorf("the test ansible: %w", err)
	}
	fmt.Fprintf(os.Stderr, "ansible ready in %s: %s, collections %s\n", time.Since(t).Round(time.Millisecond), a.Bin, a.Collections)
	return a, nil
}

// ansibleVars are the env file's lines of the test ansible.
func ansibleVars(a testenv.AnsibleEnv) string {
	return fmt.Sprintf("%s=%s\n%s=%s\n", testenv.EnvAnsible, a.Bin, testenv.EnvCollections, a.Collections)
}

func (e *env) down() error {
	// The federated keystone is started by the tests that need it
	// (testenv.FederatedKeystone), in the shared state directory.
	federated := &testenv.OIDCKeystone{StateDir: filepath.Join(testenv.DefaultStateDir(), "keystone-oidc")}
	err := errors.Join(e.openstack.Stop(), federated.Stop(), e.keycloak.Stop(), testenv.StopRabbitMQAt(e.rabbitmq), testenv.StopMariaDBAt(e.mariadb),
		e.keystone.Stop(), e.cluster.Stop())
	// Stop only stops what this process started; a cluster started by an
	// earlier `up` is deleted here by name.
	if err == nil {
		err = e.cluster.Delete()
	}
	err = errors.Join(err, testenv.DeleteStalePrivate(e.cluster.WorkDir))
	return errors.Join(err, os.RemoveAll(e.openstack.StateDir), rmIfExists(e.openstack.StateDir+".lock"),
		os.RemoveAll(e.keycloak.StateDir), rmIfExists(e.keycloak.StateDir+".lock"), os.RemoveAll(e.rabbitmq), rmIfExists(e.rabbitmq+".lock"),
		os.RemoveAll(e.mariadb), rmIfExists(e.mariadb+".lock"),
		os.RemoveAll(e.keystone.StateDir), os.RemoveAll(federated.StateDir), rmIfExists(federated.StateDir+".lock"),
		rmIfExists(federated.StateDir+".use"), rmIfExists(e.envFile))
}

func rmIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// standIns runs the stand-in operators against the environment's cluster
// until interrupted, for a deploy run from outside the tests (make demo).
// With the environment's RabbitMQ running, the RabbitmqCluster stand-in
// makes each cluster's default user in it, as the operator does in the
// cluster's RabbitMQ (provide points the inventory's queue phases at it).
func (e *env) standIns(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	what := "Percona XtraDB clusters, cert-manager certificates and issuers, RabbitMQ clusters"
	if r, err := testenv.ReuseRabbitMQAt(ctx, e.rabbitmq); err == nil {
		defer testenv.RegisterRabbitMQ(cfg, r)()
		what += " with their default users in " + r.ManagementURL
	}
	fmt.Printf("stand-in operators running (%s)\n", what)
	if err := testenv.StandIns(ctx, cfg); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// provide copies the inventory src to out (emptied first) and points the
// copy and the environment's cluster at the test bed's MariaDB and
// RabbitMQ (each started when not running) in place of the cloud's MySQL
// and RabbitMQ clusters, as the tests' ProvideDatabase and ProvideRabbitMQ
// do: the MariaDB's address (and its root password in the cluster's
// Secret openstack/percona-xtradb: testenv.UseDatabase), the RabbitMQ's
// management address (testenv.UseRabbitMQ), the RabbitMQ users' passwords
// every user of that server shares (deploytest.WriteServicesPasswords; the
// database users' are the deploy's own), and the default user of each
// RabbitmqCluster already in the cluster made in the RabbitMQ when it is
// not there (a cluster of an earlier deploy, or a RabbitMQ since started
// anew). Its addresses and secrets go into the copy only: src is left as
// it is.
func (e *env) provide(ctx context.Context, src, out string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	var m *testenv.MariaDB
	var r *testenv.RabbitMQ
	var dbErr, mqErr error
	var wg sync.WaitGroup
	wg.Go(func() { m, dbErr = testenv.StartMariaDBAt(ctx, e.mariadb) })
	wg.Go(func() { r, mqErr = testenv.StartRabbitMQAt(ctx, e.rabbitmq) })
	wg.Wait()
	if err := errors.Join(dbErr, mqErr); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := testenv.CopyFiles(src, out); err != nil {
		return fmt.Errorf("copy the inventory %s: %w", src, err)
	}
	if err := testenv.UseDatabase(ctx, cfg, m, out, ""); err != nil {
		return err
	}
	if err := testenv.UseRabbitMQ(r, out); err != nil {
		return err
	}
	if err := deploytest.WriteServicesPasswords(out, ""); err != nil {
		return err
	}
	made, err := testenv.SyncRabbitMQDefaultUsers(ctx, cfg, r)
	if err != nil {
		return err
	}
	fmt.Printf("inventory %s: %s pointed at MariaDB %s and RabbitMQ %s (%d RabbitmqCluster default users made in it)\n",
		out, src, m.Addr, r.ManagementURL, made)
	return nil
}

// withImages serves the demo's images (testenv.ImageServer, made under the
// state directory) and runs the command args with their URLs in its
// environment; it returns the command's error (its exit status). The
// command gets the terminal's interrupts itself: the first Ctrl-C lets a
// deploy finish its units in flight, so this process only waits.
func withImages(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: testenv images -- CMD [ARG…]")}
	}
	s := &testenv.ImageServer{Dir: filepath.Join(testenv.DefaultStateDir(), "demo-images")}
	if err := s.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("the demo's images: %w", err)
	}
	defer s.Close()
	fmt.Fprintf(os.Stderr, "demo images served at %s and %s\n", s.RawURL, s.QCOW2URL)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), s.Env()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}
