package components

// placement declares placement, with what it renders.
func placement() *Component {
	c := withCatalog(release("placement", "placement", openstack, chart("placement", "0.3.9"), 120, needs("keystone"), kubeAPI))
	c.valuesYAML = placementValues
	c.ingresses = []publicIngress{{"placement", "placement_api_host", "placement-api", 8778, nil, "placement"}}
	return c
}

// placementValues are placement's own values for its chart.
func placementValues(r *Render) string {
	return r.openstackHelm("placement") + podLabels + `  replicas:
    api: 3
conf:
  placement:
    DEFAULT:
      log_config_append: null
    database:
      connection_recycle_time: 600
      max_overflow: 50
      max_pool_size: 5
      max_retries: -1
      pool_timeout: 30
    oslo_messaging_notifications:
      driver: noop` + rabbitPolicy("placement") + `
  placement_api_uwsgi:
    uwsgi:
      processes: 4
manifests:
  ingress: false
  service_ingress: false
`
}
