package helmrelease

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/cli-runtime/pkg/resource"
	deploymentutil "k8s.io/kubectl/pkg/util/deployment"
)

// PodFailure is a pod that will not become ready on its own: its image
// cannot be pulled, its container crash-loops, or it (or the Job it belongs
// to) failed. Waits return it as soon as they see it.
type PodFailure struct {
	// Object is what was waited on, as Kind/namespace/name.
	Object string
	// Pod and Container name the failing pod and container, when known.
	Pod, Container string
	// Reason is the Kubernetes reason (ImagePullBackOff, CrashLoopBackOff,
	// BackoffLimitExceeded, Error, ...), Message its message.
	Reason, Message string
	// Events are the last events of the pod (or the Job), oldest first.
	Events []string
}

func (f *PodFailure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", f.Object)
	if f.Pod != "" {
		fmt.Fprintf(&b, ": pod %s", f.Pod)
	}
	if f.Container != "" {
		fmt.Fprintf(&b, " container %s", f.Container)
	}
	fmt.Fprintf(&b, ": %s", f.Reason)
	if f.Message != "" {
		fmt.Fprintf(&b, ": %s", f.Message)
	}
	if len(f.Events) > 0 {
		fmt.Fprintf(&b, "\n  events:\n    %s", strings.Join(f.Events, "\n    "))
	}
	return b.String()
}

// waitingReasons are container waiting reasons that do not go away by
// themselves.
var waitingReasons = []string{
	"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
	"CreateContainerConfigError", "CreateContainerError", "ErrImageNeverPull",
}

// jobFailuresBeforeGivingUp is how many failed pods make a Job with retries
// left a failure: enough to ride out one transient error, few enough to
// report a broken Job in seconds.
const jobFailuresBeforeGivingUp = 3

// diagnose returns why a workload cannot become ready, or nil when it may
// still. It looks at the pods of Deployments, StatefulSets, DaemonSets,
// ReplicaSets, Jobs and at Pods themselves.
func (w *waiter) diagnose(ctx context.Context, info *resource.Info) *PodFailure {
	ns := info.Namespace
	obj := kube.AsVersioned(info)
	selector := workloadSelector(obj)
	object := objectName(info)
	// current keeps only the pods of the newest template: during a rollout
	// the old pods may be the broken ones being replaced.
	current := func(*corev1.Pod) bool { return true }
	switch v := obj.(type) {
	case *appsv1.Deployment:
		rs, err := w.currentReplicaSet(ctx, ns, v.Name)
		if err != nil || rs == nil {
			return nil
		}
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		current = func(p *corev1.Pod) bool { return p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash }
	case *appsv1.StatefulSet:
		sts, err := w.clientset.AppsV1().StatefulSets(ns).Get(ctx, v.Name, metav1.GetOptions{})
		if err != nil || sts.Status.ObservedGeneration < sts.Generation {
			return nil // its controller has not seen the new template yet
		}
		if rev := sts.Status.UpdateRevision; rev != "" {
			current = func(p *corev1.Pod) bool { return p.Labels[appsv1.ControllerRevisionHashLabelKey] == rev }
		}
	case *appsv1.DaemonSet:
		ds, err := w.clientset.AppsV1().DaemonSets(ns).Get(ctx, v.Name, metav1.GetOptions{})
		if err != nil || ds.Status.ObservedGeneration < ds.Generation {
			return nil
		}
		gen := strconv.FormatInt(ds.Generation, 10)
		current = func(p *corev1.Pod) bool {
			g, ok := p.Labels["pod-template-generation"]
			return !ok || g == gen
		}
	case *appsv1.ReplicaSet:
		// every pod of it is current
	case *batchv1.Job:
		job, err := w.clientset.BatchV1().Jobs(ns).Get(ctx, v.Name, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		for _, c := range job.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				f := &PodFailure{Object: object, Reason: c.Reason, Message: c.Message}
				if p := w.lastFailedPod(ctx, job); p != nil {
					f.Pod, f.Container, f.Message = p.Pod, p.Container, strings.TrimSpace(f.Message+"; "+p.Reason+": "+p.Message)
					f.Events = p.Events
				} else {
					f.Events = w.events(ctx, ns, "Job", job.Name)
				}
				return f
			}
		}
		if job.Status.Failed >= jobFailuresBeforeGivingUp {
			f := &PodFailure{Object: object, Reason: "PodsFailed",
				Message: fmt.Sprintf("%d pods of the Job failed", job.Status.Failed)}
			if p := w.lastFailedPod(ctx, job); p != nil {
				f.Pod, f.Container, f.Message = p.Pod, p.Container, f.Message+"; last: "+p.Reason+": "+p.Message
				f.Events = p.Events
			}
			return f
		}
		selector = job.Spec.Selector // the server's, with its controller-uid
	case *corev1.Pod:
		pod, err := w.clientset.CoreV1().Pods(ns).Get(ctx, v.Name, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		if f := w.podFailure(ctx, pod, true); f != nil {
			f.Object = object
			return f
		}
		return nil
	default:
		return nil
	}
	pods := w.podsOf(ctx, ns, selector)
	for i := range pods {
		if !current(&pods[i]) || pods[i].DeletionTimestamp != nil {
			continue
		}
		if f := w.podFailure(ctx, &pods[i], false); f != nil {
			f.Object = object
			return f
		}
	}
	return nil
}

