package dag

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is an Observer that keeps the events it saw, in order.
type recorder struct {
	NopObserver[string]
	mu     sync.Mutex
	events []string
}

func (r *recorder) Started(k string, _ time.Time) { r.add("start " + k) }
func (r *recorder) Finished(n NodeResult[string]) { r.add(n.Status.String() + " " + n.Key) }
func (r *recorder) Skipped(n NodeResult[string])  { r.add(n.Status.String() + " " + n.Key) }
func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}
func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// gates lets a test hold nodes until it releases them.
type gates struct {
	mu      sync.Mutex
	gates   map[string]chan struct{}
	started map[string]chan struct{}
}

func newGates(keys ...string) *gates {
	g := &gates{gates: map[string]chan struct{}{}, started: map[string]chan struct{}{}}
	for _, k := range keys {
		g.gates[k] = make(chan struct{})
		g.started[k] = make(chan struct{})
	}
	return g
}

// fn blocks gated nodes until released (or the context ends) and fails
// nodes whose name starts with "fail".
func (g *gates) fn(ctx context.Context, k string) error {
	if s, ok := g.started[k]; ok {
		close(s)
	}
	if gate, ok := g.gates[k]; ok {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if strings.HasPrefix(k, "fail") {
		return fmt.Errorf("%s broke", k)
	}
	return nil
}

func (g *gates) release(k string) { close(g.gates[k]) }
func (g *gates) waitStart(t *testing.T, k string) {
	t.Helper()
	<-g.started[k]
}

// finishSignal closes done when the scheduler records key's finish.
type finishSignal struct {
	NopObserver[string]
	key  string
	done chan struct{}
}

func (f *finishSignal) Finished(r NodeResult[string]) {
	if r.Key == f.key {
		close(f.done)
	}
}

func TestShortNodeNotBlockedByLongOne(t *testing.T) {
	g := build(t, "long=100s:", "short=1s:", "after-short=1s: short")
	gt := newGates("long")
	obs := &finishSignal{key: "after-short", done: make(chan struct{})}
	var res *Result[string]
	var err error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		res, err = Run(context.Background(), g, gt.fn, Options[string]{Observer: obs})
	}()
	// The scheduler records after-short's finish while long is still held;
	// were short blocked behind long, this would never happen.
	<-obs.done
	gt.release("long")
	<-finished
	if err != nil {
		t.Fatal(err)
	}
	if !res.Nodes["after-short"].End.Before(res.Nodes["long"].End) {
		t.Error("after-short finished after long")
	}
}

func TestFailureSkipsOnlyDependents(t *testing.T) {
	tests := []struct {
		name      string
		failFast  bool
		succeeded []string
		skipped   []string
	}{
		{"keep going", false, []string{"a", "other", "other2"}, []string{"b", "c"}},
		{"fail fast", true, []string{"a"}, []string{"b", "c", "other", "other2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// fail-x runs first (highest rank); with concurrency 1 nothing
			// independent has started when it fails.
			g := build(t, "a=100s:", "fail-x=90s: a", "b=80s: fail-x", "c=70s: b", "other=1s: a", "other2=1s: other")
			gt := newGates()
			res, err := Run(context.Background(), g, gt.fn, Options[string]{Concurrency: 1, FailFast: tt.failFast})
			if err == nil {
				t.Fatal("want an error")
			}
			if got := res.Failed(); !reflect.DeepEqual(got, []string{"fail-x"}) {
				t.Errorf("failed = %v, want only the root cause", got)
			}
			if got := res.keys(Succeeded); !reflect.DeepEqual(got, tt.succeeded) {
				t.Errorf("succeeded = %v, want %v", got, tt.succeeded)
			}
			if got := res.Skipped(); !reflect.DeepEqual(got, tt.skipped) {
				t.Errorf("skipped = %v, want %v", got, tt.skipped)
			}
			for _, k := range res.Skipped() {
				if res.Nodes[k].Cause != "fail-x" {
					t.Errorf("%s skipped for %q, want fail-x", k, res.Nodes[k].Cause)
				}
			}
			var re *RunError[string]
			if !errors.As(err, &re) || len(re.Failures) != 1 || re.Failures[0].Key != "fail-x" {
				t.Errorf("error = %v, want a RunError naming fail-x only", err)
			}
			if !strings.Contains(err.Error(), "fail-x broke") {
				t.Errorf("error %q lacks the cause", err)
			}
		})
	}
}

func TestGlobalCapNeverExceeded(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			g := New[string]()
			for i := range 40 {
				var needs []string
				if i >= 10 {
					needs = []string{fmt.Sprintf("n%02d", i%10)}
				}
				_ = g.AddNode(fmt.Sprintf("n%02d", i), Spec[string]{Cost: time.Second, Needs: needs})
			}
			var now, peak atomic.Int32
			_, err := Run(context.Background(), g, func(ctx context.Context, k string) error {
				n := now.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				defer now.Add(-1)
				return nil
			}, Options[string]{Concurrency: limit})
			if err != nil {
				t.Fatal(err)
			}
			if p := peak.Load(); p > int32(limit) {
				t.Errorf("peak %d nodes in flight, cap %d", p, limit)
			}
		})
	}
}

