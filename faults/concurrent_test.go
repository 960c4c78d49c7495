package faults

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vexxhost/atmosphere-go/lease"
)

// TestConcurrentRuns: while a deploy runs, a second one against the same
// cluster is refused at once, naming the holder, and touches nothing. When
// the first is killed, the next run takes its lease over at once (its
// process is gone) and completes. A lease of another host's run that
// stopped renewing refuses runs until it expires, then is taken over.
func TestConcurrentRuns(t *testing.T) {
	b := newBed(t)
	first := b.start(b.args()...)
	if !first.stdout.waitFor(first, 3*time.Minute, func(s string) bool { return strings.Contains(s, `"event":"started"`) }) {
		b.wait(first, "first deploy", time.Minute)
		t.Fatalf("the first deploy started no unit:\n%s", first.stderr.String())
	}
	holder := fmt.Sprintf("pid %d", first.cmd.Process.Pid)

	second, code := b.run("second deploy", b.args()...)
	if code == 0 || !strings.Contains(second.stderr.String(), "refused") || !strings.Contains(second.stderr.String(), holder) {
		t.Errorf("second deploy: exit %d, want a refusal naming the holder (%s):\n%s", code, holder, second.stderr.String())
	}
	if second.stdout.String() != "" {
		t.Errorf("the refused deploy started work:\n%s", second.stdout.String())
	}

	// The bastion is lost: the holder dies without releasing the lease.
	_ = syscall.Kill(-first.cmd.Process.Pid, syscall.SIGKILL)
	b.wait(first, "killed deploy", time.Minute)
	b.noChildren(first, "killed deploy")
	next, code := b.run("deploy after the kill", b.args()...)
	if code != 0 {
		t.Fatalf("deploy after the kill: exit %d\n%s", code, next.stderr.String())
	}
	if !strings.Contains(next.stderr.String(), "took over the deploy lease of") || !strings.Contains(next.stderr.String(), holder) {
		t.Errorf("the deploy after the kill did not say it took the dead run's lease over:\n%s", next.stderr.String())
	}
	b.noPendingRelease("after the takeover")

	// Another host's run, killed 1 s ago: its lease still holds for 4 s.
	const foreign = "operator@bastion-2 pid 4242"
	leases := b.client.CoordinationV1().Leases(stateNS)
	l, err := leases.Get(context.Background(), lease.DefaultName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	renewed := metav1.NewMicroTime(time.Now().Add(-time.Second))
	l.Spec = coordinationv1.LeaseSpec{HolderIdentity: ptr(foreign), LeaseDurationSeconds: ptr(int32(5)), AcquireTime: &renewed, RenewTime: &renewed}
	if _, err := leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	refused, code := b.run("deploy against a foreign lease", b.args()...)
	if code == 0 || !strings.Contains(refused.stderr.String(), foreign) {
		t.Errorf("deploy against a live foreign lease: exit %d, want a refusal naming %q:\n%s", code, foreign, refused.stderr.String())
	}
	time.Sleep(time.Until(renewed.Add(5 * time.Second)))
	after, code := b.run("deploy after the foreign lease expired", b.args()...)
	if code != 0 || !strings.Contains(after.stderr.String(), "took over the deploy lease of "+foreign) {
		t.Errorf("deploy after the foreign lease expired: exit %d, want it taken over:\n%s", code, after.stderr.String())
	}
	l, err = leases.Get(context.Background(), lease.DefaultName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
		t.Errorf("the lease is still held by %q after the run ended", *l.Spec.HolderIdentity)
	}
	b.scanSecrets()
}

func ptr[T any](v T) *T { return &v }
