package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	deploymentutil "k8s.io/kubectl/pkg/util/deployment"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
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

// WaitTimeoutError says what was still not ready when a wait ran out of time.
type WaitTimeoutError struct {
	Timeout time.Duration
	Pending []string
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("not ready after %s: %s", e.Timeout, strings.Join(e.Pending, ", "))
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

// waiter is a Helm kube client whose waits honour ctx (a cancel ends them at
// once, so Helm records the release failed rather than leaving it pending)
// and fail early on pods that cannot become ready.
type waiter struct {
	*kube.Client
	ctx       context.Context
	clientset kubernetes.Interface
	// interval is the longest pause between two polls of a wait.
	interval time.Duration
	// waiting, when set, is told what the wait is still waiting on.
	waiting func(object string)
	// applied, when set, is called once, when Helm has applied the
	// release's resources and first waits for them.
	applied     func()
	appliedOnce sync.Once

	// claimGrace is how long a claim may stay Pending with nothing at
	// work on it before a wait gives up on it (see stuckClaim); now is the
	// clock it is measured on.
	claimGrace time.Duration
	now        func() time.Time

	mu sync.Mutex
	// failure is the last PodFailure a wait returned: Helm reports hook
	// failures with %s, which drops it from the error chain.
	failure *PodFailure
	// claimSeen is when a wait first saw each Pending claim, by
	// namespace/name; runningProvisioners caches the provisioners found
	// running (a provisioner that runs does not stop being one mid-wait).
	claimSeen           map[string]time.Time
	runningProvisioners map[string]bool
}

// lastFailure returns the last PodFailure a wait returned, if any.
func (w *waiter) lastFailure() *PodFailure {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failure
}

func newWaiter(ctx context.Context, cs kubernetes.Interface, waiting func(string)) *waiter {
	return &waiter{ctx: ctx, clientset: cs, interval: time.Second, waiting: waiting,
		claimGrace: claimGrace, now: time.Now,
		claimSeen: map[string]time.Time{}, runningProvisioners: map[string]bool{}}
}

// Wait waits until the resources are ready (Jobs are not waited on).
func (w *waiter) Wait(resources kube.ResourceList, timeout time.Duration) error {
	w.waitsBegin()
	return w.waitReady(resources, timeout, false, w.interval)
}

// WaitWithJobs waits until the resources are ready, Jobs complete.
func (w *waiter) WaitWithJobs(resources kube.ResourceList, timeout time.Duration) error {
	w.waitsBegin()
	return w.waitReady(resources, timeout, true, w.interval)
}

// waitsBegin tells, once, that Helm has applied the release's resources:
// Helm waits for them (Wait, WaitWithJobs) after it created them, and
// only post-install hooks, a Job or two, are applied after.
func (w *waiter) waitsBegin() {
	if w.applied != nil {
		w.appliedOnce.Do(w.applied)
	}
}

// WatchUntilReady waits for hooks: Jobs until they complete, Pods until they
// succeed. Other kinds are ready at once, as in Helm.
func (w *waiter) WatchUntilReady(resources kube.ResourceList, timeout time.Duration) error {
	var hooks kube.ResourceList
	for _, info := range resources {
		switch kube.AsVersioned(info).(type) {
		case *batchv1.Job, *corev1.Pod:
			hooks = append(hooks, info)
		}
	}
	// A hook is a Job or two run one weight after another: each is polled
	// more often, since the next hook waits on it.
	return w.waitReady(hooks, timeout, true, min(w.interval, hookPoll))
}

// hookPoll is the longest pause between two polls of a hook.
const hookPoll = 250 * time.Millisecond

func (w *waiter) waitReady(resources kube.ResourceList, timeout time.Duration, withJobs bool, ceiling time.Duration) error {
	if len(resources) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.ctx, timeout)
	defer cancel()
	poll := kubeutil.NewBackoff(ceiling)
	checker := kube.NewReadyChecker(w.clientset, func(string, ...any) {}, kube.PausedAsReady(true), kube.CheckJobs(withJobs))
	pending := slices.Clone(resources)
	for {
		var still kube.ResourceList
		var lastErr error
		for i, info := range pending {
			var ready bool
			var err error
			if isCRD(info) {
				// Helm does not wait for CRDs in templates; the next
				// release's custom resources need them served.
				ready, err = crdEstablished(info)
			} else {
				ready, err = checker.IsReady(ctx, info)
				if ready && err == nil {
					ready, err = rolledOut(ctx, w.clientset, info)
				}
			}
			if ctx.Err() != nil {
				// Out of time mid-scan: the unchecked ones are still pending.
				still = append(still, pending[i:]...)
				break
			}
			if ready {
				continue
			}
			// Diagnose first: a failed Job makes IsReady return a bare
			// "job is failed"; the pod's reason and events say why.
			if f := w.diagnose(ctx, info); f != nil {
				w.mu.Lock()
				w.failure = f
				w.mu.Unlock()
				return f
			}
			if f := w.stuckClaim(ctx, info); f != nil {
				return f
			}
			if err != nil && !isTransient(err) {
				return fmt.Errorf("wait for %s: %w", objectName(info), err)
			}
			lastErr = err
			still = append(still, info)
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		if w.waiting != nil {
			w.waiting(objectName(pending[0]))
		}
		select {
		case <-ctx.Done():
			if w.ctx.Err() != nil {
				return fmt.Errorf("wait for %s: %w", objectName(pending[0]), w.ctx.Err())
			}
			// Say why each is still waiting, from its pods, with a short
			// context of its own: the wait's has just run out.
			explainCtx, cancelExplain := context.WithTimeout(w.ctx, 5*time.Second)
			names := make([]string, 0, len(pending))
			for _, info := range pending {
				name := objectName(info)
				if why := w.explain(explainCtx, info); why != "" {
					name += " (" + why + ")"
				}
				names = append(names, name)
			}
			cancelExplain()
			err := &WaitTimeoutError{Timeout: timeout, Pending: names}
			if lastErr != nil {
				return errors.Join(err, lastErr)
			}
			return err
		case <-time.After(poll.Next()):
		}
	}
}

// rolledOut is `kubectl rollout status`'s test for Deployments and
// DaemonSets, on top of Helm's: every replica runs the new template and is
// available, and none of the old is left. Helm's own test subtracts
// maxUnavailable, so a Deployment of one replica allowed one unavailable
// is "ready" before its new pod runs: an upgrade to an image that never
// pulls would pass.
func rolledOut(ctx context.Context, cs kubernetes.Interface, info *resource.Info) (bool, error) {
	switch kube.AsVersioned(info).(type) {
	case *appsv1.Deployment:
		d, err := cs.AppsV1().Deployments(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if d.Spec.Paused {
			return true, nil
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		st := d.Status
		return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas >= want &&
			st.Replicas <= st.UpdatedReplicas && st.AvailableReplicas >= st.UpdatedReplicas, nil
	case *appsv1.DaemonSet:
		ds, err := cs.AppsV1().DaemonSets(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
			return true, nil
		}
		st := ds.Status
		return st.ObservedGeneration >= ds.Generation && st.UpdatedNumberScheduled >= st.DesiredNumberScheduled &&
			st.NumberAvailable >= st.DesiredNumberScheduled, nil
	}
	return true, nil
}

// isTransient reports API errors a wait should ride out; a missing object
// may yet appear.
func isTransient(err error) bool {
	return apierrors.IsNotFound(err) || kubeutil.IsTransient(err)
}

func objectName(info *resource.Info) string {
	kind := info.Mapping.GroupVersionKind.Kind
	if info.Namespace == "" {
		return kind + "/" + info.Name
	}
	return fmt.Sprintf("%s/%s/%s", kind, info.Namespace, info.Name)
}

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

func isCRD(info *resource.Info) bool {
	gvk := info.Mapping.GroupVersionKind
	return gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition"
}

// crdEstablished re-reads a CRD and reports whether it is Established (its
// kinds are served).
func crdEstablished(info *resource.Info) (bool, error) {
	if err := info.Get(); err != nil {
		return false, err
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(info.Object)
	if err != nil {
		return false, err
	}
	return kubeutil.CRDEstablished(&unstructured.Unstructured{Object: u}), nil
}

// claimGrace is how long a wait lets a claim stay Pending with nothing at
// work on it before it gives up on it (see stuckClaim). It is long enough
// for the PV controller to retry a claim whose class was missing (it
// resyncs every 15 s) and for a provisioner that runs to say so on the
// claim (an external provisioner posts an event within a second or two of
// the PV controller handing the claim over), and short next to a unit's
// timeout of minutes.
var claimGrace = 30 * time.Second

// Annotations and names of the PV controller and external provisioners.
const (
	// annStorageProvisioner is set on a claim by the PV controller when it
	// hands the claim to an external provisioner; the beta form is older.
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	// annProvisionedBy names, on a volume, the provisioner that made it.
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
	// pvController reports the PV controller's own events on claims.
	pvController = "persistentvolume-controller"
	// noProvisioner is the provisioner of classes of volumes an operator
	// makes by hand.
	noProvisioner = "kubernetes.io/no-provisioner"
)

// Reasons of a ClaimFailure.
const (
	ReasonStorageClassNotFound  = "StorageClassNotFound"
	ReasonProvisionerNotRunning = "ProvisionerNotRunning"
)

// ClaimFailure is a PersistentVolumeClaim that nothing will provision: its
// StorageClass does not exist, or the class's provisioner runs nowhere in
// the cluster. A wait returns it once the claim has been Pending for a
// grace of tens of seconds (see stuckClaim), instead of at its timeout.
type ClaimFailure struct {
	// Object is what was waited on, as Kind/namespace/name.
	Object string
	// Pod is the pod that mounts the claim, when the claim is a pod's.
	Pod string
	// Claim is the claim, as namespace/name; StorageClass its class.
	Claim, StorageClass string
	// Provisioner is the provisioner the claim was handed to; empty when
	// the class does not exist.
	Provisioner string
	// Reason is ReasonStorageClassNotFound or ReasonProvisionerNotRunning.
	Reason string
	// Pending is how long the wait saw the claim Pending.
	Pending time.Duration
	// Events are the claim's last events, oldest first.
	Events []string
}

func (f *ClaimFailure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", f.Object)
	if f.Pod != "" {
		fmt.Fprintf(&b, ": pod %s", f.Pod)
	}
	fmt.Fprintf(&b, ": claim %s of StorageClass %s", f.Claim, f.StorageClass)
	pending := f.Pending.Round(time.Second)
	switch f.Reason {
	case ReasonStorageClassNotFound:
		fmt.Fprintf(&b, ": %s: the StorageClass %s does not exist (claim Pending for %s)", f.Reason, f.StorageClass, pending)
	default:
		fmt.Fprintf(&b, " (provisioner %s): %s: claim Pending for %s, and no provisioner %s acted on it or runs in the cluster "+
			"(no node has a CSI driver, and there is no Lease or volume, of that name)", f.Provisioner, f.Reason, pending, f.Provisioner)
	}
	if len(f.Events) > 0 {
		fmt.Fprintf(&b, "\n  events:\n    %s", strings.Join(f.Events, "\n    "))
	}
	return b.String()
}

// stuckClaim returns the first claim that what is waited on (a claim
// itself, or a workload or pod whose pods are not scheduled yet) waits for
// and that nothing will provision, or nil. The rule, made so that it does
// not fire on a provisioner that is slow but works: a claim is stuck when
// this waiter has seen it Pending (unbound, not being deleted, of a named
// class) for claimGrace, and then either
//
//   - its StorageClass does not exist; or
//   - the PV controller handed it to an external provisioner (the claim's
//     storage-provisioner annotation; never for a class of
//     kubernetes.io/no-provisioner), nothing but the PV controller has
//     posted an event on it, and nothing in the cluster shows that
//     provisioner running: no CSINode lists a driver of its name, no Lease
//     bears its name (external-provisioner's and the provisioner library's
//     leader election; held or stale: either could be a provisioner), and
//     no PersistentVolume was provisioned by it.
//
// A CSIDriver object is no sign of a running provisioner (ceph-csi's chart
// makes one whether or not its pods run), so it is not looked at. When the
// cluster cannot be read, the claim is not called stuck. The one working
// provisioner the rule would misjudge has no CSI node plugin, no leader
// election, has made no volume in the cluster yet, and takes longer than
// the grace to post its first event on a claim.
func (w *waiter) stuckClaim(ctx context.Context, info *resource.Info) *ClaimFailure {
	for _, c := range w.claimsOf(ctx, info) {
		if f := w.claimFailure(ctx, c.namespace, c.name); f != nil {
			f.Object, f.Pod = objectName(info), c.pod
			return f
		}
	}
	return nil
}

// podClaim is a claim a wait waits for, and the pod that mounts it ("" for
// a claim waited on itself).
type podClaim struct{ namespace, name, pod string }

// claimsOf returns the claims a waited-on object waits for: a claim itself,
// or the claims (and generic ephemeral volumes' claims) of those of its pods
// that are not scheduled; the scheduler does not place a pod before its
// claims are bound. A workload whose pod template claims no volume costs
// no request.
func (w *waiter) claimsOf(ctx context.Context, info *resource.Info) []podClaim {
	ns := info.Namespace
	var pods []corev1.Pod
	switch v := kube.AsVersioned(info).(type) {
	case *corev1.PersistentVolumeClaim:
		return []podClaim{{namespace: ns, name: v.Name}}
	case *corev1.Pod:
		if !claimsVolumes(v) {
			return nil
		}
		p, err := w.clientset.CoreV1().Pods(ns).Get(ctx, v.Name, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		pods = []corev1.Pod{*p}
	case *batchv1.Job:
		if !claimsVolumes(v) {
			return nil
		}
		job, err := w.clientset.BatchV1().Jobs(ns).Get(ctx, v.Name, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		pods = w.podsOf(ctx, ns, job.Spec.Selector) // the server's, with its controller-uid
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet, *appsv1.ReplicaSet:
		if !claimsVolumes(v) {
			return nil // no pod of it waits for a claim: nothing to read
		}
		pods = w.podsOf(ctx, ns, workloadSelector(v))
	default:
		return nil
	}
	var out []podClaim
	for _, p := range pods {
		if p.Spec.NodeName != "" || p.DeletionTimestamp != nil {
			continue
		}
		for _, vol := range p.Spec.Volumes {
			switch {
			case vol.PersistentVolumeClaim != nil:
				out = append(out, podClaim{namespace: p.Namespace, name: vol.PersistentVolumeClaim.ClaimName, pod: p.Name})
			case vol.Ephemeral != nil:
				out = append(out, podClaim{namespace: p.Namespace, name: p.Name + "-" + vol.Name, pod: p.Name})
			}
		}
	}
	return out
}

// claimsVolumes reports whether a pod, or a workload's pods, claim
// volumes: its pod (template) mounts a claim or a generic ephemeral
// volume, or (a StatefulSet) it has volume claim templates.
func claimsVolumes(obj any) bool {
	var tmpl corev1.PodTemplateSpec
	switch v := obj.(type) {
	case *appsv1.Deployment:
		tmpl = v.Spec.Template
	case *appsv1.StatefulSet:
		if len(v.Spec.VolumeClaimTemplates) > 0 {
			return true
		}
		tmpl = v.Spec.Template
	case *appsv1.DaemonSet:
		tmpl = v.Spec.Template
	case *appsv1.ReplicaSet:
		tmpl = v.Spec.Template
	case *batchv1.Job:
		tmpl = v.Spec.Template
	case *corev1.Pod:
		tmpl.Spec = v.Spec
	default:
		return false
	}
	return slices.ContainsFunc(tmpl.Spec.Volumes, func(v corev1.Volume) bool {
		return v.PersistentVolumeClaim != nil || v.Ephemeral != nil
	})
}

// claimFailure applies stuckClaim's rule to one claim.
func (w *waiter) claimFailure(ctx context.Context, namespace, name string) *ClaimFailure {
	key := namespace + "/" + name
	pvc, err := w.clientset.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil // not made yet, or unreadable: nothing to say
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || class == "" {
		w.mu.Lock()
		delete(w.claimSeen, key)
		w.mu.Unlock()
		return nil
	}
	pending := w.pendingFor(key)
	if pending < w.claimGrace {
		return nil
	}
	f := &ClaimFailure{Claim: key, StorageClass: class, Pending: pending}
	sc, err := w.clientset.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		f.Reason = ReasonStorageClassNotFound
		f.Events = w.events(ctx, namespace, "PersistentVolumeClaim", name)
		return f
	case err != nil:
		return nil
	}
	prov := pvc.Annotations[annStorageProvisioner]
	if prov == "" {
		prov = pvc.Annotations[annBetaStorageProvisioner]
	}
	if prov == "" || sc.Provisioner == noProvisioner {
		// Not handed to an external provisioner: an in-tree plugin's, a
		// class that waits for a first consumer, or volumes made by hand.
		return nil
	}
	if w.provisionerActed(ctx, pvc) || w.provisionerRuns(ctx, prov) {
		return nil
	}
	f.Provisioner, f.Reason = prov, ReasonProvisionerNotRunning
	f.Events = w.events(ctx, namespace, "PersistentVolumeClaim", name)
	return f
}

// pendingFor is how long this waiter has seen the claim Pending.
func (w *waiter) pendingFor(key string) time.Duration {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	first, ok := w.claimSeen[key]
	if !ok {
		w.claimSeen[key] = now
		return 0
	}
	return now.Sub(first)
}

// provisionerActed reports whether anything but the PV controller posted
// an event on the claim (a provisioner says Provisioning, ProvisioningFailed
// or ProvisioningSucceeded); when the events cannot be read, it says yes.
func (w *waiter) provisionerActed(ctx context.Context, pvc *corev1.PersistentVolumeClaim) bool {
	list, err := w.clientset.CoreV1().Events(pvc.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.kind": "PersistentVolumeClaim", "involvedObject.name": pvc.Name}.String(),
	})
	if err != nil {
		return true
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Kind != "PersistentVolumeClaim" || e.InvolvedObject.Name != pvc.Name ||
			e.InvolvedObject.UID != "" && pvc.UID != "" && e.InvolvedObject.UID != pvc.UID {
			continue // another object's, or an earlier claim's of that name
		}
		reporter := e.ReportingController
		if reporter == "" {
			reporter = e.Source.Component
		}
		if reporter != pvController {
			return true
		}
	}
	return false
}

// provisionerRuns reports whether anything in the cluster shows the
// provisioner running: a CSINode listing a driver of its name, a Lease of
// its name, or a volume it provisioned. When the cluster cannot be read,
// it says yes. A yes is kept for the waiter's life.
func (w *waiter) provisionerRuns(ctx context.Context, prov string) bool {
	w.mu.Lock()
	known := w.runningProvisioners[prov]
	w.mu.Unlock()
	if known {
		return true
	}
	runs := func() bool {
		nodes, err := w.clientset.StorageV1().CSINodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return true
		}
		for _, n := range nodes.Items {
			for _, d := range n.Spec.Drivers {
				if d.Name == prov {
					return true
				}
			}
		}
		for _, name := range leaseNames(prov) {
			leases, err := w.clientset.CoordinationV1().Leases("").List(ctx, metav1.ListOptions{
				FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(),
			})
			if err != nil || slices.ContainsFunc(leases.Items, func(l coordinationv1.Lease) bool { return l.Name == name }) {
				return true
			}
		}
		volumes, err := w.clientset.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return true
		}
		for _, v := range volumes.Items {
			if v.Annotations[annProvisionedBy] == prov {
				return true
			}
		}
		return false
	}()
	if runs {
		w.mu.Lock()
		w.runningProvisioners[prov] = true
		w.mu.Unlock()
	}
	return runs
}

// leaseNames are the names a provisioner's leader election Lease takes:
// external-provisioner's (every character but letters, digits and "-"
// made "-", an "X" after a trailing "-") and the provisioner library's
// ("/" made "-").
func leaseNames(prov string) []string {
	sanitized := []byte(prov)
	for i, c := range sanitized {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			sanitized[i] = '-'
		}
	}
	names := []string{string(sanitized)}
	if strings.HasSuffix(names[0], "-") {
		names[0] += "X"
	}
	if lib := strings.ReplaceAll(prov, "/", "-"); lib != names[0] {
		names = append(names, lib)
	}
	return names
}
