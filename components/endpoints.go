package components

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/publichosts"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The endpoints' knobs: keystone's public host (which gives the cloud's
// domain), the cloud's region, the MySQL root password, and the variable of
// each public host (openstack_helm_endpoints_<host variable>). The region
// of one service's clients is regionKnob.
var (
	keystoneAPIHost      = sharedKnobs.str("openstack_helm_endpoints_keystone_api_host", "")
	regionName           = sharedKnobs.str("openstack_helm_endpoints_region_name", "")
	mariadbAdminPassword = sharedKnobs.str("openstack_helm_endpoints_mariadb_admin_password", "")
	publicHostKnobs      = func() map[string]knob[string] {
		out := map[string]knob[string]{}
		for _, h := range publichosts.All {
			out[h.Var] = sharedKnobs.str("openstack_helm_endpoints_"+h.Var, "")
		}
		return out
	}()
)

// regionKnob is the region of a service's clients
// (openstack_helm_endpoints_<service>_region_name; "" for the cloud's). The
// services are the components with catalog entries (regionKnobs).
func regionKnob(service string) knob[string] {
	return knob[string]{name: "openstack_helm_endpoints_" + service + "_region_name", want: "a string", conv: func(v any) (string, bool) {
		x, ok := v.(string)
		return x, ok
	}}
}

// regionKnobs are the region knobs of the services of components: one per
// component with catalog entries and per service user's key.
func regionKnobs(components []*Component) []knobDecl {
	var out []knobDecl
	for _, c := range components {
		if len(c.services) > 0 {
			out = append(out, regionKnob(c.Name))
		}
		for _, s := range c.services {
			for _, u := range s.Users {
				out = append(out, regionKnob(u.Key))
			}
		}
	}
	return out
}

// The endpoints values of openstack-helm charts, derived as atmosphere's
// openstack_helm_endpoints role derives them: for each endpoint a chart
// declares (the keys of its values' endpoints), its fragment (a tree of
// values), merged: the fragment of the component that owns the endpoint
// (Component.endpoints, in its file) or a shared one below. A fragment
// names the service's public host (from the table of public hosts,
// publichosts.All), its keystone users, and its database and message-queue
// passwords, from the inventory's variables
// (openstack_helm_endpoints_<service>_*) and the secrets; the database root
// password and each chart's RabbitMQ user come from the cluster, where the
// Percona XtraDB and RabbitMQ operators keep them.

// ignoredEndpoints are the endpoints atmosphere leaves to the charts.
var ignoredEndpoints = []string{
	"ceph_mon", "ceph_object_store", "cloudwatch", "cluster_domain_suffix", "compute_novnc_vencrypt",
	"compute_spice_proxy", "fluentd", "ingress", "kube_dns", "ldap", "local_image_registry", "monitoring",
	"object_store", "oci_image_registry", "prometheus_rabbitmq_exporter", "volume", "volumev2", "share",
}

// endpointFragment is the values of one chart endpoint, a tree of values.
type endpointFragment func(e *endpointRender) values.Values

// sharedEndpoints are the fragments of the endpoints no one component owns:
// the database, message queue and cache every service talks to, and the
// endpoints of services no component of the registry deploys (ironic,
// designate and its DNS servers) or that its charts take as they are. A
// component's own endpoints are in its file (Component.endpoints).
var sharedEndpoints = map[string]endpointFragment{
	"oslo_db": func(e *endpointRender) values.Values {
		return m{"oslo_db": m{
			"auth":  m{"admin": m{"password": e.dbRoot()}},
			"hosts": m{"default": "percona-xtradb-haproxy"},
		}}
	},
	"oslo_messaging": func(e *endpointRender) values.Values {
		user, password := e.rabbit()
		return m{"oslo_messaging": m{
			"auth": m{
				"user":  m{"username": user, "password": password},
				"admin": m{"username": user, "password": password},
			},
			"statefulset": nil,
			"hosts":       m{"default": "rabbitmq-" + e.chart},
		}}
	},
	"oslo_cache": func(e *endpointRender) values.Values {
		return m{"oslo_cache": m{"auth": m{"memcache_secret_key": e.secret("memcached_secret_key")}}}
	},
	"baremetal": func(e *endpointRender) values.Values { return e.service("baremetal", "ironic", nil, true, true) },
	"dns": func(e *endpointRender) values.Values {
		// atmosphere's role spells the user "desigante-<region>": kept, so
		// that an existing cloud's user is the one configured.
		return merge(e.identityUsers(user{"designate", "designate", "desigante", ""}), e.public("dns", "api"),
			e.db("designate"), e.mq("designate"))
	},
	"mdns": func(e *endpointRender) values.Values {
		return m{"mdns": m{
			"name":               "minidns",
			"hosts":              m{"default": "minidns", "public": "designate-mdns"},
			"host_fqdn_override": m{"default": e.endpointHost("dns")},
			"path":               m{"default": "/"},
			"scheme":             m{"default": "tcp"},
			"port":               m{"ipc": m{"default": 5354}},
		}}
	},
	"powerdns": func(*endpointRender) values.Values { return nil },
	"valkey":   func(*endpointRender) values.Values { return nil },
}

