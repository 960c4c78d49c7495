package action

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/internal/lease"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
)

// RunOptions are what Deploy and Upgrade share: how the units are
// scheduled, bounded and reported.
type RunOptions struct {
	// SkipTags leaves out components or units (component or
	// component:phase); what needs them still runs.
	SkipTags []string
	// Concurrency caps the units in flight; 0 is no cap.
	Concurrency int
	// Resources override the registry's caps of named resources.
	Resources map[string]int
	// FailFast starts nothing more after the first failure.
	FailFast bool
	// DryRun observes the cluster and decides what each unit would do,
	// and changes nothing: Run returns the Plan and no Report.
	DryRun bool
	// Diff, with DryRun, adds to each unit of the Plan the unified diff of
	// what it would apply (PlanUnit.Diff): a Helm unit's values and
	// objects, from its release's last revision; a Secret's data is never
	// shown, only which keys change.
	Diff bool
	// Timeout bounds the whole run (0: none); units still running then
	// are cancelled.
	Timeout time.Duration
	// UnitTimeout bounds each Helm and manifest unit's wait (0: each
	// component's own).
	UnitTimeout time.Duration
	// ReportDir is where the timing report (Markdown and SVG) is written;
	// none is written when empty.
	ReportDir string
	// Drain, when not nil, is called once, when the units are about to
	// start (the input checked, the lease taken), for the channel whose
	// closing starts nothing more (units in flight finish).
	Drain func() <-chan struct{}
	// Observer receives every event of the run; nil discards them.
	Observer deploy.Observer
}

// Result is what a deploy or an upgrade did.
type Result struct {
	// Report is the run's, nil for a dry run or a run that could not
	// start.
	Report *deploy.Report
	// Plan is what a dry run would do, nil otherwise.
	Plan *PlanResult
	// ReportFiles are the timing report's files written.
	ReportFiles []string
}

// Deploy deploys the components the inventory enables (or those of Tags),
// each unit of work started the moment what it needs is done. A unit whose
// release, objects or OpenStack resources are already as wanted changes
// nothing.
type Deploy struct {
	Config *Configuration
	RunOptions
	// Tags names the components to deploy, with what they need; all the
	// inventory enables when empty.
	Tags []string
	// NoDeps, with Tags, deploys none of what they need: it must be
	// deployed already (it is checked).
	NoDeps bool
	// Atomic rolls a release whose upgrade fails back to its last
	// deployed revision.
	Atomic bool
	// RepairDrift upgrades a release whose chart, values and images are
	// unchanged when its live objects drifted from what it applied
	// (status --drift names them); a component's own objects are applied
	// again after an edit whatever this says.
	RepairDrift bool
}

// Run deploys. Every problem of the input is found before the cluster is
// changed (a UsageError). The run takes the deploy lease of the state
// namespace and releases it at the end. The error is nil when every unit
// succeeded; else it names the failed units and what they held back, and
// Result.Report (when the run started) says what each unit did.
func (o *Deploy) Run(ctx context.Context) (*Result, error) {
	if o.NoDeps && len(o.Tags) == 0 {
		return nil, usagef("--no-deps needs --tags: a whole deploy has no dependencies outside it")
	}
	return o.Config.run(ctx, run{RunOptions: o.RunOptions, tags: o.Tags, noDeps: o.NoDeps, atomic: o.Atomic, repairDrift: o.RepairDrift})
}

// run is a deploy of the units of tags (all when none), with what they
// need unless noDeps.
type run struct {
	RunOptions
	tags   []string
	noDeps bool
	atomic bool
	// repairDrift: Deploy.RepairDrift.
	repairDrift bool
	upgrade     bool
}

func (r *run) validate() error {
	switch {
	case r.Concurrency < 0:
		return usagef("--concurrency %d: want 0 (no cap) or more", r.Concurrency)
	case r.Timeout < 0:
		return usagef("--timeout %s: want 0 (none) or more", r.Timeout)
	case r.UnitTimeout < 0:
		return usagef("--unit-timeout %s: want 0 or more", r.UnitTimeout)
	case r.Diff && !r.DryRun:
		return usagef("--diff needs --dry-run: it shows what a deploy would change, and changes nothing")
	}
	return nil
}

// run is runUnits whose error hides the values the inventory decrypted
// from ansible-vault (a check or a unit that quotes a value).
func (c *Configuration) run(ctx context.Context, r run) (*Result, error) {
	res, err := c.runUnits(ctx, r)
	return res, c.redactErr(err)
}

