package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
)

// Debian packages of the federated keystone: Apache, its OpenID Connect
// module and mod_wsgi, beside keystone's own.
var oidcKeystonePackages = []string{"apache2", "libapache2-mod-auth-openidc", "libapache2-mod-wsgi-py3", "python3-keystone"}

// keycloakBackend is the identity driver atmosphere's keystone image runs
// for a domain whose users are a Keycloak realm's (the chart's ks_domains:
// driver keycloak), from PyPI, with what it needs that Debian's python3
// lacks or has too old, pinned and installed without their dependencies:
// those pip would pick (a newer cryptography among them) break Debian's
// keystone.
var keycloakBackend = []string{"keystone-keycloak-backend==0.5.0", "python-keycloak==3.12.0", "jwcrypto==1.5.6",
	"typing_extensions==4.12.2", "async-property==0.2.2", "requests-toolbelt==1.0.0"}

// Paths of Debian's Apache, mod_auth_openidc and keystone's WSGI script.
const (
	apacheBinary        = "/usr/sbin/apache2"
	apacheModules       = "/usr/lib/apache2/modules"
	keystoneWSGIScript  = "/usr/bin/keystone-wsgi-public"
	apacheUser          = "www-data" // Debian's: Apache serves no request as root
	imageWSGIScript     = "/var/www/cgi-bin/keystone/keystone-wsgi-public"
	imageOIDCMetadata   = "/var/lib/apache2/oidc"
	imageKeystonePort   = "5000"
	oidcKeystoneTimeout = 2 * time.Minute
)

// OIDCKeystone is keystone as atmosphere's keystone pods run it: Debian's
// keystone under Apache's mod_wsgi, with mod_auth_openidc in front of it,
// on a loopback port of its own, with its own database and keys (not the
// test keystone's: the federation's assertion reaches keystone as the
// environment variables mod_auth_openidc sets, OIDC-sub and the like,
// which the <domain>-openid mapping names; only mod_wsgi (or the uwsgi
// protocol) hands those to the application, a reverse proxy to the uwsgi
// keystone would pass them as HTTP_OIDC_* headers the mapping does not
// name).
//
// Start serves keystone with no single sign-on; Configure then gives it
// atmosphere's Apache configuration (the chart's conf.wsgi_keystone as
// atmosphere renders it), the OIDC metadata files (keystone's
// keystone-openid-metadata ConfigMap, as the pod mounts them) and
// keystone.conf's federation settings, with the domains' configurations
// (the chart's ks_domains: their users are their realms', read by the
// keycloak identity driver atmosphere's image runs, in a virtualenv here).
// Apache's children and the WSGI daemon run as www-data.
type OIDCKeystone struct {
	// StateDir holds the configurations, keystone's database and keys, the
	// OIDC metadata, logs (apache.log: Apache's error and access logs;
	// keystone/keystone.log) and state.json; default <state dir>/keystone-oidc.
	StateDir string

	// Port is the loopback port Apache listens on; Base is
	// http://127.0.0.1:PORT, URL Base+"/v3".
	Port      int
	Base, URL string
	// Clouds is the clouds.yaml of its admin (cloud CloudName).
	Clouds string

	started bool
}

// oidcKeystoneState is what Start records, to reuse a running server.
type oidcKeystoneState struct {
	Port int `json:"port"`
	PID  int `json:"pid"`
}

// OIDCConfig is what Configure serves keystone with.
type OIDCConfig struct {
	// Apache is the chart's conf.wsgi_keystone as atmosphere renders it;
	// Configure adapts what a pod's image and this machine place
	// differently (apacheForTestBed), nothing else.
	Apache string
	// Metadata are mod_auth_openidc's metadata files by their path in the
	// pod (/var/lib/apache2/oidc/<issuer>.provider, …): what keystone's
	// volume mounts put there from the ConfigMap.
	Metadata map[string]string
	// Keystone are sections of keystone.conf (conf.keystone as rendered:
	// "auth", "openid", "federation"), added to the test bed's own; a value
	// is a string, or the chart's {type: multistring, values: […]}.
	Keystone map[string]map[string]any
	// CallbackTemplate is keystone's web single sign-on callback page (the
	// form posting the token to the dashboard): the chart's
	// conf.sso_callback_template, which the pod mounts at keystone's
	// default path, /etc/keystone/sso_callback_template.html.
	CallbackTemplate string
	// Domains are the domains' configurations (the chart's conf.ks_domains
	// as rendered: by domain, its sections), written as
	// keystone.<domain>.conf where keystone reads them.
	Domains map[string]map[string]map[string]any
}

