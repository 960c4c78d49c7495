package components

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The endpoints values of openstack-helm charts, derived as atmosphere's
// openstack_helm_endpoints role derives them: for each endpoint a chart
// declares (the keys of its values' endpoints), the fragment below, merged.
// A fragment names the service's public host, its keystone users, and its
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

// endpointFragments are the fragments by endpoint; each is YAML.
var endpointFragments = map[string]func(e *endpointRender) string{
	"oslo_db": func(e *endpointRender) string {
		return `
oslo_db:
  auth:
    admin:
      password: ` + e.q(e.dbRoot()) + `
  hosts:
    default: percona-xtradb-haproxy
`
	},
	"oslo_messaging": func(e *endpointRender) string {
		user, password := e.rabbit()
		return `
oslo_messaging:
  auth:
    user:
      username: ` + e.q(user) + `
      password: ` + e.q(password) + `
    admin:
      username: ` + e.q(user) + `
      password: ` + e.q(password) + `
  statefulset: null
  hosts:
    default: rabbitmq-` + e.chart + `
`
	},
	"oslo_cache": func(e *endpointRender) string {
		return `
oslo_cache:
  auth:
    memcache_secret_key: ` + e.q(e.secret("memcached_secret_key")) + `
`
	},
	"identity": func(e *endpointRender) string {
		return e.identityUsers(user{"admin", "keystone", "admin", "keystone_admin_password"}) + `
  hosts:
    default: keystone-api
  scheme:
    public: https
  host_fqdn_override:
    public:
      host: ` + e.q(e.host("keystone_api_host")) + `
  path:
    default: /
  port:
    api:
      default: 5000
      public: 443
` + e.db("keystone") + e.mq("keystone")
	},
	"image":          func(e *endpointRender) string { return e.service("image", "glance", "", true, true) },
	"volumev3":       func(e *endpointRender) string { return e.service("volumev3", "cinder", "", true, true) },
	"placement":      func(e *endpointRender) string { return e.service("placement", "placement", "", true, false) },
	"key_manager":    func(e *endpointRender) string { return e.service("key_manager", "barbican", "", true, false) },
	"network":        func(e *endpointRender) string { return e.service("network", "neutron", "", true, true) },
	"baremetal":      func(e *endpointRender) string { return e.service("baremetal", "ironic", "", true, true) },
	"sharev2":        func(e *endpointRender) string { return e.service("sharev2", "manila", "", true, false) },
	"cloudformation": func(e *endpointRender) string { return e.public("cloudformation", "heat_cfn_api_host", "api") },
	"compute": func(e *endpointRender) string {
		return e.service("compute", "nova", `
  path:
    default: /v2.1`, true, true)
	},
	"oslo_db_api":         func(e *endpointRender) string { return e.extraDB("oslo_db_api", "nova") },
	"oslo_db_cell0":       func(e *endpointRender) string { return e.extraDB("oslo_db_cell0", "nova") },
	"oslo_db_persistence": func(e *endpointRender) string { return e.extraDB("oslo_db_persistence", "octavia") },
	"compute_metadata": func(e *endpointRender) string {
		return `
compute_metadata:
  secret: ` + e.q(e.secret("neutron_metadata_secret")) + `
  hosts:
    public: nova-metadata
  port:
    metadata:
      public: 8775
`
	},
	"compute_novnc_proxy": func(e *endpointRender) string {
		return e.public("compute_novnc_proxy", "nova_novnc_host", "novnc_proxy") + `
  path:
    default: /vnc_lite.html
`
	},
	"dns": func(e *endpointRender) string {
		// atmosphere's role spells the user "desigante-<region>": kept, so
		// that an existing cloud's user is the one configured.
		return e.identityUsers(user{"designate", "designate", "desigante", ""}) + e.public("dns", "designate_api_host", "api") +
			e.db("designate") + e.mq("designate")
	},
	"mdns": func(e *endpointRender) string {
		return `
mdns:
  name: minidns
  hosts:
    default: minidns
    public: designate-mdns
  host_fqdn_override:
    default: ` + e.q(e.host("designate_api_host")) + `
  path:
    default: /
  scheme:
    default: tcp
  port:
    ipc:
      default: 5354
`
	},
	"powerdns": func(*endpointRender) string { return "" },
	"valkey":   func(*endpointRender) string { return "" },
	"load_balancer": func(e *endpointRender) string {
		return e.service("load_balancer", "octavia", "", true, true) + `
valkey:
  hosts:
    default: valkey
oslo_db_persistence:
  auth:
    octavia:
      password: ` + e.q(e.secret("octavia_mariadb_password")) + `
`
	},
	"orchestration": func(e *endpointRender) string {
		return e.identityUsers(user{"heat", "heat", "heat", ""},
			user{"heat_trustee", "heat", "heat-trustee", "heat_trustee_keystone_password"},
			user{"heat_stack_user", "heat", "heat-stack-user", "heat_stack_user_keystone_password"}) + `
  path:
    public: /v3
` + e.public("orchestration", "heat_api_host", "api") + e.db("heat") + e.mq("heat")
	},
	"dashboard": func(e *endpointRender) string {
		return e.public("dashboard", "horizon_api_host", "api") + e.db("horizon")
	},
	"container_infra": func(e *endpointRender) string {
		return e.identityUsers(user{"magnum", "magnum", "magnum", ""},
			user{"magnum_stack_user", "magnum", "magnum-domain", "magnum_keystone_password"}) +
			e.public("container_infra", "magnum_api_host", "api") + e.public("container_infra_registry", "magnum_registry_host", "api") +
			e.db("magnum") + e.mq("magnum")
	},
	"rook_ceph_cluster": func(e *endpointRender) string {
		return e.identityUsers(rgwUser) + e.public("rook_ceph_cluster", "rgw_host", "api")
	},
	"staffeln": func(e *endpointRender) string { return e.db("staffeln") },
	"libvirt_exporter": func(*endpointRender) string {
		return `
libvirt_exporter:
  port:
    metrics:
      default: 9177
`
	},
}

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

