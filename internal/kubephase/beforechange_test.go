package kubephase

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func podTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}},
	}}
}

// TestBeforeChangeRemovesWhatCannotChange: before nova's release changes
// its bootstrap and cell-setup Jobs are gone; before ovn's, an
// ovn-controller DaemonSet selecting on "type" is gone and one without it
// stays. Run twice, the second run finds nothing to do.
func TestBeforeChangeRemovesWhatCannotChange(t *testing.T) {
	cfg := testenv.Kube(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	gone := func(err error) bool { return apierrors.IsNotFound(err) }

	t.Run("nova", func(t *testing.T) {
		ns := testenv.Namespace(t, cfg)
		for _, name := range []string{"nova-bootstrap", "nova-cell-setup", "nova-db-sync"} {
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: batchv1.JobSpec{Template: podTemplate(nil)}}
			if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := component("nova").BeforeChange(ctx, cs, ns); err != nil {
				t.Fatal(err)
			}
		}
		for name, wantGone := range map[string]bool{"nova-bootstrap": true, "nova-cell-setup": true, "nova-db-sync": false} {
			if _, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{}); gone(err) != wantGone {
				t.Errorf("Job %s: err %v, want gone %v", name, err, wantGone)
			}
		}
	})

	t.Run("ovn", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			selector map[string]string
			wantGone bool
		}{
			{"old selector", map[string]string{"application": "ovn", "component": "ovn-controller", "type": "ovn-controller"}, true},
			{"current selector", map[string]string{"application": "ovn", "component": "ovn-controller"}, false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ns := testenv.Namespace(t, cfg)
				tmpl := podTemplate(tt.selector)
				tmpl.Spec.RestartPolicy = corev1.RestartPolicyAlways
				ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "ovn-controller"}, Spec: appsv1.DaemonSetSpec{
					Selector: &metav1.LabelSelector{MatchLabels: tt.selector}, Template: tmpl}}
				if _, err := cs.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if err := component("ovn").BeforeChange(ctx, cs, ns); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := cs.AppsV1().DaemonSets(ns).Get(ctx, "ovn-controller", metav1.GetOptions{}); gone(err) != tt.wantGone {
					t.Errorf("DaemonSet ovn-controller: err %v, want gone %v", err, tt.wantGone)
				}
			})
		}
	})
}

// TestPrePull: the image is pulled on every node of the selector, the
// DaemonSet is gone afterwards (one left by an interrupted run too), and
// an image that cannot be pulled fails at once, naming the reason.
func TestPrePull(t *testing.T) {
	cfg := testenv.Kube(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "openvswitch=enabled"})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("nodes with openvswitch=enabled: %d, %v", len(nodes.Items), err)
	}
	vals := values.Values{"labels": map[string]any{"ovs": map[string]any{"node_selector_key": "openvswitch", "node_selector_value": "enabled"}}}
	tests := []struct {
		name, image string
		leftover    bool
		fails       string
	}{
		{"pulls on every node", "", false, ""},
		{"after an interrupted run", "", true, ""},
		{"an image that never pulls", testenv.NeverPullsImage, false, "ImagePullBackOff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := testenv.Namespace(t, cfg)
			p, err := newImagePuller(component("openvswitch"), ns, values.Values{}, vals, testSettings(), time.Minute)
			if err != nil || p == nil {
				t.Fatalf("puller %v, %v", p, err)
			}
			if tt.image != "" {
				p.image = tt.image
			}
			if tt.leftover {
				left := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "openvswitch-pre-pull-left", Labels: map[string]string{prePullLabel: "openvswitch"}}, Spec: appsv1.DaemonSetSpec{
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"left": "over"}},
					Template: podTemplate(map[string]string{"left": "over"})}}
				left.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
				if _, err := cs.AppsV1().DaemonSets(ns).Create(ctx, left, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			pulled, err := p.Pull(ctx, cs)
			switch {
			case tt.fails == "" && (err != nil || pulled != len(nodes.Items)):
				t.Errorf("pulled on %d nodes (err %v), want all %d", pulled, err, len(nodes.Items))
			case tt.fails != "" && (err == nil || !strings.Contains(err.Error(), tt.fails) || !strings.Contains(err.Error(), tt.image)):
				t.Errorf("err %v, want one naming %s and %s", err, tt.image, tt.fails)
			}
			if left, err := cs.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{}); err != nil || len(left.Items) > 0 {
				t.Errorf("pre-pull DaemonSets left: %v (err %v)", left, err)
			}
		})
	}
	if p, err := newImagePuller(component("memcached"), "openstack", vals, nil, testSettings(), time.Minute); p != nil || err != nil {
		t.Errorf("memcached pulls nothing ahead: %v, %v", p, err)
	}
}
