package components

// glance declares glance, with what it renders.
func glance() *Component {
	c := withCatalog(release("glance", "glance", openstack, chart("glance", "0.4.15"), 316, needs("keystone", rabbitmq), kubeAPI))
	c.valuesYAML = glanceValues
	c.ingresses = []publicIngress{{"image", "glance_api_host", "glance-api", 9292, bodyUnlimited, "glance"}}
	c.rabbitMQCluster = "glance"
	return c
}

// glanceValues are glance's own values for its chart.
func glanceValues(r *Render) string {
	return r.openstackHelm("glance") + `
bootstrap:
  enabled: false` + podLabels + `  replicas:
    api: 3
conf:
  glance:
    DEFAULT:
      log_config_append: null
      show_image_direct_url: true
      show_multiple_locations: true
      enable_import_methods: "[]"
      workers: 8
    cors:
      allowed_origins: "*"` + database + `
    image_format:
      disk_formats: aki,ari,qcow2,raw
    oslo_messaging_notifications:
      driver: noop` + rabbitPolicy("glance") + `
` + noChartIngress + r.storage("glance")
}
