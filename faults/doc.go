// Package faults is atmosphere's reliability suite: `atmosphere deploy` as
// a process, with atmosphere's real charts, against a kwok cluster and a
// keystone the suite starts, while it is interrupted, killed, starved of
// its API server or keystone, raced by a second run, fed bad input, or made
// to fail. Each scenario checks that nothing is lost: the next run
// completes, no Helm release is left pending, no process is left behind,
// and no secret reaches any output. It has tests only.
package faults
