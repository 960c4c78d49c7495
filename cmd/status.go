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
		drift  bool
	)
	c := &cobra.Command{
		Use:   "status",
		Short: "Show every component's state in the cluster; exit 1 unless all are healthy",
		Long: "Show, for every component the inventory enables, the state of its Helm release\n" +
			"(deployed, failed, pending, absent; revision, chart, last deployed) or of its own\n" +
			"objects (applied, absent). Touches nothing. Exits 0 when all are healthy, 1 when not.\n\n" +
			"--drift compares instead the live objects of each release (its deployed manifest)\n" +
			"and each component's own objects (as last applied) with what was applied, field by\n" +
			"field, for the fields atmosphere set (not those the server defaults, nor status),\n" +
			"and names each object and field that differs or is gone (a Secret's keys, never\n" +
			"its values). Exits 1 when anything drifted; the next deploy puts it back.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return usagef("--output %q: want text or json", output)
			}
			rows, err := (&action.Status{Config: a.config(&config), Tags: tags, Drift: drift}).Run(cmd.Context())
			if rows == nil {
				return err
			}
			write := a.writeStatus
			if drift {
				write = a.writeDrift
			}
			if werr := write(rows, output); werr != nil {
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
	fs.BoolVar(&drift, "drift", false, "compare the live objects with what was applied; exit 1 when any drifted")
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

// writeDrift writes, for --drift, one line per drifted object ("<component>:
// <Kind> <ns>/<name>: <path> <applied> → <live>; ...") and a last line that
// sums up, or as JSON the rows (each with its drift).
func (a *app) writeDrift(rows []ComponentStatus, output string) error {
	if output == "json" {
		return a.writeStatus(rows, output)
	}
	w := a.streams.Out
	objects, comps := 0, 0
	for _, r := range rows {
		if len(r.Drift) > 0 {
			comps++
		}
		for _, d := range r.Drift {
			objects++
			if _, err := fmt.Fprintf(w, "%s: %s\n", r.Component, d); err != nil {
				return err
			}
		}
	}
	var err error
	if objects == 0 {
		_, err = fmt.Fprintf(w, "no drift in %d components\n", len(rows))
	} else {
		_, err = fmt.Fprintf(w, "%d objects of %d components drifted\n", objects, comps)
	}
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
