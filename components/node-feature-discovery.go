package components

// nodeFeatureDiscovery declares node-feature-discovery, with what it renders.
func nodeFeatureDiscovery() *Component {
	c := release("node-feature-discovery", "node-feature-discovery", monitoring, chart("node-feature-discovery", "0.15.4"), 6, needs("kubernetes"), kubeAPI)
	c.valuesYAML = nodeFeatureDiscoveryValues
	c.ChartCRDs = true
	return c
}

// nodeFeatureDiscoveryValues are node-feature-discovery's own values for its chart.
func nodeFeatureDiscoveryValues(r *Render) string {
	return `
image:
  repository: ` + r.repository("node_feature_discovery") + `
master:
  nodeSelector:
    openstack-control-plane: enabled
`
}
