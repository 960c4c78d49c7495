package components

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The knobs neutron reads (roles/neutron/defaults/main.yml).
var (
	neutronKnobs                          = knobsOf("neutron")
	neutronHelmReleaseName                = neutronKnobs.str("neutron_helm_release_name", "neutron")
	neutronCorednsClusterIP               = neutronKnobs.str("neutron_coredns_cluster_ip", "10.96.0.20")
	neutronDesignateIntegrationEnabled    = neutronKnobs.boolean("neutron_designate_integration_enabled", false)
	neutronPolicyServerIntegrationEnabled = neutronKnobs.boolean("neutron_policy_server_integration_enabled", true)
	// The SSH keys of networking-generic-switch: name and key of each.
	neutronGenericswitchKeys = neutronKnobs.list("neutron_genericswitch_keys")
)

// neutron declares neutron, with what it renders.
func neutron() *Component {
	// The set-up makes neutron_networks through neutron's API alone
	// (neutronSetup): it no longer waits for nova, which it never called
	// (#25, docs/edges.md).
	c := withCatalog(split(release("neutron", "neutron", openstack, chart("neutron"), 200, needs(keystoneAPI, "ovn", "coredns", rabbitmq), kubeAPI),
		setup(20)))
	c = withDatabases(c, "neutron", "neutron")
	c.roleTimeout = true // neutron_helm_timeout
	c.services, c.endpoints = neutronServices, neutronEndpoints
	c.values = neutronValues
	c.objects = neutronObjects
	c.ingresses = []publicIngress{publicIngressOf("network", "neutron-server", 9696, nil, "neutron")}
	c = withRabbitMQ(c, "neutron")
	c.setup = neutronSetup
	return c
}

// neutronValues are neutron's own values for its chart: its static values
// with the endpoints, the images' tags, the network backend, the keystone
// user and secrets, then OVN's values when OVN is the backend, the policy
// server's when it is integrated and the generic switches' SSH keys when
// there are any (the role's other __neutron_*_helm_values), in that order.
func neutronValues(r *Render) values.Values {
	e := &endpointRender{Render: r}
	region := e.region("neutron")
	keystone := map[string]any{"region_name": region, "username": "neutron-" + region, "password": e.secret("neutron_keystone_password")}
	metadataSecret := e.secret("neutron_metadata_secret")
	defaults := map[string]any{}
	if neutronDesignateIntegrationEnabled.get(r) {
		defaults["external_dns_driver"] = "designate"
	}
	layers := []values.Values{r.openstackHelmValues("neutron"), {
		"network": map[string]any{"backend": []any{r.Config.NetworkBackend}},
		"conf": map[string]any{
			"neutron":        map[string]any{"DEFAULT": defaults, "designate": keystone, "placement": keystone},
			"dhcp_agent":     map[string]any{"DEFAULT": map[string]any{"dnsmasq_dns_servers": neutronCorednsClusterIP.get(r)}},
			"metadata_agent": map[string]any{"DEFAULT": map[string]any{"metadata_proxy_shared_secret": metadataSecret}},
			"rabbitmq":       map[string]any{"policies": rabbitPolicies("neutron")},
		},
	}}
	if r.Config.NetworkBackend == BackendOVN {
		layers = append(layers, values.Values{
			"conf": map[string]any{
				"neutron": map[string]any{
					"DEFAULT": map[string]any{"service_plugins": "qos,ovn-router,segments,trunk,log,ovn-vpnaas,taas,tapmirror"},
					"ovn":     map[string]any{"ovn_emit_need_to_frag": true},
					"service_providers": map[string]any{
						"service_provider": "VPN:strongswan:neutron_vpnaas.services.vpn.service_drivers.ovn_ipsec.IPsecOvnVPNDriver:default"},
				},
				"ovn_metadata_agent": map[string]any{"DEFAULT": map[string]any{"metadata_proxy_shared_secret": metadataSecret}},
				"ovn_vpn_agent": map[string]any{
					"AGENT":    map[string]any{"extensions": "vpnaas"},
					"vpnagent": map[string]any{"vpn_device_driver": "neutron_vpnaas.services.vpn.device_drivers.ovn_ipsec.OvnStrongSwanDriver"},
				},
				"plugins": map[string]any{"ml2_conf": map[string]any{
					"agent": map[string]any{"extensions": "log"},
					"ml2":   map[string]any{"type_drivers": "flat,vlan,geneve", "tenant_network_types": "geneve"},
				}},
				"taas_plugin": map[string]any{"service_providers": map[string]any{
					"service_provider": "TAAS:TAAS:neutron_taas.services.taas.service_drivers.ovn.taas_ovn.TaasOvnDriver:default"}},
			},
			"manifests": map[string]any{
				"daemonset_dhcp_agent": false, "daemonset_l3_agent": false, "daemonset_metadata_agent": false,
				"daemonset_ovn_metadata_agent": true, "daemonset_ovn_vpn_agent": true, "daemonset_ovs_agent": false,
			},
		})
	}
	if neutronPolicyServerIntegrationEnabled.get(r) {
		// Port changes go through neutron's policy server.
		owner := "((rule:admin_only) or (role:member and rule:network_owner) or role:manager and project_id:%(project_id)s) or (role:member and project_id:%(project_id)s"
		layers = append(layers, values.Values{"conf": map[string]any{"policy": map[string]any{
			"delete_port":                                   "((rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or role:member and project_id:%(project_id)s) and http://neutron-server:9697/port-delete",
			"update_port:mac_address":                       "((rule:admin_only) or (rule:service_api) or role:manager and project_id:%(project_id)s) and http://neutron-server:9697/port-update",
			"update_port:fixed_ips":                         "((rule:admin_only) or (rule:service_api) or role:manager and project_id:%(project_id)s or role:member and rule:network_owner) and http://neutron-server:9697/port-update",
			"update_port:allowed_address_pairs":             owner + " and http://neutron-server:9697/address-pair )",
			"update_port:allowed_address_pairs:ip_address":  owner + ")",
			"update_port:allowed_address_pairs:mac_address": owner + ")",
		}}})
	}
	if keys := neutronGenericswitchKeys.get(r); len(keys) > 0 {
		release := neutronHelmReleaseName.get(r)
		layers = append(layers, values.Values{"pod": map[string]any{
			"security_context": map[string]any{"neutron_server": map[string]any{"pod": map[string]any{"fsGroup": 42424}}},
			"mounts": map[string]any{"neutron_server": map[string]any{"neutron_server": map[string]any{
				"volumeMounts": []any{map[string]any{"name": "ssh-keys", "mountPath": "/etc/neutron/ssh-keys", "readOnly": true}},
				"volumes": []any{map[string]any{"name": "ssh-keys",
					"secret": map[string]any{"secretName": release + "-ssh-keys", "defaultMode": 0o400}}},
			}}},
		}})
	}
	return merge(r.static("neutron"), layers...)
}

