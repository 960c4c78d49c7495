package components

import "github.com/vexxhost/atmosphere-go/components/values"

// perconaXtradbClusterOperator declares percona-xtradb-cluster-operator, with what it renders.
func perconaXtradbClusterOperator() *Component {
	c := release("percona-xtradb-cluster-operator", "pxc-operator", openstack, chart("pxc-operator"), 10, needs("cert-manager"), kubeAPI)
	c.values = perconaXtradbClusterOperatorValues
	c.ChartCRDs = true
	return c
}

// perconaXtradbClusterOperatorValues are percona-xtradb-cluster-operator's
// own values for its chart: its static values with the image.
func perconaXtradbClusterOperatorValues(r *Render) values.Values {
	return merge(r.static("percona-xtradb-cluster-operator"), values.Values{
		"image": r.image("percona_xtradb_cluster_operator").String(),
	})
}