// q quotes a string for YAML.
func (e *endpointRender) q(s string) string { return inline(s) }

func (e *endpointRender) secret(name string) string {
	return e.Render.secret("openstack_helm_endpoints_" + name)
}

// hostPrefixes are the first labels of the public hosts the inventory does
// not set, under the cloud's domain: the keystone catalog's (bootstrap's
// PublicPrefix), and three of the charts' own.
var hostPrefixes = map[string]string{
	"keystone_api_host": "identity", "glance_api_host": "image", "cinder_api_host": "volume",
	"nova_api_host": "compute", "placement_api_host": "placement", "neutron_api_host": "network",
	"heat_api_host": "orchestration", "heat_cfn_api_host": "cloudformation", "barbican_api_host": "key-manager",
	"octavia_api_host": "load-balancer", "magnum_api_host": "container-infra", "manila_api_host": "share",
	"rgw_host": "object-store", "designate_api_host": "dns", "ironic_api_host": "baremetal",
	"horizon_api_host": "dashboard", "nova_novnc_host": "vnc", "magnum_registry_host": "container-infra-registry",
}

// host is a public host variable (openstack_helm_endpoints_<name>); when the
// inventory does not set it, the service's prefix under the cloud's domain
// (the keystone host without its first label), as the catalog has it.
func (e *endpointRender) host(name string) string {
	if v, _ := e.knob("openstack_helm_endpoints_"+name, "").(string); v != "" {
		return v
	}
	prefix, known := hostPrefixes[name]
	if !known {
		e.fail(fmt.Errorf("openstack_helm_endpoints_%s is not set", name))
		return ""
	}
	return e.derivedHost(prefix)
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
func (e *endpointRender) identityUsers(us ...user) string {
	var b strings.Builder
	b.WriteString("\nidentity:\n  auth:\n")
	for _, u := range us {
		region, name, password := e.keystoneUser(u)
		fmt.Fprintf(&b, "    %s:\n      region_name: %s\n      username: %s\n      password: %s\n",
			u.key, e.q(region), e.q(name), e.q(password))
	}
	return b.String()
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

// public is an endpoint's public side: https on 443 at a host variable.
func (e *endpointRender) public(endpoint, hostVar, port string) string {
	return `
` + endpoint + `:
  scheme:
    public: https
  host_fqdn_override:
    public:
      host: ` + e.q(e.host(hostVar)) + `
  port:
    ` + port + `:
      public: 443
`
}

// service is a usual OpenStack service: its keystone user, its public
// endpoint (with extra lines under it), its database password and, when
// mq, its RabbitMQ password.
func (e *endpointRender) service(endpoint, name, extra string, db, mq bool) string {
	out := e.identityUsers(user{name, name, name, ""}) + strings.TrimSuffix(e.public(endpoint, name+"_api_host", "api"), "\n") + extra + "\n"
	if db {
		out += e.db(name)
	}
	if mq {
		out += e.mq(name)
	}
	return out
}

func (e *endpointRender) db(name string) string {
	return "\noslo_db:\n  auth:\n    " + name + ":\n      password: " + e.q(e.secret(name+"_mariadb_password")) + "\n"
}

func (e *endpointRender) mq(name string) string {
	return "\noslo_messaging:\n  auth:\n    " + name + ":\n      password: " + e.q(e.secret(name+"_rabbitmq_password")) + "\n"
}

// extraDB is a second database of a service (nova's API and cell0,
// octavia's persistence).
func (e *endpointRender) extraDB(endpoint, name string) string {
	return `
` + endpoint + `:
  auth:
    admin:
      password: ` + e.q(e.dbRoot()) + `
    ` + name + `:
      password: ` + e.q(e.secret(name+"_mariadb_password")) + `
  hosts:
    default: percona-xtradb-haproxy
`
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
		v, err := values.Parse(chart+" endpoint "+n, []byte(f(e)))
		if err != nil {
			r.fail(err)
			continue
		}
		out = values.Merge(out, v)
	}
	return out
}
