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
		var s Service
		for _, c := range Services {
			if c.Type == tt.typ {
				s = c
			}
		}
		got := e.URLs(s)
		want := map[gophercloud.Availability]string{gophercloud.AvailabilityPublic: tt.public,
			gophercloud.AvailabilityInternal: tt.internal, gophercloud.AvailabilityAdmin: tt.admin}
		for iface, url := range want {
			if got[iface] != url {
				t.Errorf("%s %s: %s, want %s", tt.typ, iface, got[iface], url)
			}
		}
	}
	want := []string{"identity", "image", "volumev3", "compute", "placement", "network", "orchestration", "cloudformation",
		"key-manager", "load-balancer", "container-infra", "sharev2", "object-store", "dns"}
	if len(Services) != len(want) {
		t.Errorf("%d catalog entries, want %d", len(Services), len(want))
	}
	for i, typ := range want {
		if i < len(Services) && Services[i].Type != typ {
			t.Errorf("entry %d is %s, want %s", i, Services[i].Type, typ)
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

// TestCatalogTwice makes every catalog entry in a new region of the real
// keystone, all at once, then again: the second run changes nothing, each
// service exists once with one endpoint per interface, and each service
// user authenticates with its password, scoped to the service project.
func TestCatalogTwice(t *testing.T) {
	id, client := newIdentity(t)
	ctx := context.Background()
	e := Endpoints{Region: unique(t, "Region"), Domain: "cloud.example.com", Namespace: "openstack", ClusterDomain: "cluster.local"}
	passwords := passwordMap{}
	for _, s := range Services {
		for _, u := range s.Users {
			passwords[s.Component+"/"+u.Key] = unique(t, "pw-"+u.Key)
		}
	}
	run := func() []string {
		var mu sync.Mutex
		var changed []string
		var wg sync.WaitGroup
		for _, s := range Services {
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
	if first := run(); len(first) != len(Services) {
		t.Errorf("first run changed %v, want every entry", first)
	}
	if second := run(); len(second) != 0 {
		t.Errorf("second run changed %v", second)
	}
	for _, s := range Services {
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
	glance := ServicesOf("glance")[0].Users[0]
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
	nova := ServicesOf("nova")[0]
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
