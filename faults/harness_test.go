package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/deploy/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/secrets"
)

const (
	kwokInventory = "../testdata/inventories/kwok"
	sharedCharts  = "../../shared/atmosphere/charts"
	testCharts    = "../testdata/charts"
	stateNS       = "atmosphere"
)

// skipSetup leaves out the set-up units that talk to APIs the test bed
// does not run (nova, neutron, glance, octavia, manila, magnum), as
// `make demo` does; keystone's and every catalog unit run.
const skipSetup = "nova:setup,neutron:setup,glance-images:setup,octavia:setup,manila:setup,magnum:setup"

var (
	// binary is atmosphere, built once for the package without the race
	// detector: the suite runs it dozens of times.
	binary   string
	buildErr error

	keystoneOnce sync.Once
	keystone     *testenv.Keystone
	keystoneErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "atmosphere-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "atmosphere")
	build := exec.Command("go", "build", "-o", binary, "../cmd/atmosphere")
	if out, err := build.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build atmosphere: %w\n%s", err, out)
	}
	code := m.Run()
	if path := os.Getenv("ATMOSPHERE_FAULTS_SUMMARY"); path != "" {
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = os.WriteFile(path, []byte(strings.Join(summaries, "\n")+"\n"), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if keystone != nil {
		if err := keystone.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the suite's keystone:", err)
			code = 1
		}
	}
	if err := testenv.Teardown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	summaryMu sync.Mutex
	// summaries are the counts the suite found, by test, for the closing
	// summary (written to $ATMOSPHERE_FAULTS_SUMMARY: go test shows a
	// passing package's logs only with -v).
	summaries []string
)

// summary logs a count of the suite and keeps it for the summary.
func summary(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	summaryMu.Lock()
	defer summaryMu.Unlock()
	summaries = append(summaries, t.Name()+": "+line)
}

// suiteKeystone is the package's own keystone (the outage test stops it, so
// it is never the keystone other packages share).
func suiteKeystone(t testing.TB) *testenv.Keystone {
	t.Helper()
	keystoneOnce.Do(func() {
		k := &testenv.Keystone{StateDir: filepath.Join(os.TempDir(), fmt.Sprintf("atmosphere-faults-keystone-%d", os.Getpid())), Private: true}
		keystoneErr = k.Start(context.Background())
		keystone = k
	})
	if keystoneErr != nil {
		t.Fatalf("the suite's keystone: %v", keystoneErr)
	}
	return keystone
}

// bed is a scenario's test bed: a cluster of its own with the stand-in
// operators, the suite's keystone, a copy of the kwok inventory, and
// everything any run of the scenario printed or wrote, for the secret scan.
type bed struct {
	t          testing.TB
	cluster    *testenv.Cluster
	cfg        *rest.Config
	kubeconfig string
	keystone   *testenv.Keystone
	inventory  string
	reports    string
	client     kubernetes.Interface

	// known are secrets the test gave the inventory, by name.
	known map[string]string

	mu      sync.Mutex
	outputs []output
}

// output is one thing a run printed or wrote.
type output struct{ what, text string }

// bedNodes is how many kwok nodes a bed has: three, as atmosphere's
// control plane has (ceph-csi-rbd's provisioner spreads its three replicas
// over three nodes, and waits for them).
const bedNodes = 3

// newBed starts a bed for the test, stopped when it ends.
func newBed(t testing.TB) *bed {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ks := suiteKeystone(t)
	c := testenv.PrivateCluster(t, bedNodes)
	cfg := c.Config()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	inv := testenv.CopyDir(t, kwokInventory)
	testenv.ProvideDatabase(t, cfg, inv)
	return &bed{
		t: t, cluster: c, cfg: cfg, kubeconfig: c.Kubeconfig, keystone: ks,
		inventory: inv, reports: t.TempDir(),
		client: kubernetes.NewForConfigOrDie(cfg),
	}
}

// args are the flags of a deploy of the whole kwok inventory on the bed.
func (b *bed) args(extra ...string) []string {
	return append([]string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig,
		"--charts", sharedCharts, "--charts", testCharts, "--skip-tags", skipSetup,
		"--report-dir", b.reports, "--output", "json"}, extra...)
}

