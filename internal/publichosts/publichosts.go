// Package publichosts is the one table of the cloud's public hosts: the
// keystone catalog's public URLs (bootstrap), the charts' endpoints values
// and public Ingresses (components) and the inventory's typed settings
// (inventory) all read it here. It imports nothing, so that each of them
// can.
package publichosts

// Host is one of the cloud's public hosts: the inventory variable that sets
// it (openstack_helm_endpoints_<Var>), the first label it has under the
// cloud's domain when the inventory does not set it, the chart endpoint it
// is the public side of, and the catalog service type whose public URL it
// is ("" for the hosts the catalog does not list: ironic's API, the
// dashboard, the VNC console, magnum's registry).
type Host struct {
	Var, Prefix, Endpoint, Type string
}

// All are atmosphere's public hosts.
var All = []Host{
	{"keystone_api_host", "identity", "identity", "identity"},
	{"glance_api_host", "image", "image", "image"},
	{"cinder_api_host", "volume", "volumev3", "volumev3"},
	{"nova_api_host", "compute", "compute", "compute"},
	{"placement_api_host", "placement", "placement", "placement"},
	{"neutron_api_host", "network", "network", "network"},
	{"heat_api_host", "orchestration", "orchestration", "orchestration"},
	{"heat_cfn_api_host", "cloudformation", "cloudformation", "cloudformation"},
	{"barbican_api_host", "key-manager", "key_manager", "key-manager"},
	{"octavia_api_host", "load-balancer", "load_balancer", "load-balancer"},
	{"magnum_api_host", "container-infra", "container_infra", "container-infra"},
	{"manila_api_host", "share", "sharev2", "sharev2"},
	{"rgw_host", "object-store", "rook_ceph_cluster", "object-store"},
	{"designate_api_host", "dns", "dns", "dns"},
	{"ironic_api_host", "baremetal", "baremetal", ""},
	{"horizon_api_host", "dashboard", "dashboard", ""},
	{"nova_novnc_host", "vnc", "compute_novnc_proxy", ""},
	{"magnum_registry_host", "container-infra-registry", "container_infra_registry", ""},
}

// ByVar returns the host its inventory variable ("glance_api_host") sets.
func ByVar(name string) (Host, bool) { return find(func(h Host) string { return h.Var }, name) }

// ByEndpoint returns the public host of a chart endpoint ("key_manager").
func ByEndpoint(endpoint string) (Host, bool) {
	return find(func(h Host) string { return h.Endpoint }, endpoint)
}

// ByType returns the public host of a catalog service type ("key-manager").
func ByType(serviceType string) (Host, bool) {
	return find(func(h Host) string { return h.Type }, serviceType)
}

func find(field func(Host) string, key string) (Host, bool) {
	for _, h := range All {
		if key != "" && field(h) == key {
			return h, true
		}
	}
	return Host{}, false
}
