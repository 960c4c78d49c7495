package kubephase

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/images"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// TestSmartctlExporterInstalls runs smartctl-exporter's unit as a deploy
// runs it, on a cluster of its own (its release is in the fixed namespace
// monitoring) of two kwok nodes, the second labelled a virtual machine as
// node-feature-discovery labels one, after what it needs from
// kube-prometheus-stack (the ServiceMonitor CRD, applied from that chart as
// its install applies it). The first run installs the release and the
// second changes nothing; the DaemonSet runs the pinned image on the
// physical node only, and the ServiceMonitor carries the label
// kube-prometheus-stack's Prometheus selects.
func TestSmartctlExporterInstalls(t *testing.T) {
	cfg := testenv.PrivateKube(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(cfg)
	const hypervisor = "feature.node.kubernetes.io/cpu-cpuid.HYPERVISOR"
	// A merge patch: kwok keeps writing the node's status.
	label := []byte(`{"metadata":{"labels":{"` + hypervisor + `":"true"}}}`)
	if _, err := cs.CoreV1().Nodes().Patch(ctx, "kwok-node-1", types.MergePatchType, label, metav1.PatchOptions{}); err != nil {
		t.Fatalf("label the virtual machine's node: %v", err)
	}

	s := newStack(t, cfg, kwokValues(t))
	kps := component("kube-prometheus-stack")
	ch, err := s.Charts.Load(ctx, *kps.Chart)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := crdObjects(helmrelease.Release{Chart: ch})
	if err != nil {
		t.Fatal(err)
	}
	crds = slices.DeleteFunc(crds, func(o manifest.Object) bool { return o.GetName() != "servicemonitors.monitoring.coreos.com" })
	if len(crds) != 1 {
		t.Fatalf("kube-prometheus-stack's chart has %d ServiceMonitor CRDs, want 1", len(crds))
	}
	if _, err := s.Manifests.Apply(ctx, manifest.Set{Component: "kube-prometheus-stack-crds", Namespace: kps.Namespace,
		Objects: crds, Timeout: time.Minute, KeepDropped: true}); err != nil {
		t.Fatalf("kube-prometheus-stack's ServiceMonitor CRD: %v", err)
	}

	c := component("smartctl-exporter")
	if c == nil {
		t.Fatal("no component smartctl-exporter")
	}
	p, ok := c.Phase("install")
	if !ok || p.Kind != components.Helm {
		t.Fatalf("smartctl-exporter's install phase: %+v", p)
	}
	for _, want := range []helmrelease.Action{helmrelease.Install, helmrelease.Unchanged} {
		if _, err := deploytest.RunUnit(ctx, components.UnitKey(c.Name, p.Name), func(ctx context.Context) error {
			return s.Deploy(ctx, c, p)
		}); err != nil {
			t.Fatalf("%s run: %v", want, err)
		}
		outs := s.Outcomes()
		if got := outs[len(outs)-1]; got.Helm == nil || got.Helm.Action != want {
			t.Fatalf("%s run: outcome %+v, want the release's %s", want, got, want)
		}
	}
	if r := releases(t, cs)["monitoring/prometheus-smartctl-exporter"]; r == nil || r.Version != 1 || r.Info.Status != release.StatusDeployed {
		t.Errorf("release monitoring/prometheus-smartctl-exporter: %+v, want deployed at revision 1", r)
	}

	ds, err := cs.AppsV1().DaemonSets("monitoring").Get(ctx, "prometheus-smartctl-exporter-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	image := images.Default().Ref("prometheus_smartctl_exporter").String()
	if got := ds.Spec.Template.Spec.Containers[0].Image; got != image {
		t.Errorf("DaemonSet image %s, want the pinned %s", got, image)
	}
	pods, err := cs.CoreV1().Pods("monitoring").List(ctx, metav1.ListOptions{
		LabelSelector: metav1.FormatLabelSelector(ds.Spec.Selector)})
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]bool{}
	for _, pod := range pods.Items {
		byNode[pod.Spec.NodeName] = slices.ContainsFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool {
			return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
		})
	}
	for _, tc := range []struct {
		node string
		want bool // a ready exporter pod on it
	}{
		{"kwok-node-0", true},  // a physical node
		{"kwok-node-1", false}, // a virtual machine: no disk of its own to read
	} {
		if byNode[tc.node] != tc.want {
			t.Errorf("exporter pod ready on %s: %v, want %v (pods by node: %v)", tc.node, byNode[tc.node], tc.want, byNode)
		}
	}

	sm, err := dynamic.NewForConfigOrDie(cfg).Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace("monitoring").Get(ctx, "prometheus-smartctl-exporter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sm.GetLabels()["release"]; got != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor label release %q, want kube-prometheus-stack (what its Prometheus selects)", got)
	}
}

// TestSmartctlExporterHelmValues: an inventory's
// smartctl_exporter_helm_values reach smartctl-exporter's release laid over
// its own values, as the role combines them (recursively): what the
// operator sets is added or replaces, what it leaves is the role's.
func TestSmartctlExporterHelmValues(t *testing.T) {
	for _, tc := range []struct {
		name, vars string
		want       map[string]any // value by path
	}{
		{"none: the role's values", "",
			map[string]any{"serviceMonitor.interval": "60s", "config.device_exclude": nil, "image.tag": "0.14.0-1"}},
		{"the role README's device exclusion", "smartctl_exporter_helm_values:\n  config:\n    device_exclude: /dev/sr.*\n",
			map[string]any{"config.device_exclude": "/dev/sr.*", "serviceMonitor.interval": "60s"}},
		{"one key of a mapping the role sets", "smartctl_exporter_helm_values:\n  serviceMonitor:\n    interval: 30s\n",
			map[string]any{"serviceMonitor.interval": "30s", "serviceMonitor.extraLabels.release": "kube-prometheus-stack", "serviceMonitor.enabled": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "group_vars", "all.yml"), []byte("---\n"+tc.vars), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, err := inventory.Load(dir, func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			is, err := inv.Settings()
			if err != nil {
				t.Fatal(err)
			}
			s := &Stack{Config: components.DefaultSettings(), Overrides: map[string]values.Values{}}
			byPrefix := components.Default().ValuesPrefixes()
			for prefix, v := range is.HelmValues {
				s.Overrides[byPrefix[prefix]] = v
			}
			v, err := s.Values(component("smartctl-exporter"), nil)
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				if got, _ := values.Get(v, path); got != want {
					t.Errorf("%s = %v, want %v", path, got, want)
				}
			}
		})
	}
}
