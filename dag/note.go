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
// with Notify. Like the other methods, Noted is called from the run's one
// goroutine, in order: a node's notes come after its Started and before its
// Finished.
type NoteObserver[K cmp.Ordered] interface {
	Observer[K]
	Noted(key K, n Note, at time.Time)
}

type noteKey struct{}

// Notify sends n to the observer of the run whose node ctx belongs to, when
// that observer is a NoteObserver; otherwise it does nothing. It returns once
// the run has taken the note, or at once when the run is over.
func Notify(ctx context.Context, n Note) {
	if send, ok := ctx.Value(noteKey{}).(func(Note)); ok {
		send(n)
	}
}

// noted is a note on its way to the run's loop.
type noted struct {
	node int
	note Note
	at   time.Time
}

// withNotes gives a node's context a way to Notify the run's loop on notes;
// after over is closed a note is dropped.
func withNotes(ctx context.Context, node int, notes chan<- noted, over <-chan struct{}) context.Context {
	return context.WithValue(ctx, noteKey{}, func(n Note) {
		deliver(notes, over, noted{node: node, note: n, at: time.Now()})
	})
}

// deliver hands v to the run's loop, or drops it once the run is over
// (from a goroutine a node left behind).
func deliver[T any](to chan<- T, over <-chan struct{}, v T) {
	select {
	case to <- v:
	case <-over:
	}
}