// The SSH keys networking-generic-switch logs in to the switches with
// (neutron_genericswitch_keys: name and key), mounted at
// /etc/neutron/ssh-keys; none without keys (pruned once they are gone).
func neutronObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	keys := neutronGenericswitchKeys.get(r)
	if r.err != nil {
		return nil, r.err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	data := map[string]any{}
	for i, k := range keys {
		m, _ := k.(map[string]any)
		name, _ := m["name"].(string)
		key, _ := m["key"].(string)
		if name == "" || key == "" {
			return nil, fmt.Errorf("neutron_genericswitch_keys[%d]: want a name and a key", i)
		}
		data[name] = base64.StdEncoding.EncodeToString([]byte(key))
	}
	release := neutronHelmReleaseName.get(r)
	if r.err != nil {
		return nil, r.err
	}
	return objectList(map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": release + "-ssh-keys"}, "data": data}), nil
}

// neutronServices are neutron's entry in the catalog and its service user.
var neutronServices = []provision.Service{{Type: "network", Name: "neutron", Description: "OpenStack Networking",
	Host: "neutron-server", Port: 9696, Users: []provision.ServiceUser{serviceUser("neutron", "neutron", adminService...)}}}

// neutronEndpoints are the chart endpoints neutron owns.
var neutronEndpoints = map[string]endpointFragment{
	"network": func(e *endpointRender) values.Values { return e.service("network", "neutron", nil, true, true) },
}

// neutronSetup makes the inventory's networks (neutron_networks) and
// their subnets, in order.
func neutronSetup(ctx context.Context, s *Setup) (bool, error) {
	network, err := s.Clients.Network(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	for _, n := range s.Settings.Setup.Networks {
		_, changed, err := network.EnsureNetwork(ctx, n)
		if err := t.add(changed, err); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}
