package manifest

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// WaitTimeoutError says which objects were not ready in time, and why.
type WaitTimeoutError struct {
	Timeout time.Duration
	Pending []string
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("not ready after %s: %s", e.Timeout, strings.Join(e.Pending, "; "))
}

// FailedError is an object that reports it has failed for good (a Job
// failed, a Percona XtraDB cluster in error).
type FailedError struct {
	Object, Reason string
}

func (e *FailedError) Error() string { return e.Object + ": " + e.Reason }

// wait polls the objects until each is ready, one fails, ctx ends or the
// timeout passes.
//
// seen holds, for each object, how the API server last gave it (nil when
// not known): the first look at an object reads it there rather than asking
// again.
func (a *Applier) wait(ctx context.Context, objs []prepared, seen []*unstructured.Unstructured, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	pending := objs
	first := map[*unstructured.Unstructured]*unstructured.Unstructured{}
	for i, p := range objs {
		if i < len(seen) && seen[i] != nil {
			first[p.obj] = seen[i]
		}
	}
	poll := kubeutil.NewBackoff(a.Interval)
	for {
		var still []prepared
		var why []string
		for _, p := range pending {
			current, err := first[p.obj], error(nil)
			delete(first, p.obj)
			if current == nil {
				current, err = a.resource(p.mapping, p.obj.GetNamespace()).Get(ctx, p.obj.GetName(), metav1.GetOptions{})
			}
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("wait for %s: %w", p.ref, ctx.Err())
				}
				if !apierrors.IsNotFound(err) && !kubeutil.IsTransient(err) {
					return fmt.Errorf("wait for %s: %w", p.ref, err)
				}
				still, why = append(still, p), append(why, p.ref.String()+": "+err.Error())
				continue
			}
			ready, reason, failed := Ready(current)
			if failed {
				return &FailedError{Object: p.ref.String(), Reason: reason}
			}
			if !ready {
				still, why = append(still, p), append(why, p.ref.String()+": "+reason)
			}
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		dag.ReporterFrom(ctx).Note(dag.Note{Waiting: pending[0].ref.String()})
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", pending[0].ref, ctx.Err())
		case <-deadline.C:
			return &WaitTimeoutError{Timeout: timeout, Pending: why}
		case <-time.After(poll.Next()):
		}
	}
}

// Ready reports whether an object is ready, why not, and whether it failed
// for good. Workloads are ready when rolled out; Jobs when complete; Percona
// XtraDB clusters when their state is "ready"; RabbitMQ clusters when all
// their replicas are; any object with a Ready
// condition when it is True; everything else at once.
func Ready(u *unstructured.Unstructured) (ready bool, reason string, failed bool) {
	gen, _, _ := unstructured.NestedInt64(u.Object, "metadata", "generation")
	observed, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	stale := found && observed < gen
	num := func(path ...string) int64 {
		v, _, _ := unstructured.NestedInt64(u.Object, path...)
		return v
	}
	switch u.GetKind() {
	case "Deployment":
		want := int64(1)
		if r, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); found {
			want = r
		}
		if !found || stale {
			return false, "rollout not observed yet", false
		}
		if up, av := num("status", "updatedReplicas"), num("status", "availableReplicas"); up < want || av < want {
			return false, fmt.Sprintf("%d of %d replicas updated, %d available", up, want, av), false
		}
		return true, "", false
	case "StatefulSet":
		want := int64(1)
		if r, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); found {
			want = r
		}
		if !found || stale {
			return false, "rollout not observed yet", false
		}
		if rd := num("status", "readyReplicas"); rd < want {
			return false, fmt.Sprintf("%d of %d replicas ready", rd, want), false
		}
		cur, _, _ := unstructured.NestedString(u.Object, "status", "currentRevision")
		upd, _, _ := unstructured.NestedString(u.Object, "status", "updateRevision")
		if upd != "" && cur != upd {
			return false, "rolling update in progress", false
		}
		return true, "", false
	case "DaemonSet":
		if !found || stale {
			return false, "rollout not observed yet", false
		}
		desired := num("status", "desiredNumberScheduled")
		if rd, up := num("status", "numberReady"), num("status", "updatedNumberScheduled"); rd < desired || up < desired {
			return false, fmt.Sprintf("%d of %d pods ready, %d updated", rd, desired, up), false
		}
		return true, "", false
	case "Job":
		for _, c := range conditions(u) {
			if c.status != "True" {
				continue
			}
			switch c.kind {
			case "Complete":
				return true, "", false
			case "Failed":
				return false, "job failed: " + c.reason + ": " + c.message, true
			}
		}
		return false, "job not complete", false
	case "RabbitmqCluster":
		// Its operator's conditions: every replica ready, and its default
		// user's Secret made.
		for _, c := range conditions(u) {
			if c.kind == "AllReplicasReady" && c.status == "True" {
				return true, "", false
			}
		}
		return false, "replicas not all ready yet", false
	case "PerconaXtraDBCluster":
		state, _, _ := unstructured.NestedString(u.Object, "status", "state")
		switch state {
		case "ready":
			return true, "", false
		case "error":
			msgs, _, _ := unstructured.NestedStringSlice(u.Object, "status", "messages")
			return false, "cluster in error: " + strings.Join(msgs, "; "), true
		}
		if state == "" {
			state = "no state yet"
		}
		return false, "state " + state, false
	}
	for _, c := range conditions(u) {
		if c.kind == "Ready" {
			if c.status == "True" {
				return true, "", false
			}
			return false, strings.TrimSpace("Ready=" + c.status + " " + c.reason + ": " + c.message), false
		}
	}
	switch u.GetKind() {
	case "Certificate", "Issuer", "ClusterIssuer":
		return false, "no Ready condition yet", false
	}
	return true, "", false
}

type condition struct{ kind, status, reason, message string }

func conditions(u *unstructured.Unstructured) []condition {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]condition, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, condition{str("type"), str("status"), str("reason"), str("message")})
	}
	return out
}
