package cmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

const timings = "../../shared/data/seed-aio-ovn-durations.csv"

// TestMain lets the test binary act as the atmosphere command, so that exit
// codes are checked on a real process.
func TestMain(m *testing.M) {
	if os.Getenv("ATMOSPHERE_TEST_AS_CLI") == "1" {
		Main()
	}
	testenv.Main(m)
}

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args)
	return out.String(), errOut.String(), err
}

var lastLine = regexp.MustCompile(`(?m)^makespan=([0-9.]+) lower_bound=([0-9.]+) ratio=([0-9.]+)$`)

func simulated(t *testing.T, args ...string) (makespan, bound, ratio float64, out string) {
	t.Helper()
	out, _, err := run(t, append([]string{"simulate", "--timings", timings}, args...)...)
	if err != nil {
		t.Fatalf("simulate %v: %v", args, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	m := lastLine.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last line %q is not makespan=… lower_bound=… ratio=…", lines[len(lines)-1])
	}
	f := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return f(m[1]), f(m[2]), f(m[3]), out
}

func TestSimulateTheMeasuredTimings(t *testing.T) {
	t.Run("apt and containerd at one", func(t *testing.T) {
		makespan, bound, ratio, out := simulated(t, "--resource", "apt=1", "--resource", "containerd=1")
		if ratio > 1.01 {
			t.Errorf("ratio %.3f > 1.01\n%s", ratio, out)
		}
		// kubernetes and ceph share apt and containerd; both precede csi.
		if bound != 2007 {
			t.Errorf("lower bound %v, want 2007 (868 + 1139)\n%s", bound, out)
		}
		if makespan < bound {
			t.Errorf("makespan %v below the bound %v", makespan, bound)
		}
		if !strings.Contains(out, "kubernetes [0s–506s] → ceph [506s–868s] → csi") {
			t.Errorf("critical chain does not show kubernetes and ceph serialised:\n%s", out)
		}
	})
	t.Run("every cap high", func(t *testing.T) {
		makespan, _, _, out := simulated(t, "--resource", "apt=1000", "--resource", "containerd=1000",
			"--resource", "k8s-api=1000", "--resource", "keycloak-admin=1000")
		if d := makespan/1679 - 1; d > 0.001 || d < -0.001 {
			t.Errorf("makespan %v, want the critical path 1679 within 0.1%%\n%s", makespan, out)
		}
	})
	t.Run("phase split shortens the path", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "phases.csv")
		if err := os.WriteFile(empty, []byte("component:phase,seconds\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		whole, _, _, _ := simulated(t, "--resource", "apt=1", "--resource", "containerd=1")
		split, _, ratio, out := simulated(t, "--resource", "apt=1", "--resource", "containerd=1", "--phases", empty)
		if split >= whole {
			t.Errorf("phases: makespan %v, not below whole components' %v\n%s", split, whole, out)
		}
		if ratio > 1.01 {
			t.Errorf("phases: ratio %.3f\n%s", ratio, out)
		}
	})
	t.Run("a global cap", func(t *testing.T) {
		_, _, ratio, out := simulated(t, "--concurrency", "2")
		if !strings.Contains(out, "work / concurrency") {
			t.Errorf("no work bound printed:\n%s", out)
		}
		if ratio < 1 {
			t.Errorf("ratio %.3f below 1", ratio)
		}
	})
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := file("unknown.csv", "component,seconds\nkeystone,10\nnovaa,5\nghost,1\n")
	malformed := file("malformed.csv", "keystone 10\n")
	negative := file("negative.csv", "keystone,-3\n")
	twice := file("twice.csv", "keystone,1\nnova,2\nkeystone,3\n")
	badPhase := file("phase.csv", "keystone:teardown,3\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown flag", []string{"simulate", "--nope"}, []string{"unknown flag: --nope"}},
		{"missing timings", []string{"simulate"}, []string{"--timings FILE is required"}},
		{"no such file", []string{"simulate", "--timings", filepath.Join(dir, "absent.csv")}, []string{"absent.csv", "no such file"}},
		{"unknown components, all named", []string{"simulate", "--timings", unknown},
			[]string{"unknown.csv: line 3: unknown component \"novaa\" (did you mean \"nova\"?)", "line 4: unknown component \"ghost\""}},
		{"malformed line", []string{"simulate", "--timings", malformed}, []string{"malformed.csv: line 1", "unit,seconds"}},
		{"negative seconds", []string{"simulate", "--timings", negative}, []string{"line 1: keystone", "not a non-negative number"}},
		{"unit twice", []string{"simulate", "--timings", twice}, []string{"line 3: keystone given again (first on line 1)"}},
		{"unknown phase", []string{"simulate", "--timings", timings, "--phases", badPhase}, []string{`keystone has no phase "teardown" (it has rabbitmq, queue, database, sso, install, setup)`}},
		{"phase in a timings file", []string{"simulate", "--timings", badPhase}, []string{"want a component name"}},
		{"bad resource", []string{"simulate", "--timings", timings, "--resource", "apt"}, []string{"--resource", `"apt": want name=N`}},
		{"zero resource", []string{"simulate", "--timings", timings, "--resource", "apt=0"}, []string{"--resource", "1 or more"}},
		{"negative concurrency", []string{"simulate", "--timings", timings, "--concurrency", "-1"}, []string{"--concurrency -1"}},
		{"bad format", []string{"graph", "--format", "png"}, []string{`--format "png"`}},
		{"unknown tag", []string{"plan", "--tags", "keystone,glanse"}, []string{"--tags", `"glanse" (did you mean "glance"?)`}},
		{"disabled tag", []string{"graph", "--tags", "ovn"}, []string{"--tags", `"ovn" is disabled`}},
		{"unknown command", []string{"deploi"}, []string{`unknown command "deploi"`}},
		{"extra argument", []string{"plan", "nova"}, []string{`unknown command "nova"`}},
		{"status output", []string{"status", "--output", "yaml"}, []string{`--output "yaml": want text or json`}},
		{"status kubeconfig missing", []string{"status", "--kubeconfig", filepath.Join(dir, "absent.kubeconfig")}, []string{"--kubeconfig", "absent.kubeconfig"}},
		{"missing inventory", []string{"plan", "--inventory", filepath.Join(dir, "absent")}, []string{"--inventory", "absent", "cannot read the inventory directory"}},
		{"deploy output", []string{"deploy", "--output", "yaml"}, []string{`--output "yaml": want text or json`}},
		{"deploy no-deps alone", []string{"deploy", "--no-deps"}, []string{"--no-deps needs --tags"}},
		{"deploy unknown skip", []string{"deploy", "--skip-tags", "novaa,glance:bogus"},
			[]string{"--skip-tags", `unknown component "novaa" (did you mean "nova"?)`, `glance has no phase "bogus" (its phases: rabbitmq, queue, database, catalog, install)`}},
		{"plan unknown skip", []string{"plan", "--skip-tags", "glanse"}, []string{"--skip-tags", `unknown component "glanse" (did you mean "glance"?)`}},
		{"plan skips everything", []string{"plan", "--tags", "memcached", "--skip-tags", "memcached,kubernetes"}, []string{"nothing to plan: every unit is left out by --skip-tags"}},
		{"deploy charts dir", []string{"deploy", "--charts", filepath.Join(dir, "absent")}, []string{"--charts", "absent: not a directory"}},
		{"deploy bad inventory", []string{"deploy", "--inventory", badInventory(t)}, []string{"2 problem(s)", "nova_flavors[0].ram: required"}},
		{"upgrade nothing", []string{"upgrade"}, []string{"requires at least 1 arg"}},
		{"upgrade unknown", []string{"upgrade", "novaa"}, []string{`unknown component "novaa" (did you mean "nova"?)`}},
		{"deploy diff without dry run", []string{"deploy", "--diff"}, []string{"--diff needs --dry-run"}},
		{"upgrade diff without dry run", []string{"upgrade", "glance", "--diff"}, []string{"--diff needs --dry-run"}},
		{"rollback nothing", []string{"rollback"}, []string{"accepts 1 arg(s), received 0"}},
		{"rollback unknown", []string{"rollback", "glanse"}, []string{"rollback", `unknown component "glanse" (did you mean "glance"?)`}},
		{"rollback disabled", []string{"rollback", "ovn"}, []string{"rollback", `"ovn" is disabled`}},
		{"rollback manifest work", []string{"rollback", "cluster-issuer"},
			[]string{"rollback: cluster-issuer has no Helm release to roll back (its work is manifest: deploy it again instead)"}},
		{"rollback ansible work", []string{"rollback", "kubernetes"}, []string{"kubernetes has no Helm release", "its work is ansible"}},
		{"rollback negative revision", []string{"rollback", "glance", "--revision", "-1"}, []string{"--revision -1: want 1 or more"}},
		{"rollback output", []string{"rollback", "glance", "--output", "yaml"}, []string{`--output "yaml": want text or json`}},
		{"values of an unknown component", []string{"plan", "--inventory", inventoryWith(t, "novaa_helm_values: {}\nfrobnicator_helm_values: {}\nkeepalived_enabled: maybe\n")},
			[]string{"3 problem(s)", "novaa_helm_values: no component is called novaa (did you mean nova_helm_values?)",
				"frobnicator_helm_values: no component is called frobnicator", "keepalived_enabled"}},
		{"bad inventory, every problem", []string{"plan", "--inventory", badInventory(t)},
			[]string{"2 problem(s)", `group_vars/all.yml: atmosphere_network_backend: "linuxbridge"`, "group_vars/all.yml: nova_flavors[0].ram: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, tt.args...)
			if code := ExitCode(err); code != ExitUsage {
				t.Errorf("exit code %d (err %v), want %d", code, err, ExitUsage)
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// workspaceVars are the cluster issuer's type and keepalived's interface
// and virtual IP as atmosphere's generate_workspace playbook writes them
// into every new workspace (keepalived, enabled by default, needs them).
const workspaceVars = "cluster_issuer_type: self-signed\nkeepalived_interface: br-ex\nkeepalived_vip: 10.96.250.10\n"

func badInventory(t *testing.T) string {
	return inventoryWith(t, "atmosphere_network_backend: linuxbridge\nnova_flavors:\n  - {name: m1.small, vcpus: 1}\n")
}

// inventoryWith writes an inventory whose group_vars/all.yml is vars,
// after the cluster issuer's type that an inventory names (the role's
// default, acme, wants cluster_issuer_acme_email) and keepalived's
// interface and virtual IP (workspaceVars).
func inventoryWith(t *testing.T, vars string) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte(workspaceVars+vars), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlanOfAnInventory: the molecule inventory plans the openvswitch
// cloud; switching its backend through the environment, as molecule does,
// plans OVN; unknown keys are warned of on stderr.
func TestPlanOfAnInventory(t *testing.T) {
	const molecule = "../testdata/inventories/molecule"
	out, stderr, err := run(t, "plan", "--inventory", molecule)
	if err != nil || !strings.Contains(out, "openvswitch network backend") || strings.Contains(out, "ovn:install") || stderr != "" {
		t.Fatalf("plan: err %v stderr %q\n%s", err, stderr, out)
	}
	t.Setenv("ATMOSPHERE_NETWORK_BACKEND", "ovn")
	out, _, err = run(t, "plan", "--inventory", molecule)
	if err != nil || !strings.Contains(out, "ovn network backend") || !strings.Contains(out, "ovn:install") || strings.Contains(out, "coredns:install") {
		t.Fatalf("plan with OVN: err %v\n%s", err, out)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755)
	os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte(workspaceVars+"nova_flavours: []\n"), 0o600)
	_, stderr, err = run(t, "graph", "--inventory", dir)
	if err != nil || !strings.Contains(stderr, `warning: group_vars/all.yml: nova_flavours: not a variable atmosphere knows`) {
		t.Errorf("graph: err %v stderr %q", err, stderr)
	}
}

func TestExitCodesOfTheProcess(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"simulate", "--timings", timings}, 0, "makespan="},
		{[]string{"simulate", "--timings", "/nonexistent.csv"}, 2, "error: open /nonexistent.csv"},
		{[]string{"--help"}, 0, "Usage:"},
	}
	for _, tt := range tests {
		c := exec.Command(os.Args[0], tt.args...)
		c.Env = append(os.Environ(), "ATMOSPHERE_TEST_AS_CLI=1")
		out, err := c.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(string(out), tt.out) {
			t.Errorf("%v: exit %d, output %q; want exit %d and %q", tt.args, code, out, tt.code, tt.out)
		}
	}
}

func TestGraphFormats(t *testing.T) {
	tests := []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"graph"}, []string{"keystone:sso", "needs cluster-issuer:install, ingress-nginx:install, keystone:sso, memcached:install", "keystone:setup"},
			[]string{"needs keycloak:strict-mode, keystone:install"}},
		{[]string{"graph", "--format", "dot"}, []string{"digraph atmosphere", `"nova:install" -> "octavia:setup";`}, nil},
		{[]string{"graph", "--format", "mermaid"}, []string{"flowchart LR", "cinder__install --> octavia__setup"}, nil},
		{[]string{"graph", "--whole-components"}, []string{"neutron  ", "nova"}, []string{"nova:install"}},
		{[]string{"graph", "--tags", "glance"}, []string{"glance:install", "keystone:install", "kubernetes:install"},
			[]string{"nova", "horizon", "neutron"}},
	}
	for _, tt := range tests {
		out, _, err := run(t, tt.args...)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q", tt.args, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out, w) {
				t.Errorf("%v: output has %q", tt.args, w)
			}
		}
	}
}

