package provision

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

func newIdentity(t *testing.T) (*Identity, *gophercloud.ServiceClient) {
	t.Helper()
	cloud, err := openstack.FromClouds(context.Background(), testenv.CloudName, testenv.KeystoneClouds(t))
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.Identity()
	if err != nil {
		t.Fatal(err)
	}
	return NewIdentity(client), client
}

// unique makes names that do not collide with other tests or runs.
func unique(t *testing.T, s string) string {
	return fmt.Sprintf("%s-%s-%d", s, strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), os.Getpid())
}

// TestIdentityStepsTwice runs every identity step twice against the real
// keystone: the first run creates, the second changes nothing and creates
// no duplicate.
func TestIdentityStepsTwice(t *testing.T) {
	id, client := newIdentity(t)
	ctx := context.Background()
	svcType := unique(t, "image")
	region := unique(t, "Region")
	password := "first-" + unique(t, "pw")
	run := func() (changes []string) {
		note := func(what string, changed bool, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if changed {
				changes = append(changes, what)
			}
		}
		d, ch, err := id.EnsureDomain(ctx, unique(t, "domain"))
		note("domain", ch, err)
		p, ch, err := id.EnsureProject(ctx, "service", d.ID)
		note("project", ch, err)
		u, ch, err := id.EnsureUser(ctx, UserSpec{Name: "glance", DomainID: d.ID, Password: password, DefaultProjectID: p.ID})
		note("user", ch, err)
		member, ch, err := id.EnsureRole(ctx, unique(t, "member"))
		note("role member", ch, err)
		creator, ch, err := id.EnsureRole(ctx, unique(t, "creator"))
		note("role creator", ch, err)
		ch, err = id.EnsureRoleAssignment(ctx, Assignment{RoleID: member.ID, UserID: u.ID, ProjectID: p.ID})
		note("assignment", ch, err)
		ch, err = id.EnsureImpliedRole(ctx, member.ID, creator.ID)
		note("implied role", ch, err)
		ch, err = id.EnsureRegion(ctx, region)
		note("region", ch, err)
		s, ch, err := id.EnsureService(ctx, svcType, "glance", "OpenStack Image")
		note("service", ch, err)
		ch, err = id.EnsureEndpoints(ctx, s.ID, region, map[gophercloud.Availability]string{
			gophercloud.AvailabilityPublic:   "https://image.cloud.example/",
			gophercloud.AvailabilityInternal: "http://glance-api.openstack.svc.cluster.local:9292/",
		})
		note("endpoints", ch, err)
		return changes
	}
	if first := run(); len(first) != 10 {
		t.Errorf("first run changed %v, want all 10 steps", first)
	}
	if second := run(); len(second) != 0 {
		t.Errorf("second run changed %v", second)
	}
	svcs := listServices(t, client, svcType)
	if len(svcs) != 1 {
		t.Fatalf("%d services of type %s", len(svcs), svcType)
	}
	if eps := listEndpoints(t, client, svcs[0].ID); len(eps) != 2 {
		t.Errorf("%d endpoints, want 2", len(eps))
	}

	// A changed password is applied; a changed URL is updated in place.
	password = "second-" + unique(t, "pw")
	d, _, _ := id.EnsureDomain(ctx, unique(t, "domain"))
	u, changed, err := id.EnsureUser(ctx, UserSpec{Name: "glance", DomainID: d.ID, Password: password})
	if err != nil || !changed {
		t.Fatalf("password change: changed %v, %v", changed, err)
	}
	if _, err := tokens.Create(ctx, client, &tokens.AuthOptions{UserID: u.ID, Password: password}).Extract(); err != nil {
		t.Errorf("the new password does not authenticate: %v", err)
	}
	before := listEndpoints(t, client, svcs[0].ID)
	changed, err = id.EnsureEndpoints(ctx, svcs[0].ID, region, map[gophercloud.Availability]string{
		gophercloud.AvailabilityPublic:   "https://images.cloud.example/",
		gophercloud.AvailabilityInternal: "http://glance-api.openstack.svc.cluster.local:9292/",
	})
	after := listEndpoints(t, client, svcs[0].ID)
	if err != nil || !changed || len(after) != 2 || !sameIDs(before, after) {
		t.Errorf("URL change: changed %v err %v, endpoints %d (same IDs %v)", changed, err, len(after), sameIDs(before, after))
	}
}

// TestConcurrentStepsCreateOne runs 16 steps at once on the same service
// and the same user: one of each exists afterwards.
func TestConcurrentStepsCreateOne(t *testing.T) {
	id, client := newIdentity(t)
	ctx := context.Background()
	svcType := unique(t, "compute")
	d, _, err := id.EnsureDomain(ctx, unique(t, "domain"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 16 {
		wg.Go(func() {
			s, _, err := id.EnsureService(ctx, svcType, "nova", "OpenStack Compute")
			if err != nil {
				errs <- err
				return
			}
			if _, err := id.EnsureEndpoints(ctx, s.ID, "RegionOne", map[gophercloud.Availability]string{
				gophercloud.AvailabilityPublic: "https://compute.cloud.example/v2.1",
			}); err != nil {
				errs <- err
			}
			if _, _, err := id.EnsureUser(ctx, UserSpec{Name: "nova", DomainID: d.ID, Password: "nova-password"}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	svcs := listServices(t, client, svcType)
	if len(svcs) != 1 {
		t.Fatalf("%d services", len(svcs))
	}
	if eps := listEndpoints(t, client, svcs[0].ID); len(eps) != 1 {
		t.Errorf("%d endpoints, want 1", len(eps))
	}
}

func listServices(t *testing.T, client *gophercloud.ServiceClient, svcType string) []services.Service {
	t.Helper()
	pages, err := services.List(client, services.ListOpts{ServiceType: svcType}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	list, err := services.ExtractServices(pages)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func listEndpoints(t *testing.T, client *gophercloud.ServiceClient, serviceID string) []endpoints.Endpoint {
	t.Helper()
	pages, err := endpoints.List(client, endpoints.ListOpts{ServiceID: serviceID}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	list, err := endpoints.ExtractEndpoints(pages)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func sameIDs(a, b []endpoints.Endpoint) bool {
	ids := map[string]bool{}
	for _, e := range a {
		ids[e.ID] = true
	}
	for _, e := range b {
		if !ids[e.ID] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestPasswordsNeverInErrors makes steps fail and checks the password is
// nowhere in what they return.
func TestPasswordsNeverInErrors(t *testing.T) {
	id, _ := newIdentity(t)
	const secret = "do-not-print-Zq8x1"
	_, _, err := id.EnsureUser(context.Background(), UserSpec{Name: "ghost", DomainID: "no-such-domain", Password: secret})
	if err == nil {
		t.Fatal("want an error for an unknown domain")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
		t.Errorf("the password leaked: %v", err)
	}
}
