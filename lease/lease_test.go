package lease

import (
	"context"
	"errors"
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
