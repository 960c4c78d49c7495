package helmrelease

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/cli-runtime/pkg/resource"
)

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
