package dag

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

// Func is the work of one node. It receives the run's context.
type Func[K cmp.Ordered] func(ctx context.Context, key K) error

// PanicError is the error of a node whose function panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Run runs fn once per node of g, each after the nodes it needs succeeded,
// under the caps of opts, and returns every node's result. The error is
// non-nil when g or opts is invalid (nothing ran) or when any node did not
// succeed (then it is Result.Err()).
//
// Cancelling ctx stops admission; running nodes see the cancelled context
// and Run returns once they have. Run starts one goroutine per running node
// and waits for all of them: it never returns while a node still runs.
func Run[K cmp.Ordered](ctx context.Context, g *Graph[K], fn Func[K], opts Options[K]) (*Result[K], error) {
	s, err := newScheduler(g, opts)
	if err != nil {
		return nil, err
	}
	type done struct {
		node int
		err  error
	}
	// Buffered so that a finishing node never waits for the loop.
	finished := make(chan done, max(g.Len(), 1))
	// Unbuffered: what a node reports (a note, a resource given back) is
	// taken before the node can finish, so that the observer sees a note
	// before the node's Finished.
	reports := make(chan report)
	over := make(chan struct{})
	defer close(over)
	noteObserver, _ := opts.Observer.(NoteObserver[K])
	ctxDone, drain := ctx.Done(), opts.Drain
	start := time.Now()
	// now is the instant of the last event: a node admitted because another
	// finished starts at the very instant that one ended, so that a run's
	// results can be traced back as a simulation's are (Result.Chain).
	now := start
	for {
		// Checked before every admission, so that nothing is admitted once
		// the context is cancelled or the drain closed, whatever else the
		// select below picked first.
		if ctx.Err() != nil {
			s.stop(ctx.Err())
		}
		if drained(drain) {
			s.stop(ErrDrained)
		}
		for _, i := range s.admit(now) {
			nodeCtx := withReporter(ctx, &reporter{node: i, to: reports, over: over, notes: noteObserver != nil})
			go func() {
				finished <- done{node: i, err: call(nodeCtx, fn, s.c.keys[i])}
			}()
		}
		if s.idle() {
			break
		}
		select {
		case d := <-finished:
			now = time.Now()
			s.finish(d.node, d.err, now)
		case r := <-reports:
			if r.note != nil {
				noteObserver.Noted(s.c.keys[r.node], *r.note, r.at)
				break
			}
			now = time.Now()
			s.release(r.node, r.resource)
		case <-ctxDone:
			now = time.Now()
			s.stop(ctx.Err())
			ctxDone = nil
		case <-drain:
			now = time.Now()
			s.stop(ErrDrained)
			drain = nil
		}
	}
	res := s.result(start, time.Now())
	return res, res.Err()
}

func call[K cmp.Ordered](ctx context.Context, fn Func[K], k K) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn(ctx, k)
}

func drained(drain <-chan struct{}) bool {
	select {
	case <-drain:
		return true
	default:
		return false
	}
}
