// Package faults is atmosphere's reliability suite: `atmosphere deploy` as
// a process, with atmosphere's real charts, against a kwok cluster and a
// keystone the suite starts, while it is interrupted, killed, starved of
// its API server or keystone, raced by a second run, fed bad input, or made
// to fail. Each scenario checks that nothing is lost: the next run
// completes, no Helm release is left pending, no process is left behind,
// and no secret reaches any output. It has tests only.
//
// What each check holds to:
//   - An interrupt or kill point counts only when units were in flight as
//     the signal was sent (a started event with no end before it, in the
//     run's JSON events); the suites fail when fewer than 18 of the 20
//     SIGINT points or 9 of the 10 SIGKILL points do. A point interrupted
//     twice keeps memcached:install in flight (its pods unschedulable, a
//     long unit timeout), so that its second interrupt always cancels it.
//   - No process left behind: every atmosphere process the suite starts
//     carries a mark in its environment, which its children inherit; after
//     the run, any live process with the mark (in any process group) or
//     of the run's process group fails the test.
//   - A refused run touches nothing: the resourceVersion of every listable
//     object is the same before and after it.
//   - The secret scan looks for every generated secret, those the inventory
//     gives, the keystone admin's, the MariaDB root password and the
//     RabbitMQ default users' passwords the values read, literally and
//     base64- and URL-encoded, in every output: JSON events, the plain
//     lines and the terminal view (under a pseudo-terminal), -v and -vv
//     logs, the --dry-run plan, the reports, the cluster's Kubernetes
//     Events and the Helm releases' notes.
//   - A List that fails fails the check that needed it.
package faults
