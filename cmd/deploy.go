package cmd

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

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/deploy/view"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
	"github.com/vexxhost/atmosphere-go/inventory"
	"github.com/vexxhost/atmosphere-go/lease"
)

// deployOptions are the flags of deploy and upgrade.
type deployOptions struct {
	kube        kubeFlags
	inventory   string
	tags        []string
	skipTags    []string
	noDeps      bool
	concurrency int
	resources   resourceFlag
	failFast    bool
	dryRun      bool
	timeout     time.Duration
	unitTimeout time.Duration
	output      string
	osCloud     string
	charts      []string
	reportDir   string
	state       string
	rollback    bool
}

// DefaultStateNamespace holds atmosphere's own state: the deploy lease, the
// generated secrets and the measured durations.
const DefaultStateNamespace = "atmosphere"

func (o *deployOptions) addFlags(c *cobra.Command) {
	fs := c.Flags()
	o.kube.add(fs)
	inventoryFlag(fs, &o.inventory)
	fs.StringSliceVar(&o.skipTags, "skip-tags", nil, "leave out these components or units (component or component:phase, comma-separated); what needs them still runs")
	fs.IntVar(&o.concurrency, "concurrency", DefaultConcurrency, "cap on units in flight (0: no cap)")
	fs.Var(o.resources, "resource", "cap a resource, name=N (repeatable; overrides the registry's caps)")
	fs.BoolVar(&o.failFast, "fail-fast", false, "start nothing more after the first failure (units in flight finish)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what each unit would do (install, upgrade and why, unchanged) and touch nothing")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound the whole run (0: none); units still running then are cancelled")
	fs.DurationVar(&o.unitTimeout, "unit-timeout", 0, "bound each Helm and manifest unit's wait (0: each component's own)")
	fs.StringVarP(&o.output, "output", "o", "text", "text (a live view on a terminal, timestamped lines otherwise) or json (one event per line)")
	fs.StringVar(&o.osCloud, "os-cloud", "", "clouds.yaml cloud for the OpenStack set-up ($OS_CLOUD; when both are empty, the admin of the keystone atmosphere deploys)")
	fs.StringArrayVar(&o.charts, "charts", nil, "a directory of unpacked charts (<name>/Chart.yaml) to take pinned charts from before downloading (repeatable)")
	fs.StringVar(&o.reportDir, "report-dir", "atmosphere-reports", "where the timing report (Markdown and SVG) is written")
	fs.StringVar(&o.state, "state-namespace", DefaultStateNamespace, "namespace of atmosphere's lease, secrets and measured durations")
}

func (a *app) newDeploy() *cobra.Command {
	o := &deployOptions{resources: resourceFlag{}}
	c := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy the cloud, or the components of --tags, in parallel",
		Long: "Deploy every component the inventory enables, each unit of work started the\n" +
			"moment what it needs is done. A unit whose release, objects or OpenStack\n" +
			"resources are already as wanted changes nothing. Ansible units (hosts, the\n" +
			"Kubernetes cluster, ceph) are reported as provided by the environment.\n\n" +
			"Ctrl-C once: start nothing more and let the units in flight finish.\n" +
			"Ctrl-C twice: cancel them too. Either way the next run picks up from there.",
		Example: "  atmosphere deploy --inventory inventory/\n" +
			"  atmosphere deploy --inventory inventory/ --tags glance,cinder --dry-run\n" +
			"  atmosphere deploy --inventory inventory/ --output json > events.jsonl",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.deploy(cmd.Context(), o, o.tags, false)
		},
	}
	o.addFlags(c)
	tagsFlag(c.Flags(), &o.tags)
	c.Flags().BoolVar(&o.noDeps, "no-deps", false, "with --tags: do not deploy what they need; check it is deployed instead")
	c.Flags().BoolVar(&o.rollback, "atomic", false, "roll a release whose upgrade fails back to its last deployed revision")
	return c
}

func (a *app) newUpgrade() *cobra.Command {
	o := &deployOptions{resources: resourceFlag{}}
	c := &cobra.Command{
		Use:   "upgrade COMPONENT...",
		Short: "Upgrade components (chart, values, images) whose dependencies are deployed",
		Long: "Upgrade the named components: every phase of each, in order, with the chart,\n" +
			"values and images of this version and the inventory. What they need must be\n" +
			"deployed already (it is checked, and named when it is not). With --rollback a\n" +
			"release whose upgrade fails is rolled back to the revision that was serving.",
		Example: "  atmosphere upgrade nova --inventory inventory/\n" +
			"  atmosphere upgrade glance cinder --inventory inventory/ --rollback",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.noDeps, o.tags = true, args
			return a.deploy(cmd.Context(), o, args, true)
		},
	}
	o.addFlags(c)
	c.Flags().BoolVar(&o.rollback, "rollback", false, "roll a release whose upgrade fails back to its last deployed revision")
	return c
}

