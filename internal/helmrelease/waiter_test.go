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

// TestExceptionFor: an exception names objects by their kind, exactly,
// and a pattern of their name; the first that matches is the one
// reported.
func TestExceptionFor(t *testing.T) {
	except := []WaitException{
		{Kind: "DaemonSet", Name: "ovn-controller", Why: "mounts neutron-etc"},
		{Kind: "DaemonSet", Name: "agent-*", Why: "one per group of nodes"},
		{Kind: "Deployment", Name: "[", Why: "a malformed pattern"},
		{Kind: "StatefulSet", Name: "db", Why: "first"},
		{Kind: "StatefulSet", Name: "db", Why: "second"},
	}
	for _, tc := range []struct {
		name, kind, object string
		why                string // "" when no exception matches
	}{
		{"kind and name", "DaemonSet", "ovn-controller", "mounts neutron-etc"},
		{"another name of the kind", "DaemonSet", "ovn-northd", ""},
		{"the name of another kind", "Deployment", "ovn-controller", ""},
		{"kinds are exact", "daemonset", "ovn-controller", ""},
		{"names are exact, not prefixes", "DaemonSet", "ovn-controller-x", ""},
		{"the first of two", "StatefulSet", "db", "first"},
		{"a pattern: the default set", "DaemonSet", "agent-default", "one per group of nodes"},
		{"a pattern: a group's set", "DaemonSet", "agent-3f9a1c0d2b4e5f60", "one per group of nodes"},
		{"a pattern: not its prefix alone", "DaemonSet", "agent", ""},
		{"a malformed pattern matches nothing", "Deployment", "[", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := exceptionFor(except, tc.kind, tc.object)
			if ok != (tc.why != "") || e.Why != tc.why {
				t.Errorf("exceptionFor(%s %s) = %+v, %v; want why %q", tc.kind, tc.object, e, ok, tc.why)
			}
		})
	}
	if _, ok := exceptionFor(nil, "DaemonSet", "ovn-controller"); ok {
		t.Error("no exceptions matched an object")
	}
}
