package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

const (
	kwokInventory = "../testdata/inventories/kwok"
	sharedCharts  = "../../shared/atmosphere/charts"
	testCharts    = "../testdata/charts"
	stateNS       = "atmosphere"
)

// skipSetup leaves out the single sign-on units (keystone's and the
// monitoring's Keycloak work): the suite's beds have no Keycloak (one
// would cost some two minutes of start and 400 MB); internal/keycloak, cmd
// and make demo test them against a real one. Every OpenStack set-up unit
// runs, against the suite's own OpenStack APIs (setup_test.go).
const skipSetup = "keystone:sso,kube-prometheus-stack:sso"

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
	// The APIs first: they talk to keystone.
	if err := errors.Join(stopSuiteOpenStack(), stopSuiteImages()); err != nil {
		fmt.Fprintln(os.Stderr, "stop the suite's OpenStack APIs and image servers:", err)
		code = 1
	}
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
		if err := errors.Join(keystone.Stop(), os.RemoveAll(keystone.StateDir)); err != nil {
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
// operators, the suite's keystone and OpenStack APIs, a copy of the kwok
// inventory with its set-up's names and images (setupVars), and
// everything any run of the scenario printed or wrote, for the secret scan.
type bed struct {
	t          testing.TB
	cluster    *testenv.Cluster
	cfg        *rest.Config
	kubeconfig string
	keystone   *testenv.Keystone
	// clouds is the clouds.yaml of the deploys: the suite's keystone's
	// admin in the region of its OpenStack APIs.
	clouds    string
	inventory string
	// suffix names what the bed's set-up makes.
	suffix  string
	reports string
	client  kubernetes.Interface

	// known are secrets the test gave the inventory, by name.
	known map[string]string

	mu      sync.Mutex
	outputs []output
}

// output is one thing a run printed or wrote, or the cluster holds after
// it: what names it for a message, kinds says which outputs of
// atmosphere it is (outputKinds), for the scan's coverage.
type output struct {
	what  string
	kinds []string
	text  string
}

// The kinds of output the secret scan covers.
const (
	kindJSON      = "--output json events"
	kindLines     = "text view (plain lines)"
	kindTerminal  = "terminal view"
	kindStderr    = "stderr"
	kindV         = "-v log"
	kindVV        = "-vv log"
	kindReport    = "report file"
	kindEvents    = "Kubernetes Events"
	kindNotes     = "Helm release notes"
	kindDryRun    = "--dry-run plan"
	markEnv       = "ATMOSPHERE_FAULTS_RUN"
	stuckVarsFile = "zz-stuck.yml"
)

// allKinds are the outputs TestFullDeployLeaksNoSecret must have scanned
// (none of them empty).
var allKinds = []string{kindJSON, kindLines, kindTerminal, kindV, kindVV, kindReport, kindEvents, kindNotes, kindDryRun}

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
	startSuiteOpenStack(t) // while the cluster starts
	c := testenv.PrivateCluster(t, bedNodes)
	cfg := c.Config()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	inv := testenv.CopyDir(t, kwokInventory)
	db := testenv.ProvideDatabase(t, cfg, inv)
	testenv.ProvideRabbitMQ(t, cfg, inv)
	deploytest.GiveServicesPasswords(t, inv, db.RootPassword)
	b := &bed{
		t: t, cluster: c, cfg: cfg, kubeconfig: c.Kubeconfig, keystone: ks,
		clouds: suiteOpenStack(t).Clouds, inventory: inv, suffix: fmt.Sprintf("b%d", bedCount.Add(1)), reports: t.TempDir(),
		client: kubernetes.NewForConfigOrDie(cfg),
	}
	b.addVars(setupVarsFile, setupVars(b.suffix, suiteImages(t), false))
	return b
}

// args are the flags of a deploy of the whole kwok inventory on the bed,
// with JSON events.
func (b *bed) args(extra ...string) []string { return b.deployArgs("json", extra...) }

