package deploy

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

// DefaultHeartbeat is how often a unit still at work is reported (Waiting)
// when nothing else was said of it.
const DefaultHeartbeat = 30 * time.Second

// Options tune a deploy.
type Options struct {
	// Concurrency caps the units in flight; 0 means no cap.
	Concurrency int
	// Resources caps named resources (components.DefaultCaps()).
	Resources map[string]int
	// FailFast stops starting units after the first failure.
	FailFast bool
	// Drain, when closed, stops starting units; running ones finish.
	Drain <-chan struct{}
	// Observer receives every event; nil discards them.
	Observer Observer
	// Heartbeat is how often a long unit is reported; DefaultHeartbeat
	// when zero, none when negative.
	Heartbeat time.Duration
}

// Run deploys every unit of g (a graph made by reg.Graph) with d and
// returns the report of the run. The error is that of the run: nil when
// every unit succeeded, else a *dag.RunError naming the failed units and
// why (or the reason the graph could not run, with a nil report).
func Run(ctx context.Context, reg *components.Registry, g *dag.Graph[string], d components.Deployer, opts Options) (*Report, error) {
	t := &tracker{obs: opts.Observer, units: map[string]*unitState{}}
	if t.obs == nil {
		t.obs = ObserverFunc(func(Event) {})
	}
	every := opts.Heartbeat
	if every == 0 {
		every = DefaultHeartbeat
	}
	stop := func() {}
	if every > 0 {
		stop = t.heartbeats(every)
	}
	res, err := reg.Run(ctx, g, d, dag.Options[string]{
		Concurrency: opts.Concurrency, Resources: opts.Resources, FailFast: opts.FailFast,
		Drain: opts.Drain, Observer: t,
	})
	stop()
	if res == nil {
		return nil, err
	}
	return newReport(reg, g, res, t.outcomes()), err
}

// unitState is what the tracker knows of a unit.
type unitState struct {
	start     time.Time
	waiting   string
	lastEvent time.Time
	did       []string
	outcomes  int // notes that said what the work did
	changed   int // of which changed something
	done      bool
}

// detail is what the unit's work said it did.
func (u *unitState) detail() string { return strings.Join(u.did, "; ") }

// unchanged reports whether the unit's work said what it did and none of it
// changed anything.
func (u *unitState) unchanged() bool { return u.outcomes > 0 && u.changed == 0 }

// outcome is what a finished unit did, for the report.
type outcome struct {
	detail    string
	unchanged bool
}

// tracker turns the scheduler's callbacks and the deployers' notes into
// Events. The scheduler calls it from one goroutine; the heartbeat ticker
// from another, hence the lock.
type tracker struct {
	dag.NopObserver[string]
	mu    sync.Mutex
	obs   Observer
	units map[string]*unitState
}

func (t *tracker) emit(e Event) {
	e.Component, e.Phase = components.SplitUnit(e.Unit)
	t.obs.Observe(e)
}

// Started implements dag.Observer.
func (t *tracker) Started(key string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.units[key] = &unitState{start: at, lastEvent: at}
	t.emit(Event{Time: at, Unit: key, Kind: Started})
}

// Noted implements dag.NoteObserver. A change of what a unit waits on is
// reported at once; the same wait again only at the heartbeat.
func (t *tracker) Noted(key string, n dag.Note, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.units[key]
	if !ok || u.done {
		return
	}
	if n.Waiting != "" {
		if n.Waiting != u.waiting {
			u.waiting, u.lastEvent = n.Waiting, at
			t.emit(Event{Time: at, Unit: key, Kind: Waiting, Duration: at.Sub(u.start), Detail: n.Waiting})
		}
		return
	}
	u.waiting = ""
	if n.Did != "" {
		u.did = append(u.did, n.Did)
	}
	if n.Did != "" || n.Unchanged {
		u.outcomes++
		if !n.Unchanged {
			u.changed++
		}
	}
}

// Finished implements dag.Observer.
func (t *tracker) Finished(r dag.NodeResult[string]) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.units[r.Key]
	if u == nil {
		u = &unitState{start: r.Start}
		t.units[r.Key] = u
	}
	u.done = true
	e := Event{Time: r.End, Unit: r.Key, Duration: r.Duration(), Detail: u.detail()}
	switch {
	case r.Status == dag.Failed:
		e.Kind, e.Error = Failed, rootCause(r.Key, r.Err)
	case u.unchanged():
		e.Kind = Unchanged
	default:
		e.Kind = Succeeded
	}
	t.emit(e)
}

// Skipped implements dag.Observer.
func (t *tracker) Skipped(r dag.NodeResult[string]) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kind := Skipped
	if r.Status == dag.Cancelled {
		kind = Cancelled
	}
	t.emit(Event{Time: time.Now(), Unit: r.Key, Kind: kind, Error: notRunReason(r)})
}

// heartbeats reports, every interval, each running unit nothing was said
// of for that long. The returned func stops it.
func (t *tracker) heartbeats(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(min(every, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				t.beat(now, every)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (t *tracker) beat(now time.Time, every time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key, u := range t.units {
		if u.done || now.Sub(u.lastEvent) < every {
			continue
		}
		u.lastEvent = now
		t.emit(Event{Time: now, Unit: key, Kind: Waiting, Duration: now.Sub(u.start), Detail: u.waiting})
	}
}

func (t *tracker) outcomes() map[string]outcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]outcome{}
	for key, u := range t.units {
		out[key] = outcome{detail: u.detail(), unchanged: u.unchanged()}
	}
	return out
}

// notRunReason says why a unit never ran: the unit whose failure skipped
// it (its own error is on that unit's failed event), or why the run stopped
// (cancelled, drained, fail-fast).
func notRunReason(r dag.NodeResult[string]) string {
	if r.Err == nil {
		return ""
	}
	if r.Status == dag.Skipped && r.Cause != "" && strings.HasPrefix(r.Err.Error(), "skipped:") {
		return "needs " + r.Cause + ", which failed"
	}
	return r.Err.Error()
}

// rootCause is a failed unit's error as one line: the registry prefixes
// "component phase: ", which the event already carries.
func rootCause(unit string, err error) string {
	if err == nil {
		return ""
	}
	c, p := components.SplitUnit(unit)
	msg := strings.TrimPrefix(err.Error(), c+" "+p+": ")
	return strings.Join(strings.Fields(msg), " ")
}
