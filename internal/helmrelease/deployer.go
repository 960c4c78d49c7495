package helmrelease

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// Labels atmosphere puts on the releases it deploys: digests of what made
// the release, compared to decide whether anything changed.
const (
	LabelChartDigest  = "atmosphere.vexxhost.com/chart"
	LabelValuesDigest = "atmosphere.vexxhost.com/values"
	LabelImagesDigest = "atmosphere.vexxhost.com/images"
)

// DefaultTimeout bounds one action when a release names none (Helm's).
const DefaultTimeout = 5 * time.Minute

// maxHistory is how many revisions a release keeps (Helm's CLI default).
const maxHistory = 10

// Release is a Helm release to deploy.
type Release struct {
	// Name and Namespace of the release; the namespace is created when
	// missing.
	Name, Namespace string
	// Chart is the loaded chart.
	Chart *chart.Chart
	// ChartDigest is charts.ContentDigest(Chart) when the caller has it
	// already (charts.Loader.LoadWithDigest); it is computed when empty.
	ChartDigest string
	// Values are the values over the chart's defaults (the component's own
	// and the operator's, already layered).
	Values map[string]any
	// Images is the image table the values were made from; a change in it
	// is reported as such.
	Images map[string]string
	// Timeout bounds each action and its wait; DefaultTimeout when zero.
	Timeout time.Duration
	// Rollback, when the last revision failed, rolls back to the last
	// deployed revision instead of upgrading.
	Rollback bool
	// Yield are resources of the run's scheduler the deploy gives back
	// (dag.Reporter's Release) once Helm has applied the release and only
	// waits for it: a cap on concurrent API work need not hold a slot
	// through a wait.
	Yield []string
	// BeforeChange, when set, runs once Deploy has decided to install,
	// upgrade or roll back, before Helm acts (never when the release is
	// unchanged): it removes what the change cannot update in place, such
	// as a Job whose template changes.
	BeforeChange func(ctx context.Context, client kubernetes.Interface) error
	// Drifted, when set, names what of the live objects is not as the
	// deployed revision applied them (kubephase reads it). A deployed
	// release whose chart, values and images are unchanged is then
	// upgraded all the same, with these as its reasons: Helm's three-way
	// merge puts the fields of its manifest back on the live objects, and
	// re-creates those that are gone. An upgrade of an unchanged release
	// would change nothing otherwise: nothing is asked when this is empty.
	Drifted []string
	// NotWaitedFor are objects of the release its waits skip (each with
	// why): Helm applies them as the others, but the install, upgrade or
	// rollback does not wait for them to be ready, and Result.NotWaited
	// says which of them it skipped. Every other object is waited for.
	NotWaitedFor []WaitException
}

// WaitException is an object of a release that its waits do not wait for:
// one whose readiness needs what only a later unit makes.
type WaitException struct {
	// Kind is the object's kind, exactly; Name a pattern of its name, as
	// path.Match takes it ("ovn-controller-*": a chart may render one
	// object per group of nodes). An object of that kind whose name
	// matches, in any namespace of the release, is excepted; a malformed
	// pattern matches nothing.
	Kind, Name string
	// Why says why the wait cannot wait for it; it is reported with it.
	Why string
	// UntilSecret, when set, names the Secret the object's pods need:
	// the object is excepted only while no Secret of that name is in its
	// namespace when the wait begins (once there, its pods can start, and
	// it is waited for as the others).
	UntilSecret string
}

// matches reports whether the exception names the object of that kind
// and name.
func (e WaitException) matches(kind, name string) bool {
	if e.Kind != kind {
		return false
	}
	ok, err := path.Match(e.Name, name)
	return ok && err == nil
}

// Action is what a deploy did, or (from Plan) would do.
type Action string

// The actions.
const (
	Install   Action = "install"
	Upgrade   Action = "upgrade"
	Unchanged Action = "unchanged"
	Rollback  Action = "rollback"
)

// Decision is what to do with a release and why.
type Decision struct {
	Action Action
	// Reasons say why: "new release", "chart", "values", "images",
	// "last revision failed", "pending-upgrade left by an interrupted run"...
	Reasons []string
	// Revision is the last revision (0 when absent).
	Revision int
	// Unlock is set when the last revision is pending and must be marked
	// failed first.
	Unlock bool
}

// Result is the outcome of a deploy.
type Result struct {
	Decision
	// Revision after the deploy.
	NewRevision int
	// NotWaited are the release's objects its wait skipped
	// (Release.NotWaitedFor), as "Kind/namespace/name (why)".
	NotWaited []string
}

// Deployer deploys Helm releases in-process. It is safe for concurrent use
// on different releases.
type Deployer struct {
	factory *Factory
	log     *slog.Logger
	// Waiting, when set, is told what a release's wait is waiting on.
	Waiting func(release, object string)
}

// New returns a Deployer over a Factory.
func New(f *Factory, log *slog.Logger) *Deployer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deployer{factory: f, log: log}
}

