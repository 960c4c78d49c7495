package testenv

import (
	"archive/zip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KeycloakVersion is the Keycloak server distribution the test bed runs
// (org.keycloak:keycloak-quarkus-dist, from Maven Central).
const KeycloakVersion = "26.5.6"

// keycloakMinJava is the oldest Java KeycloakVersion runs on.
const keycloakMinJava = 21

// keycloakDistURL is the distribution's zip on Maven Central; its SHA-1 is
// beside it (+ ".sha1").
var keycloakDistURL = "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/" + KeycloakVersion +
	"/keycloak-quarkus-dist-" + KeycloakVersion + ".zip"

// The environment that points the tests at a running Keycloak to reuse
// (written by `testenv up` into the env file).
const (
	EnvKeycloakURL      = "ATMOSPHERE_TEST_KEYCLOAK_URL"
	EnvKeycloakUser     = "ATMOSPHERE_TEST_KEYCLOAK_USER"
	EnvKeycloakPassword = "ATMOSPHERE_TEST_KEYCLOAK_PASSWORD"
)

// KeycloakServer is a running Keycloak of the test bed.
type KeycloakServer struct{ URL, AdminUser, AdminPassword string }

// KeycloakInstance is a Keycloak server on loopback: the distribution
// (downloaded once from Maven Central into the user's cache, its SHA-1
// checked, unzipped once) run with `kc.sh start-dev` by a Java of version
// 21 or later, with its embedded H2 database in StateDir and a bootstrap
// admin user with a generated password. Fill in the options, then Start.
type KeycloakInstance struct {
	// StateDir holds the database, log and state file; default
	// <state dir>/keycloak.
	StateDir string
	// Timeout bounds the start; default 3 minutes (the download comes on
	// top).
	Timeout time.Duration
	// Private starts a server of its own even when $ATMOSPHERE_TEST_KEYCLOAK_URL
	// names one.
	Private bool
	// Log receives progress lines (the download); may be nil.
	Log io.Writer

	// Server is the running server, once Start returned.
	Server KeycloakServer

	started bool
}

// keycloakState is what Start records in the state directory, to reuse a
// running server (0600: it holds the admin password).
type keycloakState struct {
	URL      string `json:"url"`
	User     string `json:"user"`
	Password string `json:"password"`
	PID      int    `json:"pid"`
}

// Start brings the server up: it reuses the one $ATMOSPHERE_TEST_KEYCLOAK_URL
// names (with the user and password of the two variables beside it), or
// one already running from StateDir; otherwise it fetches and unzips the
// distribution when missing, finds a Java, starts Keycloak detached (it
// outlives this process until Stop) and waits until its master realm
// answers. A lock file beside StateDir makes one process start it while
// the others wait and then reuse it.
func (k *KeycloakInstance) Start(ctx context.Context) error {
	if url := os.Getenv(EnvKeycloakURL); url != "" && !k.Private {
		if err := probe(ctx, url+"/realms/master", 10*time.Second); err != nil {
			return fmt.Errorf("reuse the test Keycloak of %s=%s: %w (run `make test-env-up`, or unset it)", EnvKeycloakURL, url, err)
		}
		k.Server = KeycloakServer{URL: url, AdminUser: os.Getenv(EnvKeycloakUser), AdminPassword: os.Getenv(EnvKeycloakPassword)}
		return nil
	}
	if k.StateDir == "" {
		k.StateDir = filepath.Join(DefaultStateDir(), "keycloak")
	}
	if k.Timeout == 0 {
		k.Timeout = 3 * time.Minute
	}
	if err := os.MkdirAll(filepath.Dir(k.StateDir), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(k.StateDir + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if st, err := readKeycloakState(k.statePath()); err == nil {
		if Alive(st.PID) && probe(ctx, st.URL+"/realms/master", 5*time.Second) == nil {
			k.Server = KeycloakServer{URL: st.URL, AdminUser: st.User, AdminPassword: st.Password}
			return nil
		}
		stopGroup(st.PID, st.PID) // not answering: replace it
	}
	java, err := FindJava(keycloakMinJava)
	if err != nil {
		return err
	}
	home, err := EnsureKeycloakDist(ctx, k.Log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, k.Timeout)
	defer cancel()
	if err := k.start(ctx, java, home); err != nil {
		return errors.Join(err, k.Stop())
	}
	return nil
}

func (k *KeycloakInstance) statePath() string { return filepath.Join(k.StateDir, "state.json") }

func (k *KeycloakInstance) start(ctx context.Context, javaHome, home string) error {
	if err := os.RemoveAll(k.StateDir); err != nil {
		return err
	}
	if err := os.MkdirAll(k.StateDir, 0o700); err != nil {
		return err
	}
	ports, err := FreePorts(1)
	if err != nil {
		return err
	}
	password, err := randomHex(16)
	if err != nil {
		return err
	}
	st := keycloakState{URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), User: "admin", Password: password}
	logFile, err := os.OpenFile(filepath.Join(k.StateDir, "keycloak.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// The distribution is shared by every instance of the machine: the
	// database and the transaction log are the instance's own. The lock
	// of the distribution is held while the server starts, as start-dev
	// may re-augment it (rewrite its lib/quarkus) the first time.
	unlockDist, err := lockFile(filepath.Dir(home) + ".lock")
	if err != nil {
		return err
	}
	defer unlockDist()
	cmd := exec.Command(filepath.Join(home, "bin", "kc.sh"),
		"-Dquarkus.transaction-manager.object-store.directory="+filepath.Join(k.StateDir, "transaction-logs"),
		"start-dev", "--http-host", "127.0.0.1", "--http-port", strconv.Itoa(ports[0]),
		"--db-url", "jdbc:h2:file:"+filepath.Join(k.StateDir, "h2", "keycloakdb")+";NON_KEYWORDS=VALUE")
	cmd.Env = append(keycloakEnv(), "JAVA_HOME="+javaHome,
		"KC_BOOTSTRAP_ADMIN_USERNAME="+st.User, "KC_BOOTSTRAP_ADMIN_PASSWORD="+st.Password)
	cmd.Dir = k.StateDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start keycloak: %w", err)
	}
	k.started = true
	st.PID = cmd.Process.Pid
	// Reap it if it dies while this process lives; it is detached otherwise.
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := writeState(k.statePath(), st); err != nil {
		return err
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	// The master realm answers before the bootstrap admin exists: the
	// server is ready when that admin gets a token.
	err = probe(waitCtx, st.URL+"/realms/master", k.Timeout)
	if err == nil {
		err = adminReady(waitCtx, st.URL, st.User, st.Password)
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(k.StateDir, "keycloak.log"))
		return fmt.Errorf("keycloak did not answer on %s: %w\n--- last lines of %s:\n%s", st.URL, err,
			filepath.Join(k.StateDir, "keycloak.log"), LastLines(string(log), 15))
	}
	k.Server = KeycloakServer{URL: st.URL, AdminUser: st.User, AdminPassword: st.Password}
	return nil
}

// adminReady waits until the master realm's admin-cli grants user a token.
func adminReady(ctx context.Context, base, user, password string) error {
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {user}, "password": {password}}.Encode()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/realms/master/protocol/openid-connect/token", strings.NewReader(form))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("admin token: HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// keycloakEnv is this process's environment without what would change how
// kc.sh runs Keycloak (Java options, KC_* settings, a JAVA_HOME of
// another version).
func keycloakEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "KC_") || strings.HasPrefix(name, "JAVA_") || name == "JAVA" || strings.HasPrefix(name, "QUARKUS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Stop stops a server this KeycloakInstance started (or found running from
// its StateDir) and waits until its processes are gone; its state is
// kept. One reused from $ATMOSPHERE_TEST_KEYCLOAK_URL is left alone.
func (k *KeycloakInstance) Stop() error {
	if os.Getenv(EnvKeycloakURL) != "" && !k.started && !k.Private {
		return nil
	}
	k.started = false
	if k.StateDir == "" {
		return nil
	}
	st, err := readKeycloakState(k.statePath())
	if err != nil {
		return nil // nothing running
	}
	stopGroup(st.PID, st.PID) // kc.sh leads its session
	return os.Remove(k.statePath())
}

// PID is the process (group) of the server started from StateDir, 0 when
// none: for measuring its memory.
func (k *KeycloakInstance) PID() int {
	st, err := readKeycloakState(k.statePath())
	if err != nil || !Alive(st.PID) {
		return 0
	}
	return st.PID
}

func readKeycloakState(path string) (keycloakState, error) {
	st, err := readState(path, func(st *keycloakState) bool { return st.PID > 0 && st.URL != "" })
	if err != nil {
		return keycloakState{}, err
	}
	return *st, nil
}

// KeycloakCacheDir is where the distribution is kept:
// $XDG_CACHE_HOME/atmosphere/keycloak (~/.cache when unset).
func KeycloakCacheDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("the cache directory of Keycloak: %w", err)
	}
	return filepath.Join(cache, "atmosphere", "keycloak"), nil
}

// EnsureKeycloakDist returns the home of the unzipped Keycloak
// distribution (<cache>/dist-VERSION/keycloak-VERSION), made when missing:
// the zip downloaded from Maven Central into the cache when absent or not
// matching, its SHA-1 checked against Maven's .sha1 file, then unzipped
// (once per machine: a stamp marks a finished unzip; a lock file
// serialises concurrent callers).
func EnsureKeycloakDist(ctx context.Context, log io.Writer) (string, error) {
	cache, err := KeycloakCacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	root := filepath.Join(cache, "dist-"+KeycloakVersion)
	home := filepath.Join(root, "keycloak-"+KeycloakVersion)
	stamp := filepath.Join(root, ".unzipped")
	if _, err := os.Stat(stamp); err == nil {
		return home, nil
	}
	unlock, err := lockFile(root + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(stamp); err == nil {
		return home, nil // another process made it while we waited
	}
	zipPath := filepath.Join(cache, filepath.Base(keycloakDistURL))
	if err := fetchVerified(ctx, keycloakDistURL, zipPath, log); err != nil {
		return "", fmt.Errorf("the Keycloak distribution: %w", err)
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	if err := unzip(zipPath, root); err != nil {
		return "", fmt.Errorf("unzip %s: %w", zipPath, err)
	}
	if _, err := os.Stat(filepath.Join(home, "bin", "kc.sh")); err != nil {
		return "", fmt.Errorf("unzip %s: no bin/kc.sh in %s", zipPath, home)
	}
	return home, os.WriteFile(stamp, nil, 0o644)
}

// fetchVerified makes dest the file at url whose SHA-1 is in url+".sha1":
// a dest already matching is kept, else it is downloaded (to a temporary
// file renamed once checked).
func fetchVerified(ctx context.Context, url, dest string, log io.Writer) error {
	want, err := httpGet(ctx, url+".sha1", 1<<10, nil)
	if err != nil {
		return err
	}
	sum := strings.ToLower(strings.TrimSpace(strings.Fields(string(want) + " ")[0]))
	if len(sum) != 40 {
		return fmt.Errorf("%s.sha1: not a SHA-1: %q", url, want)
	}
	if got, err := sha1File(dest); err == nil && got == sum {
		return nil
	}
	if log != nil {
		fmt.Fprintf(log, "testenv: downloading %s\n", url)
	}
	tmp := dest + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	h := sha1.New()
	_, err = httpGet(ctx, url, 0, io.MultiWriter(f, h))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		os.Remove(tmp)
		return fmt.Errorf("%s: SHA-1 %s, Maven says %s", url, got, sum)
	}
	return os.Rename(tmp, dest)
}

// httpGet fetches url: into w when given, else returned (at most limit
// bytes). A status other than 200 is an error.
func httpGet(ctx context.Context, url string, limit int64, w io.Writer) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	if w != nil {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

func sha1File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unzip extracts the zip file src into dir, keeping the files' modes;
// an entry that would land outside dir is refused.
func unzip(src, dir string) error {
	r, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, f := range r.File {
		path := filepath.Join(dir, f.Name)
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("entry %q leaves the directory", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := extract(f, path); err != nil {
			return err
		}
	}
	return nil
}

func extract(f *zip.File, path string) error {
	in, err := f.Open()
	if err != nil {
		return err
	}
	defer in.Close()
	mode := f.Mode().Perm() | 0o600
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// jvmDir is where Debian's and Temurin's packages install their JDKs.
var jvmDir = "/usr/lib/jvm"

// FindJava returns the home of a Java of major version min or later:
// $JAVA_HOME when it is one, else the newest under /usr/lib/jvm. None is
// an error that says which were found.
func FindJava(min int) (string, error) {
	var seen []string
	if home := os.Getenv("JAVA_HOME"); home != "" {
		v := javaVersion(home)
		if v >= min {
			return home, nil
		}
		seen = append(seen, fmt.Sprintf("JAVA_HOME=%s (%s)", home, versionText(v)))
	}
	entries, _ := os.ReadDir(jvmDir)
	best, bestV := "", 0
	for _, e := range entries {
		home := filepath.Join(jvmDir, e.Name())
		if _, err := os.Stat(filepath.Join(home, "bin", "java")); err != nil {
			continue
		}
		v := javaVersion(home)
		seen = append(seen, fmt.Sprintf("%s (%s)", home, versionText(v)))
		if v > bestV {
			best, bestV = home, v
		}
	}
	if bestV >= min {
		return best, nil
	}
	slices.Sort(seen)
	return "", fmt.Errorf("keycloak %s needs Java %d or later; found %s: install one (a Temurin JDK %d under %s) or point JAVA_HOME at it",
		KeycloakVersion, min, orNone(seen), min, jvmDir)
}

func versionText(v int) string {
	if v == 0 {
		return "version unknown"
	}
	return "Java " + strconv.Itoa(v)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

var javaVersionRE = regexp.MustCompile(`(?m)^JAVA_VERSION="(\d+)`)

// javaVersion is the major version of the Java at home, read from its
// release file (JAVA_VERSION="25.0.1"), 0 when unknown.
func javaVersion(home string) int {
	raw, err := os.ReadFile(filepath.Join(home, "release"))
	if err != nil {
		return 0
	}
	m := javaVersionRE.FindSubmatch(raw)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}

// Reuse finds the server running from StateDir and checks that it
// answers, starting nothing; it fills Server.
func (k *KeycloakInstance) Reuse(ctx context.Context) error {
	st, err := readKeycloakState(k.statePath())
	if err != nil {
		return fmt.Errorf("no Keycloak running from %s: %w", k.StateDir, err)
	}
	if !Alive(st.PID) {
		return fmt.Errorf("the Keycloak of %s (pid %d) is gone", k.StateDir, st.PID)
	}
	if err := probe(ctx, st.URL+"/realms/master", 5*time.Second); err != nil {
		return fmt.Errorf("the Keycloak of %s at %s does not answer: %w", k.StateDir, st.URL, err)
	}
	k.Server = KeycloakServer{URL: st.URL, AdminUser: st.User, AdminPassword: st.Password}
	return nil
}
