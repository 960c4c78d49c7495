package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"sigs.k8s.io/yaml"
)

// EnvClouds points at the clouds.yaml of a running test keystone to reuse.
const EnvClouds = "ATMOSPHERE_TEST_CLOUDS"

// CloudName is the entry of the test keystone in its clouds.yaml.
const CloudName = "atmosphere-test"

// Debian packages the keystone server needs.
var keystonePackages = []string{"python3-keystone", "uwsgi-core", "uwsgi-plugin-python3"}

// Keystone is a keystone server on loopback with sqlite: Debian's
// python3-keystone under uwsgi. Fill in the options, then Start.
type Keystone struct {
	// StateDir holds the configuration, database, keys, log, pid file and
	// clouds.yaml; default <tools dir>/../keystone.
	StateDir string
	// Port is the loopback port; default a free one.
	Port int
	// Timeout bounds the start; default 2 minutes (more when packages must
	// be installed first).
	Timeout time.Duration
	// Private starts a server of its own even when $ATMOSPHERE_TEST_CLOUDS
	// names one, for a test that stops it.
	Private bool

	// URL is the identity endpoint, http://127.0.0.1:PORT/v3.
	URL string
	// Clouds is the path of the clouds.yaml written for CloudName.
	Clouds string

	started bool
}

// Start brings the server up: it reuses the one $ATMOSPHERE_TEST_CLOUDS
// names, or one already running from StateDir; otherwise it installs the
// packages when missing, writes the configuration, makes the database and
// keys, bootstraps the admin user and endpoints, and starts uwsgi detached
// (it outlives this process until Stop).
func (k *Keystone) Start(ctx context.Context) error {
	if path := os.Getenv(EnvClouds); path != "" && !k.Private {
		url, err := cloudURL(path)
		if err == nil {
			err = probe(ctx, url, 10*time.Second)
		}
		if err != nil {
			return fmt.Errorf("reuse the test keystone of %s=%s: %w (run `make test-env-up`, or unset it)", EnvClouds, path, err)
		}
		k.Clouds, k.URL = path, url
		return nil
	}
	if k.StateDir == "" {
		k.StateDir = filepath.Join(DefaultStateDir(), "keystone")
	}
	if k.Timeout == 0 {
		k.Timeout = 2 * time.Minute
	}
	k.Clouds = filepath.Join(k.StateDir, "clouds.yaml")
	if pid := k.pid(); pid > 0 && Alive(pid) {
		if url, err := cloudURL(k.Clouds); err == nil && probe(ctx, url, 5*time.Second) == nil {
			k.URL = url
			return nil
		}
		// Running but not answering: replace it.
		if err := k.stopPID(pid); err != nil {
			return err
		}
	}
	if err := EnsurePackages(ctx, "/usr/bin/keystone-manage", keystonePackages...); err != nil {
		return err
	}
	if err := EnsurePackages(ctx, "/usr/lib/uwsgi/plugins/python3_plugin.so", keystonePackages...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, k.Timeout)
	defer cancel()
	if err := k.start(ctx); err != nil {
		return errors.Join(err, k.Stop())
	}
	return nil
}

func (k *Keystone) start(ctx context.Context) error {
	if err := os.RemoveAll(k.StateDir); err != nil {
		return err
	}
	if k.Port == 0 {
		ports, err := FreePorts(1)
		if err != nil {
			return err
		}
		k.Port = ports[0]
	}
	k.URL = fmt.Sprintf("http://127.0.0.1:%d/v3", k.Port)
	password, err := prepareKeystone(ctx, k.StateDir, k.URL, keystoneConf(k.StateDir, true))
	if err != nil {
		return err
	}
	if err := writeClouds(k.Clouds, k.URL, password); err != nil {
		return err
	}
	return k.serve(ctx)
}

// keystoneConf is the configuration of a test keystone whose state is in
// dir: sqlite, fernet tokens, cheap bcrypt; with an in-memory cache when
// cache (one process serves it: the cache of one process is not
// invalidated by another's writes).
func keystoneConf(dir string, cache bool) []string {
	return []string{
		"[DEFAULT]",
		"log_file = " + filepath.Join(dir, "keystone.log"),
		"[database]",
		"connection = sqlite:///" + filepath.Join(dir, "keystone.db"),
		"[cache]",
		"enabled = " + strconv.FormatBool(cache),
		"backend = dogpile.cache.memory",
		"[token]",
		"provider = fernet",
		"[fernet_tokens]",
		"key_repository = " + filepath.Join(dir, "fernet-keys"),
		"[fernet_receipts]",
		"key_repository = " + filepath.Join(dir, "fernet-keys"),
		"[credential]",
		"key_repository = " + filepath.Join(dir, "credential-keys"),
		"[identity]",
		"password_hash_algorithm = bcrypt",
		"password_hash_rounds = 4",
	}
}

