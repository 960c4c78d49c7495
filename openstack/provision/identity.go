// Package provision holds the OpenStack set-up steps components declare:
// idempotent Ensure... functions, context first, that return what they
// found or created and whether they changed anything. Keystone does not
// make services or endpoints unique, so every step lists before it creates,
// and steps on the same object are serialised within the process.
package provision

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/regions"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// Identity ensures keystone objects. It is safe for concurrent use.
type Identity struct {
	client *gophercloud.ServiceClient
	locks  keyedMutex
}

// NewIdentity returns the identity steps over an identity v3 client.
func NewIdentity(client *gophercloud.ServiceClient) *Identity {
	return &Identity{client: client}
}

// keyedMutex serialises work on one key ("service:image") so that two
// concurrent steps cannot both find nothing and both create.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	m, ok := k.locks[key]
	if !ok {
		m = &sync.Mutex{}
		k.locks[key] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func all[T any](ctx context.Context, pager pagination.Pager, extract func(pagination.Page) ([]T, error)) ([]T, error) {
	pages, err := pager.AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return extract(pages)
}

// EnsureDomain ensures a domain exists and is enabled.
func (i *Identity) EnsureDomain(ctx context.Context, name string) (*domains.Domain, bool, error) {
	defer i.locks.lock("domain:" + name)()
	found, err := all(ctx, domains.List(i.client, domains.ListOpts{Name: name}), domains.ExtractDomains)
	if err != nil {
		return nil, false, fmt.Errorf("list domain %s: %w", name, err)
	}
	if len(found) > 0 {
		return &found[0], false, nil
	}
	enabled := true
	d, err := domains.Create(ctx, i.client, domains.CreateOpts{Name: name, Enabled: &enabled}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create domain %s: %w", name, err)
	}
	return d, true, nil
}

// EnsureProject ensures a project exists in a domain.
func (i *Identity) EnsureProject(ctx context.Context, name, domainID string) (*projects.Project, bool, error) {
	defer i.locks.lock("project:" + domainID + "/" + name)()
	found, err := all(ctx, projects.List(i.client, projects.ListOpts{Name: name, DomainID: domainID}), projects.ExtractProjects)
	if err != nil {
		return nil, false, fmt.Errorf("list project %s: %w", name, err)
	}
	if len(found) > 0 {
		return &found[0], false, nil
	}
	p, err := projects.Create(ctx, i.client, projects.CreateOpts{Name: name, DomainID: domainID}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create project %s: %w", name, err)
	}
	return p, true, nil
}

// UserSpec is a user to ensure.
type UserSpec struct {
	Name, DomainID string
	// Password is kept in sync: when it no longer authenticates the user,
	// it is set.
	Password string
	// DefaultProjectID is optional.
	DefaultProjectID string
}

// EnsureUser ensures a user exists with the password given. Whether the
// password is current is checked by authenticating as the user (keystone
// never returns it).
func (i *Identity) EnsureUser(ctx context.Context, spec UserSpec) (*users.User, bool, error) {
	defer i.locks.lock("user:" + spec.DomainID + "/" + spec.Name)()
	found, err := all(ctx, users.List(i.client, users.ListOpts{Name: spec.Name, DomainID: spec.DomainID}), users.ExtractUsers)
	if err != nil {
		return nil, false, fmt.Errorf("list user %s: %w", spec.Name, err)
	}
	if len(found) == 0 {
		enabled := true
		u, err := users.Create(ctx, i.client, users.CreateOpts{Name: spec.Name, DomainID: spec.DomainID, Password: spec.Password,
			DefaultProjectID: spec.DefaultProjectID, Enabled: &enabled}).Extract()
		if err != nil {
			return nil, false, fmt.Errorf("create user %s: %w", spec.Name, err)
		}
		return u, true, nil
	}
	u := &found[0]
	ok, err := i.passwordWorks(ctx, u.ID, spec.Password)
	if err != nil {
		return nil, false, fmt.Errorf("check the password of user %s: %w", spec.Name, err)
	}
	if ok {
		return u, false, nil
	}
	u, err = users.Update(ctx, i.client, u.ID, users.UpdateOpts{Password: spec.Password}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("set the password of user %s: %w", spec.Name, err)
	}
	return u, true, nil
}

// passwordWorks asks keystone for an unscoped token as the user.
func (i *Identity) passwordWorks(ctx context.Context, userID, password string) (bool, error) {
	_, err := tokens.Create(ctx, i.client, &tokens.AuthOptions{UserID: userID, Password: password}).Extract()
	if err == nil {
		return true, nil
	}
	if gophercloud.ResponseCodeIs(err, 401) {
		return false, nil
	}
	return false, err
}

// EnsureRole ensures a global role exists.
func (i *Identity) EnsureRole(ctx context.Context, name string) (*roles.Role, bool, error) {
	defer i.locks.lock("role:" + name)()
	found, err := all(ctx, roles.List(i.client, roles.ListOpts{Name: name}), roles.ExtractRoles)
	if err != nil {
		return nil, false, fmt.Errorf("list role %s: %w", name, err)
	}
	for _, r := range found {
		if r.DomainID == "" {
			return &r, false, nil
		}
	}
	r, err := roles.Create(ctx, i.client, roles.CreateOpts{Name: name}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create role %s: %w", name, err)
	}
	return r, true, nil
}

// Assignment is a role given to a user on a project or a domain.
type Assignment struct {
	RoleID, UserID      string
	ProjectID, DomainID string
}

// EnsureRoleAssignment ensures a user holds a role on a project or domain.
func (i *Identity) EnsureRoleAssignment(ctx context.Context, a Assignment) (bool, error) {
	if (a.ProjectID == "") == (a.DomainID == "") {
		return false, errors.New("a role assignment needs a project or a domain, not both")
	}
	list := roles.ListAssignmentsOpts{RoleID: a.RoleID, UserID: a.UserID, ScopeProjectID: a.ProjectID, ScopeDomainID: a.DomainID}
	found, err := all(ctx, roles.ListAssignments(i.client, list), roles.ExtractRoleAssignments)
	if err != nil {
		return false, fmt.Errorf("list role assignments: %w", err)
	}
	if len(found) > 0 {
		return false, nil
	}
	err = roles.Assign(ctx, i.client, a.RoleID, roles.AssignOpts{UserID: a.UserID, ProjectID: a.ProjectID, DomainID: a.DomainID}).ExtractErr()
	if err != nil {
		return false, fmt.Errorf("assign role %s to user %s: %w", a.RoleID, a.UserID, err)
	}
	return true, nil
}

// EnsureImpliedRole ensures that holding prior implies implied
// (member → creator, reader → load-balancer_observer, ...).
func (i *Identity) EnsureImpliedRole(ctx context.Context, priorID, impliedID string) (bool, error) {
	_, err := roles.GetRoleInferenceRule(ctx, i.client, priorID, impliedID).Extract()
	if err == nil {
		return false, nil
	}
	if !gophercloud.ResponseCodeIs(err, 404) {
		return false, fmt.Errorf("read implied role %s → %s: %w", priorID, impliedID, err)
	}
	if _, err := roles.CreateRoleInferenceRule(ctx, i.client, priorID, impliedID).Extract(); err != nil {
		return false, fmt.Errorf("create implied role %s → %s: %w", priorID, impliedID, err)
	}
	return true, nil
}

// EnsureService ensures one service of a type and name exists (keystone
// would take duplicates).
func (i *Identity) EnsureService(ctx context.Context, serviceType, name, description string) (*services.Service, bool, error) {
	defer i.locks.lock("service:" + serviceType + "/" + name)()
	found, err := all(ctx, services.List(i.client, services.ListOpts{ServiceType: serviceType, Name: name}), services.ExtractServices)
	if err != nil {
		return nil, false, fmt.Errorf("list service %s: %w", serviceType, err)
	}
	if len(found) > 0 {
		return &found[0], false, nil
	}
	enabled := true
	s, err := services.Create(ctx, i.client, services.CreateOpts{Type: serviceType, Enabled: &enabled,
		Extra: map[string]any{"name": name, "description": description}}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create service %s: %w", serviceType, err)
	}
	return s, true, nil
}

// EnsureRegion ensures a region exists.
func (i *Identity) EnsureRegion(ctx context.Context, id string) (bool, error) {
	defer i.locks.lock("region:" + id)()
	_, err := regions.Get(ctx, i.client, id).Extract()
	if err == nil {
		return false, nil
	}
	if !gophercloud.ResponseCodeIs(err, 404) {
		return false, fmt.Errorf("read region %s: %w", id, err)
	}
	if _, err := regions.Create(ctx, i.client, regions.CreateOpts{ID: id}).Extract(); err != nil {
		return false, fmt.Errorf("create region %s: %w", id, err)
	}
	return true, nil
}

// EnsureEndpoints ensures a service has exactly one endpoint per interface
// in a region, with the URL given: missing ones are created, a wrong URL is
// updated in place, duplicates are deleted.
func (i *Identity) EnsureEndpoints(ctx context.Context, serviceID, region string, urls map[gophercloud.Availability]string) (bool, error) {
	defer i.locks.lock("endpoints:" + serviceID + "/" + region)()
	found, err := all(ctx, endpoints.List(i.client, endpoints.ListOpts{ServiceID: serviceID, RegionID: region}), endpoints.ExtractEndpoints)
	if err != nil {
		return false, fmt.Errorf("list endpoints of %s: %w", serviceID, err)
	}
	changed := false
	for _, iface := range []gophercloud.Availability{gophercloud.AvailabilityPublic, gophercloud.AvailabilityInternal, gophercloud.AvailabilityAdmin} {
		url, want := urls[iface]
		var mine []endpoints.Endpoint
		for _, e := range found {
			if e.Availability == iface {
				mine = append(mine, e)
			}
		}
		if !want {
			continue
		}
		switch {
		case len(mine) == 0:
			_, err := endpoints.Create(ctx, i.client, endpoints.CreateOpts{Availability: iface, Region: region, URL: url, ServiceID: serviceID}).Extract()
			if err != nil {
				return changed, fmt.Errorf("create %s endpoint of %s: %w", iface, serviceID, err)
			}
			changed = true
		case mine[0].URL != url:
			_, err := endpoints.Update(ctx, i.client, mine[0].ID, endpoints.UpdateOpts{URL: url}).Extract()
			if err != nil {
				return changed, fmt.Errorf("update %s endpoint of %s: %w", iface, serviceID, err)
			}
			changed = true
		}
		for _, dup := range mine[min(1, len(mine)):] {
			if err := endpoints.Delete(ctx, i.client, dup.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
				return changed, fmt.Errorf("delete duplicate %s endpoint of %s: %w", iface, serviceID, err)
			}
			changed = true
		}
	}
	return changed, nil
}
