package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeNova serves the flavor API as nova does for what gophercloud uses:
// GET /flavors/detail, POST /flavors (409 on a duplicate name), DELETE
// /flavors/{id}; failFirst makes the first n requests answer 500.
type fakeNova struct {
	mu        sync.Mutex
	flavors   map[string]map[string]any
	next      int
	failFirst atomic.Int32
	requests  atomic.Int32
	delay     time.Duration
}

func (n *fakeNova) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.requests.Add(1)
	if n.failFirst.Add(-1) >= 0 {
		http.Error(w, `{"computeFault": {"code": 500, "message": "boom"}}`, 500)
		return
	}
	time.Sleep(n.delay)
	n.mu.Lock()
	defer n.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/flavors/detail":
		list := []any{}
		for _, f := range n.flavors {
			list = append(list, f)
		}
		json.NewEncoder(w).Encode(map[string]any{"flavors": list})
	case r.Method == http.MethodPost && r.URL.Path == "/flavors":
		var body struct{ Flavor map[string]any }
		json.NewDecoder(r.Body).Decode(&body)
		for _, f := range n.flavors {
			if f["name"] == body.Flavor["name"] {
				w.WriteHeader(409)
				w.Write([]byte(`{"conflictingRequest": {"code": 409, "message": "Flavor with name exists."}}`))
				return
			}
		}
		n.next++
		id := strings.Repeat("f", n.next)
		f := body.Flavor
		f["id"] = id
		f["os-flavor-access:is_public"] = body.Flavor["os-flavor-access:is_public"]
		n.flavors[id] = f
		json.NewEncoder(w).Encode(map[string]any{"flavor": f})
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/flavors/"):
		id := strings.TrimPrefix(r.URL.Path, "/flavors/")
		if _, ok := n.flavors[id]; !ok {
			http.NotFound(w, r)
			return
		}
		delete(n.flavors, id)
		w.WriteHeader(202)
	default:
		http.NotFound(w, r)
	}
}

func newCompute(t *testing.T, nova *fakeNova) *Compute {
	t.Helper()
	return NewCompute(fakeClient(t, nova, ""))
}

func TestEnsureFlavor(t *testing.T) {
	nova := &fakeNova{flavors: map[string]map[string]any{}}
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
	if len(nova.flavors) != 2 {
		t.Errorf("%d flavors, want 2", len(nova.flavors))
	}
}

func TestEnsureFlavorRetries500(t *testing.T) {
	nova := &fakeNova{flavors: map[string]map[string]any{}}
	nova.failFirst.Store(1) // the first GET fails
	c := newCompute(t, nova)
	if _, changed, err := c.EnsureFlavor(context.Background(), FlavorAmphora); err != nil || !changed {
		t.Errorf("changed %v err %v", changed, err)
	}
	if got := nova.requests.Load(); got != 3 {
		t.Errorf("%d requests, want 3 (a failed list, the list again, the create)", got)
	}
}

func TestEnsureFlavorTakesAConflictAsFound(t *testing.T) {
	nova := &fakeNova{flavors: map[string]map[string]any{}}
	// Two steps in two processes: separate Compute values, no shared lock.
	a, b := newCompute(t, nova), newCompute(t, nova)
	nova.delay = 20 * time.Millisecond
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []*Compute{a, b} {
		wg.Go(func() { _, _, errs[i] = c.EnsureFlavor(context.Background(), FlavorManila) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(nova.flavors) != 1 {
		t.Errorf("%d flavors", len(nova.flavors))
	}
}

func TestEnsureFlavorStopsOnCancel(t *testing.T) {
	nova := &fakeNova{flavors: map[string]map[string]any{}}
	nova.failFirst.Store(1000)
	c := newCompute(t, nova)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.EnsureFlavor(ctx, FlavorAmphora)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("err %v after %s", err, time.Since(start))
	}
}
