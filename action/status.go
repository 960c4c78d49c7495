package action

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// ComponentStatus is a component's state in the cluster.
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
	// Drift are the component's objects whose live state is not what was
	// applied, with the fields that differ (Status.Drift only).
	Drift []manifest.Drift `json:"drift,omitempty"`
}

// Healthy reports whether the state is one a deploy leaves: deployed,
// applied, or untracked.
func (s ComponentStatus) Healthy() bool {
	return s.State == engine.Deployed || s.State == engine.Applied || s.State == engine.Untracked
}

// Status reads every component's state in the cluster. It changes nothing.
type Status struct {
	Config *Configuration
	// Tags narrows the status to these components; all the inventory
	// enables when empty.
	Tags []string
	// Drift also compares the live objects of every release and set of
	// own objects with what was applied (engine.Drifter; manifest.Compare
	// says which fields count), and fails with a *DriftError when any
	// differ or are gone.
	Drift bool
}

// DriftError is Status's error when objects drifted from what was applied
// (and every component is healthy).
type DriftError struct {
	// Objects counts the drifted objects, Components the components they
	// are of.
	Objects    int
	Components []string
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("%d objects of %d components drifted from what was applied: %s", e.Objects, len(e.Components), strings.Join(e.Components, ", "))
}

// UnhealthyError is Status's error when some components are not healthy.
type UnhealthyError struct {
	// Unhealthy are "<component> <state>" of each.
	Unhealthy []string
	Total     int
}

func (e *UnhealthyError) Error() string {
	return fmt.Sprintf("%d of %d components not healthy: %s", len(e.Unhealthy), e.Total, strings.Join(e.Unhealthy, ", "))
}

// Run returns the components' states in the registry's order. When some
// are not healthy, it returns them all with an *UnhealthyError; on any
// other error, no rows.
func (o *Status) Run(ctx context.Context) ([]ComponentStatus, error) {
	c := o.Config
	_, s, err := c.Settings()
	if err != nil {
		return nil, err
	}
	names, err := c.selected(s.Config, o.Tags)
	if err != nil {
		return nil, err
	}
	if names == nil {
		for _, comp := range c.registry.Components() {
			if comp.IsEnabled(s.Config) {
				names = append(names, comp.Name)
			}
		}
	}
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	measured, err := c.durations.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the measured durations: %w", err)
	}
	var rows []ComponentStatus
	for _, comp := range c.registry.Components() {
		if !slices.Contains(names, comp.Name) {
			continue
		}
		row, err := c.componentStatus(ctx, comp)
		if err != nil {
			return nil, err
		}
		if o.Drift {
			if row.Drift, err = c.componentDrift(ctx, comp); err != nil {
				return nil, err
			}
		}
		for _, p := range comp.Phases {
			row.LastDuration += measured[components.UnitKey(comp.Name, p.Name)].Round(time.Millisecond).Seconds()
		}
		rows = append(rows, row)
	}
	var unhealthy []string
	for _, r := range rows {
		if !r.Healthy() {
			unhealthy = append(unhealthy, r.Component+" "+r.State)
		}
	}
	if len(unhealthy) > 0 {
		return rows, &UnhealthyError{Unhealthy: unhealthy, Total: len(rows)}
	}
	drift := &DriftError{}
	for _, r := range rows {
		if len(r.Drift) > 0 {
			drift.Objects += len(r.Drift)
			drift.Components = append(drift.Components, r.Component)
		}
	}
	if drift.Objects > 0 {
		return rows, drift
	}
	return rows, nil
}

// componentDrift asks the engine of each of the component's kinds of work
// that leaves objects (engine.Drifter) what drifted; an object two engines
// compare is named once.
func (c *Configuration) componentDrift(ctx context.Context, comp *components.Component) ([]manifest.Drift, error) {
	var out []manifest.Drift
	seen := map[string]bool{}
	for _, kind := range comp.Kinds {
		e, err := c.engine(kind)
		if err != nil {
			return nil, fmt.Errorf("drift of %s: %w", comp.Name, err)
		}
		d, ok := e.(engine.Drifter)
		if !ok {
			continue
		}
		found, err := d.Drift(ctx, comp)
		if err != nil {
			return nil, fmt.Errorf("drift of %s: %w", comp.Name, err)
		}
		for _, f := range found {
			if !seen[f.Object] {
				seen[f.Object] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// componentStatus reads a component's state from the cluster: that of the
// first of its kinds of work (in the order of Component.Kinds: its release
// before its own objects) whose engine finds something to read, else
// untracked (Ansible and OpenStack work leaves nothing to read).
func (c *Configuration) componentStatus(ctx context.Context, comp *components.Component) (ComponentStatus, error) {
	row := ComponentStatus{Component: comp.Name, State: engine.Untracked}
	for _, kind := range comp.Kinds {
		e, err := c.engine(kind)
		if err != nil {
			return row, fmt.Errorf("status of %s: %w", comp.Name, err)
		}
		st, err := e.Status(ctx, comp)
		if err != nil {
			return row, fmt.Errorf("status of %s: %w", comp.Name, err)
		}
		if st.State != engine.Untracked {
			row.State, row.Detail, row.Revision, row.Chart, row.Updated = st.State, st.Detail, st.Revision, st.Chart, st.Updated
			break
		}
	}
	return row, nil
}

// notDeployed names the components outside keys that units of keys need
// and that are not healthy in the cluster (release not deployed, objects
// absent), each with its state.
func (c *Configuration) notDeployed(ctx context.Context, full *dag.Graph[string], keys []string) ([]string, error) {
	var needed []string
	for _, k := range keys {
		n, _ := full.Node(k)
		for _, need := range n.Needs {
			if !slices.Contains(keys, need) {
				name, _ := components.SplitUnit(need)
				needed = append(needed, name)
			}
		}
	}
	slices.Sort(needed)
	var missing []string
	for _, name := range slices.Compact(needed) {
		comp, _ := c.registry.Get(name)
		st, err := c.componentStatus(ctx, comp)
		if err != nil {
			return nil, err
		}
		if !st.Healthy() {
			missing = append(missing, name+" ("+st.State+")")
		}
	}
	return missing, nil
}
