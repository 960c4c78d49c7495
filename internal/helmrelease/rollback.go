package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/dag"
)

// RollbackRequest is a release to roll back by hand.
type RollbackRequest struct {
	// Name and Namespace of the release.
	Name, Namespace string
	// Revision is the revision to go back to; 0 is the last one deployed
	// before the current one (superseded, or deployed when the current one
	// failed).
	Revision int
	// Timeout bounds the rollback and its wait; DefaultTimeout when zero.
	Timeout time.Duration
	// BeforeChange, when set, runs once the target is known, before Helm
	// acts (as Release.BeforeChange).
	BeforeChange func(ctx context.Context, client kubernetes.Interface) error
	// NotWaitedFor are objects the rollback's wait skips (as
	// Release.NotWaitedFor).
	NotWaitedFor []WaitException
}

// NoRollbackError is a rollback refused before anything changed: there is
// no release, no revision to go back to, or not the one asked for.
type NoRollbackError struct {
	Name, Namespace string
	// Why says what is missing.
	Why string
}

func (e *NoRollbackError) Error() string {
	return fmt.Sprintf("release %s/%s: %s", e.Namespace, e.Name, e.Why)
}

// RollbackTarget reads the release's history, touching nothing, and
// returns its current revision and the revision a rollback of r would go
// back to. A *NoRollbackError says why there is none: no release, a
// release with no earlier deployed revision, or a Revision that is not in
// the history kept (whose revisions it lists) or is the current one.
func (d *Deployer) RollbackTarget(ctx context.Context, r RollbackRequest) (current, target int, err error) {
	cfg, err := d.factory.ActionConfig(ctx, r.Namespace, nil)
	if err != nil {
		return 0, 0, err
	}
	_, current, target, err = rollbackTarget(cfg, r)
	return current, target, err
}

// rollbackTarget is RollbackTarget with the release's last revision.
func rollbackTarget(cfg *action.Configuration, r RollbackRequest) (last *release.Release, current, target int, err error) {
	refuse := func(format string, args ...any) (*release.Release, int, int, error) {
		return nil, 0, 0, &NoRollbackError{Name: r.Name, Namespace: r.Namespace, Why: fmt.Sprintf(format, args...)}
	}
	if r.Revision < 0 {
		return refuse("revision %d: want 1 or more", r.Revision)
	}
	history, err := cfg.Releases.History(r.Name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(history) == 0) {
		return refuse("no such release: nothing to roll back")
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read the history of release %s/%s: %w", r.Namespace, r.Name, err)
	}
	slices.SortFunc(history, func(a, b *release.Release) int { return a.Version - b.Version })
	last = history[len(history)-1]
	current = last.Version
	if last.Info.Status == release.StatusUninstalled || last.Info.Status == release.StatusUninstalling {
		return refuse("release is %s: nothing to roll back", last.Info.Status)
	}
	if r.Revision > 0 {
		if r.Revision == current {
			return refuse("revision %d is the current one: nothing to roll back", r.Revision)
		}
		var kept []string
		for _, h := range history {
			if h.Version == r.Revision {
				return last, current, r.Revision, nil
			}
			kept = append(kept, strconv.Itoa(h.Version))
		}
		return refuse("no revision %d (the revisions kept: %s)", r.Revision, strings.Join(kept, ", "))
	}
	for i := len(history) - 2; i >= 0; i-- {
		if s := history[i].Info.Status; s == release.StatusSuperseded || s == release.StatusDeployed {
			return last, current, history[i].Version, nil
		}
	}
	return refuse("revision %d (%s) has no deployed revision before it: nothing to roll back to", current, last.Info.Status)
}

// Rollback rolls the release back to r.Revision (RollbackTarget) with
// Helm's rollback, waiting as Deploy does (honouring ctx, failing early
// with the pod and its reason) and telling the run what it waits on. A
// current revision left pending by an interrupted run is marked failed
// first, as Deploy does: the caller holds the deploy lease. The Result's
// Decision is Rollback, with the target as its reason ("to revision 1"),
// Revision the revision rolled back from, and NewRevision the revision the
// rollback made.
func (d *Deployer) Rollback(ctx context.Context, r RollbackRequest) (Result, error) {
	w := d.waiterFor(ctx, dag.ReporterFrom(ctx), r.Name, r.NotWaitedFor)
	cfg, err := d.factory.ActionConfig(ctx, r.Namespace, w)
	if err != nil {
		return Result{}, err
	}
	last, current, target, err := rollbackTarget(cfg, r)
	if err != nil {
		return Result{}, err
	}
	res := Result{Decision: Decision{Action: Rollback, Reasons: []string{fmt.Sprintf("to revision %d", target)}, Revision: current},
		NewRevision: current}
	switch last.Info.Status {
	case release.StatusPendingInstall, release.StatusPendingUpgrade, release.StatusPendingRollback:
		last.SetStatus(release.StatusFailed, "atmosphere: marked failed: "+string(last.Info.Status)+" left by an interrupted run")
		if err := cfg.Releases.Update(last); err != nil {
			return res, fmt.Errorf("unlock release %s/%s: %w", r.Namespace, r.Name, err)
		}
		res.Unlock = true
	}
	if r.BeforeChange != nil {
		if err := r.BeforeChange(ctx, d.factory.Clientset()); err != nil {
			return res, fmt.Errorf("before the rollback of %s/%s: %w", r.Namespace, r.Name, err)
		}
	}
	d.log.Debug("rolling back", "release", r.Name, "namespace", r.Namespace, "from", current, "to", target)
	rollback := action.NewRollback(cfg)
	rollback.Version = target
	rollback.Wait, rollback.WaitForJobs, rollback.Timeout = true, true, Release{Timeout: r.Timeout}.timeout()
	rollback.MaxHistory = maxHistory
	err = rollback.Run(r.Name)
	if rel, lerr := cfg.Releases.Last(r.Name); lerr == nil {
		res.NewRevision = rel.Version
	}
	res.NotWaited = w.notWaited()
	if err != nil {
		if pf := w.lastFailure(); pf != nil && !errors.As(err, new(*PodFailure)) {
			msg := strings.TrimSuffix(strings.TrimSuffix(err.Error(), pf.Error()), ": ")
			return res, fmt.Errorf("rollback %s/%s to revision %d: %s: %w", r.Namespace, r.Name, target, msg, pf)
		}
		return res, fmt.Errorf("rollback %s/%s to revision %d: %w", r.Namespace, r.Name, target, explainHeldIP(ctx, d.factory.Clientset(), err))
	}
	return res, nil
}
