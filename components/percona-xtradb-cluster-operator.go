package components

// perconaXtradbClusterOperator declares percona-xtradb-cluster-operator, with what it renders.
func perconaXtradbClusterOperator() *Component {
	c := release("percona-xtradb-cluster-operator", "pxc-operator", openstack, chart("pxc-operator", "1.18.0"), 10, needs("cert-manager"), kubeAPI)
	c.valuesYAML = perconaXtradbClusterOperatorValues
	c.ChartCRDs = true
	return c
}

// perconaXtradbClusterOperatorValues are percona-xtradb-cluster-operator's own values for its chart.
func perconaXtradbClusterOperatorValues(r *Render) string {
	return `
image: ` + inline(r.image("percona_xtradb_cluster_operator").String()) + `
nodeSelector:
  openstack-control-plane: enabled
resources:
  limits:
    cpu: 500m
`
}
