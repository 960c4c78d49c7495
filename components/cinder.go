package components

// cinder declares cinder, with what it renders.
func cinder() *Component {
	c := withCatalog(release("cinder", "cinder", openstack, chart("cinder", "0.3.23"), 328, needs("keystone", "ceph-provisioners", rabbitmq), kubeAPI))
	c.valuesYAML = cinderValues
	c.ingresses = []publicIngress{{"volumev3", "cinder_api_host", "cinder-api", 8776, bodyUnlimited, "cinder"}}
	c.rabbitMQCluster = "cinder"
	return c
}

// cinderValues are cinder's own values for its chart.
func cinderValues(r *Render) string {
	region := (&endpointRender{Render: r}).region("cinder")
	policy := "{}"
	if r.Config.Staffeln {
		// A backup staffeln made is deleted only by an admin or
		// through staffeln, which keeps its retention.
		policy = inline(map[string]any{"backup:delete": "rule:admin_api or (project_id:%(project_id)s and http://staffeln-api:8808/v1/backup?backup_id=%(id)s)"})
	}
	return r.openstackHelm("cinder") + podLabels + `  replicas:
    api: 3
    scheduler: 3
  mounts:
    cinder_volume:
      cinder_volume:
        volumeMounts:
          - name: cinder-tmp
            mountPath: /var/lib/cinder/tmp
        volumes:
          - name: cinder-tmp
            emptyDir: {}
  security_context:
    cinder_volume:
      container:
        cinder_volume:
          privileged: true
conf:
  policy: ` + policy + `
  cinder:
    DEFAULT:
      allowed_direct_url_schemes: cinder
      log_config_append: null
      os_region_name: ` + inline(region) + `
      volume_usage_audit_period: hour
      volume_name_template: volume-%s
      image_conversion_disable: true
      osapi_volume_workers: 8
    barbican:
      barbican_endpoint_type: internal
    cors:
      allowed_origins: "*"` + database + `
    oslo_messaging_notifications:
      driver: noop
    privsep_osbrick:
      helper_command: sudo cinder-rootwrap /etc/cinder/rootwrap.conf privsep-helper --config-file /etc/cinder/cinder.conf` + rabbitPolicy("cinder") + `
manifests:
  ingress_api: false
  job_clean: false
  service_ingress_api: false
` + r.storage("cinder")
}
