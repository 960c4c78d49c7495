package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/deploy/view"
)

// runFlags are the flags of deploy and upgrade.
type runFlags struct {
	config      configFlags
	schedule    scheduleFlags
	skipTags    []string
	failFast    bool
	dryRun      bool
	diff        bool
	timeout     time.Duration
	unitTimeout time.Duration
	output      string
	reportDir   string
}

func (o *runFlags) addFlags(c *cobra.Command) {
	fs := c.Flags()
	o.config.addKube(fs)
	o.config.addInventory(fs)
	o.config.addState(fs)
	o.config.addCharts(fs)
	o.config.addOSCloud(fs)
	o.config.addAnsible(fs)
	o.schedule.add(fs, DefaultConcurrency)
	skipTagsFlag(fs, &o.skipTags)
	fs.BoolVar(&o.failFast, "fail-fast", false, "start nothing more after the first failure (units in flight finish)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what each unit would do (install, upgrade and why, unchanged) and touch nothing")
	fs.BoolVar(&o.diff, "diff", false, "with --dry-run: show each unit's diff of what it would apply (a release's values and objects, a unit's own objects from their live state; a Secret's keys named, never its data)")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound the whole run (0: none); units still running then are cancelled")
	fs.DurationVar(&o.unitTimeout, "unit-timeout", 0, "bound each Helm and manifest unit's wait (0: each component's own)")
	fs.StringVarP(&o.output, "output", "o", "text", "text (a live view on a terminal, timestamped lines otherwise) or json (one event per line)")
	fs.StringVar(&o.reportDir, "report-dir", "atmosphere-reports", "where the timing report (Markdown and SVG) is written")
}

// options are the flags as the action's RunOptions, with the view of
// --output; finish stops the view.
func (a *app) options(o *runFlags) (opts action.RunOptions, finish func(), err error) {
	if o.output != "text" && o.output != "json" {
		return opts, nil, usagef("--output %q: want text or json", o.output)
	}
	observer, finish := a.progress(o.output)
	return action.RunOptions{
		SkipTags: o.skipTags, Concurrency: o.schedule.concurrency, Resources: o.schedule.resources,
		FailFast: o.failFast, DryRun: o.dryRun, Diff: o.diff, Timeout: o.timeout, UnitTimeout: o.unitTimeout,
		ReportDir: o.reportDir, Drain: a.interrupts.deploying, Observer: observer,
	}, finish, nil
}

func (a *app) newDeploy() *cobra.Command {
	o := &runFlags{}
	var tags []string
	var noDeps, atomic, repairDrift bool
	c := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy the cloud, or the components of --tags, in parallel",
		Long: "Deploy every component the inventory enables, each unit of work started the\n" +
			"moment what it needs is done. A unit whose release, objects or OpenStack\n" +
			"resources are already as wanted changes nothing.\n\n" +
			"Ansible units (the host roles, the Kubernetes cluster, ceph) run\n" +
			"ansible-playbook (--ansible-playbook, else from PATH; ansible-core 2.15 or\n" +
			"later) with atmosphere's collection vexxhost.atmosphere, found where ansible\n" +
			"finds collections or in --collections-path, on the hosts of the inventory\n" +
			"that atmosphere's playbooks name; a missing one stops the deploy before\n" +
			"anything starts. When the hosts, the cluster and Ceph exist already, say so\n" +
			"once with atmosphere_hosts_provided: true in the inventory (or\n" +
			"--hosts-provided): the Ansible units are then reported as provided.\n\n" +
			"Ctrl-C once: start nothing more and let the units in flight finish.\n" +
			"Ctrl-C twice: cancel them too. Either way the next run picks up from there.",
		Example: "  atmosphere deploy --inventory inventory/\n" +
			"  atmosphere deploy --inventory inventory/ --tags glance,cinder --dry-run\n" +
			"  atmosphere deploy --inventory inventory/ --output json > events.jsonl",
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, finish, err := a.options(o)
			if err != nil {
				return err
			}
			d := &action.Deploy{Config: a.config(&o.config), RunOptions: opts, Tags: tags, NoDeps: noDeps, Atomic: atomic, RepairDrift: repairDrift}
			res, err := d.Run(cmd.Context())
			finish()
			return a.result(o.output, res, err)
		},
	}
	o.addFlags(c)
	tagsFlag(c.Flags(), &tags)
	c.Flags().BoolVar(&noDeps, "no-deps", false, "with --tags: do not deploy what they need; check it is deployed instead")
	c.Flags().BoolVar(&atomic, "atomic", false, "roll a release whose upgrade fails back to its last deployed revision")
	c.Flags().BoolVar(&repairDrift, "repair-drift", false, "upgrade a release whose live objects drifted from it (status --drift) even when its chart, values and images are unchanged")
	return c
}

