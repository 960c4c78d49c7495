package cmd

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/deploy/view"
)

// ComponentStatus is one line of `atmosphere status`.
type ComponentStatus = action.ComponentStatus

func (a *app) newStatus() *cobra.Command {
	var (
		config configFlags
		tags   []string
		output string
	)
	c := &cobra.Command{
		Use:   "status",
		Short: "Show every component's state in the cluster; exit 1 unless all are healthy",
		Long: "Show, for every component the inventory enables, the state of its Helm release\n" +
			"(deployed, failed, pending, absent; revision, chart, last deployed) or of its own\n" +
			"objects (applied, absent). Touches nothing. Exits 0 when all are healthy, 1 when not.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return usagef("--output %q: want text or json", output)
			}
			rows, err := (&action.Status{Config: a.config(&config), Tags: tags}).Run(cmd.Context())
			if rows == nil {
				return err
			}
			if werr := a.writeStatus(rows, output); werr != nil {
				return werr
			}
			return err
		},
	}
	fs := c.Flags()
	config.addKube(fs)
	config.addInventory(fs)
	tagsFlag(fs, &tags)
	fs.StringVarP(&output, "output", "o", "text", "text or json")
	config.addState(fs)
	return c
}

func (a *app) writeStatus(rows []ComponentStatus, output string) error {
	w := a.streams.Out
	if output == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tSTATE\tREVISION\tCHART\tUPDATED\tLAST DURATION\tDETAIL")
	for _, r := range rows {
		rev, updated, took := "-", "-", "-"
		if r.LastDuration > 0 {
			took = view.Elapsed(time.Duration(r.LastDuration * float64(time.Second)))
		}
		if r.Revision > 0 {
			rev = strconv.Itoa(r.Revision)
		}
		if !r.Updated.IsZero() {
			updated = r.Updated.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, r.State, rev, dash(r.Chart), updated, took, dash(r.Detail))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
