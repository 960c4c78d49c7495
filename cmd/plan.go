package cmd

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/action"
)

func (a *app) newPlan() *cobra.Command {
	var (
		config   configFlags
		schedule scheduleFlags
		tags     []string
		skipTags []string
	)
	c := &cobra.Command{
		Use:   "plan",
		Short: "Show what a deploy would do, its order, critical path and ETA; changes nothing",
		Long: "Show when each unit of work would start and how long it is expected to take,\n" +
			"the critical path and the ETA, by running the scheduler on a virtual clock.\n" +
			"With a cluster (--kubeconfig, --context or $KUBECONFIG) it also shows what each\n" +
			"unit would change (install, upgrade and why: chart, values, images; adopt: a\n" +
			"release or objects another tool made, as atmosphere renders them; unchanged;\n" +
			"an Ansible unit: what it runs on which hosts of the inventory), the secrets it\n" +
			"would generate (names only) and those it would take from the running cloud (a\n" +
			"release's values or an object; name and where, never a value), and\n" +
			"takes the durations the last deploy measured. Touches nothing.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := &action.Plan{Config: a.config(&config), Tags: tags, SkipTags: skipTags,
				Concurrency: schedule.concurrency, Resources: schedule.resources,
				Cluster: config.kube.kubeconfig != "" || config.kube.context != "" || os.Getenv("KUBECONFIG") != ""}
			res, err := p.Run(cmd.Context())
			if err != nil {
				return err
			}
			return res.WriteText(a.streams.Out)
		},
	}
	fs := c.Flags()
	config.addKube(fs)
	tagsFlag(fs, &tags)
	skipTagsFlag(fs, &skipTags)
	config.addInventory(fs)
	schedule.add(fs, DefaultConcurrency)
	config.addCharts(fs)
	config.addState(fs)
	config.addAnsible(fs)
	return c
}
