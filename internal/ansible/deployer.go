// Package ansible runs ansible-playbook for the components that stay
// Ansible (ceph, kubernetes and the host roles), as children of our process
// that never outlive it.
//
// Each run gets a private directory (mode 0700) holding the extra vars
// (mode 0600, passed as -e @file, never on the argv) and, for a role, a
// one-play playbook rendered for it; the directory is removed afterwards.
// ansible-playbook runs under a guard, a re-execution of the running
// binary (guard.go states its contract): nothing the play starts — its
// per-host workers, the modules, a daemon that left the play's process
// group — outlives the run, nor outlives atmosphere when atmosphere is
// killed (SIGKILL included). A cancel sends SIGTERM to the play, then,
// after a grace period, has the guard SIGKILL all of it. The output pipe
// is closed by force a short while after the guard exits, so a process
// that escaped even the guard with our pipe cannot hang us.
package ansible

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"
)

// Play is a one-play playbook that applies one role.
type Play struct {
	// Hosts is the host pattern ("all", "controllers", "cephs:!computes").
	Hosts string
	// Role is the role's name, a collection role's FQCN included
	// ("vexxhost.atmosphere.lpfc").
	Role        string
	Become      bool
	GatherFacts bool
	// Environment is set for every task.
	Environment map[string]string
	// When, if set, is the role's condition.
	When string
	// Tasks, when Role is empty, are the play's own tasks (for checks that
	// are a part of a role, such as openvswitch's host checks).
	Tasks []map[string]any
}

// Job is one ansible-playbook run.
type Job struct {
	// Component names the job in output and errors.
	Component string
	// Playbook is a playbook path or a collection playbook's FQCN
	// ("vexxhost.atmosphere.ceph"); Play is used when it is empty.
	Playbook string
	Play     *Play
	// ExtraVars are written to a 0600 file and passed as -e @file.
	ExtraVars map[string]any
	// Limit restricts the run to hosts (--limit).
	Limit string
	// OnTask, when set, is called with each task's name as the play
	// reaches it ("iscsi : Install iscsi package").
	OnTask func(task string)
}

// Recap is what a play did on each host, from ansible's PLAY RECAP.
type Recap map[string]HostRecap

// HostRecap is one host's line of the PLAY RECAP.
type HostRecap struct {
	OK, Changed, Unreachable, Failed, Skipped int
}

// Changed is how many tasks changed something, over every host.
func (r Recap) Changed() int {
	n := 0
	for _, h := range r {
		n += h.Changed
	}
	return n
}

// Deployer runs jobs against an inventory.
type Deployer struct {
	// Bin is ansible-playbook; "ansible-playbook" from PATH when empty.
	Bin string
	// Inventory is the operator's inventory (file or directory).
	Inventory string
	// Env is added to the child's environment.
	Env []string
	// CollectionsPaths are where collections are looked for, in
	// ansible's order; the defaults when empty.
	CollectionsPaths []string
	// VaultPasswordFile, when set, is passed as --vault-password-file.
	VaultPasswordFile string
	// Secrets are values hidden from every line of output and every error,
	// besides the secret-looking extra vars (the inventory's decrypted
	// ansible-vault values, which ansible may print).
	Secrets []string
	// Args are added to every ansible-playbook command line, before the
	// playbook ("--check", "--diff", "--syntax-check").
	Args []string
	// Output receives every line of output, prefixed "[component] ".
	Output func(line string)
	// Grace is how long a cancelled child gets between SIGTERM and
	// SIGKILL; 5 s when zero.
	Grace time.Duration
	// PipeWait is how long the output is read after the child exits
	// before the pipe is closed by force; 2 s when zero.
	PipeWait time.Duration
	// KeepLines is how many last lines a failure reports; 20 when zero.
	KeepLines int

	// collectionsChecked says the collections were found already (by
	// the Engine's Check), so Run does not look again.
	collectionsChecked bool
}

