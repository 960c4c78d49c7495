package components

import (
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/publichosts"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The public hosts the values derive agree with the keystone catalog's:
// both read the one table, publichosts.All.
func TestHostsAgreeWithTheCatalog(t *testing.T) {
	e := provision.Endpoints{Domain: "cloud.example.com"}
	r := &endpointRender{Render: &Render{Settings: Settings{Vars: map[string]any{
		"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"}}}}
	for _, svc := range provision.Services {
		h, ok := publichosts.ByType(svc.Type)
		if !ok {
			t.Errorf("%s: no public host", svc.Type)
			continue
		}
		if got, want := r.host(h.Var), e.PublicHost(svc); got != want {
			t.Errorf("%s: values use %s, the catalog %s", h.Var, got, want)
		}
	}
	if got, want := r.host("nova_novnc_host"), "vnc.cloud.example.com"; got != want {
		t.Errorf("a host the catalog does not list: %s, want %s", got, want)
	}
	r.Vars["openstack_helm_endpoints_glance_api_host"] = "glance.example.org"
	if got := r.host("glance_api_host"); got != "glance.example.org" {
		t.Errorf("a host the inventory sets: %s", got)
	}
}

// Every public Ingress has its host variable in the table.
func TestEveryIngressHasAPublicHost(t *testing.T) {
	for _, c := range defaultComponents() {
		for _, in := range c.ingresses {
			if in.hostVar == "" {
				t.Errorf("%s: Ingress %s has no public host", c.Name, in.endpoint)
			}
		}
	}
}
