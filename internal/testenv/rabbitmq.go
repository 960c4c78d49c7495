package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

	"k8s.io/client-go/rest"
)

// rabbitmqServer is the server script of Debian's rabbitmq-server (the one
// /usr/sbin's wrapper runs as the rabbitmq user; run directly, it runs as
// whoever starts it, root included).
const rabbitmqServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// The environment that points the tests at a running RabbitMQ to reuse
// (written by `testenv up` into the env file).
const (
	// EnvRabbitMQURL is the management API's base URL.
	EnvRabbitMQURL      = "ATMOSPHERE_TEST_RABBITMQ_URL"
	EnvRabbitMQAMQP     = "ATMOSPHERE_TEST_RABBITMQ_AMQP"
	EnvRabbitMQUser     = "ATMOSPHERE_TEST_RABBITMQ_USER"
	EnvRabbitMQPassword = "ATMOSPHERE_TEST_RABBITMQ_PASSWORD"
)

// RabbitMQ is a RabbitMQ server on loopback: Debian's rabbitmq-server with
// its management plugin, run as a private node (its own data, config,
// Erlang cookie, node name, distribution port and epmd), and an
// administrator with a generated password.
type RabbitMQ struct {
	// ManagementURL is the management API's base URL
	// ("http://127.0.0.1:PORT"), ManagementAddr its host:port.
	ManagementURL, ManagementAddr string
	// AMQPAddr is the AMQP 0-9-1 listener's host:port.
	AMQPAddr string
	// AdminUser (tag administrator, every permission on "/") and its
	// password.
	AdminUser, AdminPassword string
	// Node is the Erlang node's name.
	Node string `json:",omitempty"`
	// PID is the server's start script, leader of the process group of
	// the node (BeamPID) and its epmd; 0 for one reused from the
	// environment.
	PID int `json:",omitempty"`
	// Dir is its state directory (config, data, rabbitmq.log); empty for
	// one reused from the environment.
	Dir string `json:",omitempty"`
}