// FailedError is a play that failed: the task, its message, and the last
// lines of output (redacted).
type FailedError struct {
	Component, Task, Host, Message string
	ExitCode                       int
	LastLines                      []string
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ansible-playbook exited with code %d", e.Component, e.ExitCode)
	if e.Task != "" {
		fmt.Fprintf(&b, ": task %q failed", e.Task)
		if e.Host != "" {
			fmt.Fprintf(&b, " on %s", e.Host)
		}
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
	}
	if len(e.LastLines) > 0 {
		fmt.Fprintf(&b, "\n  last lines:\n    %s", strings.Join(e.LastLines, "\n    "))
	}
	return b.String()
}

// MissingCollectionError says a collection playbook cannot be found.
type MissingCollectionError struct {
	Collection string
	Searched   []string
}

func (e *MissingCollectionError) Error() string {
	return fmt.Sprintf("collection %s is not installed (looked in %s): install it with `ansible-galaxy collection install %s` "+
		"(from a checkout of it: `ansible-galaxy collection install --no-deps DIR`), or name the directory that holds its ansible_collections/ with --collections-path or ANSIBLE_COLLECTIONS_PATH",
		e.Collection, strings.Join(e.Searched, ", "), e.Collection)
}

func (d *Deployer) grace() time.Duration {
	if d.Grace > 0 {
		return d.Grace
	}
	return 5 * time.Second
}

func (d *Deployer) pipeWait() time.Duration {
	if d.PipeWait > 0 {
		return d.PipeWait
	}
	return 2 * time.Second
}

func (d *Deployer) keep() int {
	if d.KeepLines > 0 {
		return d.KeepLines
	}
	return 20
}

// collectionsPaths are ansible's default search paths.
func (d *Deployer) collectionsPaths() []string {
	if len(d.CollectionsPaths) > 0 {
		return d.CollectionsPaths
	}
	if env := os.Getenv("ANSIBLE_COLLECTIONS_PATH"); env != "" {
		return filepath.SplitList(env)
	}
	home, _ := os.UserHomeDir()
	return []string{filepath.Join(home, ".ansible", "collections"), "/usr/share/ansible/collections", "/usr/lib/python3/dist-packages"}
}

var fqcn = regexp.MustCompile(`^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$`)

// checkCollection checks that a collection playbook is installed.
func (d *Deployer) checkCollection(playbook string) error {
	m := fqcn.FindStringSubmatch(playbook)
	if m == nil {
		return nil // a path
	}
	var searched []string
	for _, root := range d.collectionsPaths() {
		dir := filepath.Join(root, "ansible_collections", m[1], m[2], "playbooks")
		searched = append(searched, root)
		for _, ext := range []string{".yml", ".yaml"} {
			if _, err := os.Stat(filepath.Join(dir, m[3]+ext)); err == nil {
				return nil
			}
		}
	}
	return &MissingCollectionError{Collection: m[1] + "." + m[2], Searched: searched}
}

// renderPlay writes the one-play playbook of a role.
func renderPlay(dir string, p *Play) (string, error) {
	if p.Hosts == "" || (p.Role == "") == (len(p.Tasks) == 0) {
		return "", errors.New("a play needs hosts, and a role or tasks")
	}
	play := map[string]any{"hosts": p.Hosts, "become": p.Become, "gather_facts": p.GatherFacts}
	if p.Role != "" {
		role := map[string]any{"role": p.Role}
		if p.When != "" {
			role["when"] = p.When
		}
		play["roles"] = []any{role}
	} else {
		play["tasks"] = p.Tasks
	}
	if len(p.Environment) > 0 {
		play["environment"] = p.Environment
	}
	raw, err := yaml.Marshal([]any{play})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "play.yml")
	return path, os.WriteFile(path, raw, 0o600)
}

// Run runs the job. Output lines go to Output as they come; a failure is a
// *FailedError; a cancel returns ctx's error once the child group is gone.
func (d *Deployer) Run(ctx context.Context, job Job) error {
	_, err := d.RunRecap(ctx, job)
	return err
}

// RunRecap is Run that also returns the play's recap (what it did on each
// host; empty when ansible printed none).
func (d *Deployer) RunRecap(ctx context.Context, job Job) (Recap, error) {
	if job.Component == "" {
		return nil, errors.New("ansible job without a component")
	}
	out, err := d.runJob(ctx, job)
	if out == nil {
		return nil, err
	}
	return out.recapOf(), err
}

