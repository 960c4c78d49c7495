package components

// prometheusPushgateway declares prometheus-pushgateway, with what it renders.
func prometheusPushgateway() *Component {
	c := release("prometheus-pushgateway", "prometheus-pushgateway", monitoring, chart("prometheus-pushgateway", "2.13.0"), 6, needs("kube-prometheus-stack"), kubeAPI)
	c.valuesYAML = prometheusPushgatewayValues
	return c
}

// prometheusPushgatewayValues are prometheus-pushgateway's own values for its chart.
func prometheusPushgatewayValues(r *Render) string {
	return `
image:
  repository: ` + r.repository("prometheus_pushgateway") + `
nodeSelector:
  openstack-control-plane: enabled
serviceMonitor:
  enabled: true
  namespace: monitoring
  additionalLabels:
    release: kube-prometheus-stack
  relabelings:
    - sourceLabels: [__meta_kubernetes_pod_name]
      targetLabel: instance
    - regex: ^(container|endpoint|namespace|pod|service)$
      action: labeldrop
`
}