func TestResourceCapAndWaitersHoldNoSlot(t *testing.T) {
	// Concurrency 2, apt capped at 1. a and b both hold apt and rank above
	// c. a runs; b must wait for apt without holding the second slot, so c
	// runs beside a. a is released only once c has run.
	g := New[string]()
	_ = g.AddNode("a", Spec[string]{Cost: 30 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("b", Spec[string]{Cost: 20 * time.Second, Resources: []string{"apt"}})
	_ = g.AddNode("c", Spec[string]{Cost: 1 * time.Second})
	var holding, peak atomic.Int32
	cDone := make(chan struct{})
	rec := &recorder{}
	_, err := Run(context.Background(), g, func(ctx context.Context, k string) error {
		if k == "c" {
			close(cDone)
			return nil
		}
		if n := holding.Add(1); n > peak.Load() {
			peak.Store(n)
		}
		defer holding.Add(-1)
		if k == "a" {
			<-cDone
		}
		return nil
	}, Options[string]{Concurrency: 2, Resources: map[string]int{"apt": 1}, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("%d nodes held apt at once, cap 1", p)
	}
	// c started while a held apt (a waits for c, so c must have run beside
	// it), and b started only once a released apt. The order in which a and
	// c finish is theirs to race.
	ev := rec.list()
	at := func(e string) int { return slices.Index(ev, e) }
	if at("start a") != 0 || at("start c") < 0 || at("start c") > at("succeeded a") {
		t.Errorf("c did not run beside a: %v", ev)
	}
	if at("start b") < at("succeeded a") {
		t.Errorf("b started before a released apt: %v", ev)
	}
}

func TestPriorityOrder(t *testing.T) {
	// With one slot, ready nodes go in order of their remaining path:
	// x (1s) leads to a 50s chain, so it goes before y (10s) and z (5s).
	g := build(t, "x=1s:", "y=10s:", "z=5s:", "tail=50s: x", "w=5s:")
	rec := &recorder{}
	_, err := Run(context.Background(), g, newGates().fn, Options[string]{Concurrency: 1, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, e := range rec.list() {
		if k, ok := strings.CutPrefix(e, "start "); ok {
			starts = append(starts, k)
		}
	}
	// tail becomes ready after x and outranks everything left; w and z tie
	// at 5s and go by key.
	want := []string{"x", "tail", "y", "w", "z"}
	if !reflect.DeepEqual(starts, want) {
		t.Errorf("start order = %v, want %v", starts, want)
	}
}

func TestCancelAdmitsNothingNew(t *testing.T) {
	g := build(t, "a=10s:", "b=5s: a", "c=1s:")
	gt := newGates("a")
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	var sawCancel atomic.Bool
	go func() {
		gt.waitStart(t, "a")
		cancel()
	}()
	res, err := Run(ctx, g, func(ctx context.Context, k string) error {
		err := gt.fn(ctx, k)
		if k == "a" && errors.Is(err, context.Canceled) {
			sawCancel.Store(true)
		}
		return err
	}, Options[string]{Concurrency: 1, Observer: rec})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in it", err)
	}
	if !sawCancel.Load() {
		t.Error("the running node did not get the cancelled context")
	}
	// a returned the cancellation as its error, so b (which needs it) is
	// skipped for it; c was simply never admitted.
	if s := res.Nodes["b"].Status; s != Skipped {
		t.Errorf("b: %v, want skipped", s)
	}
	if s := res.Nodes["c"].Status; s != Cancelled {
		t.Errorf("c: %v, want cancelled", s)
	}
	for _, k := range []string{"b", "c"} {
		if slices.Contains(rec.list(), "start "+k) {
			t.Errorf("%s was started after the cancel", k)
		}
	}
}

func TestDrainLetsRunningFinish(t *testing.T) {
	g := build(t, "a=10s:", "b=5s: a")
	gt := newGates("a")
	drain := make(chan struct{})
	go func() {
		gt.waitStart(t, "a")
		close(drain)
		gt.release("a")
	}()
	res, err := Run(context.Background(), g, gt.fn, Options[string]{Drain: drain})
	if !errors.Is(err, ErrDrained) {
		t.Fatalf("err = %v, want ErrDrained", err)
	}
	// a may or may not be seen finishing before the drain; either way it
	// ran to the end with a live context.
	if s := res.Nodes["a"].Status; s != Succeeded {
		t.Errorf("a: %v, want succeeded", s)
	}
	if s := res.Nodes["b"].Status; s != Cancelled {
		t.Errorf("b: %v, want cancelled", s)
	}
}

func TestPanicIsAFailure(t *testing.T) {
	g := build(t, "a:", "b: a")
	res, err := Run(context.Background(), g, func(ctx context.Context, k string) error {
		if k == "a" {
			panic("boom")
		}
		return nil
	}, Options[string]{})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("err = %v, want a PanicError", err)
	}
	if res.Nodes["b"].Status != Skipped {
		t.Errorf("b: %v, want skipped", res.Nodes["b"].Status)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		g    *Graph[string]
		opts Options[string]
		want string
	}{
		{"cycle", build(t, "a: b", "b: a"), Options[string]{}, "cycle: a → b → a"},
		{"unknown need", build(t, "a: zz"), Options[string]{}, "a needs unknown zz"},
		{"zero resource cap", func() *Graph[string] {
			g := New[string]()
			_ = g.AddNode("a", Spec[string]{Resources: []string{"apt"}})
			return g
		}(), Options[string]{Resources: map[string]int{"apt": 0}}, `needs resource "apt", whose cap is 0`},
		{"negative concurrency", build(t, "a:"), Options[string]{Concurrency: -1}, "concurrency -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			res, err := Run(context.Background(), tt.g, func(context.Context, string) error {
				ran = true
				return nil
			}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
			if ran || res != nil {
				t.Error("something ran on bad input")
			}
		})
	}
}

func TestEmptyGraph(t *testing.T) {
	res, err := Run(context.Background(), New[string](), newGates().fn, Options[string]{})
	if err != nil || len(res.Nodes) != 0 {
		t.Errorf("empty run: %v, %v", res, err)
	}
}
