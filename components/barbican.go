package components

// barbican declares barbican, with what it renders.
func barbican() *Component {
	c := withCatalog(split(release("barbican", "barbican", openstack, chart("barbican", "0.3.10"), 183, needs("keystone", rabbitmq), kubeAPI), setup(8)))
	c.valuesYAML = barbicanValues
	c.ingresses = []publicIngress{{"key_manager", "barbican_api_host", "barbican-api", 9311, nil, "barbican"}}
	c.rabbitMQCluster = "barbican"
	return c
}

// barbicanValues are barbican's own values for its chart.
func barbicanValues(r *Render) string {
	kek := inline(r.secret("barbican_kek"))
	return r.openstackHelm("barbican") + podLabels + `  replicas:
    api: 3
conf:
  barbican:
    DEFAULT:
      log_config_append: null` + database + `
    oslo_messaging_notifications:
      driver: noop
    simple_crypto_plugin:
      kek: ` + kek + `
  simple_crypto_kek_rewrap:
    old_kek: ` + kek + rabbitPolicy("barbican") + `
` + noChartIngress
}
