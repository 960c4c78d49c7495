package components

// rabbitmqClusterOperator declares rabbitmq-cluster-operator, with what it renders.
func rabbitmqClusterOperator() *Component {
	c := release("rabbitmq-cluster-operator", "rabbitmq-cluster-operator", openstack, chart("rabbitmq-cluster-operator", "4.4.34"), 11, needs("cert-manager"), kubeAPI)
	c.valuesYAML = rabbitmqClusterOperatorValues
	c.ChartCRDs = true
	return c
}

// rabbitmqClusterOperatorValues are rabbitmq-cluster-operator's own values for its chart.
func rabbitmqClusterOperatorValues(r *Render) string {
	operator := func(key string) string {
		i := r.image(key)
		return "\n    repository: " + inline(i.Path) + "\n    tag: " + inline(i.Tag)
	}
	return `
global:
  imageRegistry: ` + inline(r.image("rabbitmq_cluster_operator").Domain) + `
  security:
    allowInsecureImages: true
rabbitmqImage:` + indent(operator("rabbitmq_server"), -2) + `
credentialUpdaterImage:` + indent(operator("rabbitmq_credential_updater"), -2) + `
clusterOperator:
  fullnameOverride: rabbitmq-cluster-operator
  nodeSelector:
    openstack-control-plane: enabled
  command: [/manager]
  image:` + operator("rabbitmq_cluster_operator") + `
msgTopologyOperator:
  fullnameOverride: rabbitmq-messaging-topology-operator
  nodeSelector:
    openstack-control-plane: enabled
  command: [/manager]
  image:` + operator("rabbitmq_topology_operator") + `
useCertManager: true
`
}
