package components

// heat declares heat, with what it renders.
func heat() *Component {
	c := withCatalog(release("heat", "heat", openstack, chart("heat", "0.3.7"), 258, needs("keystone", rabbitmq), kubeAPI))
	c.valuesYAML = heatValues
	c.ingresses = []publicIngress{
		{"orchestration", "heat_api_host", "heat-api", 8004, map[string]any{"nginx.ingress.kubernetes.io/proxy-read-timeout": "630"}, "heat"},
		{"cloudformation", "heat_cfn_api_host", "heat-cfn", 8000, map[string]any{"nginx.ingress.kubernetes.io/proxy-read-timeout": "630"}, "heat"},
	}
	c.rabbitMQCluster = "heat"
	return c
}

// heatValues are heat's own values for its chart.
func heatValues(r *Render) string {
	return r.openstackHelm("heat") + podLabels + `  replicas:
    api: 3
    cfn: 3
    cloudwatch: 3
    engine: 3
conf:
  heat:
    DEFAULT:
      auth_encryption_key: ` + inline(r.secret("heat_auth_encryption_key")) + `
      default_deployment_signal_transport: HEAT_SIGNAL
      default_software_config_transport: POLL_SERVER_HEAT
      log_config_append: null
      num_engine_workers: 8
      region_name_for_services: ` + inline((&endpointRender{Render: r}).region("heat")) + `
      rpc_response_timeout: 600
      server_keystone_endpoint_type: public
    clients_keystone:
      endpoint_type: publicURL` + database + `
    ec2authtoken:
      auth_uri: http://keystone-api.openstack.svc.cluster.local:5000
    heat_api:
      workers: 8
    heat_api_cfn:
      workers: 8
    heat_api_cloudwatch:
      workers: 8
    oslo_messaging_notifications:
      driver: noop` + rabbitPolicy("heat") + `
manifests:
  ingress_api: false
  ingress_cfn: false
  service_ingress_api: false
  service_ingress_cfn: false
`
}
