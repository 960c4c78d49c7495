package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

func TestLeaseOnTheCluster(t *testing.T) {
	client, ns := testenv.KubeNamespace(t)
	ctx := context.Background()
	opts := func(who string, d time.Duration) Options {
		return Options{Namespace: ns, Identity: who, Duration: d}
	}

	a, err := Acquire(ctx, client, opts("ops@bastion pid 1", 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(ctx, client, opts("ops@bastion pid 2", 30*time.Second))
	var held *HeldError
	if !errors.As(err, &held) || held.Holder != "ops@bastion pid 1" || !strings.Contains(err.Error(), "ops@bastion pid 1") {
		t.Fatalf("a second run: %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// A run that is killed: it stops renewing without releasing.
	killed, err := Acquire(ctx, client, opts("killed pid 3", 2*time.Second))
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	killed.stop()
	<-killed.done
	if _, err := Acquire(ctx, client, opts("next pid 4", 30*time.Second)); !errors.As(err, &held) {
		t.Fatalf("before the killed run's lease expired: %v", err)
	}
	var next *Held
	for range 40 {
		if next, err = Acquire(ctx, client, opts("next pid 4", 2*time.Second)); err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the expired lease was not taken over: %v", err)
	}

	// Someone takes the lease from under next: next learns it is lost.
	l, err := client.CoordinationV1().Leases(ns).Get(ctx, DefaultName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := "operator by hand"
	l.Spec.HolderIdentity = &other
	if _, err := client.CoordinationV1().Leases(ns).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-next.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("a taken lease was not reported lost")
	}
	if err := next.Release(ctx); err != nil {
		t.Errorf("releasing a lost lease: %v", err)
	}
	l, _ = client.CoordinationV1().Leases(ns).Get(ctx, DefaultName, metav1.GetOptions{})
	if deref(l.Spec.HolderIdentity) != other {
		t.Errorf("releasing a lost lease freed another's: holder %q", deref(l.Spec.HolderIdentity))
	}
}

// TestGoneHolderIsTakenOverAtOnce: a lease whose holder is a process of
// this host that no longer runs (a deploy killed with SIGKILL) is taken
// over at once, long before it expires; a live holder still refuses.
func TestGoneHolderIsTakenOverAtOnce(t *testing.T) {
	client, ns := testenv.KubeNamespace(t)
	ctx := context.Background()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gone := fmt.Sprintf("ops@%s pid %d", host, dead.Process.Pid)
	if _, err := Acquire(ctx, client, Options{Namespace: ns, Identity: gone, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	next, err := Acquire(ctx, client, Options{Namespace: ns, Identity: "next pid 5", Duration: time.Hour})
	if err != nil {
		t.Fatalf("the lease of a gone process was not taken over: %v", err)
	}
	if next.TookOver != gone {
		t.Errorf("TookOver %q, want %q", next.TookOver, gone)
	}
	// A holder that runs (this test process) is never taken over early.
	_, err = Acquire(ctx, client, Options{Namespace: ns, Identity: Identity(), Duration: time.Hour})
	var held *HeldError
	if !errors.As(err, &held) || held.Holder != "next pid 5" {
		t.Fatalf("a live holder: %v", err)
	}
	if err := next.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestGone(t *testing.T) {
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		holder string
		want   bool
	}{
		{fmt.Sprintf("ops@%s pid %d", host, dead.Process.Pid), true},
		{fmt.Sprintf("ops@%s pid %d", host, os.Getpid()), false},
		{fmt.Sprintf("ops@another-%s pid %d", host, dead.Process.Pid), false},
		{"operator by hand", false},
		{fmt.Sprintf("ops@%s pid x", host), false},
		{fmt.Sprintf("%s pid %d", host, dead.Process.Pid), false},
	}
	for _, tt := range tests {
		if got := Gone(tt.holder); got != tt.want {
			t.Errorf("Gone(%q) = %v, want %v", tt.holder, got, tt.want)
		}
	}
}