func (d *Deployer) runJob(ctx context.Context, job Job) (*transcript, error) {
	if job.Playbook == "" && job.Play == nil {
		return nil, fmt.Errorf("%s: no playbook and no play", job.Component)
	}
	if job.Playbook != "" && !d.collectionsChecked {
		if err := d.checkCollection(job.Playbook); err != nil {
			return nil, fmt.Errorf("%s: %w", job.Component, err)
		}
	}
	dir, err := os.MkdirTemp("", "atmosphere-ansible-"+job.Component+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	playbook := job.Playbook
	if playbook == "" {
		if playbook, err = renderPlay(dir, job.Play); err != nil {
			return nil, fmt.Errorf("%s: %w", job.Component, err)
		}
	}
	args := []string{}
	if d.Inventory != "" {
		args = append(args, "-i", d.Inventory)
	}
	if len(job.ExtraVars) > 0 {
		raw, err := json.Marshal(job.ExtraVars)
		if err != nil {
			return nil, fmt.Errorf("%s: extra vars: %w", job.Component, err)
		}
		path := filepath.Join(dir, "extra-vars.json")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-e", "@"+path)
	}
	if d.VaultPasswordFile != "" {
		args = append(args, "--vault-password-file", d.VaultPasswordFile)
	}
	if job.Limit != "" {
		args = append(args, "--limit", job.Limit)
	}
	args = append(append(args, d.Args...), playbook)
	return d.run(ctx, job, dir, args)
}

func (d *Deployer) run(ctx context.Context, job Job, dir string, args []string) (*transcript, error) {
	bin := d.Bin
	if bin == "" {
		bin = "ansible-playbook"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", job.Component, bin, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", job.Component, bin, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// The control pipe: its write end is ours alone (close-on-exec); the
	// guard kills the whole play when it closes, so it closes when we die.
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	env := append(append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_RETRY_FILES_ENABLED=False",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "PYTHONUNBUFFERED=1"), d.Env...)
	if len(d.CollectionsPaths) > 0 {
		// The play finds the collections where Run looked for them.
		env = append(env, "ANSIBLE_COLLECTIONS_PATH="+strings.Join(d.CollectionsPaths, string(os.PathListSeparator)))
	}
	cmd := guardCommand(append([]string{path}, args...), env, ctlR)
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		ctlR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("%s: start the guard of %s: %w", job.Component, bin, err)
	}
	pw.Close()   // the guard holds the write end now
	ctlR.Close() // and the control pipe's read end
	var closeCtl sync.Once
	stopAll := func() { closeCtl.Do(func() { ctlW.Close() }) }
	defer stopAll()
	guardPID := cmd.Process.Pid

	out := newTranscript(job.Component, d.keep(), append(secretsOf(job.ExtraVars), d.Secrets...), d.Output)
	out.onTask = job.OnTask
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		out.read(pr)
	}()

	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	var waitErr error
	cancelled := false
	select {
	case waitErr = <-waitDone:
	case <-ctx.Done():
		cancelled = true
		_ = syscall.Kill(guardPID, syscall.SIGTERM) // the guard passes it on to the play
		select {
		case waitErr = <-waitDone:
		case <-time.After(d.grace()):
			stopAll() // the guard kills the play and everything it started
			select {
			case waitErr = <-waitDone:
			case <-time.After(d.grace()):
				_ = syscall.Kill(-guardPID, syscall.SIGKILL) // a guard that does not answer
				waitErr = <-waitDone
			}
		}
	}
	stopAll() // the guard has killed what the play left already; this only closes the pipe
	select {
	case <-readDone:
	case <-time.After(d.pipeWait()):
		pr.Close() // a process that escaped the guard holds the pipe
		<-readDone
	}
	pr.Close()

	if cancelled {
		return out, fmt.Errorf("%s: ansible-playbook stopped: %w", job.Component, ctx.Err())
	}
	if waitErr != nil {
		code := -1
		var exit *exec.ExitError
		if errors.As(waitErr, &exit) {
			code = exit.ExitCode()
		}
		return out, out.failure(code)
	}
	return out, nil
}

// transcript reads the child's output: prefixes and forwards each line,
// keeps the last ones (redacted), and follows which task failed.
type transcript struct {
	component string
	keep      int
	secrets   []string
	forward   func(string)

	mu                    sync.Mutex
	last                  []string
	task                  string
	failedTask, failedMsg string
	failedHost            string
	// onTask is told of each task as the play reaches it.
	onTask func(task string)
	recap  Recap
}

// newTranscript follows a run's output; secrets are hidden longest first,
// so that a secret holding another is hidden whole.
func newTranscript(component string, keep int, secrets []string, forward func(string)) *transcript {
	secrets = slices.Clone(secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return &transcript{component: component, keep: keep, secrets: secrets, forward: forward}
}

var (
	// taskLine starts a task or a handler.
	taskLine  = regexp.MustCompile(`^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$`)
	fatalLine = regexp.MustCompile(`^fatal: \[([^\]]+)\]: (?:FAILED|UNREACHABLE)! => (.*)$`)
	// recapLine is a host's line of the PLAY RECAP.
	recapLine = regexp.MustCompile(`^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)`)
	// secretField finds "password": "...", token=..., and the like.
	secretField = regexp.MustCompile(`(?i)("?[a-z0-9_\-]*(?:password|passwd|secret|token|private_key|api_key)[a-z0-9_\-]*"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,}]+)`)
)

func (t *transcript) read(r *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		t.line(sc.Text())
	}
}

func (t *transcript) line(raw string) {
	line := t.redact(raw)
	t.mu.Lock()
	task := ""
	if m := taskLine.FindStringSubmatch(line); m != nil {
		t.task, task = m[1], m[1]
	}
	if m := recapLine.FindStringSubmatch(line); m != nil {
		if t.recap == nil {
			t.recap = Recap{}
		}
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		t.recap[m[1]] = HostRecap{OK: n(2), Changed: n(3), Unreachable: n(4), Failed: n(5), Skipped: n(6)}
	}
	if m := fatalLine.FindStringSubmatch(line); m != nil && t.failedTask == "" {
		t.failedTask, t.failedHost, t.failedMsg = t.task, m[1], messageOf(m[2])
	}
	t.last = append(t.last, line)
	if len(t.last) > t.keep {
		t.last = t.last[len(t.last)-t.keep:]
	}
	t.mu.Unlock()
	if task != "" && t.onTask != nil {
		t.onTask(task)
	}
	if t.forward != nil {
		t.forward("[" + t.component + "] " + line)
	}
}

// redact hides the values of secret-looking fields and of the job's
// secret extra vars.
func (t *transcript) redact(line string) string {
	for _, s := range t.secrets {
		line = strings.ReplaceAll(line, s, "[REDACTED]")
	}
	return secretField.ReplaceAllString(line, `${1}"[REDACTED]"`)
}

// messageOf takes "msg" out of the JSON ansible prints for a failure.
func messageOf(payload string) string {
	var v struct {
		Msg    string `json:"msg"`
		Stderr string `json:"stderr"`
	}
	if err := json.Unmarshal([]byte(payload), &v); err == nil {
		if v.Msg != "" && v.Stderr != "" {
			return v.Msg + ": " + v.Stderr
		}
		if v.Msg != "" {
			return v.Msg
		}
	}
	return payload
}

func (t *transcript) recapOf() Recap {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.recap
}

func (t *transcript) failure(code int) *FailedError {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &FailedError{Component: t.component, Task: t.failedTask, Host: t.failedHost, Message: t.failedMsg,
		ExitCode: code, LastLines: append([]string(nil), t.last...)}
}

// secretsOf lists the values of extra vars whose names look secret, longest
// first (so a secret that contains another is hidden whole).
func secretsOf(vars map[string]any) []string {
	var out []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if len(v) >= 4 && secretField.MatchString(`"`+key+`": x`) {
				out = append(out, v)
			}
		}
	}
	for k, v := range vars {
		walk(k, v)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
