package kubephase

import (
	"context"
	"slices"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
)

// TestRemovedEdgesAreWaitedForByTheCharts: each edge the registry dropped
// because the chart's own pods wait for what it expressed (#25) is still
// such a wait in the release's values: a service of the other component
// in a dependencies list of the chart (kubernetes-entrypoint waits for its
// endpoints), and the registry no longer has the edge. Were the chart to
// stop waiting, the edge would have to come back.
func TestRemovedEdgesAreWaitedForByTheCharts(t *testing.T) {
	st, _ := fidelitySettings(t, "", "")
	st.Charts = chartLoader()
	reg := components.Default()
	for _, tt := range []struct {
		component, need, dependencies, service string
	}{
		// nova-compute's pods wait for glance's API (they fetch images).
		{"nova", "glance", "dependencies.static.compute.services", "image"},
	} {
		c, _ := reg.Get(tt.component)
		install, _ := c.Phase("install")
		if slices.Contains(install.Needs, tt.need) {
			t.Errorf("%s:install still needs %s", tt.component, tt.need)
		}
		ch, err := st.Charts.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Fatal(err)
		}
		own, err := st.Values(c, ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := values.Get(values.Merge(ch.Values, own), tt.dependencies)
		waits := false
		items, _ := list.([]any)
		for _, d := range items {
			if m, ok := d.(map[string]any); ok && m["service"] == tt.service {
				waits = true
			}
		}
		if !waits {
			t.Errorf("%s's release no longer waits for service %s (%s: %v): %s:install must need %s again",
				tt.component, tt.service, tt.dependencies, list, tt.component, tt.need)
		}
	}
}
