package ansible

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// lines collects output lines, safe for the reader goroutine.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, s)
}

func (l *lines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.all...)
}

// newDeployer runs the Debian ansible against localhost, with roles from a
// directory the test fills.
func newDeployer(t *testing.T, roles map[string]string) (*Deployer, *lines) {
	t.Helper()
	bin, err := testenv.EnsureAnsible(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inventory, err := testenv.LocalInventory(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, tasks := range roles {
		p := filepath.Join(dir, "roles", name, "tasks")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "main.yml"), []byte(tasks), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := &lines{}
	return &Deployer{Bin: bin, Inventory: inventory, Output: out.add,
		Env: []string{"ANSIBLE_ROLES_PATH=" + filepath.Join(dir, "roles"), "ANSIBLE_HOST_KEY_CHECKING=False"}}, out
}

func TestRoleOutputArrivesPrefixedAndInOrder(t *testing.T) {
	d, out := newDeployer(t, map[string]string{"hello": `
- ansible.builtin.debug: {msg: "first {{ greeting }}"}
- ansible.builtin.debug: {msg: second}
- ansible.builtin.debug: {msg: third}
`})
	err := d.Run(context.Background(), Job{Component: "hello", Play: &Play{Hosts: "all", Role: "hello"},
		ExtraVars: map[string]any{"greeting": "world"}})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, l := range out.get() {
		if !strings.HasPrefix(l, "[hello] ") {
			t.Errorf("line without prefix: %q", l)
		}
		for _, m := range []string{"first world", "second", "third"} {
			if strings.Contains(l, `"msg": "`+m+`"`) {
				order = append(order, m)
			}
		}
	}
	if strings.Join(order, ",") != "first world,second,third" {
		t.Errorf("messages in order %v; output:\n%s", order, strings.Join(out.get(), "\n"))
	}
}

func TestFailingTaskNamesTaskAndMessage(t *testing.T) {
	d, _ := newDeployer(t, map[string]string{"broken": `
- name: Fine
  ansible.builtin.debug: {msg: ok}
- name: Configure the widget
  ansible.builtin.fail: {msg: "the widget is missing"}
`})
	err := d.Run(context.Background(), Job{Component: "broken", Play: &Play{Hosts: "all", Role: "broken"}})
	var failed *FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want a FailedError", err)
	}
	if failed.Task != "broken : Configure the widget" || failed.Message != "the widget is missing" || failed.Host != "localhost" || failed.ExitCode != 2 {
		t.Errorf("failure %+v", failed)
	}
	if !strings.Contains(err.Error(), `task "broken : Configure the widget" failed on localhost: the widget is missing`) {
		t.Errorf("error: %v", err)
	}
}

func TestSecretsNeverReachOutputOrErrors(t *testing.T) {
	d, out := newDeployer(t, map[string]string{"leaky": `
- name: Show the password
  ansible.builtin.debug: {msg: "pw is {{ keystone_password }}"}
- name: Hidden
  ansible.builtin.debug: {msg: "{{ keystone_password }}"}
  no_log: true
- name: Fail with it
  ansible.builtin.fail: {msg: "bad {{ keystone_password }}"}
`})
	const secret = "s3cr3t-Pa55w0rd"
	err := d.Run(context.Background(), Job{Component: "leaky", Play: &Play{Hosts: "all", Role: "leaky"},
		ExtraVars: map[string]any{"keystone_password": secret}})
	if err == nil {
		t.Fatal("want a failure")
	}
	all := strings.Join(out.get(), "\n") + err.Error()
	if strings.Contains(all, secret) {
		t.Errorf("the secret leaked:\n%s", all)
	}
	if !strings.Contains(all, "[REDACTED]") {
		t.Errorf("no redaction marker:\n%s", all)
	}
}

func TestMissingCollectionSaysHowToInstall(t *testing.T) {
	d := &Deployer{CollectionsPaths: []string{t.TempDir()}}
	err := d.Run(context.Background(), Job{Component: "ceph", Playbook: "vexxhost.atmosphere.ceph"})
	var missing *MissingCollectionError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "ansible-galaxy collection install vexxhost.atmosphere") {
		t.Errorf("err = %v", err)
	}
}