func (o *deployOptions) validate() error {
	switch {
	case o.output != "text" && o.output != "json":
		return usagef("--output %q: want text or json", o.output)
	case o.concurrency < 0:
		return usagef("--concurrency %d: want 0 (no cap) or more", o.concurrency)
	case o.timeout < 0:
		return usagef("--timeout %s: want 0 (none) or more", o.timeout)
	case o.unitTimeout < 0:
		return usagef("--unit-timeout %s: want 0 or more", o.unitTimeout)
	case o.noDeps && len(o.tags) == 0:
		return usagef("--no-deps needs --tags: a whole deploy has no dependencies outside it")
	}
	for _, d := range o.charts {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return usagef("--charts %s: not a directory", d)
		}
	}
	return nil
}

func (a *app) deploy(ctx context.Context, o *deployOptions, tags []string, upgrade bool) error {
	if err := o.validate(); err != nil {
		return err
	}
	inv, s, err := a.load(o.inventory)
	if err != nil {
		return err
	}
	cfg := s.Config
	names, err := a.selected(cfg, tags)
	if err != nil {
		if upgrade {
			return usagef("%v", strings.TrimPrefix(err.Error(), "--tags: "))
		}
		return err
	}
	full, err := a.registry.Graph(cfg, components.GraphOptions{})
	if err != nil {
		return err
	}
	keys, err := a.unitsToRun(full, names, o.noDeps, o.skipTags)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return usagef("nothing to deploy: every unit is left out by --skip-tags")
	}
	// Every problem of the input is found before the cluster is touched.
	e, err := a.connect(ctx, o, inv, s)
	if err != nil {
		return err
	}
	if err := e.check(ctx, a.registry, keys); err != nil {
		return err
	}
	measured, err := e.durations.Load(ctx)
	if err != nil {
		a.log.Warn("measured durations unreadable; using the estimates", "error", err)
		measured = nil
	}
	g, err := a.registry.Graph(cfg, components.GraphOptions{Durations: measured})
	if err != nil {
		return err
	}
	// Units left out keep their place: what needed one now needs what
	// that one needed.
	if g, err = g.Contract(keys); err != nil {
		return err
	}
	if o.noDeps && len(names) > 0 {
		if missing, err := e.notDeployed(ctx, a.registry, full, keys); err != nil {
			return err
		} else if len(missing) > 0 {
			return fmt.Errorf("%s: not deployed: %s (deploy them first, or leave out --no-deps)",
				strings.Join(names, ", "), strings.Join(missing, ", "))
		}
	}
	caps := components.DefaultCaps()
	maps.Copy(caps, o.resources)
	if o.dryRun {
		return a.writePlan(ctx, e, g, cfg.NetworkBackend, o.concurrency, caps, len(measured) > 0)
	}

	held, err := lease.Acquire(ctx, e.clientset, lease.Options{Namespace: o.state})
	if err != nil {
		var h *lease.HeldError
		if errors.As(err, &h) {
			return fmt.Errorf("refused: %w", err)
		}
		return fmt.Errorf("take the deploy lease: %w", err)
	}
	if held.TookOver != "" {
		fmt.Fprintf(a.streams.Err, "note: took over the deploy lease of %s, which ended without releasing it; its unfinished work is picked up\n", held.TookOver)
	}
	defer func() {
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := held.Release(releaseCtx); err != nil {
			a.log.Warn("release the deploy lease", "error", err)
		}
	}()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if o.timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(runCtx, o.timeout, fmt.Errorf("--timeout %s reached", o.timeout))
		defer stop()
	}
	go func() {
		select {
		case <-held.Lost():
			cancel(errors.New("lost the deploy lease: another run may have taken the cluster"))
		case <-runCtx.Done():
		}
	}()

	observer, finish := a.progress(o.output)
	start := time.Now()
	report, runErr := deploy.Run(runCtx, a.registry, g, e.deployer(), deploy.Options{
		Concurrency: o.concurrency, Resources: caps, FailFast: o.failFast,
		Drain: a.interrupts.deploying(), Observer: observer,
	})
	finish()
	if report == nil {
		return runErr
	}
	if cause := context.Cause(runCtx); runErr != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		runErr = fmt.Errorf("%w (%v)", runErr, cause)
	}
	saveCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	if err := e.durations.Save(saveCtx, report.Measured()); err != nil {
		a.log.Warn("keep measured durations", "error", err)
	}
	paths, err := writeReport(o.reportDir, start, report)
	if err != nil {
		a.log.Warn("write the timing report", "error", err)
	}
	if o.output == "text" {
		fmt.Fprintf(a.streams.Out, "\n%s\n", report.Summary())
		if len(paths) > 0 {
			fmt.Fprintf(a.streams.Out, "timing report: %s\n", strings.Join(paths, ", "))
		}
	}
	if runErr != nil {
		return deployError(report, runErr)
	}
	return nil
}