// keystoneDir is keystone's own state (database, keys, configuration),
// owned by Apache's user.
func (k *OIDCKeystone) keystoneDir() string { return filepath.Join(k.StateDir, "keystone") }
func (k *OIDCKeystone) statePath() string   { return filepath.Join(k.StateDir, "state.json") }
func (k *OIDCKeystone) confPath() string    { return filepath.Join(k.StateDir, "apache2.conf") }
func (k *OIDCKeystone) sitePath() string    { return filepath.Join(k.StateDir, "wsgi-keystone.conf") }
func (k *OIDCKeystone) metadataDir() string { return filepath.Join(k.StateDir, "oidc") }
func (k *OIDCKeystone) logPath() string     { return filepath.Join(k.StateDir, "apache.log") }
func (k *OIDCKeystone) venvDir() string     { return filepath.Join(k.StateDir, "venv") }
func (k *OIDCKeystone) domainsDir() string  { return filepath.Join(k.keystoneDir(), "domains") }
func (k *OIDCKeystone) templatePath() string {
	return filepath.Join(k.keystoneDir(), "sso_callback_template.html")
}

// Start brings the server up: the one running from StateDir when it
// answers, else a new one (the packages installed when missing): a fresh
// keystone state, bootstrapped, served by Apache with mod_wsgi alone. A
// lock file beside StateDir makes one process start it while the others
// wait and reuse it. It outlives this process until Stop.
func (k *OIDCKeystone) Start(ctx context.Context) error {
	if k.StateDir == "" {
		k.StateDir = filepath.Join(DefaultStateDir(), "keystone-oidc")
	}
	k.Clouds = filepath.Join(k.StateDir, "clouds.yaml")
	if err := os.MkdirAll(filepath.Dir(k.StateDir), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(k.StateDir + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if st, err := k.readState(); err == nil {
		k.setPort(st.Port)
		if Alive(st.PID) && probe(ctx, k.URL, 5*time.Second) == nil {
			return nil
		}
		stopGroup(st.PID, st.PID) // not answering: replace it
	}
	installCtx, cancelInstall := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelInstall()
	if err := EnsurePackages(installCtx, filepath.Join(apacheModules, "mod_auth_openidc.so"), oidcKeystonePackages...); err != nil {
		return err
	}
	if err := EnsurePackages(installCtx, filepath.Join(apacheModules, "mod_wsgi.so"), oidcKeystonePackages...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, oidcKeystoneTimeout)
	defer cancel()
	if err := k.start(ctx); err != nil {
		return errors.Join(fmt.Errorf("start the federated keystone in %s: %w", k.StateDir, err), k.Stop())
	}
	return nil
}

func (k *OIDCKeystone) setPort(port int) {
	k.Port = port
	k.Base = fmt.Sprintf("http://127.0.0.1:%d", port)
	k.URL = k.Base + "/v3"
}

func (k *OIDCKeystone) start(ctx context.Context) error {
	if err := os.RemoveAll(k.StateDir); err != nil {
		return err
	}
	for _, d := range []string{k.keystoneDir(), k.domainsDir(), k.metadataDir(), filepath.Join(k.StateDir, "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	ports, err := FreePorts(1)
	if err != nil {
		return err
	}
	k.setPort(ports[0])
	if err := makeVenv(ctx, k.venvDir(), keycloakBackend); err != nil {
		return err
	}
	password, err := prepareKeystone(ctx, k.keystoneDir(), k.URL, k.keystoneConf(nil))
	if err != nil {
		return err
	}
	if err := writeClouds(k.Clouds, k.URL, password); err != nil {
		return err
	}
	if err := writeState(k.statePath(), oidcKeystoneState{Port: k.Port}); err != nil {
		return err
	}
	if err := os.WriteFile(k.confPath(), []byte(k.apacheConf()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(k.sitePath(), []byte(k.plainSite()), 0o644); err != nil {
		return err
	}
	if err := k.own(); err != nil {
		return err
	}
	return k.serve(ctx)
}

// keystoneConf is the test bed's keystone.conf with the sections given
// after it, and [federation] sso_callback_template where the test bed puts
// the callback page (the pod's is keystone's default path). The cache is
// off: keystone-manage and the WSGI daemon (in the chart's configuration,
// four processes of it) write to one database, and one process's in-memory
// cache is not told of another's writes.
func (k *OIDCKeystone) keystoneConf(given map[string]map[string]any) []string {
	lines := keystoneConf(k.keystoneDir(), false)
	sections := map[string]map[string]any{}
	for name, section := range given {
		sections[name] = maps.Clone(section)
	}
	if sections["federation"] == nil {
		sections["federation"] = map[string]any{}
	}
	sections["federation"]["sso_callback_template"] = k.templatePath()
	// The chart's (its values.yaml): each domain of ks_domains has its
	// configuration file in the directory.
	sections["identity"] = map[string]any{"domain_specific_drivers_enabled": "True", "domain_config_dir": k.domainsDir()}
	// The test bed's [identity] has its password hashing: the chart's
	// options go beside them.
	for i, line := range lines {
		if line == "[identity]" {
			lines = slices.Insert(lines, i+1, iniLines(sections["identity"])...)
			delete(sections, "identity")
			break
		}
	}
	return append(lines, iniSections(sections)...)
}

// iniSections are the sections in an INI file's lines, sorted by name.
func iniSections(sections map[string]map[string]any) []string {
	var lines []string
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		lines = append(lines, "["+name+"]")
		lines = append(lines, iniLines(sections[name])...)
	}
	return lines
}

// iniLines are a section's options, sorted by name.
func iniLines(section map[string]any) []string {
	var lines []string
	for _, key := range slices.Sorted(maps.Keys(section)) {
		for _, v := range iniValues(section[key]) {
			lines = append(lines, key+" = "+v)
		}
	}
	return lines
}

// iniValues are the lines' values of one option as openstack-helm's
// configuration template writes it: a multistring one key per value.
func iniValues(v any) []string {
	if m, ok := v.(map[string]any); ok && m["type"] == "multistring" {
		var out []string
		values, _ := m["values"].([]any)
		for _, x := range values {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// apacheConf is the server's own configuration: what the image's
// apache2.conf gives before it includes the chart's wsgi-keystone.conf.
func (k *OIDCKeystone) apacheConf() string {
	load := func(name, file string) string {
		return "LoadModule " + name + " " + filepath.Join(apacheModules, file) + "\n"
	}
	return "ServerRoot " + k.StateDir + "\n" +
		"ServerName 127.0.0.1\n" +
		"DefaultRuntimeDir " + filepath.Join(k.StateDir, "run") + "\n" +
		"PidFile " + filepath.Join(k.StateDir, "run", "apache2.pid") + "\n" +
		"User " + apacheUser + "\nGroup " + apacheUser + "\n" +
		"ErrorLog " + k.logPath() + "\nLogLevel warn auth_openidc:info\n" +
		load("mpm_event_module", "mod_mpm_event.so") +
		load("authz_core_module", "mod_authz_core.so") +
		load("authz_user_module", "mod_authz_user.so") +
		load("authn_core_module", "mod_authn_core.so") +
		load("auth_openidc_module", "mod_auth_openidc.so") +
		load("wsgi_module", "mod_wsgi.so") +
		load("mime_module", "mod_mime.so") +
		"TypesConfig /etc/mime.types\n" +
		"StartServers 1\nServerLimit 2\nThreadsPerChild 16\nMaxRequestWorkers 32\n" +
		"Include " + k.sitePath() + "\n"
}

// plainSite serves keystone alone, before Configure: the chart's
// configuration without its OpenID Connect part.
func (k *OIDCKeystone) plainSite() string {
	return fmt.Sprintf(`Listen 127.0.0.1:%d
<VirtualHost *:%d>
  WSGIDaemonProcess keystone-public processes=1 threads=4 user=%s group=%s python-home=%s display-name=%%{GROUP}
  WSGIProcessGroup keystone-public
  WSGIScriptAlias / %s
  WSGIApplicationGroup %%{GLOBAL}
  WSGIPassAuthorization On
</VirtualHost>
`, k.Port, k.Port, apacheUser, apacheUser, k.venvDir(), keystoneWSGIScript)
}

// apacheForTestBed adapts the chart's wsgi-keystone.conf to this machine,
// changing only what a pod's image and this machine place differently:
// the port (keystone's 5000 in the pod; here loopback and a port of its
// own), the WSGI script's path (the image's
// /var/www/cgi-bin/keystone/keystone-wsgi-public; Debian's
// /usr/bin/keystone-wsgi-public), the WSGI daemon's user (the image's
// keystone; Debian's Apache user here), its Python (the image's has the
// keycloak identity driver; here Debian's python3 with the driver in a
// virtualenv beside its packages: python-home) and its processes (one process of
// four threads in place of four of one: each process loads keystone, some
// 140 MB and seconds of CPU, which the test bed's budget does not buy
// four times), the OIDC metadata directory (the pod's mount;
// StateDir/oidc here). Each must be found where the chart's
// configuration has it, or the rendering changed and the test bed must be
// told: an error names what is missing.
func (k *OIDCKeystone) apacheForTestBed(conf string) (string, error) {
	replacements := []struct{ old, new string }{
		{"Listen 0.0.0.0:" + imageKeystonePort, fmt.Sprintf("Listen 127.0.0.1:%d", k.Port)},
		{"<VirtualHost *:" + imageKeystonePort + ">", fmt.Sprintf("<VirtualHost *:%d>", k.Port)},
		{"WSGIScriptAlias / " + imageWSGIScript, "WSGIScriptAlias / " + keystoneWSGIScript},
		{"processes=4 threads=1 user=keystone group=keystone",
			"processes=1 threads=4 user=" + apacheUser + " group=" + apacheUser + " python-home=" + k.venvDir()},
		{"OIDCMetadataDir " + imageOIDCMetadata, "OIDCMetadataDir " + k.metadataDir()},
	}
	for _, r := range replacements {
		if !strings.Contains(conf, r.old) {
			return "", fmt.Errorf("keystone's Apache configuration has no %q to adapt to the test bed", r.old)
		}
		conf = strings.ReplaceAll(conf, r.old, r.new)
	}
	return conf, nil
}

// Configure serves keystone with atmosphere's single sign-on: the Apache
// configuration (adapted by apacheForTestBed), the metadata files in the
// metadata directory (replacing those there) and keystone.conf with the
// given sections; the configuration is checked (apache2 -t) before the
// server is restarted with it on the same port, keeping keystone's
// database and keys. A configuration Apache refuses is an error with its
// message, and the server keeps serving the one before.
func (k *OIDCKeystone) Configure(ctx context.Context, c OIDCConfig) error {
	site, err := k.apacheForTestBed(c.Apache)
	if err != nil {
		return err
	}
	for path := range c.Metadata {
		if filepath.Dir(path) != imageOIDCMetadata {
			return fmt.Errorf("metadata file %s: not in %s, where keystone's Apache reads it", path, imageOIDCMetadata)
		}
	}
	staged := k.sitePath() + ".new"
	if err := os.WriteFile(staged, []byte(site), 0o644); err != nil {
		return err
	}
	defer os.Remove(staged)
	if out, err := k.checkWith(staged); err != nil {
		return fmt.Errorf("apache2 -t refuses keystone's configuration: %w\n%s", err, out)
	}
	entries, err := os.ReadDir(k.metadataDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(k.metadataDir(), e.Name())); err != nil {
			return err
		}
	}
	if c.CallbackTemplate == "" {
		return errors.New("no web single sign-on callback page (the chart's conf.sso_callback_template)")
	}
	if err := os.WriteFile(k.templatePath(), []byte(c.CallbackTemplate), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(k.domainsDir()); err != nil {
		return err
	}
	if err := os.MkdirAll(k.domainsDir(), 0o700); err != nil {
		return err
	}
	for name, sections := range c.Domains {
		content := strings.Join(iniSections(sections), "\n") + "\n"
		if err := os.WriteFile(filepath.Join(k.domainsDir(), "keystone."+name+".conf"), []byte(content), 0o600); err != nil {
			return err
		}
	}
	for path, content := range c.Metadata {
		if err := os.WriteFile(filepath.Join(k.metadataDir(), filepath.Base(path)), []byte(content), 0o640); err != nil {
			return err
		}
	}
	conf := filepath.Join(k.keystoneDir(), "keystone.conf")
	if err := os.WriteFile(conf, []byte(strings.Join(k.keystoneConf(c.Keystone), "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(staged, k.sitePath()); err != nil {
		return err
	}
	if err := k.own(); err != nil {
		return err
	}
	if st, err := k.readState(); err == nil {
		stopGroup(st.PID, st.PID)
	}
	return k.serve(ctx)
}

// checkWith runs apache2 -t on the server's configuration with the staged
// site in place of the current one.
func (k *OIDCKeystone) checkWith(staged string) ([]byte, error) {
	main, err := os.ReadFile(k.confPath())
	if err != nil {
		return nil, err
	}
	test := k.confPath() + ".check"
	if err := os.WriteFile(test, []byte(strings.Replace(string(main), "Include "+k.sitePath(), "Include "+staged, 1)), 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(test)
	cmd := exec.Command(apacheBinary, "-t", "-f", test)
	cmd.Env = pyenv.Clean()
	return cmd.CombinedOutput()
}

// own gives the state Apache's user reads and keystone's WSGI daemon
// writes to that user: StateDir traversable, the metadata readable by
// its group, keystone's state its own.
func (k *OIDCKeystone) own() error {
	u, err := user.Lookup(apacheUser)
	if err != nil {
		return fmt.Errorf("Apache's user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// Every directory above StateDir must let that user through.
	for dir := k.StateDir; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(dir, fi.Mode().Perm()|0o011); err != nil {
				return err
			}
		}
	}
	if err := os.Chown(k.metadataDir(), 0, gid); err != nil {
		return err
	}
	if err := os.Chmod(k.metadataDir(), 0o750); err != nil {
		return err
	}
	entries, err := os.ReadDir(k.metadataDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Chown(filepath.Join(k.metadataDir(), e.Name()), 0, gid); err != nil {
			return err
		}
	}
	return filepath.Walk(k.keystoneDir(), func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// serve starts Apache in the foreground of a session of its own and
// waits until keystone answers through it.
func (k *OIDCKeystone) serve(ctx context.Context) error {
	logFile, err := os.OpenFile(k.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(apacheBinary, "-f", k.confPath(), "-DFOREGROUND")
	cmd.Env = append(pyenv.Clean(), "OS_KEYSTONE_CONFIG_FILES="+filepath.Join(k.keystoneDir(), "keystone.conf"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start apache2: %w", err)
	}
	k.started = true
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := writeState(k.statePath(), oidcKeystoneState{Port: k.Port, PID: cmd.Process.Pid}); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, oidcKeystoneTimeout)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	if err := probe(waitCtx, k.URL, oidcKeystoneTimeout); err != nil {
		log, _ := os.ReadFile(k.logPath())
		klog, _ := os.ReadFile(filepath.Join(k.keystoneDir(), "keystone.log"))
		return fmt.Errorf("keystone did not answer through Apache on %s: %w\n--- last lines of %s:\n%s\n--- last lines of keystone.log:\n%s",
			k.URL, err, k.logPath(), LastLines(string(log), 15), LastLines(string(klog), 10))
	}
	return nil
}

// Stop stops the server started from StateDir (by this process or
// another) and waits until its processes are gone; the state and logs are
// kept.
func (k *OIDCKeystone) Stop() error {
	k.started = false
	st, err := k.readState()
	if err != nil {
		return nil // nothing recorded
	}
	stopGroup(st.PID, st.PID)
	st.PID = 0
	return writeState(k.statePath(), st)
}

// PID is Apache's parent process (the leader of its group), 0 when none
// runs.
func (k *OIDCKeystone) PID() int {
	st, err := k.readState()
	if err != nil || !Alive(st.PID) {
		return 0
	}
	return st.PID
}

// Logs are the last n lines of Apache's log (mod_auth_openidc's messages
// among them) and of keystone's, for a failing test to show.
func (k *OIDCKeystone) Logs(n int) string {
	log, _ := os.ReadFile(k.logPath())
	klog, _ := os.ReadFile(filepath.Join(k.keystoneDir(), "keystone.log"))
	return "--- " + k.logPath() + ":\n" + LastLines(string(log), n) + "\n--- keystone.log:\n" + LastLines(string(klog), n)
}

func (k *OIDCKeystone) readState() (oidcKeystoneState, error) {
	st, err := readState(k.statePath(), func(st *oidcKeystoneState) bool { return st.Port != 0 })
	if err != nil {
		return oidcKeystoneState{}, err
	}
	return *st, nil
}

var sharedOIDC struct {
	once sync.Once
	k    OIDCKeystone
	err  error
	dir  string // a private state directory to remove at the end
}

// FederatedKeystone returns the test bed's federated keystone
// (OIDCKeystone), for a test that configures its single sign-on: with a
// shared test environment ($ATMOSPHERE_TEST_CLOUDS) the one running from
// the shared state directory (<state dir>/keystone-oidc), started there by
// the first test process that needs it and left running for the others
// (`testenv down` stops it); else one of this process, stopped by
// Teardown. As Configure replaces what another test configured, the test
// holds it (a lock file beside its state) until it ends.
func FederatedKeystone(t testing.TB) *OIDCKeystone {
	t.Helper()
	sharedOIDC.once.Do(func() {
		if !reusing(EnvClouds) {
			dir, err := privateDir("keystone-oidc")
			if err != nil {
				sharedOIDC.err = err
				return
			}
			sharedOIDC.k.StateDir, sharedOIDC.dir = filepath.Join(dir, "keystone-oidc"), dir
		}
		start := time.Now()
		sharedOIDC.err = sharedOIDC.k.Start(context.Background())
		if time.Since(start) > 5*time.Second {
			fmt.Fprintf(os.Stderr, "testenv: federated keystone up in %s (%s)\n", time.Since(start).Round(time.Second), sharedOIDC.k.StateDir)
		}
	})
	if sharedOIDC.err != nil {
		t.Fatalf("the federated test keystone: %v", sharedOIDC.err)
	}
	unlock, err := lockFile(sharedOIDC.k.StateDir + ".use")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	k := sharedOIDC.k
	return &k
}

// stopSharedOIDCKeystone stops the federated keystone this process started
// for itself.
func stopSharedOIDCKeystone() error {
	if sharedOIDC.dir == "" {
		return nil
	}
	return errors.Join(sharedOIDC.k.Stop(), os.RemoveAll(sharedOIDC.dir))
}

// makeVenv makes a virtualenv of Debian's python3 (its packages, keystone's
// among them, seen) in dir, with the packages installed from PyPI without
// their dependencies.
func makeVenv(ctx context.Context, dir string, packages []string) error {
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = pyenv.Clean()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, LastLines(string(out), 10))
		}
		return nil
	}
	if err := run("/usr/bin/python3", "-m", "venv", "--system-site-packages", dir); err != nil {
		return err
	}
	return run(filepath.Join(dir, "bin", "pip"), append([]string{"install", "-q", "--disable-pip-version-check", "--no-deps"}, packages...)...)
}