// designateService is designate's entry in the keystone catalog. No
// component of the registry deploys designate: the one that does declares
// it (Component.services), with the dns and mdns endpoints above. Only
// made when the deployment enables it.
var designateService = provision.Service{Type: "dns", Name: "designate", Description: "OpenStack DNS",
	Host: "designate-api", Port: 9001, Path: "/", Optional: true,
	// "desigante" is how atmosphere spells the user; existing clouds have it.
	Users: []provision.ServiceUser{serviceUser("designate", "desigante", admin...)}}

// serviceUser is a keystone user of a service in the catalog: its key in
// the chart's endpoints.identity.auth and the secrets store, its name
// before the "-<region>" suffix, and its roles on the service project.
func serviceUser(key, name string, roles ...string) provision.ServiceUser {
	return provision.ServiceUser{Key: key, Name: name, Roles: roles}
}

// The roles of the catalog's service users.
var (
	admin        = []string{"admin"}
	adminService = []string{"admin", "service"}
)

// endpointTable is the fragment of every endpoint atmosphere gives values
// for: the shared ones and those the default registry's components own,
// gathered once (gatherEndpoints).
func endpointTable() (map[string]endpointFragment, error) {
	endpointTableOnce.Do(func() {
		endpointTableOnce.table, endpointTableOnce.err = gatherEndpoints(defaultComponents())
	})
	return endpointTableOnce.table, endpointTableOnce.err
}

var endpointTableOnce struct {
	sync.Once
	table map[string]endpointFragment
	err   error
}

