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
// endpoints, and the users its component runs as.
type Service struct {
	// Component is the registry component that owns it.
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

func serviceUsers(u ...ServiceUser) []ServiceUser { return u }

func user(key, name string, roles ...string) ServiceUser {
	return ServiceUser{Key: key, Name: name, Roles: roles}
}

var (
	admin        = []string{"admin"}
	adminService = []string{"admin", "service"}
)

// Services is the catalog atmosphere deploys: every component with its
// own catalog entry, with the hosts, ports and paths of atmosphere's charts
// (identity's path is "/" and compute's "/v2.1", as atmosphere overrides
// them).
var Services = []Service{
	{Component: "keystone", Type: "identity", Name: "keystone", Description: "OpenStack Identity",
		Host: "keystone", Port: 80, InternalHost: "keystone-api", InternalPort: 5000, Path: "/"},
	{Component: "glance", Type: "image", Name: "glance", Description: "OpenStack Image",
		Host: "glance-api", Port: 9292, Users: serviceUsers(user("glance", "glance", admin...))},
	{Component: "cinder", Type: "volumev3", Name: "cinderv3", Description: "OpenStack Block Storage",
		Host: "cinder-api", Port: 8776, Path: "/v3/%(tenant_id)s", Users: serviceUsers(user("cinder", "cinder", adminService...))},
	{Component: "nova", Type: "compute", Name: "nova", Description: "OpenStack Compute",
		Host: "nova-api", Port: 8774, Path: "/v2.1", Users: serviceUsers(user("nova", "nova", adminService...))},
	{Component: "placement", Type: "placement", Name: "placement", Description: "OpenStack Placement",
		Host: "placement-api", Port: 8778, Path: "/", Users: serviceUsers(user("placement", "placement", adminService...))},
	{Component: "neutron", Type: "network", Name: "neutron", Description: "OpenStack Networking",
		Host: "neutron-server", Port: 9696, Users: serviceUsers(user("neutron", "neutron", adminService...))},
	{Component: "heat", Type: "orchestration", Name: "heat", Description: "OpenStack Orchestration",
		Host: "heat-api", Port: 8004, Path: "/v1/%(project_id)s", Users: serviceUsers(
			user("heat", "heat", admin...), user("heat_trustee", "heat-trustee", admin...),
			ServiceUser{Key: "heat_stack_user", Name: "heat-stack-user", Domain: "heat"})},
	{Component: "heat", Type: "cloudformation", Name: "heat-cfn", Description: "OpenStack CloudFormation",
		Host: "heat-cfn", Port: 8000, Path: "/v1"},
	{Component: "barbican", Type: "key-manager", Name: "barbican", Description: "OpenStack Key Manager",
		Host: "barbican-api", Port: 9311, Path: "/", Users: serviceUsers(user("barbican", "barbican", admin...))},
	{Component: "octavia", Type: "load-balancer", Name: "octavia", Description: "OpenStack Load Balancer",
		Host: "octavia-api", Port: 9876, Users: serviceUsers(user("octavia", "octavia", admin...))},
	{Component: "magnum", Type: "container-infra", Name: "magnum", Description: "OpenStack Container Infrastructure",
		Host: "magnum-api", Port: 9511, Path: "/v1", Users: serviceUsers(user("magnum", "magnum", admin...),
			ServiceUser{Key: "magnum_stack_user", Name: "magnum-domain", Domain: "magnum"})},
	{Component: "manila", Type: "sharev2", Name: "manilav2", Description: "OpenStack Shared File Systems",
		Host: "manila-api", Port: 8786, Path: "/v2", Users: serviceUsers(user("manila", "manila", admin...))},
	{Component: "rook-ceph-cluster", Type: "object-store", Name: "swift", Description: "OpenStack Object Storage",
		Host: "rook-ceph-rgw-ceph", Port: 80, Path: "/swift/v1/%(tenant_id)s", Users: serviceUsers(user("rgw", "rgw", admin...))},
	{Component: "designate", Type: "dns", Name: "designate", Description: "OpenStack DNS",
		Host: "designate-api", Port: 9001, Path: "/", Optional: true,
		// "desigante" is how atmosphere spells the user; existing clouds have it.
		Users: serviceUsers(user("designate", "desigante", admin...))},
}

// ServicesOf returns the catalog entries a component owns.
func ServicesOf(component string) []Service {
	var out []Service
	for _, s := range Services {
		if s.Component == component {
			out = append(out, s)
		}
	}
	return out
}

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
