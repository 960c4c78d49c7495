package faults

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vexxhost/atmosphere-go/internal/lease"
)

// TestConcurrentRuns: while a deploy runs, a second one against the same
// cluster is refused at once, naming the holder, and touches nothing: the
// resourceVersion of every object is the same before and after it (the
// first run's memcached pods are kept unschedulable and the first run is
// stopped with SIGSTOP meanwhile, so that nothing else writes). When the
// first is killed, the next run takes its lease over at once (its process
// is gone), repairs the release it left pending and completes. A lease of
// another host's run that stopped renewing refuses runs until it expires,
// then is taken over.
func TestConcurrentRuns(t *testing.T) {
	b := newBed(t)
	b.addVars(stuckVarsFile, stuckValues)
	first := b.start(b.args("--tags", "memcached", "--unit-timeout", hardUnitTimeout.String())...)
	if !first.stdout.waitFor(first, 3*time.Minute, func(s string) bool { return strings.Contains(s, `"event":"started"`) }) {
		b.wait(first, "first deploy", time.Minute)
		t.Fatalf("the first deploy started no unit:\n%s", first.stderr.String())
	}
	holder := fmt.Sprintf("pid %d", first.cmd.Process.Pid)
	b.waitUnschedulable("memcached-memcached", 3*time.Minute)
	// Freeze the holder (it cannot renew its lease nor write anything) and
	// let the cluster settle, so that any change is the second run's.
	if err := syscall.Kill(first.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	before := b.settledSnapshot(time.Minute)

	second, code := b.run("second deploy", b.args()...)
	if code == 0 || !strings.Contains(second.stderr.String(), "refused") || !strings.Contains(second.stderr.String(), holder) {
		t.Errorf("second deploy: exit %d, want a refusal naming the holder (%s):\n%s", code, holder, second.stderr.String())
	}
	if second.stdout.String() != "" {
		t.Errorf("the refused deploy started work:\n%s", second.stdout.String())
	}
	if diff := changes(before, b.snapshot()); len(diff) > 0 {
		t.Errorf("the refused deploy changed the cluster:\n  %s", strings.Join(diff, "\n  "))
	}
	b.noChildren(second, "second deploy")

	// The bastion is lost: the holder dies without releasing the lease.
	_ = syscall.Kill(-first.cmd.Process.Pid, syscall.SIGKILL)
	b.wait(first, "killed deploy", time.Minute)
	b.noChildren(first, "killed deploy")
	b.addVars(stuckVarsFile, "{}\n")
	next, code := b.run("deploy after the kill", b.args()...)
	if code != 0 {
		t.Fatalf("deploy after the kill: exit %d\n%s", code, next.stderr.String())
	}
	if !strings.Contains(next.stderr.String(), "took over the deploy lease of") || !strings.Contains(next.stderr.String(), holder) {
		t.Errorf("the deploy after the kill did not say it took the dead run's lease over:\n%s", next.stderr.String())
	}
	b.noChildren(next, "deploy after the kill")
	b.noPendingRelease("after the takeover")
	b.checkSetup("after the takeover", allSetupUnits...)

	// Another host's run that stopped renewing: its lease, renewed now for
	// a minute, refuses runs; once it has expired (renewed more than a
	// minute ago), it is taken over. The times are set, not waited for.
	const foreign = "operator@bastion-2 pid 4242"
	setForeign := func(renewedAgo time.Duration) {
		t.Helper()
		leases := b.client.CoordinationV1().Leases(stateNS)
		l, err := leases.Get(context.Background(), lease.DefaultName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get the deploy lease: %v", err)
		}
		renewed := metav1.NewMicroTime(time.Now().Add(-renewedAgo))
		l.Spec = coordinationv1.LeaseSpec{HolderIdentity: ptr(foreign), LeaseDurationSeconds: ptr(int32(60)), AcquireTime: &renewed, RenewTime: &renewed}
		if _, err := leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("set the deploy lease: %v", err)
		}
	}
	setForeign(0)
	refused, code := b.run("deploy against a foreign lease", b.args()...)
	if code == 0 || !strings.Contains(refused.stderr.String(), foreign) {
		t.Errorf("deploy against a live foreign lease: exit %d, want a refusal naming %q:\n%s", code, foreign, refused.stderr.String())
	}
	setForeign(61 * time.Second)
	after, code := b.run("deploy after the foreign lease expired", b.args()...)
	if code != 0 || !strings.Contains(after.stderr.String(), "took over the deploy lease of "+foreign) {
		t.Errorf("deploy after the foreign lease expired: exit %d, want it taken over:\n%s", code, after.stderr.String())
	}
	l, err := b.client.CoordinationV1().Leases(stateNS).Get(context.Background(), lease.DefaultName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the deploy lease: %v", err)
	}
	if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
		t.Errorf("the lease is still held by %q after the run ended", *l.Spec.HolderIdentity)
	}
	b.scanSecrets()
}

// waitUnschedulable waits until a pod of openstack whose name starts with
// prefix is reported unschedulable (failing the test after limit, a guard,
// not a measure).
func (b *bed) waitUnschedulable(prefix string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		pods, err := b.client.CoreV1().Pods("openstack").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			b.t.Fatalf("list the pods of openstack: %v", err)
		}
		for _, p := range pods.Items {
			if !strings.HasPrefix(p.Name, prefix) {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no pod %s* of openstack was reported unschedulable after %s", prefix, limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// settledSnapshot takes snapshots until two in a row, 2 s apart, are the
// same, and returns it (failing the test when the cluster still changes
// after limit, a guard, not a measure).
func (b *bed) settledSnapshot(limit time.Duration) map[string]string {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	prev := b.snapshot()
	for {
		time.Sleep(2 * time.Second)
		cur := b.snapshot()
		diff := changes(prev, cur)
		if len(diff) == 0 {
			return cur
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the cluster still changes after %s:\n  %s", limit, strings.Join(diff, "\n  "))
		}
		prev = cur
	}
}

func ptr[T any](v T) *T { return &v }
