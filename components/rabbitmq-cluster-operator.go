package components

import "github.com/vexxhost/atmosphere-go/components/values"

// rabbitmqClusterOperator declares rabbitmq-cluster-operator, with what it renders.
func rabbitmqClusterOperator() *Component {
	c := release("rabbitmq-cluster-operator", "rabbitmq-cluster-operator", openstack, chart("rabbitmq-cluster-operator"), 11, needs("cert-manager"), kubeAPI)
	c.values = rabbitmqClusterOperatorValues
	c.ChartCRDs = true
	return c
}

// rabbitmqClusterOperatorValues are rabbitmq-cluster-operator's own values
// for its chart: its static values with the images, whose registry is the
// cluster operator's (global.imageRegistry).
func rabbitmqClusterOperatorValues(r *Render) values.Values {
	operator := func(key string) map[string]any {
		i := r.image(key)
		return map[string]any{"repository": i.Path, "tag": i.Tag}
	}
	return merge(r.static("rabbitmq-cluster-operator"), values.Values{
		"global":                 map[string]any{"imageRegistry": r.image("rabbitmq_cluster_operator").Domain},
		"rabbitmqImage":          operator("rabbitmq_server"),
		"credentialUpdaterImage": operator("rabbitmq_credential_updater"),
		"clusterOperator":        map[string]any{"image": operator("rabbitmq_cluster_operator")},
		"msgTopologyOperator":    map[string]any{"image": operator("rabbitmq_topology_operator")},
	})
}
