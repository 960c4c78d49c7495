package components

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/publichosts"
)

// The endpoints values of openstack-helm charts, derived as atmosphere's
// openstack_helm_endpoints role derives them: for each endpoint a chart
// declares (the keys of its values' endpoints), the fragment below (a tree
// of values), merged. A fragment names the service's public host (from the
// table of public hosts, publichosts.All), its keystone users, and its
// database and message-queue passwords, from the inventory's variables
// (openstack_helm_endpoints_<service>_*) and the secrets; the database root
// password and each chart's RabbitMQ user come from the cluster, where the
// Percona XtraDB and RabbitMQ operators keep them.

// ignoredEndpoints are the endpoints atmosphere leaves to the charts.
var ignoredEndpoints = []string{
	"ceph_mon", "ceph_object_store", "cloudwatch", "cluster_domain_suffix", "compute_novnc_vencrypt",
	"compute_spice_proxy", "fluentd", "ingress", "kube_dns", "ldap", "local_image_registry", "monitoring",
	"object_store", "oci_image_registry", "prometheus_rabbitmq_exporter", "volume", "volumev2", "share",
}

// endpointFragments are the fragments by endpoint, each a tree of values.
var endpointFragments = map[string]func(e *endpointRender) values.Values{
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
	"identity": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(user{"admin", "keystone", "admin", "keystone_admin_password"}), m{"identity": m{
			"hosts":              m{"default": "keystone-api"},
			"scheme":             m{"public": "https"},
			"host_fqdn_override": m{"public": m{"host": e.endpointHost("identity")}},
			"path":               m{"default": "/"},
			"port":               m{"api": m{"default": 5000, "public": 443}},
		}}, e.db("keystone"), e.mq("keystone"))
	},
	"image":          func(e *endpointRender) values.Values { return e.service("image", "glance", nil, true, true) },
	"volumev3":       func(e *endpointRender) values.Values { return e.service("volumev3", "cinder", nil, true, true) },
	"placement":      func(e *endpointRender) values.Values { return e.service("placement", "placement", nil, true, false) },
	"key_manager":    func(e *endpointRender) values.Values { return e.service("key_manager", "barbican", nil, true, false) },
	"network":        func(e *endpointRender) values.Values { return e.service("network", "neutron", nil, true, true) },
	"baremetal":      func(e *endpointRender) values.Values { return e.service("baremetal", "ironic", nil, true, true) },
	"sharev2":        func(e *endpointRender) values.Values { return e.service("sharev2", "manila", nil, true, false) },
	"cloudformation": func(e *endpointRender) values.Values { return e.public("cloudformation", "api") },
	"compute": func(e *endpointRender) values.Values {
		return e.service("compute", "nova", m{"path": m{"default": "/v2.1"}}, true, true)
	},
	"oslo_db_api":         func(e *endpointRender) values.Values { return e.extraDB("oslo_db_api", "nova") },
	"oslo_db_cell0":       func(e *endpointRender) values.Values { return e.extraDB("oslo_db_cell0", "nova") },
	"oslo_db_persistence": func(e *endpointRender) values.Values { return e.extraDB("oslo_db_persistence", "octavia") },
	"compute_metadata": func(e *endpointRender) values.Values {
		return m{"compute_metadata": m{
			"secret": e.secret("neutron_metadata_secret"),
			"hosts":  m{"public": "nova-metadata"},
			"port":   m{"metadata": m{"public": 8775}},
		}}
	},
	"compute_novnc_proxy": func(e *endpointRender) values.Values {
		return merge(e.public("compute_novnc_proxy", "novnc_proxy"), m{"compute_novnc_proxy": m{"path": m{"default": "/vnc_lite.html"}}})
	},
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
	"load_balancer": func(e *endpointRender) values.Values {
		return merge(e.service("load_balancer", "octavia", nil, true, true), m{
			"valkey":              m{"hosts": m{"default": "valkey"}},
			"oslo_db_persistence": m{"auth": m{"octavia": m{"password": e.secret("octavia_mariadb_password")}}},
		})
	},
	"orchestration": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(user{"heat", "heat", "heat", ""},
			user{"heat_trustee", "heat", "heat-trustee", "heat_trustee_keystone_password"},
			user{"heat_stack_user", "heat", "heat-stack-user", "heat_stack_user_keystone_password"}),
			m{"identity": m{"path": m{"public": "/v3"}}},
			e.public("orchestration", "api"), e.db("heat"), e.mq("heat"))
	},
	"dashboard": func(e *endpointRender) values.Values {
		return merge(e.public("dashboard", "api"), e.db("horizon"))
	},
	"container_infra": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(user{"magnum", "magnum", "magnum", ""},
			user{"magnum_stack_user", "magnum", "magnum-domain", "magnum_keystone_password"}),
			e.public("container_infra", "api"), e.public("container_infra_registry", "api"),
			e.db("magnum"), e.mq("magnum"))
	},
	"rook_ceph_cluster": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(rgwUser), e.public("rook_ceph_cluster", "api"))
	},
	"staffeln": func(e *endpointRender) values.Values { return e.db("staffeln") },
	"libvirt_exporter": func(*endpointRender) values.Values {
		return m{"libvirt_exporter": m{"port": m{"metrics": m{"default": 9177}}}}
	},
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

// rgwUser is the RADOS gateway's keystone user: in its chart's endpoints
// and in the credentials Secret its object store reads.
var rgwUser = user{"rgw", "rgw", "rgw", ""}

func (e *endpointRender) secret(name string) string {
	return e.Render.secret("openstack_helm_endpoints_" + name)
}

// host is a public host variable (openstack_helm_endpoints_<name>); when the
// inventory does not set it, its prefix in the table of public hosts
// (publichosts.All) under the cloud's domain (the keystone host
// without its first label), as the catalog has it.
func (e *endpointRender) host(name string) string {
	if v, _ := e.knob("openstack_helm_endpoints_"+name, "").(string); v != "" {
		return v
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
	return publicIngress{endpoint, publicHostVar(endpoint), service, port, annotations, knob}
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
	keystone, _ := e.knob("openstack_helm_endpoints_keystone_api_host", "").(string)
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
	if v, ok := e.knob("openstack_helm_endpoints_"+service+"_region_name", nil).(string); ok && v != "" {
		return v
	}
	v, _ := e.knob("openstack_helm_endpoints_region_name", "").(string)
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
	if v, ok := e.knob("openstack_helm_endpoints_mariadb_admin_password", nil).(string); ok && v != "" {
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
	e := &endpointRender{Render: r, chart: chart}
	out := values.Values{}
	for _, n := range names {
		f, ok := endpointFragments[n]
		if !ok {
			r.fail(fmt.Errorf("chart %s declares endpoint %s, which atmosphere has no values for", chart, n))
			continue
		}
		out = values.Merge(out, f(e))
	}
	return out
}