func (c *Configuration) runUnits(ctx context.Context, r run) (*Result, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	for _, d := range c.opts.Charts {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, usagef("--charts %s: not a directory", d)
		}
	}
	_, s, err := c.Settings()
	if err != nil {
		return nil, err
	}
	cfg := s.Config
	names, err := c.selected(cfg, r.tags)
	if err != nil {
		if r.upgrade {
			return nil, usagef("%v", strings.TrimPrefix(err.Error(), "--tags: "))
		}
		return nil, err
	}
	full, err := c.registry.Graph(cfg, components.GraphOptions{})
	if err != nil {
		return nil, err
	}
	keys, err := c.unitsToRun(full, names, r.noDeps, r.SkipTags)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, usagef("nothing to deploy: every unit is left out by --skip-tags")
	}
	// Every problem of the input is found before the cluster is touched.
	if err := c.connectStack(ctx); err != nil {
		return nil, err
	}
	if err := c.check(ctx, keys); err != nil {
		return nil, err
	}
	measured, err := c.durations.Load(ctx)
	if err != nil {
		c.log.Warn("measured durations unreadable; using the estimates", "error", err)
		measured = nil
	}
	caps := components.DefaultCaps()
	maps.Copy(caps, r.Resources)
	gopts, caps, err := c.hostGraph(ctx, keys, components.GraphOptions{Durations: measured}, caps)
	if err != nil {
		return nil, err
	}
	g, err := c.registry.Graph(cfg, gopts)
	if err != nil {
		return nil, err
	}
	// Units left out keep their place: what needed one now needs what
	// that one needed.
	if g, err = g.Contract(keys); err != nil {
		return nil, err
	}
	if r.noDeps && len(names) > 0 {
		if missing, err := c.notDeployed(ctx, full, keys); err != nil {
			return nil, err
		} else if len(missing) > 0 {
			return nil, fmt.Errorf("%s: not deployed: %s (deploy them first, or leave out --no-deps)",
				strings.Join(names, ", "), strings.Join(missing, ", "))
		}
	}
	if r.DryRun {
		plan, err := c.plan(ctx, g, cfg.NetworkBackend, r.Concurrency, caps, len(measured) > 0, true, r.Diff)
		if err != nil {
			return nil, err
		}
		return &Result{Plan: plan}, nil
	}
	c.stack.Atomic = r.atomic
	c.stack.RepairDrift = r.repairDrift
	if r.UnitTimeout > 0 {
		for _, comp := range c.registry.Components() {
			c.stack.Timeouts[comp.Name] = r.UnitTimeout
		}
	}
	res, err := c.act(ctx, g, caps, r.RunOptions, acting{verb: "deploy", deployer: c.deployer(), keepDurations: true})
	// Where the secrets the run stored came from, never their values.
	if werr := writeSecretSources(c.warn, "note: ", "were", c.secretSources()); werr != nil {
		c.log.Warn("write the secrets' sources", "error", werr)
	}
	return res, err
}

// acting is how act does the units: what does each, and what the run is
// called and keeps.
type acting struct {
	// verb names the run in its error ("deploy failed") and its timing
	// report's files ("deploy-<start>.md").
	verb string
	// deployer does each unit.
	deployer components.Deployer
	// keepDurations saves the units' measured durations, which the next
	// plans and runs rank units by: a deploy's, not a rollback's.
	keepDurations bool
}

// act runs the units of g under the deploy lease: the part of a deploy
// (or a rollback) that changes the cluster.
func (c *Configuration) act(ctx context.Context, g *dag.Graph[string], caps map[string]int, r RunOptions, how acting) (*Result, error) {
	held, err := lease.Acquire(ctx, c.clientset, lease.Options{Namespace: c.opts.StateNamespace})
	if err != nil {
		var h *lease.HeldError
		if errors.As(err, &h) {
			return nil, fmt.Errorf("refused: %w", err)
		}
		return nil, fmt.Errorf("take the deploy lease: %w", err)
	}
	if held.TookOver != "" {
		fmt.Fprintf(c.warn, "note: took over the deploy lease of %s, which ended without releasing it; its unfinished work is picked up\n", held.TookOver)
	}
	defer func() {
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := held.Release(releaseCtx); err != nil {
			c.log.Warn("release the deploy lease", "error", err)
		}
	}()
	// The units of the run ask the cluster once per namespace.
	runCtx, cancel := context.WithCancelCause(kubeutil.WithKnownNamespaces(ctx))
	defer cancel(nil)
	if r.Timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(runCtx, r.Timeout, fmt.Errorf("--timeout %s reached", r.Timeout))
		defer stop()
	}
	go func() {
		select {
		case <-held.Lost():
			cancel(errors.New("lost the deploy lease: another run may have taken the cluster"))
		case <-runCtx.Done():
		}
	}()

	var drain <-chan struct{}
	if r.Drain != nil {
		drain = r.Drain()
	}
	start := time.Now()
	report, runErr := deploy.Run(runCtx, c.registry, g, c.redacting(how.deployer), deploy.Options{
		Concurrency: r.Concurrency, Resources: caps, FailFast: r.FailFast,
		Drain: drain, Observer: c.redactingObserver(r.Observer),
	})
	if report == nil {
		return nil, runErr
	}
	if cause := context.Cause(runCtx); runErr != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		runErr = fmt.Errorf("%w (%v)", runErr, cause)
	}
	if how.keepDurations {
		saveCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer stop()
		if err := c.durations.Save(saveCtx, report.Measured()); err != nil {
			c.log.Warn("keep measured durations", "error", err)
		}
	}
	res := &Result{Report: report}
	if r.ReportDir != "" {
		if res.ReportFiles, err = writeReport(r.ReportDir, how.verb, start, report); err != nil {
			c.log.Warn("write the timing report", "error", err)
		}
	}
	if runErr != nil {
		return res, deployError(how.verb, report, runErr)
	}
	return res, nil
}

