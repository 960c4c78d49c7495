// Package testenv starts the real parts the tests talk to: a Kubernetes
// control plane on loopback whose nodes are simulated by kwok, a keystone
// server, and the Debian ansible. Each starter reuses a running instance when
// the environment points at one, so that `make test` starts them once for
// every package.
package testenv

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables read by Start.
const (
	// EnvKubeconfig points at the kubeconfig of a running test cluster to
	// reuse instead of starting one.
	EnvKubeconfig = "ATMOSPHERE_TEST_KUBECONFIG"
	// EnvToolsDir overrides where the built control-plane binaries are.
	EnvToolsDir = "ATMOSPHERE_TOOLS_DIR"
	// EnvStateDir overrides where the test environment keeps its state.
	EnvStateDir = "ATMOSPHERE_STATE_DIR"
)

// Versions of the tools, which are also the names of their directories
// under the tools directory (see the Makefile).
const (
	KubernetesVersion = "v1.34.4"
	EtcdVersion       = "v3.6.4"
	KwokVersion       = "v0.7.0"
)

// kwokStages are the pod and node stages of the test cluster: kwok's
// defaults and stages that make annotated pods fail (see the file).
//
//go:embed kwok-stages.yaml
var kwokStages []byte

// Pod annotations and an image that the test cluster's kwok turns into
// failures, the way a real kubelet reports them.
const (
	// FailAnnotation on a pod: "image-pull" keeps it in ImagePullBackOff,
	// "container" makes it end Failed with exit code 1.
	FailAnnotation = "atmosphere.test/fail"
	// NeverPullsImage is an image that never pulls: a pod whose first
	// container uses it stays in ImagePullBackOff.
	NeverPullsImage = "atmosphere.invalid/never-pulls:latest"
	// FailingImage is an image whose container fails: a pod whose first
	// container uses it ends Failed with exit code 1 (a Job's pod, say).
	FailingImage = "atmosphere.invalid/fails:latest"
)

// StorageClass is the default StorageClass of the test cluster (not
// "general": atmosphere's ceph-provisioners chart creates that one). Claims
// are provisioned by the controller manager's hostPath provisioner.
const StorageClass = "kwok-hostpath"

// Node labels atmosphere gives its nodes.
var NodeLabels = map[string]string{
	"openstack-control-plane": "enabled",
	"openstack-compute-node":  "enabled",
	"openvswitch":             "enabled",
}

// Cluster is a test Kubernetes cluster. Fill in the options, then Start.
type Cluster struct {
	// Name is the kwokctl cluster name; default "atmosphere-test".
	Name string
	// ToolsDir holds bin/ with the binaries; default DefaultToolsDir().
	ToolsDir string
	// WorkDir is kwokctl's state directory; default DefaultStateDir()/kwok.
	WorkDir string
	// Nodes is how many kwok nodes to create; default 3.
	Nodes int
	// Timeout bounds the start; default 2 minutes.
	Timeout time.Duration
	// Kubeconfig is where the kubeconfig is written; default inside WorkDir.
	Kubeconfig string
	// Private starts a new cluster even when $ATMOSPHERE_TEST_KUBECONFIG
	// names one, for a test that needs a cluster of its own.
	Private bool

	config  *rest.Config
	started bool
}

// Start returns the REST config of a cluster: the one $ATMOSPHERE_TEST_KUBECONFIG
// names when it is set, else a new one started from the built binaries. A
// start that fails tears down what it started and says what to do.
func (c *Cluster) Start(ctx context.Context) (*rest.Config, error) {
	if path := os.Getenv(EnvKubeconfig); path != "" && !c.Private {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("reuse the test cluster of %s=%s: %w", EnvKubeconfig, path, err)
		}
		if err := waitReady(ctx, cfg, 10*time.Second); err != nil {
			return nil, fmt.Errorf("reuse the test cluster of %s=%s: %w (run `make test-env-up`, or unset it)", EnvKubeconfig, path, err)
		}
		c.config, c.Kubeconfig = cfg, path
		return cfg, nil
	}
	c.defaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	// A loaded machine can make a component give up while the API server
	// is still starting (the controller manager exits when the API server
	// is not healthy within its wait): such a start is made again.
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = c.create(ctx); err == nil {
			return c.config, nil
		}
		if stopErr := c.delete(); stopErr != nil {
			return nil, errors.Join(err, stopErr)
		}
		var died *componentDiedError
		if !errors.As(err, &died) || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

