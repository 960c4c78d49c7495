package dag

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// noteRecorder records starts, notes and finishes in the order the run
// reports them.
type noteRecorder struct {
	recorder
}

func (r *noteRecorder) Noted(k string, n Note, _ time.Time) {
	switch {
	case n.Waiting != "":
		r.add("waiting " + k + " on " + n.Waiting)
	case n.Unchanged:
		r.add("unchanged " + k)
	default:
		r.add("did " + k + " " + n.Did)
	}
}

func TestNotesReachTheObserverInOrder(t *testing.T) {
	g := New[string]()
	must(t, g.AddNode("a", Spec[string]{}))
	must(t, g.AddNode("b", Spec[string]{Needs: []string{"a"}}))
	obs := &noteRecorder{}
	_, err := Run(context.Background(), g, func(ctx context.Context, k string) error {
		ReporterFrom(ctx).Note(Note{Waiting: "pods of " + k})
		if k == "a" {
			ReporterFrom(ctx).Note(Note{Did: "install"})
		} else {
			ReporterFrom(ctx).Note(Note{Unchanged: true})
		}
		return nil
	}, Options[string]{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"start a", "waiting a on pods of a", "did a install", "succeeded a",
		"start b", "waiting b on pods of b", "unchanged b", "succeeded b",
	}
	if got := obs.list(); !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
}

// TestNoteOutsideARunOrAfterIt: a note through the Reporter of a context
// of no run, or of an observer that takes no notes, or from a goroutine a
// node left behind after the run ended, neither blocks nor panics; nor does
// a release after the run.
func TestNoteOutsideARunOrAfterIt(t *testing.T) {
	ReporterFrom(context.Background()).Note(Note{Did: "nothing"})
	g := New[string]()
	must(t, g.AddNode("a", Spec[string]{}))
	late := make(chan context.Context, 1)
	for _, obs := range []Observer[string]{&recorder{}, &noteRecorder{}} {
		if _, err := Run(context.Background(), g, func(ctx context.Context, k string) error {
			ReporterFrom(ctx).Note(Note{Did: "x"})
			select {
			case late <- ctx:
			default:
			}
			return nil
		}, Options[string]{Observer: obs}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		r := ReporterFrom(<-late)
		r.Note(Note{Did: "after the run"})
		r.Release("api")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a note or a release sent after the run blocked")
	}
}

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
			ReporterFrom(ctx).Release("api")
			ReporterFrom(ctx).Release("api")
			ReporterFrom(ctx).Release("disk")
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
	ReporterFrom(context.Background()).Release("api") // outside a run: nothing happens
}

// TestReadyAndWait: a node's Ready is when its last need ended, its Start
// when a slot freed, and a node admitted because another finished starts at
// the instant that one ended, so Chain traces a real run.
func TestReadyAndWait(t *testing.T) {
	g := New[string]()
	must(t, g.AddNode("a", Spec[string]{Cost: 3}))
	must(t, g.AddNode("b", Spec[string]{Cost: 2}))
	must(t, g.AddNode("c", Spec[string]{Needs: []string{"a"}, Cost: 1}))
	gate := newGates("a", "b")
	done := make(chan struct{})
	var res *Result[string]
	go func() {
		defer close(done)
		var err error
		res, err = Run(context.Background(), g, gate.fn, Options[string]{Concurrency: 1})
		if err != nil {
			t.Error(err)
		}
	}()
	gate.waitStart(t, "a")
	gate.release("a") // c is ready now, but b, with the longer path left, takes the one slot
	gate.waitStart(t, "b")
	gate.release("b")
	<-done
	a, b, c := res.Nodes["a"], res.Nodes["b"], res.Nodes["c"]
	if !a.Ready.Equal(res.Start) || !b.Ready.Equal(res.Start) {
		t.Errorf("a and b need nothing: ready %v %v, want the run's start %v", a.Ready, b.Ready, res.Start)
	}
	if !c.Ready.Equal(a.End) {
		t.Errorf("c ready at %v, want a's end %v", c.Ready, a.End)
	}
	if !b.Start.Equal(a.End) || !c.Start.Equal(b.End) {
		t.Errorf("starts b %v c %v, want a's end %v and b's end %v", b.Start, c.Start, a.End, b.End)
	}
	if c.Wait() != b.End.Sub(a.End) || c.Wait() <= 0 {
		t.Errorf("c waited %v, want b's run %v", c.Wait(), b.End.Sub(a.End))
	}
	if chain := res.Chain(g); !slices.Equal(chain, []string{"a", "b", "c"}) {
		t.Errorf("chain %v, want a b c", chain)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