// proc is one atmosphere process.
type proc struct {
	cmd    *exec.Cmd
	stdout *lines
	stderr *lines
	done   chan struct{}
	code   int
	err    error
}

// start runs atmosphere with args, in a process group of its own so that
// anything it leaves behind can be found.
func (b *bed) start(args ...string) *proc {
	b.t.Helper()
	c := exec.Command(binary, args...)
	c.Env = append(os.Environ(), "OS_CLIENT_CONFIG_FILE="+b.keystone.Clouds, "OS_CLOUD="+testenv.CloudName)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{cmd: c, stdout: newLines(), stderr: newLines(), done: make(chan struct{})}
	c.Stdout, c.Stderr = p.stdout, p.stderr
	if err := c.Start(); err != nil {
		b.t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		p.err = c.Wait()
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = 128 + int(ws.Signal())
			}
		} else if p.err != nil {
			p.code = -1
		}
	}()
	return p
}

// wait waits for the process to end (failing the test after limit, a
// guard against a hang, not a measure) and records its output.
func (b *bed) wait(p *proc, what string, limit time.Duration) int {
	b.t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		b.t.Fatalf("%s: still running after %s; killed.\nstderr:\n%s", what, limit, p.stderr.String())
	}
	b.mu.Lock()
	b.outputs = append(b.outputs, output{what + " stdout", p.stdout.String()}, output{what + " stderr", p.stderr.String()})
	b.mu.Unlock()
	if p.code == -1 {
		b.t.Fatalf("%s: %v", what, p.err)
	}
	return p.code
}

// run runs atmosphere to its end.
func (b *bed) run(what string, args ...string) (*proc, int) {
	b.t.Helper()
	p := b.start(args...)
	return p, b.wait(p, what, 8*time.Minute)
}

// deployCompletes runs a whole deploy that must complete: exit 0, every
// unit succeeded or unchanged. It returns the events by unit.
func (b *bed) deployCompletes(what string, extra ...string) map[string][]deploy.Event {
	b.t.Helper()
	p, code := b.run(what, b.args(extra...)...)
	if code != 0 {
		b.t.Fatalf("%s: exit %d, want 0\nstderr:\n%s", what, code, p.stderr.String())
	}
	evs := deploytest.Events(b.t, p.stdout.String())
	if len(evs) == 0 {
		b.t.Fatalf("%s: no events", what)
	}
	for unit, e := range evs {
		if k := e[len(e)-1].Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			b.t.Errorf("%s: %s ended %s (%s %s)", what, unit, k, e[len(e)-1].Detail, e[len(e)-1].Error)
		}
	}
	b.noChildren(p, what)
	return evs
}

