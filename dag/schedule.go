package dag

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Status is where a node of a run ended, or is.
type Status int

// The statuses of a node.
const (
	// Pending: not started yet.
	Pending Status = iota
	// Running: admitted and not finished.
	Running
	// Succeeded: its function returned nil.
	Succeeded
	// Failed: its function returned an error.
	Failed
	// Skipped: never started because a node it needs, directly or not,
	// failed (or, with FailFast, because any node failed).
	Skipped
	// Cancelled: never started because the run was cancelled or drained.
	Cancelled
)

func (s Status) String() string {
	switch s {
	case Pending:
		return "pending"
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ErrDrained is the error of nodes never started because Options.Drain was
// closed.
var ErrDrained = errors.New("not started: the run was stopped")

// Options tune a run. The zero value runs every node as soon as it is ready,
// with no caps, keeping going past failures.
type Options[K cmp.Ordered] struct {
	// Concurrency caps the nodes running at once; 0 means no cap.
	Concurrency int
	// Resources caps named resources: at most Resources[r] running nodes
	// may hold r. A resource a node names that is missing here is unlimited.
	Resources map[string]int
	// FailFast stops admitting nodes after the first failure; the nodes
	// still pending are Skipped with that failure as their cause.
	FailFast bool
	// Observer is told of every start, finish and skip. Its methods are
	// called from one goroutine, in order; they must not block for long.
	Observer Observer[K]
	// Drain, when closed, stops admission as a cancelled context does, but
	// running nodes keep their context: they finish their work. The nodes
	// left are Cancelled with ErrDrained.
	Drain <-chan struct{}
}

// NodeResult is what became of one node.
type NodeResult[K cmp.Ordered] struct {
	Key    K
	Status Status
	// Err is the node's own error (Failed), or why it never ran
	// (Skipped, Cancelled).
	Err error
	// Cause is the failed node that made this one Skipped.
	Cause K
	// Ready is when the last of its needs succeeded (the run's start for a
	// node that needs nothing); Start - Ready is how long it waited for a
	// slot or a resource. Start and End are set for nodes that ran.
	Ready, Start, End time.Time
}

// Wait is Start - Ready for a node that ran: how long it waited for a slot
// or a resource once its needs were done.
func (r NodeResult[K]) Wait() time.Duration { return r.Start.Sub(r.Ready) }

// Duration is End - Start for a node that ran.
func (r NodeResult[K]) Duration() time.Duration { return r.End.Sub(r.Start) }

// Result is the outcome of a run.
type Result[K cmp.Ordered] struct {
	// Nodes holds every node's result.
	Nodes map[K]NodeResult[K]
	// Start and End bound the run.
	Start, End time.Time
}

// Makespan is the time from the start of the run to the end of its last node.
func (r *Result[K]) Makespan() time.Duration { return r.End.Sub(r.Start) }

// Failed returns the sorted keys of the nodes that failed: the root causes.
// Skipped nodes are not among them.
func (r *Result[K]) Failed() []K { return r.keys(Failed) }

// Skipped returns the sorted keys of the nodes skipped for a failure.
func (r *Result[K]) Skipped() []K { return r.keys(Skipped) }

// Cancelled returns the sorted keys of the nodes never started because the
// run was cancelled or drained.
func (r *Result[K]) Cancelled() []K { return r.keys(Cancelled) }

func (r *Result[K]) keys(s Status) []K {
	var out []K
	for _, k := range slices.Sorted(maps.Keys(r.Nodes)) {
		if r.Nodes[k].Status == s {
			out = append(out, k)
		}
	}
	return out
}

// Err is nil when every node succeeded. Otherwise it is a *RunError naming
// the root causes (and the cancellation, if any).
func (r *Result[K]) Err() error {
	failed, cancelled := r.Failed(), r.Cancelled()
	if len(failed) == 0 && len(cancelled) == 0 {
		return nil
	}
	e := &RunError[K]{Skipped: len(r.Skipped()), Cancelled: len(cancelled)}
	for _, k := range failed {
		e.Failures = append(e.Failures, NodeError[K]{Key: k, Err: r.Nodes[k].Err})
	}
	if len(cancelled) > 0 {
		e.Cause = r.Nodes[cancelled[0]].Err
	}
	return e
}

// NodeError is the error of one failed node.
type NodeError[K cmp.Ordered] struct {
	Key K
	Err error
}

// RunError says why a run did not succeed: the root-cause failures, how many
// nodes were skipped for them, and whether the run was cancelled.
type RunError[K cmp.Ordered] struct {
	Failures  []NodeError[K]
	Skipped   int
	Cancelled int
	// Cause is why nodes were cancelled (context.Canceled, ErrDrained, ...).
	Cause error
}

func (e *RunError[K]) Error() string {
	var parts []string
	for _, f := range e.Failures {
		parts = append(parts, fmt.Sprintf("%v: %v", f.Key, f.Err))
	}
	if e.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", e.Skipped))
	}
	if e.Cancelled > 0 {
		parts = append(parts, fmt.Sprintf("%d not started: %v", e.Cancelled, e.Cause))
	}
	return strings.Join(parts, "; ")
}

// Unwrap gives errors.Is and errors.As every root cause and the cancellation.
func (e *RunError[K]) Unwrap() []error {
	var out []error
	for _, f := range e.Failures {
		out = append(out, f.Err)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

// ResourceError is returned before anything runs when a node names a
// resource whose cap is below one: it could never be admitted.
type ResourceError struct {
	Node     string
	Resource string
	Cap      int
}

func (e *ResourceError) Error() string {
	return fmt.Sprintf("node %s needs resource %q, whose cap is %d", e.Node, e.Resource, e.Cap)
}

// scheduler is the admission state machine shared by Run and Simulate. It
// never waits and never reads a clock: its drivers pass the time in. Nodes
// are the indices of the compiled graph.
type scheduler[K cmp.Ordered] struct {
	c         *compiled[K]
	opts      Options[K]
	observer  Observer[K]
	pending   []int // needs not yet succeeded
	ready     []int // heap ranked by readyLess
	inUse     map[string]int
	held      [][]string // by node: the resources it holds while running
	running   int
	results   []NodeResult[K]
	stopErr   error // set once admission stopped
	failFast  bool  // stopErr came from a failure
	failCause K
}

func newScheduler[K cmp.Ordered](g *Graph[K], opts Options[K]) (*scheduler[K], error) {
	c, err := g.compile()
	if err != nil {
		return nil, err
	}
	for i, res := range c.resources {
		for _, r := range res {
			if n, capped := opts.Resources[r]; capped && n < 1 {
				return nil, &ResourceError{Node: fmt.Sprint(c.keys[i]), Resource: r, Cap: n}
			}
		}
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("concurrency %d: must be 0 (no cap) or more", opts.Concurrency)
	}
	s := &scheduler[K]{
		c:        c,
		opts:     opts,
		observer: opts.Observer,
		pending:  make([]int, len(c.keys)),
		inUse:    map[string]int{},
		held:     make([][]string, len(c.keys)),
		results:  make([]NodeResult[K], len(c.keys)),
	}
	if s.observer == nil {
		s.observer = NopObserver[K]{}
	}
	for i, k := range c.keys {
		s.pending[i] = len(c.needs[i])
		s.results[i] = NodeResult[K]{Key: k, Status: Pending}
		if s.pending[i] == 0 {
			s.push(i)
		}
	}
	return s, nil
}

// readyLess ranks ready nodes: longer remaining path first, then smaller key
// (indices follow key order).
func (s *scheduler[K]) readyLess(a, b int) bool {
	if la, lb := s.c.level[a], s.c.level[b]; la != lb {
		return la > lb
	}
	return a < b
}

func (s *scheduler[K]) push(i int) {
	s.ready = append(s.ready, i)
	siftUp(s.ready, len(s.ready)-1, s.readyLess)
}

// admit starts, in priority order, every ready node that a global slot and
// its resources allow, and returns their indices. A node whose resources are
// taken stays ready without holding a slot, and lower-ranked nodes may pass it.
func (s *scheduler[K]) admit(now time.Time) []int {
	if s.stopErr != nil {
		return nil
	}
	var started, deferred []int
	for len(s.ready) > 0 {
		if s.opts.Concurrency > 0 && s.running >= s.opts.Concurrency {
			break
		}
		i := popHeap(&s.ready, s.readyLess)
		if !s.resourcesFree(s.c.resources[i]) {
			deferred = append(deferred, i)
			continue
		}
		for _, r := range s.c.resources[i] {
			s.inUse[r]++
		}
		s.held[i] = append([]string(nil), s.c.resources[i]...)
		s.running++
		s.results[i].Status, s.results[i].Start = Running, now
		s.observer.Started(s.c.keys[i], now)
		started = append(started, i)
	}
	for _, i := range deferred {
		s.push(i)
	}
	return started
}

func (s *scheduler[K]) resourcesFree(resources []string) bool {
	for _, r := range resources {
		if n, capped := s.opts.Resources[r]; capped && s.inUse[r] >= n {
			return false
		}
	}
	return true
}

// finish records the end of a running node and releases what it held.
func (s *scheduler[K]) finish(i int, err error, now time.Time) {
	r := &s.results[i]
	r.End = now
	s.running--
	for _, res := range s.held[i] {
		s.inUse[res]--
	}
	s.held[i] = nil
	if err != nil {
		r.Status, r.Err = Failed, err
		s.observer.Finished(*r)
		s.skipDependents(i, err)
		if s.opts.FailFast && s.stopErr == nil {
			s.stopErr = fmt.Errorf("not started: fail-fast after %v failed", r.Key)
			s.failFast, s.failCause = true, r.Key
		}
		return
	}
	r.Status = Succeeded
	s.observer.Finished(*r)
	for _, d := range s.c.dependents[i] {
		s.pending[d]--
		if s.pending[d] == 0 && s.results[d].Status == Pending {
			s.results[d].Ready = now
			s.push(d)
		}
	}
}

// skipDependents marks every transitive dependent of failed as Skipped.
func (s *scheduler[K]) skipDependents(failed int, err error) {
	cause := s.c.keys[failed]
	queue := slices.Clone(s.c.dependents[failed])
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		r := &s.results[d]
		if r.Status != Pending {
			continue
		}
		r.Status, r.Cause = Skipped, cause
		r.Err = fmt.Errorf("skipped: %v failed: %w", cause, err)
		s.observer.Skipped(*r)
		queue = append(queue, s.c.dependents[d]...)
	}
}

// stop ends admission for a reason that is not a failure.
func (s *scheduler[K]) stop(err error) {
	if s.stopErr == nil {
		s.stopErr = err
	}
}

// idle reports whether nothing runs and nothing more can be admitted.
func (s *scheduler[K]) idle() bool {
	return s.running == 0 && (s.stopErr != nil || len(s.ready) == 0)
}

// result closes the run: nodes never started get their final status.
func (s *scheduler[K]) result(start, end time.Time) *Result[K] {
	nodes := make(map[K]NodeResult[K], len(s.results))
	for i := range s.results {
		r := &s.results[i]
		if r.Ready.IsZero() && s.pending[i] == 0 {
			r.Ready = start
		}
		if r.Status == Pending {
			if s.failFast {
				r.Status, r.Cause = Skipped, s.failCause
			} else {
				r.Status = Cancelled
			}
			r.Err = s.stopErr
			s.observer.Skipped(*r)
		}
		nodes[r.Key] = *r
	}
	return &Result[K]{Nodes: nodes, Start: start, End: end}
}
