package dag

import (
	"cmp"
	"context"
	"time"
)

// Note is what a running node says about its work while it runs: what it
// waits on, for a heartbeat, or what it did.
type Note struct {
	// Waiting names what the node waits on ("Deployment openstack/nova-api").
	Waiting string
	// Did says what the node did ("install", "upgrade: values").
	Did string
	// Unchanged says the node found nothing to change.
	Unchanged bool
}

// NoteObserver is an Observer that also takes the notes running nodes send
// through their Reporter. Like the other methods, Noted is called from the
// run's one goroutine, in order: a node's notes come after its Started and
// before its Finished.
type NoteObserver[K cmp.Ordered] interface {
	Observer[K]
	Noted(key K, n Note, at time.Time)
}

// Reporter is how a running node speaks to the run it belongs to. A node
// reaches its run's Reporter one way, ReporterFrom of its context. Both
// methods return once the run has taken what they send, so that it is
// seen before the node's Finished, or at once when the run is over (from a
// goroutine a node left behind); neither blocks or panics outside a run.
type Reporter interface {
	// Note tells the run's observer what the node waits on or did, when
	// that observer is a NoteObserver; otherwise it does nothing.
	Note(n Note)
	// Release gives back, before the node ends, a resource the node
	// holds: a node that has done the part of its work a cap is for
	// (applying to an API) and only waits lets the next node in.
	// Releasing a resource the node does not hold does nothing.
	Release(resource string)
}

type reporterKey struct{}

// ReporterFrom returns the Reporter of the run whose node ctx belongs to;
// outside a run, one that does nothing.
func ReporterFrom(ctx context.Context) Reporter {
	if r, ok := ctx.Value(reporterKey{}).(Reporter); ok {
		return r
	}
	return nopReporter{}
}

type nopReporter struct{}

func (nopReporter) Note(Note)      {}
func (nopReporter) Release(string) {}

// report is a note or a released resource on its way to the run's loop.
type report struct {
	node int
	// note is nil for a release.
	note     *Note
	resource string
	at       time.Time
}

// reporter is the Reporter of one node of a run: it sends to the run's
// loop until over is closed, and drops what comes after.
type reporter struct {
	node int
	to   chan<- report
	over <-chan struct{}
	// notes says the run's observer takes notes.
	notes bool
}

func (r *reporter) Note(n Note) {
	if r.notes {
		deliver(r.to, r.over, report{node: r.node, note: &n, at: time.Now()})
	}
}

func (r *reporter) Release(resource string) {
	deliver(r.to, r.over, report{node: r.node, resource: resource})
}

// withReporter gives node's context the Reporter that sends to the run's
// loop on to.
func withReporter(ctx context.Context, r *reporter) context.Context {
	return context.WithValue(ctx, reporterKey{}, Reporter(r))
}

// deliver hands v to the run's loop, or drops it once the run is over
// (from a goroutine a node left behind).
func deliver[T any](to chan<- T, over <-chan struct{}, v T) {
	select {
	case to <- v:
	case <-over:
	}
}

// release gives back a resource node i holds, if it holds it.
func (s *scheduler[K]) release(i int, resource string) {
	for j, r := range s.held[i] {
		if r == resource {
			s.inUse[r]--
			s.held[i] = append(s.held[i][:j:j], s.held[i][j+1:]...)
			return
		}
	}
}
