package dag

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestReleaseLetsTheNextNodeIn: with a cap of one on "api", a node that
// releases it while it still runs lets the next node start; a second
// release, or one of a resource it does not hold, frees nothing more.
func TestReleaseLetsTheNextNodeIn(t *testing.T) {
	g := New[string]()
	for _, k := range []string{"a", "b", "c"} {
		must(t, g.AddNode(k, Spec[string]{Resources: []string{"api"}}))
	}
	bStarted := make(chan struct{})
	var mu sync.Mutex
	holders, most := 0, 0
	hold := func(d int) {
		mu.Lock()
		defer mu.Unlock()
		holders += d
		most = max(most, holders)
	}
	_, err := Run(context.Background(), g, func(ctx context.Context, k string) error {
		if k == "a" {
			Release(ctx, "api")
			Release(ctx, "api")
			Release(ctx, "disk")
			select {
			case <-bStarted: // b got the slot a gave back while a runs
				return nil
			case <-time.After(10 * time.Second):
				return errors.New("b never started while a ran without the resource")
			}
		}
		hold(1)
		defer hold(-1)
		if k == "b" {
			close(bStarted)
		}
		time.Sleep(50 * time.Millisecond)
		return nil
	}, Options[string]{Resources: map[string]int{"api": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if most != 1 {
		t.Errorf("%d nodes held the resource at once, cap 1", most)
	}
	Release(context.Background(), "api") // outside a run: nothing happens
}