// Config is the REST config of the started cluster.
func (c *Cluster) Config() *rest.Config { return c.config }

// Stop deletes the cluster if Start created it: every process is stopped
// and its state removed. Stopping a reused cluster does nothing.
func (c *Cluster) Stop() error {
	if !c.started {
		return nil
	}
	c.started = false
	return c.delete()
}

// Delete deletes the cluster of this name and work directory, whoever
// started it: every process is stopped and its state removed. A cluster
// that does not exist is not an error.
func (c *Cluster) Delete() error {
	c.defaults()
	c.started = false
	return c.delete()
}

func (c *Cluster) defaults() {
	if c.Name == "" {
		c.Name = "atmosphere-test"
	}
	if c.ToolsDir == "" {
		c.ToolsDir = DefaultToolsDir()
	}
	if c.WorkDir == "" {
		c.WorkDir = filepath.Join(DefaultStateDir(), "kwok")
	}
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Kubeconfig == "" {
		c.Kubeconfig = filepath.Join(c.WorkDir, "clusters", c.Name, "kubeconfig.yaml")
	}
}

// DefaultToolsDir is $ATMOSPHERE_TOOLS_DIR, else atmosphere/tools under the
// user's cache directory ($XDG_CACHE_HOME, else ~/.cache): built tools are
// kept outside any clone, so a new clone (CI's) reuses them. The Makefile
// keeps the same default.
func DefaultToolsDir() string {
	if d := os.Getenv(EnvToolsDir); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "atmosphere", "tools")
	}
	return filepath.Join(DefaultStateDir(), "tools")
}

// DefaultStateDir is where a clone keeps its test environment's state (the
// kwok cluster, keystone, the env file, the services' logs):
// $ATMOSPHERE_STATE_DIR, else .cache at the root of the repository holding
// the working directory.
func DefaultStateDir() string {
	if d := os.Getenv(EnvStateDir); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ".cache"
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "hack", "tools")); err == nil {
				return filepath.Join(d, ".cache")
			}
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, ".cache")
		}
	}
}

// Binary returns the path of a built tool, or an error that says how to
// build it.
func Binary(toolsDir, name string) (string, error) {
	p := filepath.Join(toolsDir, "bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found at %s: run `make tools` (or set %s to where it is built)", name, p, EnvToolsDir)
	}
	return p, nil
}

func (c *Cluster) kwokctl(ctx context.Context, args ...string) (string, error) {
	bin, err := Binary(c.ToolsDir, "kwokctl")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--name", c.Name}, args...)...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+c.WorkDir)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kwokctl %s: %w\n%s", strings.Join(args, " "), err, LastLines(string(out), 15))
	}
	return string(out), nil
}

