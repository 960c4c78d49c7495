package components

import (
	"testing"

	"github.com/vexxhost/atmosphere-go/bootstrap"
)

// The public hosts the values derive agree with the keystone catalog's.
func TestHostPrefixesAgreeWithTheCatalog(t *testing.T) {
	vars := map[string]string{
		"keystone_api_host": "identity", "glance_api_host": "image", "cinder_api_host": "volumev3",
		"nova_api_host": "compute", "placement_api_host": "placement", "neutron_api_host": "network",
		"heat_api_host": "orchestration", "heat_cfn_api_host": "cloudformation", "barbican_api_host": "key-manager",
		"octavia_api_host": "load-balancer", "magnum_api_host": "container-infra", "manila_api_host": "sharev2",
		"rgw_host": "object-store", "designate_api_host": "dns",
	}
	e := bootstrap.Endpoints{Domain: "cloud.example.com"}
	r := &endpointRender{Render: &Render{Settings: Settings{Vars: map[string]any{
		"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"}}}}
	for _, svc := range bootstrap.Services {
		for name, typ := range vars {
			if typ != svc.Type {
				continue
			}
			if got, want := r.host(name), e.PublicHost(svc); got != want {
				t.Errorf("%s: values use %s, the catalog %s", name, got, want)
			}
			delete(vars, name)
		}
	}
	if len(vars) > 0 {
		t.Errorf("no catalog service for %v", vars)
	}
	r.Vars["openstack_helm_endpoints_glance_api_host"] = "glance.example.org"
	if got := r.host("glance_api_host"); got != "glance.example.org" {
		t.Errorf("a host the inventory sets: %s", got)
	}
}