// TestCancelKillsTheWholeGroup cancels a play whose task hangs with a
// grandchild (`sleep 600 &`) holding the module's output open.
func TestCancelKillsTheWholeGroup(t *testing.T) {
	d, out := newDeployer(t, map[string]string{"hangs": `
- name: Hang
  ansible.builtin.shell: "sleep 600 & sleep 600"
`})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	d.Output = func(l string) {
		out.add(l)
		if strings.Contains(l, "TASK [hangs : Hang]") {
			once.Do(func() { close(started) })
		}
	}
	done := make(chan error, 1)
	var pgid int
	go func() { done <- d.Run(ctx, Job{Component: "hangs", Play: &Play{Hosts: "all", Role: "hangs"}}) }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("the play ended before it hung: %v\n%s", err, strings.Join(out.get(), "\n"))
	case <-time.After(2 * time.Minute):
		t.Fatal("the play never reached its task")
	}
	// Wait for the sleeps to exist, and note their process group.
	deadline := time.Now().Add(30 * time.Second)
	for pgid == 0 && time.Now().Before(deadline) {
		for _, p := range sleepers() {
			pgid = p.PGID
		}
		time.Sleep(100 * time.Millisecond)
	}
	if pgid == 0 {
		t.Fatal("no sleep 600 found")
	}
	cancelAt := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if took := time.Since(cancelAt); took > 15*time.Second {
			t.Errorf("cancel took %s", took)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the deploy did not return after cancel")
	}
	for _, p := range processesInGroup(pgid) {
		t.Errorf("process %d (%s) of the group is left", p.PID, p.Cmd)
	}
}

// TestPipeHeldOutsideTheGroupDoesNotHang runs a child whose grandchild
// leaves the process group (setsid) with our output pipe: the run must end
// once the child exits, not when the grandchild would, and the grandchild
// must not outlive the run (the guard kills it).
func TestPipeHeldOutsideTheGroupDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-ansible")
	marker := "atmosphere-test-escapee-" + strconv.Itoa(os.Getpid())
	body := "#!/bin/bash\necho starting\nsetsid bash -c 'exec -a " + marker + " sleep 600' &\nsleep 0.5\necho detached\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range testenv.Processes() {
			if strings.Contains(p.Cmd, marker) {
				_ = syscallKill(p.PID)
			}
		}
	})
	out := &lines{}
	d := &Deployer{Bin: script, Output: out.add, PipeWait: 500 * time.Millisecond}
	start := time.Now()
	if err := d.Run(context.Background(), Job{Component: "escapee", Playbook: filepath.Join(dir, "unused.yml")}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("run took %s with the pipe held", took)
	}
	for _, p := range testenv.Processes() {
		if strings.Contains(p.Cmd, marker) {
			t.Errorf("the grandchild that left the group outlived the run: %d (%s)", p.PID, p.Cmd)
		}
	}
	if got := strings.Join(out.get(), "|"); got != "[escapee] starting|[escapee] detached" {
		t.Errorf("output %q", got)
	}
}

// TestExtraVarsFileIsPrivateAndRemoved runs a stand-in for ansible-playbook
// that reports its argv and the mode of the extra vars file.
func TestExtraVarsFileIsPrivateAndRemoved(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-ansible")
	body := `#!/bin/bash
echo "argv: $*"
for a in "$@"; do case "$a" in @*) f="${a#@}"; echo "mode: $(stat -c %a "$f")"; echo "file: $f";; esac; done
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	out := &lines{}
	d := &Deployer{Bin: script, Output: out.add}
	const secret = "hunter2-hunter2"
	if err := d.Run(context.Background(), Job{Component: "vars", Playbook: filepath.Join(dir, "site.yml"),
		ExtraVars: map[string]any{"admin_password": secret}}); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(out.get(), "\n")
	if strings.Contains(text, secret) || !strings.Contains(text, "mode: 600") {
		t.Errorf("output:\n%s", text)
	}
	for _, l := range out.get() {
		if f, ok := strings.CutPrefix(l, "[vars] file: "); ok {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("extra vars file %s still there: %v", f, err)
			}
		}
	}
}

func TestEveryAnsibleComponentHasAJob(t *testing.T) {
	for _, c := range components.Default().Components() {
		for _, p := range c.Phases {
			if p.Kind != components.Ansible {
				continue
			}
			if _, ok := JobFor(c); !ok {
				t.Errorf("%s: phase %s is Ansible work without a job", c.Name, p.Name)
			}
		}
	}
}
