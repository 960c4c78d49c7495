package provision

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// testServices are catalog entries of each shape the engine takes: an
// internal endpoint of its own (identity), no path (image), a public host
// the deployment overrides (compute), service users with roles on the
// service project and the admin of a domain of its own (orchestration), a
// default port (object-store). The components declare the real ones.
var testServices = []Service{
	{Component: "keystone", Type: "identity", Name: "keystone", Description: "OpenStack Identity",
		Host: "keystone", Port: 80, InternalHost: "keystone-api", InternalPort: 5000, Path: "/"},
	{Component: "glance", Type: "image", Name: "glance", Description: "OpenStack Image",
		Host: "glance-api", Port: 9292, Users: []ServiceUser{{Key: "glance", Name: "glance", Roles: []string{"admin"}}}},
	{Component: "nova", Type: "compute", Name: "nova", Description: "OpenStack Compute",
		Host: "nova-api", Port: 8774, Path: "/v2.1", Users: []ServiceUser{{Key: "nova", Name: "nova", Roles: []string{"admin", "service"}}}},
	{Component: "heat", Type: "orchestration", Name: "heat", Description: "OpenStack Orchestration",
		Host: "heat-api", Port: 8004, Path: "/v1/%(project_id)s", Users: []ServiceUser{
			{Key: "heat", Name: "heat", Roles: []string{"admin"}},
			{Key: "heat_trustee", Name: "heat-trustee", Roles: []string{"admin"}},
			{Key: "heat_stack_user", Name: "heat-stack-user", Domain: "heat"}}},
	{Component: "rook-ceph-cluster", Type: "object-store", Name: "swift", Description: "OpenStack Object Storage",
		Host: "rook-ceph-rgw-ceph", Port: 80, Path: "/swift/v1/%(tenant_id)s",
		Users: []ServiceUser{{Key: "rgw", Name: "rgw", Roles: []string{"admin"}}}},
}

// testService is the entry of testServices of a type.
func testService(t *testing.T, typ string) Service {
	t.Helper()
	for _, s := range testServices {
		if s.Type == typ {
			return s
		}
	}
	t.Fatalf("no test service of type %s", typ)
	return Service{}
}

func TestEndpointURLs(t *testing.T) {
	e := Endpoints{Region: "RegionOne", Domain: "cloud.example.com", Namespace: "openstack", ClusterDomain: "cluster.local",
		PublicHosts: map[string]string{"compute": "nova.example.org"}}
	tests := []struct {
		typ                     string
		public, internal, admin string
	}{
		{"identity", "https://identity.cloud.example.com/", "http://keystone-api.openstack.svc.cluster.local:5000/",
			"http://keystone.openstack.svc.cluster.local/"},
		{"image", "https://image.cloud.example.com", "http://glance-api.openstack.svc.cluster.local:9292",
			"http://glance-api.openstack.svc.cluster.local:9292"},
		{"compute", "https://nova.example.org/v2.1", "http://nova-api.openstack.svc.cluster.local:8774/v2.1",
			"http://nova-api.openstack.svc.cluster.local:8774/v2.1"},
		{"orchestration", "https://orchestration.cloud.example.com/v1/%(project_id)s",
			"http://heat-api.openstack.svc.cluster.local:8004/v1/%(project_id)s", "http://heat-api.openstack.svc.cluster.local:8004/v1/%(project_id)s"},
		{"object-store", "https://object-store.cloud.example.com/swift/v1/%(tenant_id)s",
			"http://rook-ceph-rgw-ceph.openstack.svc.cluster.local/swift/v1/%(tenant_id)s", "http://rook-ceph-rgw-ceph.openstack.svc.cluster.local/swift/v1/%(tenant_id)s"},
	}
	for _, tt := range tests {
		got := e.URLs(testService(t, tt.typ))
		want := map[gophercloud.Availability]string{gophercloud.AvailabilityPublic: tt.public,
			gophercloud.AvailabilityInternal: tt.internal, gophercloud.AvailabilityAdmin: tt.admin}
		for iface, url := range want {
			if got[iface] != url {
				t.Errorf("%s %s: %s, want %s", tt.typ, iface, got[iface], url)
			}
		}
	}
}

