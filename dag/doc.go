// Package dag holds a generic dependency graph and the scheduler that runs
// one function per node of it.
//
// A node is a unit of work with a key, an estimated cost and the named
// resources it holds while it runs. An edge says that a node needs another:
// the needed node must succeed before the other may start.
//
// The scheduler is event-driven: a node is admitted the moment its last
// dependency succeeds, provided a slot of the global cap and one unit of
// every resource it names are free. A node that waits for a resource does
// not hold a global slot. Among ready nodes the one with the longest
// remaining cost-weighted path to the end of the graph goes first, ties
// broken by key. A failed node marks its dependents skipped and, unless
// FailFast is set, independent branches finish. Cancelling the context, or
// closing Options.Drain, stops admission; nodes already running finish.
//
// [Run] drives the scheduler with one goroutine per running node and real
// time; [Simulate] drives the very same admission logic on a virtual clock,
// so that a set of measured durations can be replayed in microseconds.
//
// The package knows nothing of Helm, Kubernetes or OpenStack.
package dag
