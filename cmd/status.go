package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/helmdeployer"
	"github.com/vexxhost/atmosphere-go/components/manifest"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/deploy/view"
)

type statusOptions struct {
	kube      kubeFlags
	state     string
	inventory string
	tags      []string
	output    string
}

// ComponentStatus is one line of `atmosphere status`.
type ComponentStatus struct {
	Component string `json:"component"`
	// State is deployed, failed, pending, absent, applied, or untracked
	// (Ansible and OpenStack work leaves nothing in the cluster to read).
	State    string    `json:"state"`
	Detail   string    `json:"detail,omitempty"`
	Revision int       `json:"revision,omitempty"`
	Chart    string    `json:"chart,omitempty"`
	Updated  time.Time `json:"updated,omitzero"`
	// LastDuration is how long the component's units took the last time a
	// deploy changed them, in seconds (0 when never measured).
	LastDuration float64 `json:"last_duration,omitempty"`
}

func (s ComponentStatus) healthy() bool {
	return s.State == "deployed" || s.State == "applied" || s.State == "untracked"
}

func (a *app) newStatus() *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show every component's state in the cluster; exit 1 unless all are healthy",
		Long: "Show, for every component the inventory enables, the state of its Helm release\n" +
			"(deployed, failed, pending, absent; revision, chart, last deployed) or of its own\n" +
			"objects (applied, absent). Touches nothing. Exits 0 when all are healthy, 1 when not.",
		RunE: func(cmd *cobra.Command, _ []string) error { return a.status(cmd, o) },
	}
	o.kube.add(c.Flags())
	inventoryFlag(c.Flags(), &o.inventory)
	tagsFlag(c.Flags(), &o.tags)
	c.Flags().StringVarP(&o.output, "output", "o", "text", "text or json")
	c.Flags().StringVar(&o.state, "state-namespace", DefaultStateNamespace, "namespace of atmosphere's measured durations")
	return c
}

func (a *app) status(cmd *cobra.Command, o *statusOptions) error {
	if o.output != "text" && o.output != "json" {
		return usagef("--output %q: want text or json", o.output)
	}
	s, err := a.settings(o.inventory)
	if err != nil {
		return err
	}
	names, err := a.selected(s.Config, o.tags)
	if err != nil {
		return err
	}
	if names == nil {
		for _, c := range a.registry.Components() {
			if c.IsEnabled(s.Config) {
				names = append(names, c.Name)
			}
		}
	}
	cfg, err := o.kube.reach(cmd.Context())
	if err != nil {
		return err
	}
	factory, err := helmdeployer.NewFactory(cfg, nil)
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	helm := helmdeployer.New(factory, nil)
	applier, err := manifest.NewApplierForConfig(cfg, nil)
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	measured, err := (&deploy.Durations{Client: factory.Clientset(), Namespace: o.state}).Load(cmd.Context())
	if err != nil {
		return err
	}
	var rows []ComponentStatus
	for _, c := range a.registry.Components() {
		if !slices.Contains(names, c.Name) {
			continue
		}
		row, err := componentStatus(cmd.Context(), helm, applier, c)
		if err != nil {
			return err
		}
		for _, p := range c.Phases {
			row.LastDuration += measured[components.UnitKey(c.Name, p.Name)].Round(time.Millisecond).Seconds()
		}
		rows = append(rows, row)
	}
	if err := a.writeStatus(rows, o.output); err != nil {
		return err
	}
	var unhealthy []string
	for _, r := range rows {
		if !r.healthy() {
			unhealthy = append(unhealthy, r.Component+" "+r.State)
		}
	}
	if len(unhealthy) > 0 {
		return fmt.Errorf("%d of %d components not healthy: %s", len(unhealthy), len(rows), strings.Join(unhealthy, ", "))
	}
	return nil
}

// componentStatus reads a component's state from the cluster: its Helm
// release, or its manifest inventory; Ansible and OpenStack work leaves
// nothing to read (untracked).
func componentStatus(ctx context.Context, helm *helmdeployer.Deployer, applier *manifest.Applier, c *components.Component) (ComponentStatus, error) {
	row := ComponentStatus{Component: c.Name, State: "untracked"}
	switch {
	case c.Chart != nil && slices.Contains(c.Kinds, components.Helm):
		st, err := helm.Status(ctx, c.Release, c.Namespace)
		if err != nil {
			return row, fmt.Errorf("status of %s: %w", c.Name, err)
		}
		row.State, row.Revision, row.Chart, row.Updated = releaseState(st), st.Revision, st.Chart, st.Updated
		if st.Found && row.State != "deployed" {
			row.Detail = st.Status
		}
	case slices.Contains(c.Kinds, components.Manifest):
		found, n, err := applier.Applied(ctx, c.Name, c.Namespace)
		if err != nil {
			return row, fmt.Errorf("status of %s: %w", c.Name, err)
		}
		row.State = "absent"
		if found {
			row.State, row.Detail = "applied", strconv.Itoa(n)+" objects"
		}
	}
	return row, nil
}

func releaseState(st helmdeployer.ReleaseStatus) string {
	switch {
	case !st.Found || st.Status == "uninstalled":
		return "absent"
	case st.Status == "deployed":
		return "deployed"
	case strings.HasPrefix(st.Status, "pending"):
		return "pending"
	}
	return "failed"
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
