package kubephase

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// prePullLabel marks the pods of a pre-pull DaemonSet.
const prePullLabel = "atmosphere.vexxhost.com/pre-pull"

// imagePuller pulls one image onto the nodes of a selector: a DaemonSet
// whose pods run the image (sleeping), waited for until every one is
// ready, then deleted.
type imagePuller struct {
	component, namespace string
	image                string
	nodeSelector         map[string]string
	timeout              time.Duration
}

// newImagePuller is the puller of a component's pre-pull
// (components.PrePull) in namespace, from its release's values over the
// chart's defaults; nil when the component pulls nothing.
func newImagePuller(c *components.Component, namespace string, vals, defaults values.Values, s components.Settings, timeout time.Duration) (*imagePuller, error) {
	p := c.PrePull
	if p == nil {
		return nil, nil
	}
	component := c.Name
	get := func(path string) any {
		if v, ok := values.Get(vals, path); ok {
			return v
		}
		v, _ := values.Get(defaults, path)
		return v
	}
	key, value := get(p.Selector+".node_selector_key"), get(p.Selector+".node_selector_value")
	k, _ := key.(string)
	v, _ := value.(string)
	if k == "" {
		return nil, fmt.Errorf("pre-pull of %s: the values have no %s.node_selector_key", component, p.Selector)
	}
	return &imagePuller{component: component, namespace: namespace, image: s.Image(p.Image).String(),
		nodeSelector: map[string]string{k: v}, timeout: timeout}, nil
}

// Pull makes the DaemonSet (again, when an interrupted run left one), waits
// until its pods are ready on every node it selects, and deletes it; a
// pod that cannot pull its image fails the pull at once, naming it. It
// returns on how many nodes the image was pulled.
func (p *imagePuller) Pull(ctx context.Context, client kubernetes.Interface) (nodes int, err error) {
	sets := client.AppsV1().DaemonSets(p.namespace)
	// One left by an interrupted run goes; each pull has a DaemonSet of
	// its own name, so that the controller never mistakes the new one for
	// the old.
	background := metav1.DeletePropagationBackground
	if err := sets.DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &background},
		metav1.ListOptions{LabelSelector: prePullLabel + "=" + p.component}); err != nil {
		return 0, fmt.Errorf("pre-pull %s: delete a DaemonSet left by an earlier run: %w", p.image, err)
	}
	labels := map[string]string{prePullLabel: p.component}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{GenerateName: p.component + "-pre-pull-", Labels: map[string]string{
			manifest.LabelManagedBy: "atmosphere", manifest.LabelComponent: p.component, prePullLabel: p.component}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: p.nodeSelector,
					// Wherever the component's pods may run.
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					// The image only has to be there: its pod sleeps.
					Containers:                    []corev1.Container{{Name: "pull", Image: p.image, Command: []string{"sleep", "infinity"}}},
					TerminationGracePeriodSeconds: new(int64),
				},
			},
		},
	}
	created, err := sets.Create(ctx, ds, metav1.CreateOptions{})
	if err != nil {
		return 0, fmt.Errorf("pre-pull %s: create its DaemonSet in %s: %w", p.image, p.namespace, err)
	}
	name := created.Name
	remove := func(ctx context.Context) error {
		return kubeutil.DeleteAndWait(ctx, "DaemonSet "+p.namespace+"/"+name,
			func(ctx context.Context, opts metav1.DeleteOptions) error {
				opts.Preconditions = &metav1.Preconditions{UID: &created.UID}
				return sets.Delete(ctx, name, opts)
			},
			func(ctx context.Context) error { _, err := sets.Get(ctx, name, metav1.GetOptions{}); return err })
	}
	defer func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := remove(cleanup); rerr != nil && err == nil {
			err = rerr
		}
	}()
	waitCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var last string
	werr := wait.PollUntilContextCancel(waitCtx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		got, err := sets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if got.Status.ObservedGeneration < got.Generation {
			return false, nil
		}
		pulled, err := p.pulled(ctx, client, got.UID)
		if err != nil {
			return false, err
		}
		nodes = pulled
		want := int(got.Status.DesiredNumberScheduled)
		last = fmt.Sprintf("%d of %d nodes", pulled, want)
		return pulled >= want, nil
	})
	if werr != nil {
		if apierrors.IsNotFound(werr) || waitCtx.Err() == nil || ctx.Err() != nil {
			return nodes, fmt.Errorf("pre-pull %s: %w", p.image, werr)
		}
		return nodes, fmt.Errorf("pre-pull %s: not pulled after %s (%s)", p.image, p.timeout, last)
	}
	return nodes, nil
}

// pulled counts the pods of the DaemonSet whose container has run (ready,
// or started and ended or crashing: the image is on the node either way),
// and fails naming node and reason when one cannot pull its image.
func (p *imagePuller) pulled(ctx context.Context, client kubernetes.Interface, owner types.UID) (int, error) {
	pods, err := client.CoreV1().Pods(p.namespace).List(ctx, metav1.ListOptions{LabelSelector: prePullLabel + "=" + p.component})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pod := range pods.Items {
		if !metav1.IsControlledBy(&pod, &metav1.ObjectMeta{UID: owner}) {
			continue
		}
		for _, cs := range pod.Status.ContainerStatuses {
			w := cs.State.Waiting
			switch {
			case w != nil && (w.Reason == "ImagePullBackOff" || w.Reason == "ErrImagePull" || w.Reason == "InvalidImageName"):
				return n, fmt.Errorf("node %s cannot pull it: %s: %s", pod.Spec.NodeName, w.Reason, strings.TrimSpace(w.Message))
			case cs.Ready || cs.State.Running != nil || cs.State.Terminated != nil || cs.RestartCount > 0:
				n++
			}
		}
	}
	return n, nil
}
