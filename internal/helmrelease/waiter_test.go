package helmrelease

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

// TestAppliedIsToldOnceWhenWaitsBegin: the release's resources are applied
// when Helm first waits for them (Wait or WaitWithJobs); a hook's wait
// (WatchUntilReady, which pre-install hooks do before the apply) is not it.
func TestAppliedIsToldOnceWhenWaitsBegin(t *testing.T) {
	w := newWaiter(context.Background(), fake.NewClientset(), nil)
	told := 0
	w.applied = func() { told++ }
	steps := []struct {
		name string
		call func() error
		want int
	}{
		{"pre-install hook", func() error { return w.WatchUntilReady(nil, time.Second) }, 0},
		{"wait for the resources", func() error { return w.WaitWithJobs(nil, time.Second) }, 1},
		{"post-install hook", func() error { return w.WatchUntilReady(nil, time.Second) }, 1},
		{"another wait", func() error { return w.Wait(nil, time.Second) }, 1},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if told != s.want {
			t.Errorf("after %s: told %d times, want %d", s.name, told, s.want)
		}
	}
}
