package dag

import (
	"cmp"
	"time"
)

// SimFunc gives the simulated duration of a node, and the error it ends
// with (nil to succeed).
type SimFunc[K cmp.Ordered] func(key K) (time.Duration, error)

// SimEpoch is the virtual time at which a simulation starts.
var SimEpoch = time.Unix(0, 0).UTC()

// Simulate replays a run of g on a virtual clock: the same admission,
// priority, caps, failure and skip rules as Run, but each node takes the
// duration fn gives it and nothing sleeps. Nodes finishing at the same
// instant are taken in key order, so a simulation is deterministic.
// Options.Drain is ignored.
func Simulate[K cmp.Ordered](g *Graph[K], fn SimFunc[K], opts Options[K]) (*Result[K], error) {
	s, err := newScheduler(g, opts)
	if err != nil {
		return nil, err
	}
	type event struct {
		at   time.Time
		node int
		err  error
	}
	less := func(a, b event) bool {
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.node < b.node
	}
	var events []event
	now := SimEpoch
	for {
		for _, i := range s.admit(now) {
			d, err := fn(s.c.keys[i])
			events = append(events, event{at: now.Add(d), node: i, err: err})
			siftUp(events, len(events)-1, less)
		}
		if s.idle() {
			break
		}
		// Finish everything that ends at this instant before admitting, so
		// that admission sees every slot and resource freed at once.
		now = events[0].at
		for len(events) > 0 && events[0].at.Equal(now) {
			e := popHeap(&events, less)
			s.finish(e.node, e.err, now)
		}
	}
	res := s.result(SimEpoch, now)
	return res, res.Err()
}