// deployArgs are the flags of a deploy of the whole kwok inventory on the
// bed with an --output of choice.
func (b *bed) deployArgs(out string, extra ...string) []string {
	return append([]string{"deploy", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig,
		"--charts", sharedCharts, "--charts", testCharts, "--skip-tags", skipSetup,
		"--report-dir", b.reports, "--output", out}, extra...)
}

// proc is one atmosphere process.
type proc struct {
	cmd *exec.Cmd
	// mark is the value of markEnv in its environment (and its children's).
	mark string
	// kinds of its stdout and stderr (under a terminal both are stdout).
	outKinds, errKinds []string
	stdout             *lines
	stderr             *lines
	// copied is closed when a terminal's output is all read (at once
	// without a terminal).
	copied chan struct{}
	tty    *os.File
	done   chan struct{}
	code   int
	err    error
}

// marks makes each process's mark unique.
var marks atomic.Int64

// start runs atmosphere with args, in a process group of its own and with
// a mark in its environment that its children inherit, so that anything
// it leaves behind can be found.
func (b *bed) start(args ...string) *proc { return b.startIn(false, args...) }

// startTerminal runs atmosphere as start does, its standard streams a
// pseudo-terminal (so that it shows its live terminal view), whose output
// is the process's stdout.
func (b *bed) startTerminal(args ...string) *proc { return b.startIn(true, args...) }

func (b *bed) startIn(terminal bool, args ...string) *proc {
	b.t.Helper()
	c := exec.Command(binary, args...)
	mark := fmt.Sprintf("%d-%d", os.Getpid(), marks.Add(1))
	c.Env = append(os.Environ(), "OS_CLIENT_CONFIG_FILE="+b.clouds, "OS_CLOUD="+testenv.CloudName, markEnv+"="+mark)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outKinds, errKinds := outputKinds(args, terminal)
	p := &proc{cmd: c, mark: mark, outKinds: outKinds, errKinds: errKinds, stdout: newLines(), stderr: newLines(),
		copied: make(chan struct{}), done: make(chan struct{})}
	var tty *os.File
	if terminal {
		master, slave, err := openPTY(120, 40)
		if err != nil {
			b.t.Fatal(err)
		}
		p.tty, tty = master, slave
		c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	} else {
		c.Stdout, c.Stderr = p.stdout, p.stderr
		close(p.copied)
	}
	if err := c.Start(); err != nil {
		b.t.Fatal(err)
	}
	if tty != nil {
		tty.Close() // the child has it; the master reads EIO once no process has
		go func() {
			defer close(p.copied)
			_, _ = io.Copy(p.stdout, p.tty)
		}()
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

// outputKinds says which outputs of atmosphere a run with args prints on
// its stdout and stderr.
func outputKinds(args []string, terminal bool) (stdout, stderr []string) {
	out, verbosity, dryRun := "text", 0, false
	for i, a := range args {
		switch {
		case (a == "--output" || a == "-o") && i+1 < len(args):
			out = args[i+1]
		case strings.HasPrefix(a, "--output="):
			out = strings.TrimPrefix(a, "--output=")
		case a == "-v" || a == "--verbose":
			verbosity++
		case a == "-vv":
			verbosity += 2
		case a == "--dry-run":
			dryRun = true
		}
	}
	switch {
	case dryRun:
		stdout = []string{kindDryRun}
	case out == "json":
		stdout = []string{kindJSON}
	case terminal:
		stdout = []string{kindTerminal}
	default:
		stdout = []string{kindLines}
	}
	stderr = []string{kindStderr}
	switch {
	case verbosity >= 2:
		stderr = append(stderr, kindVV)
	case verbosity == 1:
		stderr = append(stderr, kindV)
	}
	if terminal {
		return append(stdout, stderr...), nil
	}
	return stdout, stderr
}

// openPTY opens a pseudo-terminal of cols×rows: its master, which reads
// what the program writes, and its slave, the program's terminal.
func openPTY(cols, rows uint16) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	fail := func(what string, err error) (*os.File, *os.File, error) {
		master.Close()
		return nil, nil, fmt.Errorf("pseudo-terminal: %s: %w", what, err)
	}
	var unlock int32
	if err := ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return fail("unlock", err)
	}
	var n uint32
	if err := ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		return fail("its number", err)
	}
	size := struct{ rows, cols, x, y uint16 }{rows, cols, 0, 0}
	if err := ioctl(master, syscall.TIOCSWINSZ, unsafe.Pointer(&size)); err != nil {
		return fail("its size", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return fail("open its slave", err)
	}
	return master, slave, nil
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
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
		b.t.Fatalf("%s: still running after %s; killed.%s\nstderr:\n%s", what, limit, stillRunning(p.stdout.String()), p.stderr.String())
	}
	if p.tty != nil {
		// A process left behind may hold the terminal open: the output of
		// the run is read by then, and noChildren names that process.
		select {
		case <-p.copied:
		case <-time.After(10 * time.Second):
		}
		p.tty.Close()
		<-p.copied
	}
	b.record(output{what + " stdout", p.outKinds, p.stdout.String()})
	if p.tty == nil {
		b.record(output{what + " stderr", p.errKinds, p.stderr.String()})
	}
	if p.code == -1 {
		b.t.Fatalf("%s: %v", what, p.err)
	}
	return p.code
}

