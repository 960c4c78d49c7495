package components

import (
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/publichosts"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// catalogServices are the registry's catalog entries, with designate's,
// which no component deploys yet.
func catalogServices(r *Registry) []provision.Service {
	var out []provision.Service
	for _, c := range r.Components() {
		out = append(out, c.Services()...)
	}
	return append(out, designateService)
}

// The public hosts the values derive agree with the keystone catalog's:
// both read the one table, publichosts.All.
func TestHostsAgreeWithTheCatalog(t *testing.T) {
	e := provision.Endpoints{Domain: "cloud.example.com"}
	r := &endpointRender{Render: &Render{Settings: Settings{Vars: map[string]any{
		"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"}}}}
	for _, svc := range catalogServices(Default()) {
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

// The catalog the components declare is complete and consistent: every
// component whose OpenStack work makes catalog entries (a catalog phase,
// or keystone's and rook-ceph-cluster's set-up) declares at least one, and
// only those do; every entry is whole, its component is the registry's
// and its public host's chart endpoint is the same component's; no two
// entries share a type or a name, no two users a name, and every service
// type of the public hosts' table has its entry.
func TestCatalogServicesAreCompleteAndConsistent(t *testing.T) {
	reg := Default()
	makesCatalog := map[string]bool{"keystone": true, "rook-ceph-cluster": true}
	for _, c := range reg.Components() {
		if p, ok := c.Phase("catalog"); ok && p.Kind == OpenStack {
			makesCatalog[c.Name] = true
		}
	}
	owner := endpointOwners(t, reg)
	byType, byName, byUser := map[string]string{}, map[string]string{}, map[string]string{}
	for _, c := range reg.Components() {
		services := c.Services()
		if makesCatalog[c.Name] != (len(services) > 0) {
			t.Errorf("%s: makes catalog entries: %t, declares %d", c.Name, makesCatalog[c.Name], len(services))
		}
		for _, s := range services {
			if got, ok := reg.Get(s.Component); !ok || got != c {
				t.Errorf("%s: service %s belongs to %q", c.Name, s.Type, s.Component)
			}
			if s.Type == "" || s.Name == "" || s.Description == "" || s.Host == "" || s.Port == 0 {
				t.Errorf("%s: service %+v is not whole", c.Name, s)
			}
			if h, ok := publichosts.ByType(s.Type); !ok {
				t.Errorf("%s: service %s has no public host", c.Name, s.Type)
			} else if owner[h.Endpoint] != c.Name {
				t.Errorf("%s: service %s, but its chart endpoint %s is %q's", c.Name, s.Type, h.Endpoint, owner[h.Endpoint])
			}
			keys := map[string]bool{}
			for _, u := range s.Users {
				if keys[u.Key] {
					t.Errorf("%s: user key %s twice", c.Name, u.Key)
				}
				keys[u.Key] = true
			}
		}
	}
	for _, s := range catalogServices(reg) {
		component := s.Component
		if component == "" {
			component = "(designate)"
		}
		for _, seen := range []struct {
			what, key string
			by        map[string]string
		}{{"type", s.Type, byType}, {"name", s.Name, byName}} {
			if other, dup := seen.by[seen.key]; dup {
				t.Errorf("service %s %s: declared by %s and %s", seen.what, seen.key, other, component)
			}
			seen.by[seen.key] = component
		}
		for _, u := range s.Users {
			if other, dup := byUser[u.Name]; dup && other != component {
				t.Errorf("service user %s: of %s and %s", u.Name, other, component)
			}
			byUser[u.Name] = component
		}
	}
	for _, h := range publichosts.All {
		if _, ok := byType[h.Type]; h.Type != "" && !ok {
			t.Errorf("service type %s (%s) has no catalog entry", h.Type, h.Var)
		}
	}
}

// endpointOwners is the component that owns each chart endpoint, failing
// the test when one is declared twice.
func endpointOwners(t *testing.T, reg *Registry) map[string]string {
	t.Helper()
	owner := map[string]string{}
	for _, c := range reg.Components() {
		for name := range c.endpoints {
			if _, shared := sharedEndpoints[name]; shared {
				t.Errorf("%s: endpoint %s is also a shared one", c.Name, name)
			}
			if other, dup := owner[name]; dup {
				t.Errorf("endpoint %s: declared by %s and %s", name, other, c.Name)
			}
			owner[name] = c.Name
		}
	}
	return owner
}

// The endpoint table gathers the shared endpoints and the components'
// own; an endpoint declared twice is refused, naming both declarations.
func TestGatherEndpoints(t *testing.T) {
	own := func(name string, endpoints ...string) *Component {
		c := &Component{Name: name, endpoints: map[string]endpointFragment{}}
		for _, e := range endpoints {
			c.endpoints[e] = sharedEndpoints["valkey"]
		}
		return c
	}
	tests := []struct {
		name    string
		cs      []*Component
		has     []string
		problem string
	}{
		{"the default registry", defaultComponents(), []string{"oslo_db", "identity", "load_balancer", "oslo_db_persistence"}, ""},
		{"two owners", []*Component{own("a", "x"), own("b", "x")}, nil, "endpoint x: declared by a and b"},
		{"an owner of a shared one", []*Component{own("a", "oslo_db")}, nil, "endpoint oslo_db: declared by the shared endpoints and a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, err := gatherEndpoints(tt.cs)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("error %v, want one saying %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tt.has {
				if table[name] == nil {
					t.Errorf("no endpoint %s", name)
				}
			}
		})
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
