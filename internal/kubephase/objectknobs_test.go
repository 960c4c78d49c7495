package kubephase

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestKeepalivedKnobsApplied: keepalived's objects with its knobs set
// (interface, virtual IP, virtual router ID, password, the ovn pod
// dependency) are accepted by the API server as they render, and what is
// stored carries them: the configuration Secret, the script that waits
// for the interface, the DaemonSet's init containers and mounts.
func TestKeepalivedKnobsApplied(t *testing.T) {
	cfg := testenv.Kube(t)
	ns := testenv.Namespace(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := testSettings()
	s.NetworkBackend = "ovn"
	for k, v := range map[string]any{"atmosphere_network_backend": "ovn", "keepalived_interface": "br-ex", "keepalived_vip": "203.0.113.7",
		"keepalived_vrid": 42, "keepalived_password": "kept-pw"} {
		s.Vars[k] = v
	}
	s.Secret = func(name string) (string, error) { return s.Vars[name].(string), nil }
	objs, err := objectsOf("keepalived", s)
	if err != nil {
		t.Fatal(err)
	}
	applier, err := manifest.NewApplierForConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applier.Apply(ctx, manifest.Set{Component: "keepalived", Namespace: ns, Objects: objs, Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("apply keepalived's objects: %v", err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	sec, err := cs.CoreV1().Secrets(ns).Get(ctx, "keepalived-etc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(sec.Data["keepalived.conf"])
	for _, want := range []string{"default_interface br-ex", "virtual_router_id 42", "    203.0.113.7\n", "auth_pass kept-pw"} {
		if !strings.Contains(conf, want) {
			t.Errorf("keepalived.conf lacks %q:\n%s", want, conf)
		}
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "keepalived-bin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["wait-for-ip.sh"], "dev br-ex") {
		t.Errorf("wait-for-ip.sh does not wait for br-ex:\n%s", cm.Data["wait-for-ip.sh"])
	}
	ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, "keepalived", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := ds.Spec.Template.Spec
	if len(pod.InitContainers) != 2 || pod.InitContainers[0].Env[2].Value != `[{"labels":{"application":"ovn","component":"ovn-controller"},"requireSameNode":true}]` {
		t.Errorf("init containers %+v, want dep_check on ovn-controller, then wait-for-ip", pod.InitContainers)
	}
	if len(pod.Volumes) != 2 || pod.Volumes[0].Secret == nil || pod.Volumes[0].Secret.SecretName != "keepalived-etc" ||
		pod.Volumes[1].ConfigMap == nil || *pod.Volumes[1].ConfigMap.DefaultMode != 0o755 {
		t.Errorf("volumes %+v, want the Secret keepalived-etc and the ConfigMap keepalived-bin (mode 0755)", pod.Volumes)
	}
	if mounts := pod.Containers[0].VolumeMounts; len(mounts) != 1 || mounts[0].MountPath != "/etc/keepalived" {
		t.Errorf("keepalived's mounts %+v, want its configuration at /etc/keepalived", mounts)
	}
}
