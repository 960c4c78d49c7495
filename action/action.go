// Package action is atmosphere as a library: what the command's verbs do,
// for any Go program. A Configuration is made once (New) from Options: the
// inventory and its typed settings, the registry of components, and — on
// first use by a verb that needs the cluster — the cluster's clients (Helm,
// the manifest applier), atmosphere's state in the cluster (secrets,
// measured durations, the deploy lease) and the OpenStack set-up. Each verb
// (Deploy, Upgrade, Rollback, Plan, Status, Check, Graph) is an options
// struct with a Run(ctx) method; deploys and rollbacks report what happens
// to a deploy.Observer the caller passes (the views of deploy/view are
// observers).
//
// The package writes nothing to the process's standard streams: warnings
// for the operator go to Options.Warnings, logs to Options.Log.
package action

import (
	"errors"
	"fmt"
)

// UsageError is bad input from the caller: an option, a component name, an
// inventory, or a cluster that cannot be reached with the given
// kubeconfig. The command exits with its usage code (2) for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is (or wraps) a UsageError.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}
