package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/action"
)

func (a *app) newRollback() *cobra.Command {
	var (
		config    configFlags
		revision  int
		timeout   time.Duration
		output    string
		reportDir string
	)
	c := &cobra.Command{
		Use:   "rollback COMPONENT",
		Short: "Roll a component's Helm release back to an earlier revision",
		Long: "Roll the component's Helm release back to the last revision deployed before\n" +
			"the current one, or to --revision N, with that revision's chart and values,\n" +
			"waiting and reporting as a deploy does. It holds the deploy lease, as deploy\n" +
			"does. Refused (exit 2) before anything changes when the component is unknown,\n" +
			"has no Helm release (manifest or OpenStack work: deploy it again instead), or\n" +
			"has no revision to go back to. The next deploy puts the inventory's values\n" +
			"back.",
		Example: "  atmosphere rollback glance\n" +
			"  atmosphere rollback nova --revision 3 --output json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usagef("--output %q: want text or json", output)
			}
			observer, finish := a.progress(output)
			r := &action.Rollback{Config: a.config(&config), Component: args[0], Revision: revision, Timeout: timeout,
				ReportDir: reportDir, Drain: a.interrupts.deploying, Observer: observer}
			res, err := r.Run(cmd.Context())
			finish()
			return a.result(output, res, err)
		},
	}
	fs := c.Flags()
	config.addKube(fs)
	config.addInventory(fs)
	config.addState(fs)
	fs.IntVar(&revision, "revision", 0, "the revision to go back to (0: the last one deployed before the current one)")
	fs.DurationVar(&timeout, "timeout", 0, "bound the rollback and its wait (0: the component's own)")
	fs.StringVarP(&output, "output", "o", "text", "text (a live view on a terminal, timestamped lines otherwise) or json (one event per line)")
	fs.StringVar(&reportDir, "report-dir", "atmosphere-reports", "where the timing report (Markdown and SVG) is written")
	return c
}
