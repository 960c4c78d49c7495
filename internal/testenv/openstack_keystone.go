package testenv

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
)

// registerService makes s's user testbed-NAME (or sets its password) with
// the admin role on the admin project, finds or makes the service of s's
// type and name, and points its three endpoints in OpenStackRegion at url.
func registerService(ctx context.Context, client *gophercloud.ServiceClient, s osService, url, password string) error {
	project, err := findOne(ctx, client, "admin")
	if err != nil {
		return err
	}
	name := "testbed-" + s.name
	pages, err := users.List(client, users.ListOpts{Name: name, DomainID: "default"}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list users %s: %w", name, err)
	}
	found, err := users.ExtractUsers(pages)
	if err != nil {
		return err
	}
	var userID string
	if len(found) > 0 {
		userID = found[0].ID
		if _, err := users.Update(ctx, client, userID, users.UpdateOpts{Password: password}).Extract(); err != nil {
			return fmt.Errorf("set the password of %s: %w", name, err)
		}
	} else {
		u, err := users.Create(ctx, client, users.CreateOpts{Name: name, DomainID: "default", Password: password}).Extract()
		if err != nil {
			return fmt.Errorf("create user %s: %w", name, err)
		}
		userID = u.ID
	}
	rpages, err := roles.List(client, roles.ListOpts{Name: "admin"}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list roles: %w", err)
	}
	rs, err := roles.ExtractRoles(rpages)
	if err != nil || len(rs) == 0 {
		return fmt.Errorf("role admin: %d found, %v", len(rs), err)
	}
	if err := roles.Assign(ctx, client, rs[0].ID, roles.AssignOpts{UserID: userID, ProjectID: project}).ExtractErr(); err != nil {
		return fmt.Errorf("give %s the admin role: %w", name, err)
	}

	return registerEndpoints(ctx, client, s.typ, s.serviceName, url)
}

// registerEndpoints finds or makes the service of typ and name and points
// its public, internal and admin endpoints in OpenStackRegion at url.
func registerEndpoints(ctx context.Context, client *gophercloud.ServiceClient, typ, serviceName, url string) error {
	spages, err := services.List(client, services.ListOpts{ServiceType: typ, Name: serviceName}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list services %s: %w", typ, err)
	}
	svcs, err := services.ExtractServices(spages)
	if err != nil {
		return err
	}
	var serviceID string
	if len(svcs) > 0 {
		serviceID = svcs[0].ID
	} else {
		svc, err := services.Create(ctx, client, services.CreateOpts{Type: typ,
			Extra: map[string]any{"name": serviceName, "description": "atmosphere test bed " + serviceName}}).Extract()
		if err != nil {
			return fmt.Errorf("create service %s: %w", typ, err)
		}
		serviceID = svc.ID
	}
	epages, err := endpoints.List(client, endpoints.ListOpts{ServiceID: serviceID, RegionID: OpenStackRegion}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list endpoints of %s: %w", typ, err)
	}
	eps, err := endpoints.ExtractEndpoints(epages)
	if err != nil {
		return err
	}
	have := map[gophercloud.Availability]endpoints.Endpoint{}
	for _, e := range eps {
		if e.Region == OpenStackRegion {
			have[e.Availability] = e
		}
	}
	for _, iface := range []gophercloud.Availability{gophercloud.AvailabilityPublic, gophercloud.AvailabilityInternal, gophercloud.AvailabilityAdmin} {
		e, ok := have[iface]
		switch {
		case !ok:
			_, err = endpoints.Create(ctx, client, endpoints.CreateOpts{Availability: iface, Name: serviceName,
				Region: OpenStackRegion, URL: url, ServiceID: serviceID}).Extract()
		case e.URL != url:
			_, err = endpoints.Update(ctx, client, e.ID, endpoints.UpdateOpts{URL: url}).Extract()
		}
		if err != nil {
			return fmt.Errorf("%s endpoint of %s: %w", iface, typ, err)
		}
	}
	return nil
}

// findOne returns the ID of the project name in the default domain.
func findOne(ctx context.Context, client *gophercloud.ServiceClient, name string) (string, error) {
	pages, err := projects.List(client, projects.ListOpts{Name: name, DomainID: "default"}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("list projects %s: %w", name, err)
	}
	ps, err := projects.ExtractProjects(pages)
	if err != nil {
		return "", err
	}
	if len(ps) == 0 {
		return "", fmt.Errorf("no project %s", name)
	}
	return ps[0].ID, nil
}
