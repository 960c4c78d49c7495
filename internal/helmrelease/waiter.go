package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// WaitTimeoutError says what was still not ready when a wait ran out of time.
type WaitTimeoutError struct {
	Timeout time.Duration
	Pending []string
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("not ready after %s: %s", e.Timeout, strings.Join(e.Pending, ", "))
}

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
	// except are the objects Wait and WaitWithJobs skip
	// (Release.NotWaitedFor).
	except []WaitException

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
	// skipped are the objects a wait skipped, as notWaited gives them.
	skipped []string
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

// Wait waits until the resources are ready (Jobs are not waited on), but
// for the excepted ones.
func (w *waiter) Wait(resources kube.ResourceList, timeout time.Duration) error {
	w.waitsBegin()
	return w.waitReady(w.waited(resources), timeout, false, w.interval)
}

// WaitWithJobs waits until the resources are ready, Jobs complete, but for
// the excepted ones.
func (w *waiter) WaitWithJobs(resources kube.ResourceList, timeout time.Duration) error {
	w.waitsBegin()
	return w.waitReady(w.waited(resources), timeout, true, w.interval)
}

// waited returns the resources but those w.except names (an exception
// with UntilSecret only while that Secret is absent), and records those it
// leaves out (notWaited).
func (w *waiter) waited(resources kube.ResourceList) kube.ResourceList {
	if len(w.except) == 0 {
		return resources
	}
	var out kube.ResourceList
	for _, info := range resources {
		e, ok := exceptionFor(w.except, info.Mapping.GroupVersionKind.Kind, info.Name)
		if ok && e.UntilSecret != "" {
			// A Secret that cannot be read is taken as absent: the
			// object is not waited for, as without it.
			_, err := w.clientset.CoreV1().Secrets(info.Namespace).Get(w.ctx, e.UntilSecret, metav1.GetOptions{})
			ok = err != nil
		}
		if !ok {
			out = append(out, info)
			continue
		}
		name := objectName(info) + " (" + e.Why + ")"
		w.mu.Lock()
		if !slices.Contains(w.skipped, name) {
			w.skipped = append(w.skipped, name)
		}
		w.mu.Unlock()
	}
	return out
}

// exceptionFor returns the exception that names the object of that kind
// and name, if any.
func exceptionFor(except []WaitException, kind, name string) (WaitException, bool) {
	for _, e := range except {
		if e.matches(kind, name) {
			return e, true
		}
	}
	return WaitException{}, false
}

// notWaited returns the objects the waits skipped, as
// "Kind/namespace/name (why)", in the order first skipped.
func (w *waiter) notWaited() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.skipped)
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
			if err != nil && !isTransient(err) && !outOfTime(ctx, err) {
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
// outOfTime says a check's error is the wait's own deadline speaking: its
// context is done, or the client's rate limiter refused a request that
// could not be sent before the deadline ("would exceed context
// deadline"). The object is then still pending, and the wait ends as it
// ends when time runs out (a WaitTimeoutError naming what it waited on),
// not as a failed check.
func outOfTime(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "would exceed context deadline")
}

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