// StartRabbitMQ installs rabbitmq-server when missing and starts a server
// of the test's own, stopped (and its directory removed) when the test
// ends.
func StartRabbitMQ(t testing.TB) *RabbitMQ {
	t.Helper()
	r, stop, err := startPrivateRabbitMQ(context.Background())
	if err != nil {
		t.Fatalf("the test RabbitMQ: %v", err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// SharedRabbitMQ is one server for the whole test process: the one
// $ATMOSPHERE_TEST_RABBITMQ_URL names (with the AMQP address, user and
// password of the variables beside it); else, with a shared test
// environment ($ATMOSPHERE_TEST_CLOUDS), the one running from the shared
// state directory (<state dir>/rabbitmq), started there by the first test
// process that needs it and left running for the others (`testenv down`
// stops it); else one of this process, stopped by Teardown. Tests share
// it: each works under names of its own.
func SharedRabbitMQ(t testing.TB) *RabbitMQ {
	t.Helper()
	sharedMQ.once.Do(func() {
		ctx := context.Background()
		switch {
		case reusing(EnvRabbitMQURL):
			sharedMQ.r, sharedMQ.err = rabbitMQFromEnv(ctx)
		case reusing(EnvClouds):
			sharedMQ.r, sharedMQ.err = StartRabbitMQAt(ctx, filepath.Join(DefaultStateDir(), "rabbitmq"))
		default:
			sharedMQ.r, sharedMQ.stop, sharedMQ.err = startPrivateRabbitMQ(ctx)
		}
	})
	if sharedMQ.err != nil {
		t.Fatalf("the test RabbitMQ: %v", sharedMQ.err)
	}
	return sharedMQ.r
}

var sharedMQ struct {
	once sync.Once
	r    *RabbitMQ
	stop func() error // nil unless this process started it for itself
	err  error
}

// stopSharedRabbitMQ stops the server this process started for itself.
func stopSharedRabbitMQ() error {
	if sharedMQ.stop == nil {
		return nil
	}
	return sharedMQ.stop()
}

// startPrivateRabbitMQ starts a server in a fresh private directory; stop
// stops it and removes the directory.
func startPrivateRabbitMQ(ctx context.Context) (r *RabbitMQ, stop func() error, err error) {
	dir, err := privateDir("rabbitmq")
	if err != nil {
		return nil, nil, err
	}
	stop = func() error {
		return errors.Join(StopRabbitMQAt(dir), os.RemoveAll(dir), rmMissingOK(dir+".lock"))
	}
	r, err = StartRabbitMQAt(ctx, dir)
	if err != nil {
		return nil, nil, errors.Join(err, stop())
	}
	return r, stop, nil
}

// rabbitMQFromEnv is the server the environment names, once its
// management API answers the administrator.
func rabbitMQFromEnv(ctx context.Context) (*RabbitMQ, error) {
	u, err := url.Parse(os.Getenv(EnvRabbitMQURL))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvRabbitMQURL, err)
	}
	r := &RabbitMQ{ManagementURL: strings.TrimRight(u.String(), "/"), ManagementAddr: u.Host, AMQPAddr: os.Getenv(EnvRabbitMQAMQP),
		AdminUser: os.Getenv(EnvRabbitMQUser), AdminPassword: os.Getenv(EnvRabbitMQPassword)}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = r.API(ctx, http.MethodGet, "/api/overview", nil, nil)
	var refused *ManagementError
	if errors.As(err, &refused) && refused.Status == http.StatusUnauthorized {
		return nil, fmt.Errorf("reuse the test RabbitMQ of %s=%s: %w (%s and %s are not its administrator's)", EnvRabbitMQURL, r.ManagementURL, err,
			EnvRabbitMQUser, EnvRabbitMQPassword)
	}
	if err != nil {
		err = r.waitUp(ctx, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("reuse the test RabbitMQ of %s=%s: %w (run `make test-env-up`, or unset it)", EnvRabbitMQURL, r.ManagementURL, err)
	}
	return r, nil
}

// rabbitMQStartTimeout bounds a server's start, the install left out
// (about 6 s on 2 cores).
const rabbitMQStartTimeout = 2 * time.Minute

// StartRabbitMQAt brings up the RabbitMQ of the state directory dir: the
// one running from there (its state file names it and it answers), else a
// new one (rabbitmq-server installed when missing) started there, detached:
// it outlives this process until StopRabbitMQAt. A lock file beside dir
// makes one process start it while the others wait and then reuse it.
func StartRabbitMQAt(ctx context.Context, dir string) (*RabbitMQ, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if r, err := ReuseRabbitMQAt(ctx, dir); err == nil {
		return r, nil
	} else if r, err := readRabbitMQState(dir); err == nil {
		stopRabbitMQGroup(r.PID) // not answering: replace it
	}
	// The install's own bound, as MariaDB's: apt may wait for another dpkg.
	installCtx, cancelInstall := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelInstall()
	if err := EnsurePackages(installCtx, rabbitmqServer, "rabbitmq-server"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, rabbitMQStartTimeout)
	defer cancel()
	r, err := startRabbitMQ(ctx, dir)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start RabbitMQ in %s: %w", dir, err), StopRabbitMQAt(dir))
	}
	return r, nil
}

// ReuseRabbitMQAt is the server StartRabbitMQAt started from dir, when it
// runs and its management API answers the administrator within 5 s; an
// error says why not. It starts nothing.
func ReuseRabbitMQAt(ctx context.Context, dir string) (*RabbitMQ, error) {
	r, err := readRabbitMQState(dir)
	if err != nil {
		return nil, fmt.Errorf("no RabbitMQ recorded in %s: %w", dir, err)
	}
	if !Alive(r.PID) {
		return nil, fmt.Errorf("the RabbitMQ of %s (pid %d) is gone", dir, r.PID)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.waitUp(ctx, nil); err != nil {
		return nil, fmt.Errorf("the RabbitMQ of %s at %s: %w", dir, r.ManagementURL, err)
	}
	return r, nil
}

// StopRabbitMQAt stops the server started from dir, if one runs, and waits
// until its processes are gone; the directory (its log) is kept.
func StopRabbitMQAt(dir string) error {
	r, err := readRabbitMQState(dir)
	if err != nil {
		return nil // nothing running
	}
	stopRabbitMQGroup(r.PID)
	return rmMissingOK(rabbitMQStatePath(dir))
}

// stopRabbitMQGroup ends the server's process group (the start script,
// beam.smp, epmd) with SIGKILL and waits until its processes are gone:
// RabbitMQ's orderly stop (SIGTERM) takes some 6 s, and buys nothing here,
// as a server's data is never used again (a start empties its directory).
func stopRabbitMQGroup(pgid int) {
	if pgid <= 0 {
		return
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(groupPIDs(pgid)) == 0 {
			return
		}
	}
}

// groupPIDs are the live processes of process group pgid.
func groupPIDs(pgid int) []int {
	var pids []int
	for _, p := range Processes() {
		if p.PGID == pgid {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// BeamPID is the Erlang VM's process (beam.smp) of a server this process
// or a state directory's record knows (PID), 0 when none runs: for
// measuring its memory.
func (r *RabbitMQ) BeamPID() int {
	if r.PID <= 0 {
		return 0
	}
	for _, p := range Processes() {
		if p.PGID == r.PID && strings.Contains(strings.Fields(p.Cmd + " x")[0], "beam") {
			return p.PID
		}
	}
	return 0
}

// rabbitMQNodes numbers the nodes this process starts.
var rabbitMQNodes atomic.Int64

// startRabbitMQ starts a server in dir (emptied first) and waits until its
// management API answers the administrator. Its one log (the node's own
// and the start script's output) is dir/rabbitmq.log.
func startRabbitMQ(ctx context.Context, dir string) (*RabbitMQ, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "mnesia"), 0o700); err != nil {
		return nil, err
	}
	// AMQP, management, the Erlang distribution and a private epmd: a
	// node sharing the machine's epmd (4369) or distribution ports would
	// meet the other test processes' nodes.
	ports, err := FreePorts(4)
	if err != nil {
		return nil, err
	}
	amqp, mgmt, dist, epmd := ports[0], ports[1], ports[2], ports[3]
	password, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	r := &RabbitMQ{
		ManagementURL: fmt.Sprintf("http://127.0.0.1:%d", mgmt), ManagementAddr: fmt.Sprintf("127.0.0.1:%d", mgmt),
		AMQPAddr: fmt.Sprintf("127.0.0.1:%d", amqp), AdminUser: "admin", AdminPassword: password,
		Node: fmt.Sprintf("rabbit-%d-%d@localhost", os.Getpid(), rabbitMQNodes.Add(1)), Dir: dir,
	}
	files := map[string]string{
		"rabbitmq.conf": strings.Join([]string{
			"listeners.tcp.default = " + r.AMQPAddr,
			"management.tcp.ip = 127.0.0.1",
			"management.tcp.port = " + strconv.Itoa(mgmt),
			"default_user = " + r.AdminUser,
			"default_pass = " + r.AdminPassword,
			"default_user_tags.administrator = true",
			"loopback_users = none",
			// A full /tmp of a test machine must not block publishers.
			"disk_free_limit.absolute = 1MB",
			"log.console = true",
			"log.console.level = info",
		}, "\n") + "\n",
		"enabled_plugins": "[rabbitmq_management].\n",
		// Read in place of /etc/rabbitmq/rabbitmq-env.conf.
		"rabbitmq-env.conf": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(dir, "rabbitmq.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	// epmd first, as a child of the group's leader, so that it goes with
	// the node: left to itself, erl would start one with -daemon, in a
	// session of its own that outlives the node.
	script := `epmd -port "$ERL_EPMD_PORT" -address 127.0.0.1 &
i=0; until epmd -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
exec ` + rabbitmqServer
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(rabbitMQEnv(),
		"HOME="+dir, // the node's Erlang cookie is made there
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+dir,
		"RABBITMQ_LOGS=-", // to the console: rabbitmq.log
		"RABBITMQ_NODENAME="+r.Node,
		"RABBITMQ_DIST_PORT="+strconv.Itoa(dist),
		// The distribution listener on loopback too (it binds every
		// address otherwise).
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
		"ERL_EPMD_PORT="+strconv.Itoa(epmd),
		"ERL_EPMD_ADDRESS=127.0.0.1")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", rabbitmqServer, err)
	}
	// The shell execs the start script, which runs beam.smp as its child
	// (and forwards signals to it): the leader of the session and group.
	r.PID = cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reaped if it dies while this process lives
	if err := writeState(rabbitMQStatePath(dir), r); err != nil {
		return nil, err
	}
	if err := r.waitUp(ctx, exited); err != nil {
		raw, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("RabbitMQ's management API at %s did not answer: %w\n--- last lines of %s:\n%s",
			r.ManagementURL, err, logPath, LastLines(string(raw), 20))
	}
	return r, nil
}

// rabbitMQEnv is this process's environment without what would change how
// the node runs (RABBITMQ_* and Erlang's settings).
func rabbitMQEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "RABBITMQ_") || strings.HasPrefix(name, "ERL_") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitUp waits until GET /api/overview answers the administrator (200),
// until ctx ends or exited (when not nil) closes.
func (r *RabbitMQ) waitUp(ctx context.Context, exited <-chan struct{}) error {
	var last error
	for {
		last = r.API(ctx, http.MethodGet, "/api/overview", nil, nil)
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the server exited (last answer: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("%w (last answer: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// API calls the management API as the administrator: method on path (from
// /api/), in with a JSON body when not nil, the JSON answer decoded into
// out when not nil. An answer other than 2xx is an error naming the call
// and the status (its body, which never holds the password, too).
func (r *RabbitMQ) API(ctx context.Context, method, path string, in, out any) error {
	return managementCall(ctx, r.ManagementURL, r.AdminUser, r.AdminPassword, method, path, in, out)
}

// managementCall is one call of a management API as user.
func managementCall(ctx context.Context, base, user, password, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, password)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &ManagementError{Method: method, Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(raw))}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// ManagementError is a management API's answer other than 2xx.
type ManagementError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *ManagementError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.Path, e.Status, e.Body)
}

// CreateUser makes (or updates) user with password and tags (e.g.
// "administrator") and gives it every permission on the vhost "/", as
// RabbitMQ does for the default user of its configuration.
func (r *RabbitMQ) CreateUser(ctx context.Context, user, password, tags string) error {
	if err := r.API(ctx, http.MethodPut, "/api/users/"+url.PathEscape(user), map[string]string{"password": password, "tags": tags}, nil); err != nil {
		return fmt.Errorf("create RabbitMQ user %s: %w", user, err)
	}
	perms := map[string]string{"configure": ".*", "write": ".*", "read": ".*"}
	if err := r.API(ctx, http.MethodPut, "/api/permissions/%2F/"+url.PathEscape(user), perms, nil); err != nil {
		return fmt.Errorf("give RabbitMQ user %s the permissions of vhost /: %w", user, err)
	}
	return nil
}

func rabbitMQStatePath(dir string) string { return filepath.Join(dir, "state.json") }

// readRabbitMQState is the server StartRabbitMQAt recorded in dir.
func readRabbitMQState(dir string) (*RabbitMQ, error) {
	return readState(rabbitMQStatePath(dir), func(r *RabbitMQ) bool { return r.PID > 0 && r.ManagementURL != "" })
}

func rmMissingOK(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// rabbitMQs are the servers ProvideRabbitMQ gave test clusters, by the
// API server's address (rest.Config.Host): the RabbitmqCluster stand-in
// makes each cluster's default user in its cluster's server.
var rabbitMQs sync.Map // string -> *RabbitMQ

// rabbitMQFor is the server provided for the cluster of cfg, nil when none.
func rabbitMQFor(cfg *rest.Config) *RabbitMQ {
	if r, ok := rabbitMQs.Load(cfg.Host); ok {
		return r.(*RabbitMQ)
	}
	return nil
}

// ProvideRabbitMQ stands in for the RabbitMQ clusters of deploys to a
// test cluster: the process's server (SharedRabbitMQ), its management
// address in the inventory copy at inventoryDir (UseRabbitMQ), and, for
// StandIns on that cluster, the server in which the RabbitmqCluster
// stand-in makes each cluster's default user (RegisterRabbitMQ, until the
// test ends).
func ProvideRabbitMQ(t testing.TB, cfg *rest.Config, inventoryDir string) *RabbitMQ {
	t.Helper()
	r := SharedRabbitMQ(t)
	if err := UseRabbitMQ(r, inventoryDir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(RegisterRabbitMQ(cfg, r))
	return r
}

// UseRabbitMQ points deploys of the inventory copy at inventoryDir at the
// server r in place of every RabbitmqCluster's management API:
// group_vars/all/zz-test-rabbitmq.yml sets atmosphere_rabbitmq_address,
// where the queue phases reach it in place of the clusters' Services.
func UseRabbitMQ(r *RabbitMQ, inventoryDir string) error {
	content := "# The test RabbitMQ stands in for every RabbitmqCluster's management API.\n" +
		"atmosphere_rabbitmq_address: " + r.ManagementAddr + "\n"
	if err := writeTestVars(inventoryDir, "zz-test-rabbitmq.yml", content); err != nil {
		return fmt.Errorf("point the inventory at the test RabbitMQ: %w", err)
	}
	return nil
}

// RegisterRabbitMQ makes r the server in which StandIns of this process on
// the cluster of cfg make each RabbitmqCluster's default user, as the
// operator makes it in the cluster's RabbitMQ; the function it returns
// forgets it (if it is still r).
func RegisterRabbitMQ(cfg *rest.Config, r *RabbitMQ) (unregister func()) {
	rabbitMQs.Store(cfg.Host, r)
	return func() { rabbitMQs.CompareAndDelete(cfg.Host, r) }
}