// noChildren fails when a process of p's group outlives it.
func (b *bed) noChildren(p *proc, what string) {
	b.t.Helper()
	if left := group(p.cmd.Process.Pid); len(left) > 0 {
		b.t.Errorf("%s: processes of its group still run after it ended: %v", what, left)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// group lists the live processes whose process group is pgid.
func group(pgid int) []int {
	var pids []int
	for _, p := range testenv.Processes() {
		if p.PGID == pgid {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// noPendingRelease fails when any Helm release of the cluster is left
// pending-* or its last revision is not deployed.
func (b *bed) noPendingRelease(what string) {
	b.t.Helper()
	releases := b.releases("")
	if len(releases) == 0 {
		b.t.Errorf("%s: no Helm release on the cluster", what)
	}
	for name, revs := range releases {
		for _, r := range revs {
			if strings.HasPrefix(r.status, "pending") {
				b.t.Errorf("%s: release %s revision %d is %s", what, name, r.version, r.status)
			}
		}
		if l := revs[len(revs)-1]; l.status != "deployed" {
			b.t.Errorf("%s: release %s: last revision %d is %s, want deployed", what, name, l.version, l.status)
		}
	}
}

// revision is a Helm release revision as its storage Secret labels it.
type revision struct {
	version int
	status  string
}

// releases reads the revisions of every Helm release of a namespace (""
// for all) from their storage Secrets, by "namespace/name", oldest first.
func (b *bed) releases(namespace string) map[string][]revision {
	b.t.Helper()
	list, err := b.client.CoreV1().Secrets(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		b.t.Fatal(err)
	}
	out := map[string][]revision{}
	for _, s := range list.Items {
		v, _ := strconv.Atoi(s.Labels["version"])
		name := s.Namespace + "/" + s.Labels["name"]
		out[name] = append(out[name], revision{v, s.Labels["status"]})
	}
	for _, revs := range out {
		slices.SortFunc(revs, func(a, b revision) int { return a.version - b.version })
	}
	return out
}

// secretValues are the secrets of the bed: every value atmosphere
// generated into its store, and the keystone admin password.
func (b *bed) secretValues() map[string]string {
	b.t.Helper()
	out := map[string]string{}
	s, err := b.client.CoreV1().Secrets(stateNS).Get(context.Background(), secrets.DefaultName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s = &corev1.Secret{} // nothing deployed needed a generated secret
	} else if err != nil {
		b.t.Fatalf("the generated secrets: %v", err)
	}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	raw, err := os.ReadFile(b.keystone.Clouds)
	if err != nil {
		b.t.Fatal(err)
	}
	var clouds struct {
		Clouds map[string]struct {
			Auth struct {
				Password string `json:"password"`
			} `json:"auth"`
		} `json:"clouds"`
	}
	if err := yaml.Unmarshal(raw, &clouds); err != nil {
		b.t.Fatal(err)
	}
	if pw := clouds.Clouds[testenv.CloudName].Auth.Password; pw != "" {
		out["keystone admin password"] = pw
	}
	maps.Copy(out, b.known)
	return out
}

// scanSecrets fails when any secret of the bed appears in anything a run
// printed or any report it wrote; it returns how many secrets it looked
// for, in how many texts, and the leaks it found.
func (b *bed) scanSecrets() (secretsChecked, texts, leaks int) {
	b.t.Helper()
	values := b.secretValues()
	b.mu.Lock()
	all := slices.Clone(b.outputs)
	b.mu.Unlock()
	reports, _ := filepath.Glob(filepath.Join(b.reports, "*"))
	for _, r := range reports {
		raw, err := os.ReadFile(r)
		if err != nil {
			b.t.Fatal(err)
		}
		all = append(all, output{"report " + filepath.Base(r), string(raw)})
	}
	for key, v := range values {
		if len(v) < 8 {
			b.t.Errorf("secret %s is %d characters: too short to scan for", key, len(v))
			continue
		}
		for _, o := range all {
			if strings.Contains(o.text, v) {
				leaks++
				b.t.Errorf("the secret %s appears in %s", key, o.what)
			}
		}
	}
	return len(values), len(all), leaks
}

// lines is an output buffer that can be waited on for lines.
type lines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return n, err
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until match holds for the output so far, the process ends,
// or limit passes; it reports whether match held.
func (l *lines) waitFor(p *proc, limit time.Duration, match func(string) bool) bool {
	deadline := time.After(limit)
	for {
		l.mu.Lock()
		text, changed := l.buf.String(), l.changed
		l.mu.Unlock()
		if match(text) {
			return true
		}
		select {
		case <-changed:
		case <-p.done:
			return match(l.String())
		case <-deadline:
			return false
		}
	}
}

// addVars writes an extra variables file into the bed's inventory.
func (b *bed) addVars(name, content string) {
	b.t.Helper()
	if err := os.WriteFile(filepath.Join(b.inventory, "group_vars", "all", name), []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// giveSecrets sets keystone passwords of some services in the bed's
// inventory, fresh random ones the scan then looks for with the generated
// ones.
func (b *bed) giveSecrets(users ...string) {
	b.t.Helper()
	b.known = map[string]string{}
	var vars strings.Builder
	for _, u := range users {
		raw := make([]byte, 18)
		if _, err := rand.Read(raw); err != nil {
			b.t.Fatal(err)
		}
		pw := base64.RawURLEncoding.EncodeToString(raw)
		b.known["given "+u+" password"] = pw
		fmt.Fprintf(&vars, "openstack_helm_endpoints_%s_keystone_password: %q\n", u, pw)
	}
	b.addVars("zz-given-secrets.yml", vars.String())
}

// scope runs the cleanups registered on it when closed, before the test
// ends: a bed that is not needed for the rest of the test is stopped early.
type scope struct {
	*testing.T
	cleanups []func()
}

// Cleanup registers f to run at close.
func (s *scope) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

func (s *scope) close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}
