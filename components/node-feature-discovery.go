package components

import "github.com/vexxhost/atmosphere-go/components/values"

// nodeFeatureDiscovery declares node-feature-discovery, with what it renders.
func nodeFeatureDiscovery() *Component {
	c := release("node-feature-discovery", "node-feature-discovery", monitoring, chart("node-feature-discovery"), 6, needs("kubernetes"), kubeAPI)
	c.values = nodeFeatureDiscoveryValues
	c.ChartCRDs = true
	return c
}

// nodeFeatureDiscoveryValues are node-feature-discovery's own values for
// its chart: its static values with the image's repository.
func nodeFeatureDiscoveryValues(r *Render) values.Values {
	return merge(r.static("node-feature-discovery"), values.Values{
		"image": map[string]any{"repository": r.image("node_feature_discovery").Name()},
	})
}