// gatherEndpoints is sharedEndpoints with the endpoints each component
// owns; an endpoint declared twice (by two components, or by one and the
// shared table) is an error naming both.
func gatherEndpoints(cs []*Component) (map[string]endpointFragment, error) {
	table := maps.Clone(sharedEndpoints)
	owner := map[string]string{}
	var problems []string
	for _, c := range cs {
		for _, name := range slices.Sorted(maps.Keys(c.endpoints)) {
			if _, dup := table[name]; dup {
				by := owner[name]
				if by == "" {
					by = "the shared endpoints"
				}
				problems = append(problems, fmt.Sprintf("endpoint %s: declared by %s and %s", name, by, c.Name))
				continue
			}
			table[name], owner[name] = c.endpoints[name], c.Name
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("chart endpoints: %s", strings.Join(problems, "; "))
	}
	return table, nil
}

// m is a map of values, short for the fragments above.
type m = map[string]any

// endpointRender renders the endpoints of one chart.
type endpointRender struct {
	*Render
	chart string
}

// user is a keystone user of a service: its key under identity.auth, the
// service whose region it is in, the prefix of its name and the variable
// of its password (openstack_helm_endpoints_<service>_keystone_password
// when empty).
type user struct{ key, service, prefix, password string }

func (e *endpointRender) secret(name string) string {
	return e.Render.secret("openstack_helm_endpoints_" + name)
}

// host is a public host variable (openstack_helm_endpoints_<name>); when the
// inventory does not set it, its prefix in the table of public hosts
// (publichosts.All) under the cloud's domain (the keystone host
// without its first label), as the catalog has it.
func (e *endpointRender) host(name string) string {
	if k, ok := publicHostKnobs[name]; ok {
		if v := k.get(e.Render); v != "" {
			return v
		}
	}
	h, known := publichosts.ByVar(name)
	if !known {
		e.fail(fmt.Errorf("openstack_helm_endpoints_%s is not set", name))
		return ""
	}
	return e.derivedHost(h.Prefix)
}

// publicHostVar is the host variable of a chart endpoint's public side, from
// the table of public hosts (publichosts.All).
func publicHostVar(endpoint string) string {
	h, _ := publichosts.ByEndpoint(endpoint)
	return h.Var
}

// publicIngressOf is the public Ingress of a chart endpoint, at the host of
// its variable in the table of public hosts, to a service's port, with the
// role's annotations and the prefix of its knobs.
func publicIngressOf(endpoint, service string, port int, annotations map[string]any, knob string) publicIngress {
	return publicIngress{endpoint: endpoint, hostVar: publicHostVar(endpoint), service: service, port: port, annotations: annotations, knob: knob}
}

// endpointHost is the public host of a chart endpoint (host of its
// variable).
func (e *endpointRender) endpointHost(endpoint string) string {
	name := publicHostVar(endpoint)
	if name == "" {
		e.fail(fmt.Errorf("endpoint %s has no public host", endpoint))
		return ""
	}
	return e.host(name)
}

// derivedHost is prefix under the cloud's domain (the keystone host without
// its first label).
func (e *endpointRender) derivedHost(prefix string) string {
	keystone := keystoneAPIHost.get(e.Render)
	_, domain, ok := strings.Cut(keystone, ".")
	if !ok {
		e.fail(fmt.Errorf("no public host for %s: openstack_helm_endpoints_keystone_api_host, which gives the cloud's domain, is not set", prefix))
		return ""
	}
	return prefix + "." + domain
}

// region is a service's region (openstack_helm_endpoints_<service>_region_name,
// else the deployment's).
func (e *endpointRender) region(service string) string {
	if v := regionKnob(service).get(e.Render); v != "" {
		return v
	}
	v := regionName.get(e.Render)
	if v == "" {
		e.fail(fmt.Errorf("openstack_helm_endpoints_region_name is not set"))
	}
	return v
}

// identityUsers is the identity.auth part of a service's keystone users.
func (e *endpointRender) identityUsers(us ...user) values.Values {
	auth := m{}
	for _, u := range us {
		region, name, password := e.keystoneUser(u)
		auth[u.key] = m{"region_name": region, "username": name, "password": password}
	}
	return m{"identity": m{"auth": auth}}
}

// keystoneUser is a service user's region, name (<prefix>-<region>) and
// password (openstack_helm_endpoints_<service>_keystone_password unless
// the user names another).
func (e *endpointRender) keystoneUser(u user) (region, name, password string) {
	secret := u.password
	if secret == "" {
		secret = u.service + "_keystone_password"
	}
	region = e.region(u.service)
	return region, u.prefix + "-" + region, e.secret(secret)
}

// public is an endpoint's public side: https on 443 at its public host.
func (e *endpointRender) public(endpoint, port string) values.Values {
	return m{endpoint: m{
		"scheme":             m{"public": "https"},
		"host_fqdn_override": m{"public": m{"host": e.endpointHost(endpoint)}},
		"port":               m{port: m{"public": 443}},
	}}
}

// service is a usual OpenStack service: its keystone user, its public
// endpoint (with extra values under it), its database password and, when
// mq, its RabbitMQ password.
func (e *endpointRender) service(endpoint, name string, extra values.Values, db, mq bool) values.Values {
	out := merge(e.identityUsers(user{name, name, name, ""}), e.public(endpoint, "api"))
	if extra != nil {
		out = merge(out, m{endpoint: extra})
	}
	if db {
		out = merge(out, e.db(name))
	}
	if mq {
		out = merge(out, e.mq(name))
	}
	return out
}

func (e *endpointRender) db(name string) values.Values {
	return m{"oslo_db": m{"auth": m{name: m{"password": e.secret(name + "_mariadb_password")}}}}
}

func (e *endpointRender) mq(name string) values.Values {
	return m{"oslo_messaging": m{"auth": m{name: m{"password": e.secret(name + "_rabbitmq_password")}}}}
}

// extraDB is a second database of a service (nova's API and cell0,
// octavia's persistence).
func (e *endpointRender) extraDB(endpoint, name string) values.Values {
	return m{endpoint: m{
		"auth": m{
			"admin": m{"password": e.dbRoot()},
			name:    m{"password": e.secret(name + "_mariadb_password")},
		},
		"hosts": m{"default": "percona-xtradb-haproxy"},
	}}
}

// dbRoot is the Percona XtraDB cluster's root password
// (openstack_helm_endpoints_mariadb_admin_password when the inventory sets
// it, else the operator's Secret).
func (e *endpointRender) dbRoot() string {
	if v := mariadbAdminPassword.get(e.Render); v != "" {
		return v
	}
	return e.clusterSecret("percona-xtradb", "root")
}

// rabbit is the default user of the chart's RabbitMQ cluster, which its
// operator keeps in the Secret rabbitmq-<chart>-default-user.
func (e *endpointRender) rabbit() (string, string) {
	name := "rabbitmq-" + e.chart + "-default-user"
	return e.clusterSecret(name, "username"), e.clusterSecret(name, "password")
}

func (e *endpointRender) clusterSecret(name, key string) string {
	if e.ClusterSecret == nil {
		e.fail(fmt.Errorf("secret %s/%s: no cluster to read it from", name, key))
		return ""
	}
	v, err := e.ClusterSecret(name, key)
	if err != nil {
		e.fail(fmt.Errorf("secret %s key %s: %w", name, key, err))
	}
	return v
}

// endpoints returns the endpoints values of a chart whose default values
// are r.Chart, named chart (the RabbitMQ cluster's name).
func (r *Render) endpoints(chart string) map[string]any {
	declared, _ := r.Chart["endpoints"].(map[string]any)
	names := make([]string, 0, len(declared))
	for k := range declared {
		if !slices.Contains(ignoredEndpoints, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	table, err := endpointTable()
	if err != nil {
		r.fail(err)
		return nil
	}
	e := &endpointRender{Render: r, chart: chart}
	out := values.Values{}
	for _, n := range names {
		f, ok := table[n]
		if !ok {
			r.fail(fmt.Errorf("chart %s declares endpoint %s, which atmosphere has no values for", chart, n))
			continue
		}
		out = values.Merge(out, f(e))
	}
	return out
}