// deployError says what failed in a run of verb ("deploy failed"), first
// the root causes, then what they held back.
func deployError(verb string, r *deploy.Report, err error) error {
	var lines []string
	for _, u := range r.Units {
		if u.Result == deploy.Failed {
			lines = append(lines, u.Unit+": "+u.Error)
		}
	}
	c := r.Count()
	var tail []string
	if c[deploy.Skipped] > 0 {
		tail = append(tail, fmt.Sprintf("%d skipped", c[deploy.Skipped]))
	}
	if c[deploy.Cancelled] > 0 {
		tail = append(tail, fmt.Sprintf("%d not started (%s)", c[deploy.Cancelled], cancelReason(r)))
	}
	if len(lines) == 0 && len(tail) == 0 {
		return err
	}
	msg := verb + " failed"
	if len(lines) == 0 {
		msg = verb + " stopped"
	}
	if len(tail) > 0 {
		msg += " (" + strings.Join(tail, ", ") + ")"
	}
	if len(lines) > 0 {
		msg += ":\n  " + strings.Join(lines, "\n  ")
	}
	return errors.New(msg)
}

func cancelReason(r *deploy.Report) string {
	for _, u := range r.Units {
		if u.Result == deploy.Cancelled && u.Error != "" {
			return u.Error
		}
	}
	return "stopped"
}

// unitsToRun picks the units of the named components (all when names is
// nil), with what they need unless noDeps, without those skip names.
func (c *Configuration) unitsToRun(g *dag.Graph[string], names []string, noDeps bool, skip []string) ([]string, error) {
	keys := g.Keys()
	if names != nil {
		sel, err := g.Subgraph(components.Units(g, names), !noDeps)
		if err != nil {
			return nil, err
		}
		keys = sel.Keys()
		if noDeps {
			// Facts read from the hosts are kept by no run: what the units
			// need of them is read again (ceph's for csi's upgrade).
			keys = c.withFacts(g, keys)
		}
	}
	drop := map[string]bool{}
	var problems []string
	for _, sk := range skip {
		name, phase := components.SplitUnit(sk)
		comp, ok := c.registry.Get(name)
		if !ok {
			problem := fmt.Sprintf("unknown component %q", name)
			if near := suggest.Nearest(name, c.registry.Names()); near != "" {
				problem += fmt.Sprintf(" (did you mean %q?)", near)
			}
			problems = append(problems, problem)
			continue
		}
		if phase != "" {
			if _, ok := comp.Phase(phase); !ok {
				var phases []string
				for _, p := range comp.Phases {
					phases = append(phases, p.Name)
				}
				problems = append(problems, fmt.Sprintf("%s has no phase %q (its phases: %s)", name, phase, strings.Join(phases, ", ")))
				continue
			}
			drop[sk] = true
			continue
		}
		for _, p := range comp.Phases {
			drop[components.UnitKey(name, p.Name)] = true
		}
	}
	if len(problems) > 0 {
		return nil, usagef("--skip-tags: %s", strings.Join(problems, "; "))
	}
	return slices.DeleteFunc(keys, func(k string) bool { return drop[k] }), nil
}

// withFacts adds to keys the units reading facts from the hosts
// (components.AnsibleFacts) that one of keys needs directly: the facts of
// its values, read again, as no run keeps them.
func (c *Configuration) withFacts(g *dag.Graph[string], keys []string) []string {
	for _, k := range slices.Clone(keys) {
		n, _ := g.Node(k)
		for _, need := range n.Needs {
			if _, p := c.unit(need); p.Kind == components.AnsibleFacts && !slices.Contains(keys, need) {
				keys = append(keys, need)
			}
		}
	}
	return keys
}

// writeReport writes the Markdown and SVG reports, named by the verb and
// the start ("deploy-20260101T000000Z.md").
func writeReport(dir, verb string, start time.Time, r *deploy.Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, verb+"-"+start.UTC().Format("20060102T150405Z"))
	var paths []string
	for _, f := range []struct {
		ext   string
		write func(*os.File) error
	}{
		{".md", func(f *os.File) error { return r.WriteMarkdown(f) }},
		{".svg", func(f *os.File) error { return r.WriteSVG(f) }},
	} {
		out, err := os.Create(base + f.ext)
		if err != nil {
			return paths, err
		}
		err = errors.Join(f.write(out), out.Close())
		if err != nil {
			return paths, err
		}
		paths = append(paths, base+f.ext)
	}
	return paths, nil
}
