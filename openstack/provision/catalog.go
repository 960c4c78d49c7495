package provision

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/internal/publichosts"
)

// Endpoints is a deployment's URL scheme, as atmosphere derives it: public
// endpoints are HTTPS at "<prefix>.<Domain>" (the prefix from the table of
// public hosts, publichosts.All) or an override per service type, internal and
// admin endpoints are the chart's cluster Service over HTTP. Ports that are
// the scheme's default are left out of URLs, as the charts' helm-toolkit
// does.
type Endpoints struct {
	// Region is the keystone region ("RegionOne").
	Region string
	// Domain is the public DNS domain ("cloud.example.com").
	Domain string
	// PublicHosts overrides the public host of a service type.
	PublicHosts map[string]string
	// Namespace is where the services run ("openstack").
	Namespace string
	// ClusterDomain is the cluster's DNS suffix ("cluster.local").
	ClusterDomain string
}

// Service is one entry of the catalog: the keystone service and its
// endpoints, and the users its component runs as. The entries are the
// components' (components.Component.Services); this package makes a given
// one, whichever service it is.
type Service struct {
	// Component is the registry component that owns it; its users'
	// passwords are the component's (Passwords).
	Component string
	// Type, Name and Description make the keystone service.
	Type, Name, Description string
	// Host and Port are the cluster Service of the admin endpoint; the
	// internal endpoint uses InternalHost and InternalPort when set.
	Host         string
	Port         int
	InternalHost string
	InternalPort int
	// Path follows host and port ("/v2.1", "/v1/%(project_id)s").
	Path string
	// Users are the keystone users the component's services authenticate
	// as.
	Users []ServiceUser
	// Optional entries are only made when the deployment enables them
	// (dns).
	Optional bool
}

// ServiceUser is a keystone user of a service.
type ServiceUser struct {
	// Key names the user in the chart's endpoints.identity.auth and in the
	// secrets store ("heat_trustee").
	Key string
	// Name is the user name before the "-<region>" suffix atmosphere adds.
	Name string
	// Roles are held on the "service" project of the "service" domain.
	Roles []string
	// Domain, when set, makes the user the admin of that domain (heat's
	// and magnum's stack-user domains) instead of a service-project user.
	Domain string
}

// The domain and project every service user belongs to.
const (
	ServiceDomain  = "service"
	ServiceProject = "service"
)

// admin is the role a domain's admin user holds on its domain.
var admin = []string{"admin"}

// PublicHost is the public host of a service type: the override, else
// its first label in the table of public hosts (publichosts.All) under
// Domain.
func (e Endpoints) PublicHost(s Service) string {
	if h, ok := e.PublicHosts[s.Type]; ok {
		return h
	}
	h, _ := publichosts.ByType(s.Type)
	return h.Prefix + "." + e.Domain
}

// URLs returns the public, internal and admin URLs of a service.
func (e Endpoints) URLs(s Service) map[gophercloud.Availability]string {
	internalHost, internalPort := s.Host, s.Port
	if s.InternalHost != "" {
		internalHost = s.InternalHost
	}
	if s.InternalPort != 0 {
		internalPort = s.InternalPort
	}
	cluster := func(host string) string { return host + "." + e.Namespace + ".svc." + e.ClusterDomain }
	return map[gophercloud.Availability]string{
		gophercloud.AvailabilityPublic:   uri("https", e.PublicHost(s), 443, s.Path),
		gophercloud.AvailabilityInternal: uri("http", cluster(internalHost), internalPort, s.Path),
		gophercloud.AvailabilityAdmin:    uri("http", cluster(s.Host), s.Port, s.Path),
	}
}

// uri leaves out the scheme's default port, as helm-toolkit does.
func uri(scheme, host string, port int, path string) string {
	if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) {
		return scheme + "://" + host + path
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
}

// UserName is the keystone name of a service user in a region.
func (u ServiceUser) UserName(region string) string { return u.Name + "-" + region }

// Passwords gives the password of a component's service user.
type Passwords interface {
	Password(ctx context.Context, component, userKey string) (string, error)
}

// EnsureCatalogService ensures a service's region, keystone service, three
// endpoints and users with their roles, and reports whether any changed.
func (i *Identity) EnsureCatalogService(ctx context.Context, e Endpoints, s Service, passwords Passwords) (bool, error) {
	changed, err := i.EnsureRegion(ctx, e.Region)
	if err != nil {
		return false, err
	}
	svc, c, err := i.EnsureService(ctx, s.Type, s.Name, s.Description)
	if err != nil {
		return changed, err
	}
	changed = changed || c
	c, err = i.EnsureEndpoints(ctx, svc.ID, e.Region, e.URLs(s))
	if err != nil {
		return changed, err
	}
	changed = changed || c
	for _, u := range s.Users {
		c, err := i.ensureServiceUser(ctx, e, s.Component, u, passwords)
		if err != nil {
			return changed, fmt.Errorf("service %s: %w", s.Type, err)
		}
		changed = changed || c
	}
	return changed, nil
}

// ensureServiceUser ensures a user in the service project with its roles,
// or the admin of its own domain.
func (i *Identity) ensureServiceUser(ctx context.Context, e Endpoints, component string, u ServiceUser, passwords Passwords) (bool, error) {
	password, err := passwords.Password(ctx, component, u.Key)
	if err != nil {
		return false, fmt.Errorf("password of user %s: %w", u.Key, err)
	}
	domainName, roleNames := ServiceDomain, u.Roles
	if u.Domain != "" {
		domainName, roleNames = u.Domain, admin
	}
	domain, changed, err := i.EnsureDomain(ctx, domainName)
	if err != nil {
		return false, err
	}
	spec := UserSpec{Name: u.UserName(e.Region), DomainID: domain.ID, Password: password}
	var projectID string
	if u.Domain == "" {
		project, c, err := i.EnsureProject(ctx, ServiceProject, domain.ID)
		if err != nil {
			return changed, err
		}
		changed = changed || c
		projectID, spec.DefaultProjectID = project.ID, project.ID
	}
	usr, c, err := i.EnsureUser(ctx, spec)
	if err != nil {
		return changed, err
	}
	changed = changed || c
	for _, name := range roleNames {
		role, c, err := i.EnsureRole(ctx, name)
		if err != nil {
			return changed, err
		}
		changed = changed || c
		a := Assignment{RoleID: role.ID, UserID: usr.ID, ProjectID: projectID}
		if projectID == "" {
			a.DomainID = domain.ID
		}
		c, err = i.EnsureRoleAssignment(ctx, a)
		if err != nil {
			return changed, err
		}
		changed = changed || c
	}
	return changed, nil
}