// currentReplicaSet is the ReplicaSet of a Deployment's current template,
// once the Deployment controller has seen that template (nil before): the
// ReplicaSet of the highest revision may be one a rollback just left.
func (w *waiter) currentReplicaSet(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	d, err := w.clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if d.Status.ObservedGeneration < d.Generation {
		return nil, nil
	}
	_, _, rs, err := deploymentutil.GetAllReplicaSets(d, w.clientset.AppsV1())
	return rs, err
}

// podsOf lists the pods a workload's selector matches; nil when it has no
// usable selector or the list fails (a diagnosis is best effort).
func (w *waiter) podsOf(ctx context.Context, namespace string, selector *metav1.LabelSelector) []corev1.Pod {
	if selector == nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil || sel.Empty() {
		return nil
	}
	pods, err := w.clientset.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil
	}
	return pods.Items
}

// workloadSelector is the pod selector of a Deployment, StatefulSet,
// DaemonSet, ReplicaSet or Job; nil for other kinds.
func workloadSelector(obj any) *metav1.LabelSelector {
	switch v := obj.(type) {
	case *appsv1.Deployment:
		return v.Spec.Selector
	case *appsv1.StatefulSet:
		return v.Spec.Selector
	case *appsv1.DaemonSet:
		return v.Spec.Selector
	case *appsv1.ReplicaSet:
		return v.Spec.Selector
	case *batchv1.Job:
		return v.Spec.Selector
	}
	return nil
}

// lastFailedPod is the failure of the newest failed pod of a Job.
func (w *waiter) lastFailedPod(ctx context.Context, job *batchv1.Job) *PodFailure {
	pods := w.podsOf(ctx, job.Namespace, job.Spec.Selector)
	sort.Slice(pods, func(i, j int) bool {
		return pods[i].CreationTimestamp.After(pods[j].CreationTimestamp.Time)
	})
	for i := range pods {
		if f := w.podFailure(ctx, &pods[i], true); f != nil {
			return f
		}
	}
	return nil
}

// podFailure reports a pod stuck for good; with failedPhase, a pod that
// ended Failed counts too.
func (w *waiter) podFailure(ctx context.Context, pod *corev1.Pod, failedPhase bool) *PodFailure {
	statuses := append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if cs.State.Waiting != nil && slices.Contains(waitingReasons, cs.State.Waiting.Reason) {
			return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: cs.State.Waiting.Reason,
				Message: cs.State.Waiting.Message, Events: w.events(ctx, pod.Namespace, "Pod", pod.Name)}
		}
	}
	if failedPhase && pod.Status.Phase == corev1.PodFailed {
		f := &PodFailure{Pod: pod.Name, Reason: pod.Status.Reason, Message: pod.Status.Message}
		for _, cs := range statuses {
			if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
				f.Container, f.Reason = cs.Name, t.Reason
				f.Message = strings.TrimSpace(fmt.Sprintf("exit code %d %s", t.ExitCode, t.Message))
				break
			}
		}
		if f.Reason == "" {
			f.Reason = "Failed"
		}
		f.Events = w.events(ctx, pod.Namespace, "Pod", pod.Name)
		return f
	}
	return nil
}

// events returns the last five events of an object as "Reason: message".
func (w *waiter) events(ctx context.Context, namespace, kind, name string) []string {
	list, err := w.clientset.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}.String(),
	})
	if err != nil || len(list.Items) == 0 {
		return nil
	}
	items := list.Items
	sort.SliceStable(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
	if len(items) > 5 {
		items = items[len(items)-5:]
	}
	out := make([]string, 0, len(items))
	for _, e := range items {
		out = append(out, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, strings.TrimSpace(e.Message)))
	}
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// explain says why a workload is not ready yet, from the first of its pods
// that is not: unscheduled (with the scheduler's message), or a container
// waiting (with its reason). Empty when it cannot tell.
func (w *waiter) explain(ctx context.Context, info *resource.Info) string {
	selector := workloadSelector(kube.AsVersioned(info))
	if selector == nil {
		return ""
	}
	pods := w.podsOf(ctx, info.Namespace, selector)
	if len(pods) == 0 {
		return "no pods"
	}
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return fmt.Sprintf("pod %s %s: %s", p.Name, c.Reason, c.Message)
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil {
				return fmt.Sprintf("pod %s container %s %s", p.Name, cs.Name, cs.State.Waiting.Reason)
			}
			if !cs.Ready {
				return fmt.Sprintf("pod %s container %s not ready", p.Name, cs.Name)
			}
		}
	}
	return ""
}
