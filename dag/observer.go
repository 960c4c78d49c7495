package dag

import (
	"cmp"
	"time"
)

// Observer is told what happens to the nodes of a run. The scheduler calls
// it from one goroutine, in the order things happen.
type Observer[K cmp.Ordered] interface {
	// Started is called when a node is admitted.
	Started(key K, at time.Time)
	// Finished is called when a node's function returns (Succeeded or Failed).
	Finished(r NodeResult[K])
	// Skipped is called for a node that will never start (Skipped or
	// Cancelled), with the reason in r.Err.
	Skipped(r NodeResult[K])
}

// NopObserver does nothing. Embed it to implement only the methods needed.
type NopObserver[K cmp.Ordered] struct{}

// Started does nothing.
func (NopObserver[K]) Started(K, time.Time) {}

// Finished does nothing.
func (NopObserver[K]) Finished(NodeResult[K]) {}

// Skipped does nothing.
func (NopObserver[K]) Skipped(NodeResult[K]) {}
