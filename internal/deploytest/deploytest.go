// Package deploytest reads what `atmosphere deploy --output json` printed,
// for tests that run the command: the events by unit, each unit's last,
// counts by kind.
package deploytest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/deploy"
)

// Units are the events of a run by unit, in the order they came.
type Units map[string][]deploy.Event

// Events parses the JSON events a deploy printed, failing the test on any
// line that is not one.
func Events(t testing.TB, stdout string) Units {
	t.Helper()
	evs, err := deploy.ReadEvents(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("stdout: %v\n%s", err, stdout)
	}
	out := Units{}
	for _, e := range evs {
		out[e.Unit] = append(out[e.Unit], e)
	}
	return out
}

// Last is the last event of a unit (the zero Event when it has none).
func (u Units) Last(unit string) deploy.Event {
	evs := u[unit]
	if len(evs) == 0 {
		return deploy.Event{}
	}
	return evs[len(evs)-1]
}

// Count counts the events of a kind, over every unit.
func (u Units) Count(kind deploy.Kind) int {
	n := 0
	for _, evs := range u {
		for _, e := range evs {
			if e.Kind == kind {
				n++
			}
		}
	}
	return n
}

// RunUnit runs one unit of work, named key, through the scheduler as a
// deploy runs it, and returns the notes it reported (what it waits on,
// what it did), in order, and its own error.
func RunUnit(ctx context.Context, key string, work func(context.Context) error) ([]dag.Note, error) {
	g := dag.New[string]()
	if err := g.AddNode(key, dag.Spec[string]{}); err != nil {
		return nil, err
	}
	var obs notes
	var unitErr error
	if _, err := dag.Run(ctx, g, func(ctx context.Context, _ string) error {
		unitErr = work(ctx)
		return unitErr
	}, dag.Options[string]{Observer: &obs}); err != nil && unitErr == nil {
		return obs.all(), err
	}
	return obs.all(), unitErr
}

// notes is a scheduler observer keeping the notes of the units.
type notes struct {
	dag.NopObserver[string]
	mu  sync.Mutex
	got []dag.Note
}

func (n *notes) Noted(_ string, note dag.Note, _ time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, note)
}

func (n *notes) all() []dag.Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}