func (a *app) newUpgrade() *cobra.Command {
	o := &runFlags{}
	var rollback bool
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
			opts, finish, err := a.options(o)
			if err != nil {
				return err
			}
			u := &action.Upgrade{Config: a.config(&o.config), RunOptions: opts, Components: args, Rollback: rollback}
			res, err := u.Run(cmd.Context())
			finish()
			return a.result(o.output, res, err)
		},
	}
	o.addFlags(c)
	c.Flags().BoolVar(&rollback, "rollback", false, "roll a release whose upgrade fails back to its last deployed revision")
	return c
}

// result shows what a deploy, an upgrade or a rollback did (output is
// --output): the plan of a dry run (as text with the units' diffs, or as
// one JSON object per unit, its diff a field), or the summary and the
// timing report's files after the view's events.
func (a *app) result(output string, res *action.Result, err error) error {
	if res == nil {
		return err
	}
	if res.Plan != nil {
		if output == "json" {
			enc := json.NewEncoder(a.streams.Out)
			for _, u := range res.Plan.Units {
				if werr := enc.Encode(u); werr != nil {
					return werr
				}
			}
			return err
		}
		if werr := res.Plan.WriteText(a.streams.Out); werr != nil {
			return werr
		}
		if werr := res.Plan.WriteDiffs(a.streams.Out, a.outIsTerminal()); werr != nil {
			return werr
		}
		return err
	}
	if output == "text" && res.Report != nil {
		fmt.Fprintf(a.streams.Out, "\n%s\n", res.Report.Summary())
		if len(res.ReportFiles) > 0 {
			fmt.Fprintf(a.streams.Out, "timing report: %s\n", strings.Join(res.ReportFiles, ", "))
		}
	}
	return err
}

// outIsTerminal says whether the command's output is a terminal.
func (a *app) outIsTerminal() bool {
	f, ok := a.streams.Out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress picks the view of the run's events: JSON lines, a live view on
// a terminal (started by the first event, so that nothing is drawn for a
// run refused before its units start), or timestamped lines. finish stops
// it.
func (a *app) progress(output string) (deploy.Observer, func()) {
	if output == "json" {
		return view.NewJSON(a.streams.Out), func() {}
	}
	if f, ok := a.streams.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return a.terminal(f)
	}
	return view.NewLines(a.streams.Out), func() {}
}

func (a *app) terminal(f *os.File) (deploy.Observer, func()) {
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		width = 100
	}
	t := view.NewTerminal(f, width)
	var once sync.Once
	started := false
	var restore func()
	start := func() {
		started = true
		t.Start(100 * time.Millisecond)
		// Logs go above the live view, which they would tear otherwise.
		if a.logOut != nil {
			old := a.logOut.swap(t)
			restore = func() { a.logOut.swap(old) }
		}
	}
	observe := deploy.ObserverFunc(func(e deploy.Event) {
		once.Do(start)
		t.Observe(e)
	})
	return observe, func() {
		once.Do(func() {})
		if started {
			t.Stop()
		}
		if restore != nil {
			restore()
		}
	}
}
