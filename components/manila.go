package components

import (
	"strings"

	"sigs.k8s.io/yaml"
)

// manila declares manila, with what it renders. As octavia's, its set-up
// comes before its chart (its values carry the IDs of what the set-up
// makes) and starts as soon as nova, neutron and cinder are set up.
func manila() *Component {
	c := withCatalog(before(withKinds(release("manila", "manila", openstack, chart("manila", "0.1.7"), 258, needs("keystone", rabbitmq), kubeAPI), Manifest),
		setup(58, "nova", "neutron", "cinder")))
	c.valuesYAML = manilaValues
	c.objects = manilaObjects
	c.ingresses = []publicIngress{{"sharev2", "manila_api_host", "manila-api", 8786, nil, "manila"}}
	c.rabbitMQCluster = "manila"
	return c
}

// manilaValues are manila's own values for its chart.
func manilaValues(r *Render) string {
	e := &endpointRender{Render: r}
	release, _ := r.knob("manila_helm_release_name", "manila").(string)
	return r.openstackHelm("manila") + podLabels + `  mounts:
    manila_share:
      manila_share:
        volumeMounts:
          - name: ssh-keys
            mountPath: /etc/manila/ssh-keys
        volumes:
          - name: ssh-keys
            secret:
              secretName: ` + inline(release+"-ssh-keys") + `
  replicas:
    api: 3
    scheduler: 3
bootstrap:
  structured:
    flavors: null
    images: null
dependencies:
  static:
    share:
      pod:
        - requireSameNode: true
          labels:
            application: openvswitch
            component: server
conf:
  manila:
    DEFAULT:
      host: manila-share-worker
      osapi_share_workers: 4` + database + `
    generic:
      connect_share_server_to_tenant_network: true
      limit_ssh_access: true
      path_to_private_key: /etc/manila/ssh-keys/id_rsa
      path_to_public_key: /etc/manila/ssh-keys/id_rsa.pub
      service_image_name: ` + inline(r.knob("manila_image_name", "manila-service-image")) + `
      service_instance_boot_from_volume: true
      service_instance_boot_volume_size: 20
      service_instance_flavor_id: ` + inline(r.fact("manila", "service_instance_flavor_id", "_manila_flavor.flavor.id")) + `
      service_instance_security_group: manila-service-security-group
    oslo_messaging_notifications:
      driver: noop
    nova:
      api_microversion: 2.60
      endpoint_type: internalURL
      region_name: ` + inline(e.region("nova")) + `
    glance:
      endpoint_type: internalURL
      region_name: ` + inline(e.region("glance")) + rabbitPolicy("manila") + `
` + noChartIngress
}

// The SSH key manila's share service reaches its share servers with,
// mounted at /etc/manila/ssh-keys (id_rsa, id_rsa.pub), from
// manila_ssh_key.
func manilaObjects(s Settings) (string, error) {
	r := &Render{Settings: s}
	private := r.secret("manila_ssh_key")
	if private != "" && !strings.HasSuffix(private, "\n") {
		private += "\n"
	}
	public := r.sshPublicKey("_manila_ssh_publickey", private)
	if r.err != nil {
		return "", r.err
	}
	release, _ := r.knob("manila_helm_release_name", "manila").(string)
	raw, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": release + "-ssh-keys"},
		"stringData": map[string]any{"id_rsa": private, "id_rsa.pub": public + "\n"},
	})
	return string(raw), err
}