// digests computes the labels of a release.
func digests(r Release) (map[string]string, error) {
	if r.Chart == nil || r.Chart.Metadata == nil {
		return nil, errors.New("no chart")
	}
	full := r.ChartDigest
	if full == "" {
		full = charts.ContentDigest(r.Chart)
	}
	c := strings.TrimPrefix(full, "sha256:")[:52]
	v, err := digestOf(r.Values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	i, err := digestOf(r.Images)
	if err != nil {
		return nil, err
	}
	return map[string]string{LabelChartDigest: c, LabelValuesDigest: v, LabelImagesDigest: i}, nil
}

// digestOf hashes the canonical JSON of v (map keys sorted) into a string
// that fits a label value.
func digestOf(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:52], nil
}

func (r Release) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

func (r Release) validate() error {
	var problems []string
	if r.Name == "" {
		problems = append(problems, "no release name")
	}
	if r.Namespace == "" {
		problems = append(problems, "no namespace")
	}
	if r.Chart == nil {
		problems = append(problems, "no chart")
	}
	if len(problems) > 0 {
		return fmt.Errorf("release %q: %s", r.Name, strings.Join(problems, ", "))
	}
	return nil
}

// Plan observes the release and decides what a deploy would do, touching
// nothing.
func (d *Deployer) Plan(ctx context.Context, r Release) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err
	}
	cfg, err := d.factory.ActionConfig(ctx, r.Namespace, nil)
	if err != nil {
		return Decision{}, err
	}
	want, err := digests(r)
	if err != nil {
		return Decision{}, fmt.Errorf("release %s: %w", r.Name, err)
	}
	_, dec, err := d.decide(cfg, r, want)
	return dec, err
}

// decide reads the last revision and chooses; want are the release's
// digest labels.
func (d *Deployer) decide(cfg *action.Configuration, r Release, want map[string]string) (*release.Release, Decision, error) {
	last, err := cfg.Releases.Last(r.Name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, Decision{Action: Install, Reasons: []string{"new release"}}, nil
	}
	if err != nil {
		return nil, Decision{}, fmt.Errorf("read release %s/%s: %w", r.Namespace, r.Name, err)
	}
	dec := Decision{Revision: last.Version}
	switch status := last.Info.Status; status {
	case release.StatusPendingInstall, release.StatusPendingUpgrade, release.StatusPendingRollback:
		dec.Unlock = true
		dec.Reasons = append(dec.Reasons, string(status)+" left by an interrupted run")
		fallthrough
	case release.StatusFailed:
		if !dec.Unlock {
			dec.Reasons = append(dec.Reasons, "last revision failed")
		}
		dec.Action = Upgrade
		if r.Rollback && d.hasDeployed(cfg, r.Name) {
			dec.Action = Rollback
		}
	case release.StatusUninstalled, release.StatusUninstalling:
		dec.Action, dec.Reasons = Install, []string{"release was uninstalled"}
	case release.StatusDeployed:
		if !isOurs(last) {
			dec, err := decideForeign(last, r, want)
			return last, dec, err
		}
		for _, k := range []string{LabelChartDigest, LabelValuesDigest, LabelImagesDigest} {
			if last.Labels[k] != want[k] {
				dec.Reasons = append(dec.Reasons, strings.TrimPrefix(k, "atmosphere.vexxhost.com/"))
			}
		}
		if len(dec.Reasons) == 0 && len(r.Drifted) > 0 {
			dec.Reasons = append(dec.Reasons, "drift: "+strings.Join(r.Drifted, ", "))
		}
		if len(dec.Reasons) == 0 {
			dec.Action = Unchanged
		} else {
			dec.Action = Upgrade
		}
	default:
		dec.Action, dec.Reasons = Upgrade, []string{"last revision is " + string(status)}
	}
	return last, dec, nil
}

func (d *Deployer) hasDeployed(cfg *action.Configuration, name string) bool {
	history, err := cfg.Releases.History(name)
	if err != nil {
		return false
	}
	for _, h := range history {
		if h.Info.Status == release.StatusDeployed || h.Info.Status == release.StatusSuperseded {
			return true
		}
	}
	return false
}