func TestPlan(t *testing.T) {
	out, _, err := run(t, "plan", "--tags", "nova")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"nova:setup", "placement:install", "libvirt:install", "critical path (", "ETA: "} {
		if !strings.Contains(out, w) {
			t.Errorf("plan lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "horizon") {
		t.Errorf("plan of nova has horizon:\n%s", out)
	}
	// Units are listed by start time: kubernetes first, nova:setup after
	// nova:install.
	if strings.Index(out, "kubernetes:install") > strings.Index(out, "nova:install") ||
		strings.Index(out, "nova:install") > strings.Index(out, "nova:setup") {
		t.Errorf("plan out of order:\n%s", out)
	}
}

// TestPlanSkipTags: plan takes deploy's --skip-tags: the units left out
// are not in the plan, what needs them still is, and starts without them.
func TestPlanSkipTags(t *testing.T) {
	out, _, err := run(t, "plan", "--tags", "nova", "--skip-tags", "nova:setup,glance")
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"nova:setup", "glance:install", "glance:catalog"} {
		if strings.Contains(out, gone) {
			t.Errorf("plan with --skip-tags has %s:\n%s", gone, out)
		}
	}
	for _, w := range []string{"nova:install", "placement:install"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan lacks %q:\n%s", w, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "nova:install" && strings.Contains(line, "glance:") {
			t.Errorf("nova:install still needs a skipped glance unit: %s", line)
		}
	}
}

// TestPlanWithoutAnsible: plan against a cluster, for an inventory whose
// hosts the Ansible units run on, without ansible-playbook (none on PATH,
// or --ansible-playbook naming none) is refused before anything starts,
// exit 2, naming what is missing and how to install it.
func TestPlanWithoutAnsible(t *testing.T) {
	kubeconfig := testenv.Kubeconfig(t)
	noAnsible := t.TempDir() // a PATH with nothing on it
	plan := []string{"plan", "--inventory", "../testdata/inventories/molecule", "--kubeconfig", kubeconfig,
		"--charts", sharedCharts, "--tags", "lpfc"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"none on PATH", plan, []string{`ansible-playbook not found (exec: "ansible-playbook": executable file not found in $PATH)`}},
		{"--ansible-playbook names none", append(slices.Clone(plan), "--ansible-playbook", "/nonexistent/ansible-playbook"),
			[]string{"ansible-playbook not found", "/nonexistent/ansible-playbook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := cli(t, []string{"PATH=" + noAnsible}, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitUsage, stdout, stderr)
			}
			for _, w := range append(tt.want, "the Ansible units need their hosts", "install ansible-core 2.15 or later", "pip install") {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
