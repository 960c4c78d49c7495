package provision

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

func newCompute(t *testing.T, nova *openstackfake.Nova) *Compute {
	t.Helper()
	return NewCompute(openstackfake.Client(t, nova, ""))
}

func TestEnsureFlavor(t *testing.T) {
	nova := &openstackfake.Nova{}
	c := newCompute(t, nova)
	ctx := context.Background()
	tests := []struct {
		name    string
		flavor  Flavor
		changed bool
	}{
		{"create", FlavorAmphora, true},
		{"again", FlavorAmphora, false},
		{"other sizes replace it", Flavor{Name: "m1.amphora", VCPUs: 4, RAM: 4096}, true},
		{"manila", FlavorManila, true},
	}
	for _, tt := range tests {
		f, changed, err := c.EnsureFlavor(ctx, tt.flavor)
		if err != nil || changed != tt.changed || f.Name != tt.flavor.Name || f.VCPUs != tt.flavor.VCPUs {
			t.Errorf("%s: %+v changed %v err %v", tt.name, f, changed, err)
		}
	}
	if len(nova.Objects("flavors")) != 2 {
		t.Errorf("%d flavors, want 2", len(nova.Objects("flavors")))
	}
}

func TestEnsureFlavorRetries500(t *testing.T) {
	nova := &openstackfake.Nova{}
	nova.FailFirst.Store(1) // the first GET fails
	c := newCompute(t, nova)
	if _, changed, err := c.EnsureFlavor(context.Background(), FlavorAmphora); err != nil || !changed {
		t.Errorf("changed %v err %v", changed, err)
	}
	if got := nova.Requests.Load(); got != 3 {
		t.Errorf("%d requests, want 3 (a failed list, the list again, the create)", got)
	}
}

func TestEnsureFlavorTakesAConflictAsFound(t *testing.T) {
	nova := &openstackfake.Nova{}
	// Two steps in two processes: separate Compute values, no shared lock.
	a, b := newCompute(t, nova), newCompute(t, nova)
	nova.Delay = 20 * time.Millisecond
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []*Compute{a, b} {
		wg.Go(func() { _, _, errs[i] = c.EnsureFlavor(context.Background(), FlavorManila) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(nova.Objects("flavors")) != 1 {
		t.Errorf("%d flavors", len(nova.Objects("flavors")))
	}
}

func TestEnsureFlavorStopsOnCancel(t *testing.T) {
	nova := &openstackfake.Nova{}
	nova.FailFirst.Store(1000)
	c := newCompute(t, nova)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.EnsureFlavor(ctx, FlavorAmphora)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("err %v after %s", err, time.Since(start))
	}
}