// deployError says what failed, first the root causes, then what they
// held back.
func deployError(r *deploy.Report, err error) error {
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
	msg := "deploy failed"
	if len(lines) == 0 {
		msg = "deploy stopped"
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
func (a *app) unitsToRun(g *dag.Graph[string], names []string, noDeps bool, skip []string) ([]string, error) {
	keys := g.Keys()
	if names != nil {
		sel, err := g.Subgraph(components.Units(g, names), !noDeps)
		if err != nil {
			return nil, err
		}
		keys = sel.Keys()
	}
	drop := map[string]bool{}
	var problems []string
	for _, sk := range skip {
		name, phase := components.SplitUnit(sk)
		c, ok := a.registry.Get(name)
		if !ok {
			problem := fmt.Sprintf("unknown component %q", name)
			if near := suggest.Nearest(name, a.registry.Names()); near != "" {
				problem += fmt.Sprintf(" (did you mean %q?)", near)
			}
			problems = append(problems, problem)
			continue
		}
		if phase != "" {
			if _, ok := c.Phase(phase); !ok {
				var phases []string
				for _, p := range c.Phases {
					phases = append(phases, p.Name)
				}
				problems = append(problems, fmt.Sprintf("%s has no phase %q (its phases: %s)", name, phase, strings.Join(phases, ", ")))
				continue
			}
			drop[sk] = true
			continue
		}
		for _, p := range c.Phases {
			drop[components.UnitKey(name, p.Name)] = true
		}
	}
	if len(problems) > 0 {
		return nil, usagef("--skip-tags: %s", strings.Join(problems, "; "))
	}
	return slices.DeleteFunc(keys, func(k string) bool { return drop[k] }), nil
}

// overrides maps the inventory's <name>_helm_values to components: by the
// component's name or its release's, with "_" for "-". Values for a
// component this deployment does not have are reported and ignored.
func (a *app) overrides(s *inventory.Settings) map[string]values.Values {
	byVar := a.valuesPrefixes()
	out := map[string]values.Values{}
	for _, prefix := range slices.Sorted(maps.Keys(s.HelmValues)) {
		name, ok := byVar[prefix]
		if !ok {
			fmt.Fprintf(a.streams.Err, "warning: %s_helm_values: no component of this deployment has a chart called %s; ignored\n", prefix, prefix)
			continue
		}
		out[name] = values.Merge(out[name], s.HelmValues[prefix])
	}
	return out
}

// valuesPrefixes maps each <prefix> of <prefix>_helm_values to the
// component it names: a component with a chart, by its name or its
// release's, with "_" for "-".
func (a *app) valuesPrefixes() map[string]string { return a.registry.ValuesPrefixes() }

// progress picks the view of the run's events: JSON lines, a live view on
// a terminal, or timestamped lines. finish stops it.
func (a *app) progress(output string) (deploy.Observer, func()) {
	if output == "json" {
		return view.NewJSON(a.streams.Out), func() {}
	}
	if f, ok := a.streams.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			width = 100
		}
		t := view.NewTerminal(f, width)
		t.Start(100 * time.Millisecond)
		// Logs go above the live view, which they would tear otherwise.
		var restore func()
		if a.logOut != nil {
			old := a.logOut.swap(t)
			restore = func() { a.logOut.swap(old) }
		}
		return t, func() {
			t.Stop()
			if restore != nil {
				restore()
			}
		}
	}
	return view.NewLines(a.streams.Out), func() {}
}

// writeReport writes the Markdown and SVG reports, named by the start.
func writeReport(dir string, start time.Time, r *deploy.Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, "deploy-"+start.UTC().Format("20060102T150405Z"))
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
