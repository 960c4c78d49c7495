package dag

import "context"

type releaseKey struct{}

// Release gives back, before the node ends, a resource the running node
// of ctx holds: a node that has done the part of its work a cap is for
// (applying to an API) and only waits lets the next node in. Releasing a
// resource the node does not hold, or outside a run, does nothing. It
// returns once the run has taken it back, or at once when the run is over.
func Release(ctx context.Context, resource string) {
	if send, ok := ctx.Value(releaseKey{}).(func(string)); ok {
		send(resource)
	}
}

// released is a resource on its way back to the run's loop.
type released struct {
	node     int
	resource string
}

// withReleases gives a node's context a way to Release its resources to
// the run's loop; after over is closed a release is dropped.
func withReleases(ctx context.Context, node int, releases chan<- released, over <-chan struct{}) context.Context {
	return context.WithValue(ctx, releaseKey{}, func(r string) {
		deliver(releases, over, released{node: node, resource: r})
	})
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
