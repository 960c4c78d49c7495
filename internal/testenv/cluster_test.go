package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := Teardown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{
		NodeSelector: map[string]string{"openstack-control-plane": "enabled"},
		Tolerations:  []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists}},
		Containers:   []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}},
	}
}

func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestWorkloadsBecomeReady(t *testing.T) {
	cfg := Kube(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := Namespace(t, cfg)
	ctx := context.Background()
	labels := func(app string) map[string]string { return map[string]string{"app": app} }
	tmpl := func(app string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(app)}, Spec: podSpec()}
	}

	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "openstack-control-plane=enabled"})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) < 3 {
		t.Fatalf("%d labelled nodes, want at least 3", len(nodes.Items))
	}

	_, err = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels("web")}, Template: tmpl("web")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobTmpl := tmpl("job")
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	_, err = cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "db-sync"},
		Spec:       batchv1.JobSpec{Template: jobTmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.AppsV1().DaemonSets(ns).Create(ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels("agent")}, Template: tmpl("agent")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1), ServiceName: "db",
			Selector: &metav1.LabelSelector{MatchLabels: labels("db")}, Template: tmpl("db"),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: labels("web"), Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	waitFor(t, "Deployment web ready", func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == 2 && d.Status.UpdatedReplicas == 2, err
	})
	waitFor(t, "Job db-sync complete", func(ctx context.Context) (bool, error) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, "db-sync", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	waitFor(t, "DaemonSet agent on every node", func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		return err == nil && d.Status.DesiredNumberScheduled == int32(len(nodes.Items)) &&
			d.Status.NumberReady == d.Status.DesiredNumberScheduled, err
	})
	waitFor(t, "StatefulSet db rolled out", func(ctx context.Context) (bool, error) {
		s, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
		return err == nil && s.Status.ReadyReplicas == 1 && s.Status.CurrentRevision == s.Status.UpdateRevision, err
	})
	waitFor(t, "PVC data-db-0 bound", func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-0", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.ClaimBound, err
	})
	svc, err := cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || net.ParseIP(svc.Spec.ClusterIP) == nil {
		t.Errorf("Service web has no ClusterIP: %v %v", svc.Spec.ClusterIP, err)
	}
}

// TestStopLeavesNothingBehind starts a second cluster of its own, then stops
// it the way `make test-env-down` does, and checks that none of its processes
// and none of its ports remain.
func TestStopLeavesNothingBehind(t *testing.T) {
	if os.Getenv(EnvKubeconfig) == "" {
		// Start the package's cluster first so that the two do not build
		// their state at once.
		Kube(t)
	}
	c := &Cluster{Name: "atmosphere-stop-test", Nodes: 1, WorkDir: filepath.Join(t.TempDir(), "kwok")}
	c.Kubeconfig = filepath.Join(c.WorkDir, "kubeconfig")
	t.Setenv(EnvKubeconfig, "") // start a fresh one whatever the environment says
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pids := c.PIDs()
	if len(pids) != 5 {
		t.Errorf("%d component processes, want 5 (etcd, apiserver, controller manager, scheduler, kwok)", len(pids))
	}
	ports, err := ListeningPorts(pids)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) < 5 {
		t.Errorf("components listen on %v, want at least 5 ports", ports)
	}
	for port, ip := range ports {
		if !ip.IsLoopback() {
			t.Errorf("a component listens on %s:%d, not on loopback", ip, port)
		}
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if Alive(pid) {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			t.Errorf("process %d left after stop: %s", pid, stat)
		}
	}
	for port := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Errorf("port %d still taken after stop: %v", port, err)
			continue
		}
		l.Close()
	}
	if _, err := os.Stat(filepath.Join(c.WorkDir, "clusters", c.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster state left in %s", c.WorkDir)
	}
	if _, err := os.Stat(c.stagesFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kwok stages left: %s", c.stagesFile())
	}
}

func TestMissingToolSaysHowToFix(t *testing.T) {
	c := &Cluster{Name: "atmosphere-missing", ToolsDir: t.TempDir(), WorkDir: t.TempDir()}
	t.Setenv(EnvKubeconfig, "")
	_, err := c.Start(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"not found at", "run `make tools`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestRestartAPIServer: the API server of a private cluster restarts on its
// port with its state: what was written before is read after, and the
// cluster's stop still stops the new process.
func TestRestartAPIServer(t *testing.T) {
	c := PrivateCluster(t, 1)
	cs := kubernetes.NewForConfigOrDie(c.Config())
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before-restart", Namespace: "default"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := c.PIDs()
	if err := c.RestartAPIServer(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "before-restart", metav1.GetOptions{}); err != nil {
		t.Errorf("after the restart: %v", err)
	}
	after := c.PIDs()
	changed := 0
	for _, pid := range after {
		if !slices.Contains(before, pid) {
			changed++
		}
	}
	if changed != 1 || len(after) != len(before) {
		t.Errorf("pids %v before, %v after: want exactly the API server's changed", before, after)
	}
	for _, pid := range after {
		if !Alive(pid) {
			t.Errorf("component %d is not running after the restart", pid)
		}
	}
	cpu, err := c.CPUTimes()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"} {
		if _, ok := cpu[name]; !ok {
			t.Errorf("CPU times %v: no %s", cpu, name)
		}
	}
	if cpu["etcd"] <= 0 || cpu["kube-controller-manager"] <= 0 {
		t.Errorf("CPU times %v: a component that served the cluster used none", cpu)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range after {
		if Alive(pid) {
			t.Errorf("process %d left after the cluster was stopped", pid)
		}
	}
}
