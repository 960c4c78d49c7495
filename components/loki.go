package components

import "github.com/vexxhost/atmosphere-go/components/values"

// loki declares loki, with what it renders.
func loki() *Component {
	c := release("loki", "loki", monitoring, chart("loki"), 9, withStorage(), kubeAPI)
	c.values = lokiValues
	return c
}

// lokiValues are loki's own values for its chart: its static values with
// the images.
func lokiValues(r *Render) values.Values {
	return merge(r.static("loki"), values.Values{
		"loki":              map[string]any{"image": r.bitnamiImage("loki")},
		"memcached":         map[string]any{"image": r.repositoryImage("memcached")},
		"memcachedExporter": map[string]any{"image": r.repositoryImage("prometheus_memcached_exporter")},
		"gateway":           map[string]any{"image": r.bitnamiImage("loki_gateway")},
	})
}
