package charts

import "helm.sh/helm/v3/pkg/chart"

// Copy returns a copy of c that Helm may change without changing c (as
// copyChart makes them): what a caller gives Helm's chartutil to process
// when it must keep the chart it was handed as it is.
func Copy(c *chart.Chart) *chart.Chart { return copyChart(c) }

// copyChart returns a copy of c that Helm may change without changing c.
//
// Helm's install, upgrade and template change the chart they are given
// (chartutil.ProcessDependencies): they drop disabled subcharts from its
// dependencies and from its metadata's, set each dependency's Enabled,
// Name (to its alias) and ImportValues, and give the chart and subcharts
// new Values. So the copy has its own Metadata, its own Dependency
// entries, its own subcharts (copied the same way, parents set) and its
// own Values, copied all the way down (a caller that writes into the
// values it was given changes no other caller's). Templates, files, the
// schema and the lock are shared: nothing changes them.
func copyChart(c *chart.Chart) *chart.Chart {
	if c == nil {
		return nil
	}
	out := *c
	if c.Metadata != nil {
		md := *c.Metadata
		md.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
		for i, d := range c.Metadata.Dependencies {
			if d == nil {
				continue
			}
			dd := *d
			dd.Tags = append([]string(nil), d.Tags...)
			dd.ImportValues = append([]interface{}(nil), d.ImportValues...)
			md.Dependencies[i] = &dd
		}
		if c.Metadata.Dependencies == nil {
			md.Dependencies = nil
		}
		out.Metadata = &md
	}
	if c.Values != nil {
		out.Values = copyValue(c.Values).(map[string]interface{})
	}
	deps := c.Dependencies()
	subs := make([]*chart.Chart, len(deps))
	for i, d := range deps {
		subs[i] = copyChart(d)
	}
	out.SetDependencies(subs...)
	return &out
}

// copyValue copies the maps and lists of a chart's values; other values
// (strings, numbers, booleans) are immutable and shared.
func copyValue(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, e := range t {
			m[k] = copyValue(e)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(t))
		for i, e := range t {
			l[i] = copyValue(e)
		}
		return l
	default:
		return v
	}
}
