package components

import (
	"encoding/base64"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// neutron declares neutron, with what it renders.
func neutron() *Component {
	c := withCatalog(split(release("neutron", "neutron", openstack, chart("neutron", "0.3.47"), 200, needs("keystone", "ovn", "coredns", rabbitmq), kubeAPI),
		setup(20, "nova")))
	c.valuesYAML = neutronValues
	c.objects = neutronObjects
	c.ingresses = []publicIngress{{"network", "neutron_api_host", "neutron-server", 9696, nil, "neutron"}}
	c.rabbitMQCluster = "neutron"
	return c
}

// neutronValues are neutron's own values for its chart.
func neutronValues(r *Render) string {
	e := &endpointRender{Render: r}
	region := e.region("neutron")
	user, password := inline("neutron-"+region), inline(e.secret("neutron_keystone_password"))
	metadataSecret := inline(e.secret("neutron_metadata_secret"))
	dnsDriver := ""
	if v, _ := r.knob("neutron_designate_integration_enabled", false).(bool); v {
		dnsDriver = "\n      external_dns_driver: designate"
	}
	doc := r.openstackHelm("neutron") + `
network:
  backend:
    - ` + inline(r.Config.NetworkBackend) + podLabels + `  replicas:
    server: 3
    rpc_server: 3
  sidecars:
    neutron_policy_server: true
conf:
  neutron:
    DEFAULT:
      api_workers: 8
      dhcp_agents_per_network: 3
      log_config_append: null
      rpc_workers: 8
      rpc_response_timeout: 600
      service_plugins: qos,router,segments,trunk,vpnaas,taas,tapmirror` + dnsDriver + `
    cors:
      allowed_origin: "*"` + database + `
    designate:
      url: http://designate-api.openstack.svc.cluster.local:9001/v2
      auth_url: http://keystone-api.openstack.svc.cluster.local:5000
      region_name: ` + inline(region) + `
      username: ` + user + `
      password: ` + password + `
    ngs_coordination:
      backend_url: memcached://memcached.openstack.svc.cluster.local:11211
    nova:
      live_migration_events: true
    ironic:
      valid_interfaces: internal
    placement:
      region_name: ` + inline(region) + `
      username: ` + user + `
      password: ` + password + `
    oslo_messaging_notifications:
      driver: noop
    service_providers:
      service_provider: VPN:strongswan:neutron_vpnaas.services.vpn.service_drivers.ipsec.IPsecVPNDriver:default
  dhcp_agent:
    DEFAULT:
      dnsmasq_dns_servers: ` + inline(r.knob("neutron_coredns_cluster_ip", "10.96.0.20")) + `
      enable_isolated_metadata: true
  l3_agent:
    AGENT:
      extensions: vpnaas
    vpnagent:
      vpn_device_driver: neutron_vpnaas.services.vpn.device_drivers.strongswan_ipsec.StrongSwanDriver
  metadata_agent:
    DEFAULT:
      metadata_proxy_shared_secret: ` + metadataSecret + `
  plugins:
    ml2_conf:
      ml2:
        extension_drivers: dns_domain_ports,port_security,qos
        type_drivers: flat,gre,vlan,vxlan
      ml2_type_gre:
        tunnel_id_ranges: 1:1000
      ml2_type_vlan:
        network_vlan_ranges: external:1:4094
    taas:
      taas:
        enabled: true
  taas_plugin:
    service_providers:
      service_provider: TAAS:TAAS:neutron_taas.services.taas.service_drivers.taas_rpc.TaasRpcDriver:default` + rabbitPolicy("neutron") + `
manifests:
  ingress_server: false
  service_ingress_server: false
`
	if r.Config.NetworkBackend == BackendOVN {
		r.extra = append(r.extra, r.parse(`
conf:
  neutron:
    DEFAULT:
      service_plugins: qos,ovn-router,segments,trunk,log,ovn-vpnaas,taas,tapmirror
    ovn:
      ovn_emit_need_to_frag: true
    service_providers:
      service_provider: VPN:strongswan:neutron_vpnaas.services.vpn.service_drivers.ovn_ipsec.IPsecOvnVPNDriver:default
  ovn_metadata_agent:
    DEFAULT:
      metadata_proxy_shared_secret: `+metadataSecret+`
  ovn_vpn_agent:
    AGENT:
      extensions: vpnaas
    vpnagent:
      vpn_device_driver: neutron_vpnaas.services.vpn.device_drivers.ovn_ipsec.OvnStrongSwanDriver
  plugins:
    ml2_conf:
      agent:
        extensions: log
      ml2:
        type_drivers: flat,vlan,geneve
        tenant_network_types: geneve
  taas_plugin:
    service_providers:
      service_provider: TAAS:TAAS:neutron_taas.services.taas.service_drivers.ovn.taas_ovn.TaasOvnDriver:default
manifests:
  daemonset_dhcp_agent: false
  daemonset_l3_agent: false
  daemonset_metadata_agent: false
  daemonset_ovn_metadata_agent: true
  daemonset_ovn_vpn_agent: true
  daemonset_ovs_agent: false
`))
	}
	if v, _ := r.knob("neutron_policy_server_integration_enabled", true).(bool); v {
		// Port changes go through neutron's policy server.
		owner := "((rule:admin_only) or (role:member and rule:network_owner) or role:manager and project_id:%(project_id)s) or (role:member and project_id:%(project_id)s"
		r.extra = append(r.extra, values.Values{"conf": map[string]any{"policy": map[string]any{
			"delete_port":                                   "((rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or role:member and project_id:%(project_id)s) and http://neutron-server:9697/port-delete",
			"update_port:mac_address":                       "((rule:admin_only) or (rule:service_api) or role:manager and project_id:%(project_id)s) and http://neutron-server:9697/port-update",
			"update_port:fixed_ips":                         "((rule:admin_only) or (rule:service_api) or role:manager and project_id:%(project_id)s or role:member and rule:network_owner) and http://neutron-server:9697/port-update",
			"update_port:allowed_address_pairs":             owner + " and http://neutron-server:9697/address-pair )",
			"update_port:allowed_address_pairs:ip_address":  owner + ")",
			"update_port:allowed_address_pairs:mac_address": owner + ")",
		}}})
	}
	if keys, _ := r.knob("neutron_genericswitch_keys", nil).([]any); len(keys) > 0 {
		release, _ := r.knob("neutron_helm_release_name", "neutron").(string)
		r.extra = append(r.extra, r.parse(`
pod:
  security_context:
    neutron_server:
      pod:
        fsGroup: 42424
  mounts:
    neutron_server:
      neutron_server:
        volumeMounts:
          - name: ssh-keys
            mountPath: /etc/neutron/ssh-keys
            readOnly: true
        volumes:
          - name: ssh-keys
            secret:
              secretName: `+inline(release+"-ssh-keys")+`
              defaultMode: 256
`))
	}
	return doc
}

// The SSH keys networking-generic-switch logs in to the switches with
// (neutron_genericswitch_keys: name and key), mounted at
// /etc/neutron/ssh-keys; none without keys (pruned once they are gone).
func neutronObjects(s Settings) (string, error) {
	r := &Render{Settings: s}
	keys, _ := r.knob("neutron_genericswitch_keys", nil).([]any)
	if len(keys) == 0 {
		return "", nil
	}
	data := map[string]any{}
	for i, k := range keys {
		m, _ := k.(map[string]any)
		name, _ := m["name"].(string)
		key, _ := m["key"].(string)
		if name == "" || key == "" {
			return "", fmt.Errorf("neutron_genericswitch_keys[%d]: want a name and a key", i)
		}
		data[name] = base64.StdEncoding.EncodeToString([]byte(key))
	}
	release, _ := r.knob("neutron_helm_release_name", "neutron").(string)
	return joinDocs([]map[string]any{{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": release + "-ssh-keys"}, "data": data}})
}