// stillRunning says which units a run's JSON events (whole lines) show in
// flight at their end, each with what it last waited on; "" when there are
// none or the output is not events.
func stillRunning(stdout string) string {
	evs, err := deploy.ReadEvents(strings.NewReader(stdout[:strings.LastIndexByte(stdout, '\n')+1]))
	if err != nil {
		return ""
	}
	last := map[string]deploy.Event{}
	for _, e := range evs {
		last[e.Unit] = e
	}
	var out []string
	for _, unit := range slices.Sorted(maps.Keys(last)) {
		if e := last[unit]; !e.Kind.Done() {
			out = append(out, fmt.Sprintf("%s (%s %s)", unit, e.Kind, e.Detail))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "\nunits in flight: " + strings.Join(out, "; ")
}

// record keeps an output for the secret scan.
func (b *bed) record(o output) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.outputs = append(b.outputs, o)
}

// run runs atmosphere to its end.
func (b *bed) run(what string, args ...string) (*proc, int) {
	b.t.Helper()
	p := b.start(args...)
	return p, b.wait(p, what, 15*time.Minute)
}

// deployCompletes runs a whole deploy that must complete: exit 0, every
// unit succeeded or unchanged. It returns the events by unit.
func (b *bed) deployCompletes(what string, extra ...string) deploytest.Units {
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

// noChildren fails when a process p started outlives it: one of its
// process group, or one with its mark in its environment, in any process
// group (ansible-playbook runs in a group of its own). It kills them.
func (b *bed) noChildren(p *proc, what string) {
	b.t.Helper()
	left, err := leftBehind(p.mark, p.cmd.Process.Pid)
	if err != nil {
		b.t.Errorf("%s: look for the processes it left behind: %v", what, err)
		return
	}
	if len(left) > 0 {
		b.t.Errorf("%s: processes it started still run after it ended: %s", what, strings.Join(left, "; "))
	}
}

// leftBehind lists (and kills) the live processes of process group pgid
// or with markEnv=mark in their environment, as "pid (command line)". A
// /proc it cannot read is an error, not an empty list.
func leftBehind(mark string, pgid int) ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	want := []byte(markEnv + "=" + mark)
	var out []string
	seen := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		seen++
		dir := filepath.Join("/proc", e.Name())
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if gone(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s/stat: %d fields", dir, len(fields))
		}
		if fields[0] == "Z" || fields[0] == "X" {
			continue // ended, not yet reaped
		}
		inGroup := fields[2] == strconv.Itoa(pgid)
		environ, err := os.ReadFile(filepath.Join(dir, "environ"))
		switch {
		case gone(err):
			continue
		case errors.Is(err, fs.ErrPermission):
			// Not a process this one may inspect (another user's, or one
			// outside its namespace, as a container's init): not one
			// atmosphere started, which runs as this user and may be.
		case err != nil:
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		marked := slices.ContainsFunc(bytes.Split(environ, []byte{0}), func(v []byte) bool { return bytes.Equal(v, want) })
		if !inGroup && !marked {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		out = append(out, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if seen == 0 {
		return nil, errors.New("/proc lists no process")
	}
	// The environment of a process of this user must be readable, or no
	// mark would ever be found.
	if _, err := os.ReadFile("/proc/self/environ"); err != nil {
		return nil, fmt.Errorf("read a process's environment: %w", err)
	}
	return out, nil
}

// gone reports whether a read of /proc/<pid> failed because the process
// ended meanwhile.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
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
		b.t.Fatalf("list the Helm releases: %v", err)
	}
	out := map[string][]revision{}
	for _, s := range list.Items {
		v, err := strconv.Atoi(s.Labels["version"])
		if err != nil {
			b.t.Fatalf("Helm release Secret %s/%s: version label %q: %v", s.Namespace, s.Name, s.Labels["version"], err)
		}
		name := s.Namespace + "/" + s.Labels["name"]
		out[name] = append(out[name], revision{v, s.Labels["status"]})
	}
	for _, revs := range out {
		slices.SortFunc(revs, func(a, b revision) int { return a.version - b.version })
	}
	return out
}

// secretValues are the secrets of the bed: every value atmosphere
// generated into its store, the keystone admin password, the MariaDB root
// password and the RabbitMQ default users' passwords the charts' values
// read from the cluster, and those the test gave the inventory.
func (b *bed) secretValues() map[string]string {
	b.t.Helper()
	ctx := context.Background()
	out := withLines(b.storeSecrets())
	// The Secrets of the cluster the values read (stack's dbRoot and
	// rabbit): the test MariaDB's root password in percona-xtradb, and
	// each RabbitMQ cluster's default user.
	list, err := b.client.CoreV1().Secrets("openstack").List(ctx, metav1.ListOptions{})
	if err != nil {
		b.t.Fatalf("list the Secrets of openstack: %v", err)
	}
	db := false
	for _, sec := range list.Items {
		switch {
		case sec.Name == "percona-xtradb":
			db = true
			for k, v := range sec.Data {
				out["MariaDB "+k+" password (Secret openstack/percona-xtradb)"] = string(v)
			}
		case strings.HasSuffix(sec.Name, "-default-user"):
			out["RabbitMQ default user's password (Secret openstack/"+sec.Name+")"] = string(sec.Data["password"])
		}
	}
	if !db {
		b.t.Errorf("no Secret openstack/percona-xtradb: the MariaDB root password is not scanned for")
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
	for k, v := range b.known {
		out[k] = v
	}
	return out
}

// withLines adds, for each multi-line secret (the amphorae's SSH key), its
// lines as secrets of their own ("<name> (line N)"), but the PEM armour:
// a JSON string or a log escapes a value's newlines, so the whole value
// would not be found where a line of it is printed.
func withLines(values map[string]string) map[string]string {
	out := maps.Clone(values)
	for k, v := range values {
		if !strings.Contains(strings.TrimSpace(v), "\n") {
			continue
		}
		for i, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 8 && !strings.HasPrefix(line, "-----") {
				out[fmt.Sprintf("%s (line %d)", k, i+1)] = line
			}
		}
	}
	return out
}

// storeSecrets are the values atmosphere generated into the bed's
// secrets store, by name (none when nothing deployed needed one).
func (b *bed) storeSecrets() map[string]string {
	b.t.Helper()
	s, err := b.client.CoreV1().Secrets(stateNS).Get(context.Background(), secrets.DefaultName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return map[string]string{}
	} else if err != nil {
		b.t.Fatalf("the generated secrets: %v", err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

// encodings are the forms of a secret the scan looks for: the literal
// value, base64 (standard and URL alphabets, padded and raw) and URL
// encoded (query and path escaping), each once.
func encodings(v string) map[string]string {
	forms := []struct{ name, text string }{
		{"literally", v},
		{"base64", base64.StdEncoding.EncodeToString([]byte(v))},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString([]byte(v))},
		{"base64 URL", base64.URLEncoding.EncodeToString([]byte(v))},
		{"base64 URL unpadded", base64.RawURLEncoding.EncodeToString([]byte(v))},
		{"URL query-escaped", url.QueryEscape(v)},
		{"URL path-escaped", url.PathEscape(v)},
	}
	out := map[string]string{}
	var seen []string
	for _, f := range forms {
		if !slices.Contains(seen, f.text) {
			seen = append(seen, f.text)
			out[f.name] = f.text
		}
	}
	return out
}

// ansiEscape matches a terminal's control sequences (CSI and OSC).
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]`)

// scan is what a secret scan covered and found.
type scan struct {
	secrets, texts, leaks int
	// kinds counts the non-empty texts of each kind of output scanned.
	kinds map[string]int
	// setup has, by kind of output, the set-up units (allSetupUnits) the
	// texts scanned name: their outputs were among them.
	setup map[string]map[string]bool
}

func (s *scan) add(o scan) {
	s.secrets, s.texts, s.leaks = s.secrets+o.secrets, s.texts+o.texts, s.leaks+o.leaks
	if s.kinds == nil {
		s.kinds = map[string]int{}
	}
	if s.setup == nil {
		s.setup = map[string]map[string]bool{}
	}
	for k, n := range o.kinds {
		s.kinds[k] += n
	}
	for k, units := range o.setup {
		if s.setup[k] == nil {
			s.setup[k] = map[string]bool{}
		}
		for u := range units {
			s.setup[k][u] = true
		}
	}
}

// scanSecrets fails when any secret of the bed, in any of its encodings,
// appears in anything a run printed (stdout and stderr of every run:
// events, views, logs), any report it wrote, the Kubernetes Events of the
// cluster, or the notes and descriptions of its Helm releases. It returns
// what it covered and the leaks it found.
func (b *bed) scanSecrets() scan {
	b.t.Helper()
	values := b.secretValues()
	b.mu.Lock()
	all := slices.Clone(b.outputs)
	b.mu.Unlock()
	all = append(all, reportOutputs(b.t, b.reports)...)
	all = append(all, b.eventTexts(), b.notesTexts())
	res := scan{secrets: len(values), kinds: map[string]int{}, setup: map[string]map[string]bool{}}
	for _, o := range all {
		if strings.TrimSpace(o.text) != "" {
			res.texts++
			for _, k := range o.kinds {
				res.kinds[k]++
				for _, u := range allSetupUnits {
					if strings.Contains(o.text, u) {
						if res.setup[k] == nil {
							res.setup[k] = map[string]bool{}
						}
						res.setup[k][u] = true
					}
				}
			}
		}
	}
	for key, v := range values {
		if len(v) < 8 {
			b.t.Errorf("secret %s is %d characters: too short to scan for", key, len(v))
		}
	}
	for _, l := range findLeaks(values, all) {
		res.leaks++
		b.t.Errorf("the secret %s appears %s in %s (%s)", l.secret, l.form, l.in.what, strings.Join(l.in.kinds, ", "))
	}
	for _, o := range findTokens(all) {
		res.leaks++
		b.t.Errorf("a keystone token appears in %s (%s)", o.what, strings.Join(o.kinds, ", "))
	}
	return res
}

// fernetToken matches a keystone (Fernet) token: a version byte 0x80 and
// a timestamp, base64url-encoded, which always begins gAAAAA. The set-up
// units authenticate with the admin's password and call the APIs with
// such tokens, which are credentials while they live.
var fernetToken = regexp.MustCompile(`gAAAAA[A-Za-z0-9_-]{60,}`)

// findTokens lists the outputs that hold a keystone token (looked at as
// they came and without a terminal's control sequences).
func findTokens(outs []output) []output {
	var found []output
	for _, o := range outs {
		if fernetToken.MatchString(o.text) || fernetToken.MatchString(ansiEscape.ReplaceAllString(o.text, "")) {
			found = append(found, o)
		}
	}
	return found
}

// leak is a secret found in an output, in one of its encodings.
type leak struct {
	secret, form string
	in           output
}

// findLeaks looks for each secret of values (by name), in each of its
// encodings, in each output; a terminal's output is looked at as it came
// and without its control sequences, which could split a secret. Secrets
// under 8 characters are not looked for.
func findLeaks(values map[string]string, outs []output) []leak {
	plain := make([]string, len(outs))
	for i, o := range outs {
		plain[i] = ansiEscape.ReplaceAllString(o.text, "")
	}
	var found []leak
	for _, key := range slices.Sorted(maps.Keys(values)) {
		v := values[key]
		if len(v) < 8 {
			continue
		}
		forms := encodings(v)
		for i, o := range outs {
			for _, form := range slices.Sorted(maps.Keys(forms)) {
				if enc := forms[form]; strings.Contains(o.text, enc) || strings.Contains(plain[i], enc) {
					found = append(found, leak{key, form, o})
				}
			}
		}
	}
	return found
}

// eventTexts are the Kubernetes Events of the bed's cluster (those the
// runs made among them), one line each.
func (b *bed) eventTexts() output {
	b.t.Helper()
	list, err := b.client.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		b.t.Fatalf("list the Kubernetes Events: %v", err)
	}
	var text strings.Builder
	for _, e := range list.Items {
		fmt.Fprintf(&text, "%s %s/%s %s: %s\n", e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, e.Reason, e.Message)
	}
	return output{fmt.Sprintf("the cluster's %d Kubernetes Events", len(list.Items)), []string{kindEvents}, text.String()}
}

// notesTexts are the notes (NOTES.txt rendered) and descriptions (an
// error, for a failed one) of every revision of every Helm release.
func (b *bed) notesTexts() output {
	b.t.Helper()
	d := driver.NewSecrets(b.client.CoreV1().Secrets(""))
	var decodeErrs []string
	d.Log = func(format string, args ...any) { decodeErrs = append(decodeErrs, fmt.Sprintf(format, args...)) }
	rels, err := d.List(func(*release.Release) bool { return true })
	if err != nil {
		b.t.Fatalf("list the Helm releases: %v", err)
	}
	if len(decodeErrs) > 0 {
		b.t.Fatalf("read the Helm releases: %s", strings.Join(decodeErrs, "; "))
	}
	var text strings.Builder
	for _, r := range rels {
		if r.Info == nil {
			continue
		}
		fmt.Fprintf(&text, "%s/%s v%d: %s\n%s\n", r.Namespace, r.Name, r.Version, r.Info.Description, r.Info.Notes)
	}
	return output{fmt.Sprintf("the notes of %d Helm release revisions", len(rels)), []string{kindNotes}, text.String()}
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
// ones. Given again, it replaces the inventory's passwords (the scan keeps
// looking for the old ones too).
func (b *bed) giveSecrets(users ...string) {
	b.t.Helper()
	if b.known == nil {
		b.known = map[string]string{}
	}
	round := len(b.known)
	var vars strings.Builder
	for _, u := range users {
		raw := make([]byte, 18)
		if _, err := rand.Read(raw); err != nil {
			b.t.Fatal(err)
		}
		pw := base64.RawURLEncoding.EncodeToString(raw)
		b.known[fmt.Sprintf("given %s password (%d)", u, round)] = pw
		fmt.Fprintf(&vars, "openstack_helm_endpoints_%s_keystone_password: %q\n", u, pw)
	}
	b.addVars("zz-given-secrets.yml", vars.String())
}

// stuckValues keep memcached's pods unschedulable (a node label no node
// has), so that memcached:install stays in flight until its unit timeout
// or a cancel: a pending pod is not a failure the wait ends early on.
const stuckValues = "memcached_helm_values:\n  labels:\n    server:\n      node_selector_key: atmosphere.test/no-such-node\n      node_selector_value: enabled\n"

// stuckUnit is the unit stuckValues keep in flight.
const stuckUnit = "memcached:install"

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

// reportOutputs are the files of a report directory, as outputs to scan.
func reportOutputs(t testing.TB, dir string) []output {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []output
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, output{"report " + filepath.Base(f), []string{kindReport}, string(raw)})
	}
	return out
}