func (c *Cluster) create(ctx context.Context) error {
	args := []string{"create", "cluster", "--runtime", "binary", "--kubeconfig", c.Kubeconfig, "--wait", "60s"}
	for flag, name := range map[string]string{
		"--kube-apiserver-binary":          "kube-apiserver",
		"--kube-controller-manager-binary": "kube-controller-manager",
		"--kube-scheduler-binary":          "kube-scheduler",
		"--kwok-controller-binary":         "kwok",
		"--etcd-binary":                    "etcd",
	} {
		bin, err := Binary(c.ToolsDir, name)
		if err != nil {
			return err
		}
		args = append(args, flag, bin)
	}
	ports, err := FreePorts(6)
	if err != nil {
		return err
	}
	args = append(args,
		"--kube-apiserver-port", strconv.Itoa(ports[0]),
		"--etcd-port", strconv.Itoa(ports[1]),
		"--kube-controller-manager-port", strconv.Itoa(ports[2]),
		"--kube-scheduler-port", strconv.Itoa(ports[3]),
		"--controller-port", strconv.Itoa(ports[4]),
		// Everything listens on loopback only.
		"--extra-args", "kube-apiserver=bind-address=127.0.0.1",
		"--extra-args", "kube-controller-manager=bind-address=127.0.0.1",
		"--extra-args", "kube-scheduler=bind-address=127.0.0.1",
		"--extra-args", fmt.Sprintf("kwok-controller=server-address=127.0.0.1:%d", ports[4]),
		"--extra-args", fmt.Sprintf("etcd=listen-client-urls=http://127.0.0.1:%d", ports[1]),
		"--extra-args", fmt.Sprintf("etcd=advertise-client-urls=http://127.0.0.1:%d", ports[1]),
		"--extra-args", fmt.Sprintf("etcd=listen-peer-urls=http://127.0.0.1:%d", ports[5]),
		"--extra-args", fmt.Sprintf("etcd=initial-advertise-peer-urls=http://127.0.0.1:%d", ports[5]),
		"--extra-args", fmt.Sprintf("etcd=initial-cluster=node0=http://127.0.0.1:%d", ports[5]),
		// A test cluster's etcd is thrown away with it: no fsync on each
		// write (seen taking 100s of ms under a loaded make test).
		"--extra-args", "etcd=unsafe-no-fsync=true",
		// PVCs of the default StorageClass get hostPath volumes.
		"--extra-args", "kube-controller-manager=enable-hostpath-provisioner=true",
		// One of each: no leader election, which would make them exit when
		// the API server is away longer than the lease (a restart test).
		"--extra-args", "kube-controller-manager=leader-elect=false",
		"--extra-args", "kube-scheduler=leader-elect=false",
		// A pod the scheduler found unschedulable is retried within 30 s
		// instead of 5 minutes when no event of the cluster moves it: on a
		// loaded machine the scheduler can see a StatefulSet's pod before
		// its claim ("pod has unbound immediate PersistentVolumeClaims. not
		// found"; seen once by make demo, valkey's pod left unscheduled
		// for the unit's whole timeout), and miss the claim's binding.
		"--extra-args", "kube-scheduler=pod-max-in-unschedulable-pods-duration=30s",
		"--disable-qps-limits",
	)
	// A cluster of that name left by an earlier run is replaced.
	if err := c.delete(); err != nil {
		return err
	}
	if err := os.MkdirAll(c.WorkDir, 0o755); err != nil {
		return err
	}
	stages := c.stagesFile()
	if err := os.WriteFile(stages, kwokStages, 0o644); err != nil {
		return err
	}
	args = append([]string{"--config", stages}, args...)
	c.started = true
	if out, err := c.kwokctl(ctx, args...); err != nil {
		return fmt.Errorf("start the test cluster: %w%s", err, c.componentLogs())
	} else if strings.Contains(out, `"level":"ERROR"`) {
		return fmt.Errorf("start the test cluster: kwokctl reported errors:\n%s%s", LastLines(out, 15), c.componentLogs())
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("read the test cluster's kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	if err := waitReady(ctx, cfg, c.Timeout); err != nil {
		return fmt.Errorf("test cluster: %w%s", err, c.componentLogs())
	}
	if err := c.waitComponents(ctx, cfg); err != nil {
		return err
	}
	if err := Prepare(ctx, cfg, c.Nodes); err != nil {
		return err
	}
	c.config = cfg
	return nil
}

// componentDiedError is a cluster component that ended during the start.
type componentDiedError struct{ component, logs string }

func (e *componentDiedError) Error() string {
	return fmt.Sprintf("start the test cluster: %s is not running%s", e.component, e.logs)
}

// waitComponents waits until the controller manager works (it has made the
// default namespace's ServiceAccount) and checks that every component still
// runs.
func (c *Cluster) waitComponents(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if dead := c.deadComponent(); dead != "" {
			return false, &componentDiedError{component: dead, logs: c.componentLogs()}
		}
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	var died *componentDiedError
	if errors.As(err, &died) {
		return died
	}
	if err != nil {
		return fmt.Errorf("start the test cluster: the controller manager made no ServiceAccount: %w%s", err, c.componentLogs())
	}
	if dead := c.deadComponent(); dead != "" {
		return &componentDiedError{component: dead, logs: c.componentLogs()}
	}
	return nil
}

// deadComponent names a component whose recorded process has ended.
func (c *Cluster) deadComponent() string {
	for name, pid := range c.componentPIDs() {
		if !Alive(pid) {
			return name
		}
	}
	return ""
}

// delete removes the cluster and its state; a cluster that does not exist
// is not an error.
func (c *Cluster) delete() error {
	if _, err := os.Stat(filepath.Join(c.WorkDir, "clusters", c.Name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pids := c.pids()
	if _, err := c.kwokctl(ctx, "delete", "cluster"); err != nil {
		return fmt.Errorf("stop the test cluster: %w", err)
	}
	// kwokctl stops its processes with SIGTERM; make sure none is left.
	for _, pid := range pids {
		if err := waitGone(ctx, pid); err != nil {
			return err
		}
	}
	if err := os.Remove(c.stagesFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.RemoveAll(filepath.Join(c.WorkDir, "clusters", c.Name))
}

// stagesFile is the kwok stages configuration the cluster was created with.
func (c *Cluster) stagesFile() string { return filepath.Join(c.WorkDir, c.Name+"-stages.yaml") }

// pids reads the process ids kwokctl recorded for the cluster's components.
func (c *Cluster) pids() []int {
	byName := c.componentPIDs()
	var pids []int
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		pids = append(pids, byName[name])
	}
	return pids
}

// componentPIDs reads the process id kwokctl recorded for each component
// (pids/<component>.pid), by component.
func (c *Cluster) componentPIDs() map[string]int {
	files, _ := filepath.Glob(filepath.Join(c.pidDir(), "*.pid"))
	out := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			out[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
		}
	}
	return out
}

// pidDir is where kwokctl records the components' process ids.
func (c *Cluster) pidDir() string { return filepath.Join(c.WorkDir, "clusters", c.Name, "pids") }

// PIDs returns the process ids of the cluster's components while it runs.
func (c *Cluster) PIDs() []int { return c.pids() }

func waitGone(ctx context.Context, pid int) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		if !Alive(pid) {
			return nil
		}
		if time.Now().After(deadline) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
			return fmt.Errorf("process %d still running 15s after the cluster was deleted; killed it", pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Alive reports whether a process still runs. A zombie whose threads have
// all ended is not alive: it holds no file, port or memory, and waits only
// for its parent (here often PID 1, which reaps late) to collect it. A
// zombie leader whose other threads still run is alive: they hold its ports.
func Alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if !strings.Contains(string(stat), ") Z ") {
		return true
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, task := range tasks {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err == nil && !strings.Contains(string(st), ") Z ") && !strings.Contains(string(st), ") X ") {
			return true
		}
	}
	return false
}

// componentLogs returns the last lines of each component's log, for errors.
func (c *Cluster) componentLogs() string {
	files, _ := filepath.Glob(filepath.Join(c.WorkDir, "clusters", c.Name, "logs", "*.log"))
	var b strings.Builder
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil || len(raw) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n--- last lines of %s:\n%s", f, LastLines(string(raw), 8))
	}
	return b.String()
}

// LastLines is the last n lines of s, for an error that shows the end of
// a command's output.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls the API server's /readyz until it answers ok.
func waitReady(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, last = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("API server at %s not ready: %w (last answer: %v)", cfg.Host, err, last)
	}
	return nil
}

// Prepare makes a cluster ready for atmosphere: kwok nodes labelled as
// atmosphere labels them, and the default StorageClass. It is idempotent.
func Prepare(ctx context.Context, cfg *rest.Config, nodes int) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for i := range nodes {
		if err := EnsureNode(ctx, cs, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return err
		}
	}
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner: "kubernetes.io/host-path",
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass %s: %w", StorageClass, err)
	}
	return nil
}

// EnsureNode creates a kwok node with atmosphere's labels, unless it exists.
func EnsureNode(ctx context.Context, cs kubernetes.Interface, name string) error {
	labels := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"}
	for k, v := range NodeLabels {
		labels[k] = v
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods: resource.MustParse("500"), corev1.ResourceEphemeralStorage: resource.MustParse("2Ti"),
			},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods: resource.MustParse("500"), corev1.ResourceEphemeralStorage: resource.MustParse("2Ti"),
			},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return nil
}

// CPUTimes returns the processor time each of the cluster's components
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) has
// used since it started, by component.
func (c *Cluster) CPUTimes() (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for name, pid := range c.componentPIDs() {
		d, err := CPUTime(pid)
		if err != nil {
			return nil, fmt.Errorf("CPU time of %s: %w", name, err)
		}
		out[name] = d
	}
	return out, nil
}