// passwordMap is a Passwords from a map keyed "component/user".
type passwordMap map[string]string

func (p passwordMap) Password(_ context.Context, component, key string) (string, error) {
	pw, ok := p[component+"/"+key]
	if !ok {
		return "", fmt.Errorf("no password for %s/%s", component, key)
	}
	return pw, nil
}

// TestCatalogTwice makes every test catalog entry in a new region of the real
// keystone, all at once, then again: the second run changes nothing, each
// service exists once with one endpoint per interface, and each service
// user authenticates with its password, scoped to the service project.
func TestCatalogTwice(t *testing.T) {
	id, client := newIdentity(t)
	ctx := context.Background()
	e := Endpoints{Region: unique(t, "Region"), Domain: "cloud.example.com", Namespace: "openstack", ClusterDomain: "cluster.local"}
	passwords := passwordMap{}
	for _, s := range testServices {
		for _, u := range s.Users {
			passwords[s.Component+"/"+u.Key] = unique(t, "pw-"+u.Key)
		}
	}
	run := func() []string {
		var mu sync.Mutex
		var changed []string
		var wg sync.WaitGroup
		for _, s := range testServices {
			wg.Go(func() {
				c, err := id.EnsureCatalogService(ctx, e, s, passwords)
				if err != nil {
					t.Errorf("%s: %v", s.Type, err)
				}
				if c {
					mu.Lock()
					changed = append(changed, s.Type)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return changed
	}
	if first := run(); len(first) != len(testServices) {
		t.Errorf("first run changed %v, want every entry", first)
	}
	if second := run(); len(second) != 0 {
		t.Errorf("second run changed %v", second)
	}
	for _, s := range testServices {
		found := listServices(t, client, s.Type)
		if len(found) != 1 {
			t.Errorf("%s: %d services", s.Type, len(found))
			continue
		}
		var mine int
		for _, ep := range listEndpoints(t, client, found[0].ID) {
			if ep.Region == e.Region {
				mine++
				if want := e.URLs(s)[ep.Availability]; ep.URL != want {
					t.Errorf("%s %s endpoint %s, want %s", s.Type, ep.Availability, ep.URL, want)
				}
			}
		}
		if mine != 3 {
			t.Errorf("%s: %d endpoints in %s, want 3", s.Type, mine, e.Region)
		}
	}
	glance := testService(t, "image").Users[0]
	scope := tokens.Scope{ProjectName: ServiceProject, DomainName: ServiceDomain}
	_, err := tokens.Create(ctx, client, &tokens.AuthOptions{Username: glance.UserName(e.Region), DomainName: ServiceDomain,
		Password: passwords["glance/glance"], Scope: scope}).Extract()
	if err != nil {
		t.Errorf("the glance user cannot get a service-project token: %v", err)
	}
}

// TestCloudSeesServicesAddedAfterItAuthenticated: a compute endpoint made
// after the cloud authenticated (as a deploy's catalog phase does) is found
// by refreshing the token's catalog.
func TestCloudSeesServicesAddedAfterItAuthenticated(t *testing.T) {
	id, _ := newIdentity(t)
	ctx := context.Background()
	region := unique(t, "Region")
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(testenv.CloudName), clouds.WithLocations(testenv.KeystoneClouds(t)))
	if err != nil {
		t.Fatal(err)
	}
	eo.Region = region
	cloud, err := openstack.Authenticate(ctx, ao, eo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.Compute(ctx); err == nil || !strings.Contains(err.Error(), region) {
		t.Fatalf("compute before its endpoint exists: %v", err)
	}
	e := Endpoints{Region: region, Domain: "cloud.example.com", Namespace: "openstack", ClusterDomain: "cluster.local"}
	nova := testService(t, "compute")
	nova.Users = nil
	if _, err := id.EnsureCatalogService(ctx, e, nova, passwordMap{}); err != nil {
		t.Fatal(err)
	}
	client, err := cloud.Compute(ctx)
	if err != nil {
		t.Fatalf("compute after its endpoint was made: %v", err)
	}
	if want := e.URLs(nova)[gophercloud.AvailabilityPublic] + "/"; client.Endpoint != want {
		t.Errorf("compute endpoint %s, want %s", client.Endpoint, want)
	}
}