// Deploy brings the release to the wanted state: install when absent,
// upgrade when anything changed or the last revision failed (after marking
// a pending one failed), roll back when asked, nothing when unchanged. A
// deployed release another tool made is adopted when its chart and values
// are what r renders (decideForeign): its record gets r's digest labels
// and keeps its revision; otherwise it is upgraded. Waits
// honour ctx and fail early with the pod and its reason.
func (d *Deployer) Deploy(ctx context.Context, r Release) (Result, error) {
	if err := r.validate(); err != nil {
		return Result{}, err
	}
	if err := kubeutil.EnsureNamespace(ctx, d.factory.Clientset(), r.Namespace); err != nil {
		return Result{}, err
	}
	run := dag.ReporterFrom(ctx)
	w := d.waiterFor(ctx, run, r.Name, r.NotWaitedFor)
	w.applied = func() {
		for _, res := range r.Yield {
			run.Release(res)
		}
	}
	cfg, err := d.factory.ActionConfig(ctx, r.Namespace, w)
	if err != nil {
		return Result{}, err
	}
	labels, err := digests(r)
	if err != nil {
		return Result{}, fmt.Errorf("release %s: %w", r.Name, err)
	}
	last, dec, err := d.decide(cfg, r, labels)
	if err != nil {
		return Result{}, err
	}
	res := Result{Decision: dec, NewRevision: dec.Revision}
	switch dec.Action {
	case Unchanged:
		return res, nil
	case Adopt:
		// The record is written as it was read, with the labels added:
		// the same revision, and nothing of the release's objects touched.
		last.Labels = maps.Clone(last.Labels)
		if last.Labels == nil {
			last.Labels = map[string]string{}
		}
		maps.Copy(last.Labels, labels)
		if err := cfg.Releases.Update(last); err != nil {
			return res, fmt.Errorf("adopt release %s/%s: %w", r.Namespace, r.Name, err)
		}
		d.log.Info("adopted a release made by another tool", "release", r.Name, "namespace", r.Namespace, "revision", last.Version)
		return res, nil
	}
	if dec.Unlock {
		last.SetStatus(release.StatusFailed, "atmosphere: marked failed: "+dec.Reasons[0])
		if err := cfg.Releases.Update(last); err != nil {
			return res, fmt.Errorf("unlock release %s/%s: %w", r.Namespace, r.Name, err)
		}
		d.log.Info("unlocked a pending release", "release", r.Name, "namespace", r.Namespace, "revision", last.Version)
	}
	if r.BeforeChange != nil {
		if err := r.BeforeChange(ctx, d.factory.Clientset()); err != nil {
			return res, fmt.Errorf("before the %s of %s/%s: %w", dec.Action, r.Namespace, r.Name, err)
		}
	}
	d.log.Debug("deploying", "release", r.Name, "namespace", r.Namespace, "action", dec.Action, "reasons", dec.Reasons)
	values := r.Values
	if values == nil {
		values = map[string]any{}
	}
	var rel *release.Release
	switch dec.Action {
	case Install:
		install := action.NewInstall(cfg)
		install.ReleaseName, install.Namespace = r.Name, r.Namespace
		install.Wait, install.WaitForJobs, install.Timeout = true, true, r.timeout()
		install.Labels = labels
		install.Replace = last != nil // an uninstalled release kept in history
		install.DisableOpenAPIValidation = true
		rel, err = install.Run(r.Chart, values)
	case Upgrade:
		upgrade := action.NewUpgrade(cfg)
		upgrade.Namespace = r.Namespace
		upgrade.Wait, upgrade.WaitForJobs, upgrade.Timeout = true, true, r.timeout()
		upgrade.Labels = labels
		upgrade.ResetValues = true
		upgrade.MaxHistory = maxHistory
		upgrade.DisableOpenAPIValidation = true
		rel, err = upgrade.Run(r.Name, r.Chart, values)
	case Rollback:
		rollback := action.NewRollback(cfg)
		rollback.Wait, rollback.WaitForJobs, rollback.Timeout = true, true, r.timeout()
		rollback.MaxHistory = maxHistory
		err = rollback.Run(r.Name)
		if err == nil {
			rel, err = cfg.Releases.Last(r.Name)
		}
	}
	if rel != nil {
		res.NewRevision = rel.Version
	}
	res.NotWaited = w.notWaited()
	if len(res.NotWaited) > 0 {
		d.log.Info("not waited for", "release", r.Name, "namespace", r.Namespace, "objects", res.NotWaited)
	}
	if err != nil {
		if pf := w.lastFailure(); pf != nil && !errors.As(err, new(*PodFailure)) {
			// Helm formats hook errors with %s; put the failure back in
			// the chain so callers can inspect it.
			msg := strings.TrimSuffix(strings.TrimSuffix(err.Error(), pf.Error()), ": ")
			return res, fmt.Errorf("%s %s/%s: %s: %w", dec.Action, r.Namespace, r.Name, msg, pf)
		}
		return res, fmt.Errorf("%s %s/%s: %w", dec.Action, r.Namespace, r.Name, explainHeldIP(ctx, d.factory.Clientset(), err))
	}
	return res, nil
}

// waiterFor is the waiter of release name's install, upgrade or rollback:
// each object it waits on is a note of run and told to d.Waiting, and the
// objects except names are not waited for.
func (d *Deployer) waiterFor(ctx context.Context, run dag.Reporter, name string, except []WaitException) *waiter {
	w := newWaiter(ctx, d.factory.Clientset(), func(object string) {
		run.Note(dag.Note{Waiting: object})
		if d.Waiting != nil {
			d.Waiting(name, object)
		}
	})
	w.except = except
	return w
}