// prepareKeystone makes a keystone's state in dir (which must not hold
// one): keystone.conf of the lines conf, the database (sqlite, in WAL
// mode), the fernet and credential keys, and the admin user, project and
// endpoints at url, bootstrapped with a generated password, returned.
func prepareKeystone(ctx context.Context, dir, url string, conf []string) (password string, err error) {
	for _, d := range []string{"fernet-keys", "credential-keys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return "", fmt.Errorf("keystone state: %w", err)
		}
	}
	confFile := filepath.Join(dir, "keystone.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return "", err
	}
	password, err = randomHex(16)
	if err != nil {
		return "", err
	}
	manage := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "/usr/bin/keystone-manage", append([]string{"--config-file", confFile}, args...)...)
		cmd.Env = pyenv.Clean()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("keystone-manage %s: %w\n%s", args[0], err, LastLines(string(out), 15))
		}
		return nil
	}
	if err := manage("db_sync"); err != nil {
		return "", err
	}
	// WAL lets readers and the writer work at once; without it concurrent
	// requests fail with "database is locked" (HTTP 500). The mode is
	// stored in the database file.
	db := filepath.Join(dir, "keystone.db")
	wal := exec.CommandContext(ctx, "/usr/bin/python3", "-c",
		"import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL').fetchone()[0])", db)
	wal.Env = pyenv.Clean()
	if out, err := wal.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "wal" {
		return "", fmt.Errorf("set the keystone database to WAL: %v: %s", err, out)
	}
	if err := manage("fernet_setup", "--keystone-user", "root", "--keystone-group", "root"); err != nil {
		return "", err
	}
	if err := manage("credential_setup", "--keystone-user", "root", "--keystone-group", "root"); err != nil {
		return "", err
	}
	// Endpoints carry the real port: clients find identity in the catalog.
	if err := manage("bootstrap", "--bootstrap-password", password,
		"--bootstrap-admin-url", url, "--bootstrap-public-url", url, "--bootstrap-internal-url", url,
		"--bootstrap-region-id", "RegionOne"); err != nil {
		return "", err
	}
	return password, nil
}

// writeClouds writes a clouds.yaml at path whose cloud CloudName is the
// admin of the keystone at url.
func writeClouds(path, url, password string) error {
	clouds := map[string]any{"clouds": map[string]any{CloudName: map[string]any{
		"auth": map[string]any{
			"auth_url": url, "username": "admin", "password": password, "project_name": "admin",
			"user_domain_name": "Default", "project_domain_name": "Default",
		},
		"region_name": "RegionOne", "interface": "public", "identity_api_version": 3,
	}}}
	raw, err := yaml.Marshal(clouds)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o600)
}

// serve starts uwsgi on the configured state directory and port, and waits
// until keystone answers.
func (k *Keystone) serve(ctx context.Context) error {
	conf := filepath.Join(k.StateDir, "keystone.conf")
	logFile, err := os.OpenFile(filepath.Join(k.StateDir, "uwsgi.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// One process: the in-memory cache and sqlite want a single writer.
	// --http11-socket keeps Go's kept-alive connections working.
	cmd := exec.Command("/usr/bin/uwsgi",
		"--plugin", "python3",
		"--http11-socket", fmt.Sprintf("127.0.0.1:%d", k.Port),
		"--wsgi-file", "/usr/bin/keystone-wsgi-public",
		"--processes", "1", "--threads", "8",
		"--master", "--die-on-term", "--lazy-apps",
		"--buffer-size", "65535",
		"--pidfile", filepath.Join(k.StateDir, "uwsgi.pid"),
		"--env", "OS_KEYSTONE_CONFIG_FILES="+conf,
	)
	cmd.Env = pyenv.Clean()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start uwsgi: %w", err)
	}
	k.started = true
	// Reap it if it dies while this process lives; it is detached otherwise.
	go func() { _ = cmd.Wait() }()
	if err := probe(ctx, k.URL, k.Timeout); err != nil {
		log, _ := os.ReadFile(filepath.Join(k.StateDir, "uwsgi.log"))
		return fmt.Errorf("keystone did not answer on %s: %w\n--- last lines of uwsgi.log:\n%s", k.URL, err, LastLines(string(log), 15))
	}
	return nil
}

// Stop stops a server this Keystone started (or found running from its
// StateDir) and waits until its processes are gone. A reused server named
// by $ATMOSPHERE_TEST_CLOUDS is left alone.
func (k *Keystone) Stop() error {
	if os.Getenv(EnvClouds) != "" && !k.started && !k.Private {
		return nil
	}
	k.started = false
	if pid := k.pid(); pid > 0 {
		return k.stopPID(pid)
	}
	return nil
}

func (k *Keystone) pid() int {
	if k.StateDir == "" {
		return 0
	}
	raw, err := os.ReadFile(filepath.Join(k.StateDir, "uwsgi.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return pid
}

// stopPID ends the uwsgi session: SIGTERM to its process group, SIGKILL
// after 10 s.
func (k *Keystone) stopPID(pid int) error {
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		return nil // already gone
	}
	stopGroup(pgid, pid)
	_ = os.Remove(filepath.Join(k.StateDir, "uwsgi.pid"))
	return nil
}

// cloudURL reads the auth URL of CloudName from a clouds.yaml.
func cloudURL(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var c struct {
		Clouds map[string]struct {
			Auth struct {
				AuthURL string `json:"auth_url"`
			} `json:"auth"`
		} `json:"clouds"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	url := c.Clouds[CloudName].Auth.AuthURL
	if url == "" {
		return "", fmt.Errorf("%s: no cloud %q with an auth_url", path, CloudName)
	}
	return url, nil
}

// probe waits until GET url answers 200.
func probe(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Outage stops the server this Keystone started, keeps it down for d, and
// starts it again on the same port with the same database and keys: tokens
// issued before stay valid.
func (k *Keystone) Outage(ctx context.Context, d time.Duration) error {
	if !k.started {
		return errors.New("keystone outage: this Keystone did not start the server")
	}
	if pid := k.pid(); pid > 0 {
		if err := k.stopPID(pid); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	return k.serve(ctx)
}
