package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/images"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/secrets"
)

// Settings are what the components' own values and objects are made from.
type Settings struct {
	components.Config
	// IngressClass is the class of atmosphere's ingress controller.
	IngressClass string
	// ClusterIssuer issues the certificates of the cloud's endpoints.
	ClusterIssuer string
	// Images is the image table (atmosphere's pinned one when nil).
	Images images.Table
	// Vars are the inventory's variables: the roles' operator knobs
	// (defaults/main.yml), and the facts an operator may give instead of
	// letting a role read them from the live cluster (ceph_csi_rbd_ceph_fsid).
	Vars map[string]any
	// Secret returns the secret of an inventory variable
	// (openstack_helm_endpoints_memcached_secret_key): the inventory's value,
	// else the deployment's generated one.
	Secret func(name string) (string, error)
	// PeekSecret, when set, is Secret without writing anything: what
	// rendering before a run changes the cluster uses (a secret not stored
	// yet is made up, and stored as it is by the first Secret of it).
	PeekSecret func(name string) (string, error)
	// Facts returns what a component's OpenStack set-up made that its
	// values name (manila's flavor ID, octavia's network), by key.
	Facts func(component string) map[string]string
	// ClusterSecret returns a key of a Secret of the openstack namespace
	// that an operator made (the RabbitMQ clusters' default users, the
	// Percona XtraDB cluster's root password).
	ClusterSecret func(name, key string) (string, error)
}

// DefaultSettings are atmosphere's defaults.
func DefaultSettings() Settings {
	return Settings{Config: components.DefaultConfig(), IngressClass: "atmosphere", ClusterIssuer: "atmosphere", Images: images.Default()}
}

// Render is what one component's own values are made from: the
// deployment's settings and the chart's own default values.
type Render struct {
	Settings
	// Chart is the chart's values.yaml.
	Chart values.Values

	err error
	// extra are values laid over the document a component's function
	// returns (its storage values).
	extra []values.Values
}

// knob returns an inventory variable, or def when the inventory does not
// set it.
func (r *Render) knob(name string, def any) any {
	if v, ok := r.Vars[name]; ok && v != nil {
		return v
	}
	return def
}

// secret returns the secret of an inventory variable; the first error is
// kept for OwnValues to return.
func (r *Render) secret(name string) string {
	if r.Secret == nil {
		r.fail(fmt.Errorf("secret %s: no secret store", name))
		return ""
	}
	v, err := r.Secret(name)
	if err != nil {
		r.fail(fmt.Errorf("secret %s: %w", name, err))
	}
	return v
}

func (r *Render) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// fact is what a component's set-up made (its facts), else the inventory
// variable at path (a role's registered result, given by the operator).
func (r *Render) fact(component, key, path string) any {
	if r.Facts != nil {
		if v, ok := r.Facts(component)[key]; ok {
			return v
		}
	}
	parts := strings.Split(path, ".")
	v := r.knob(parts[0], nil)
	for _, p := range parts[1:] {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	if v == nil {
		return ""
	}
	return v
}

// sshPublicKey is the public key of an SSH private key, in
// authorized_keys form: the inventory's <fact>.public_key when it gives it
// (what the role's key generation registered), else derived from the key.
func (r *Render) sshPublicKey(fact, private string) string {
	if v, ok := r.fact("", "", fact+".public_key").(string); ok && v != "" {
		return v
	}
	if private == "" {
		return ""
	}
	public, err := secrets.PublicKey(private)
	if err != nil {
		r.fail(fmt.Errorf("SSH key of %s: %w", strings.TrimPrefix(fact, "_"), err))
	}
	return public
}

// healthManagers are octavia's health managers' addresses, sorted and
// joined: the set-up's fact, else the inventory's
// _octavia_controller_ip_port_list.
func (r *Render) healthManagers() string {
	if r.Facts != nil {
		if v, ok := r.Facts("octavia")["controller_ip_port_list"]; ok {
			list := strings.Split(v, ",")
			slices.Sort(list)
			return strings.Join(list, ",")
		}
	}
	var list []string
	if xs, ok := r.knob("_octavia_controller_ip_port_list", nil).([]any); ok {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				list = append(list, s)
			}
		}
	}
	slices.Sort(list)
	return strings.Join(list, ",")
}

// mapKnob is an inventory variable that holds a mapping (empty when unset).
func (r *Render) mapKnob(name string) values.Values {
	m, _ := r.knob(name, nil).(map[string]any)
	return values.Copy(m)
}

// parse parses a YAML fragment of a component's values.
func (r *Render) parse(doc string) values.Values {
	v, err := values.Parse("values fragment", []byte(doc))
	if err != nil {
		r.fail(err)
	}
	return v
}

// cephFacts are what the ceph roles read from the Ceph cluster: its fsid
// and monitors (`ceph mon dump`), the networks of its monitors and the key
// of the Kubernetes client. They are taken from the inventory variables an
// operator can set instead (ceph_csi_rbd_ceph_fsid, ceph_csi_rbd_monitors,
// ceph_csi_rbd_keyring, ceph_mon_public_network, ceph_mon_cluster_network).
type cephFacts struct {
	fsid, keyring, publicNetwork, clusterNetwork any
	monitors                                     any
}

func (r *Render) ceph() cephFacts {
	return cephFacts{
		fsid: r.knob("ceph_csi_rbd_ceph_fsid", nil), monitors: r.knob("ceph_csi_rbd_monitors", []any{}),
		keyring: r.knob("ceph_csi_rbd_keyring", nil), publicNetwork: r.knob("ceph_mon_public_network", nil),
		clusterNetwork: r.knob("ceph_mon_cluster_network", r.knob("ceph_mon_public_network", nil)),
	}
}

// indent indents every line of s after the first by n more spaces (fewer
// when n is negative).
func indent(s string, n int) string {
	if n < 0 {
		return strings.ReplaceAll(s, "\n"+strings.Repeat(" ", -n), "\n")
	}
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
}

// image returns the image of key from the table.
func (r *Render) image(key string) images.Ref {
	if r.Images == nil {
		r.Images = images.Default()
	}
	return r.Images.Ref(key)
}

// bitnami is an image as the Bitnami-style charts take it: registry,
// repository (the path) and tag, indented under its key.
func (r *Render) bitnami(key string, indent int) string {
	i := r.image(key)
	pad := "\n" + strings.Repeat(" ", indent)
	return pad + "registry: " + inline(i.Domain) + pad + "repository: " + inline(i.Path) + pad + "tag: " + inline(i.Tag)
}

// openstackHelm is the start of an openstack-helm chart's values, as every
// OpenStack role writes it: the endpoints, the images and pod labels
// without app.kubernetes.io (the charts' selectors predate them).
func (r *Render) openstackHelm(chart string) string {
	return `
endpoints: ` + inline(r.endpoints(chart)) + `
images:
  tags: ` + inline(r.imageTags()) + `
`
}

// rabbitPolicy is the policy each service's RabbitMQ vhost gets: messages
// expire after 70 s.
func rabbitPolicy(vhost string) string {
	return `
  rabbitmq:
    policies:
      - vhost: ` + vhost + `
        name: ha_ttl_` + vhost + `
        definition:
          message-ttl: 70000
        priority: 0
        apply-to: all
        pattern: '^(?!(amq\.|reply_)).*'`
}

// controlPlaneAffinity keeps pods on the control-plane nodes.
var controlPlaneAffinity = map[string]any{"nodeAffinity": map[string]any{
	"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{map[string]any{
		"matchExpressions": []any{map[string]any{"key": "openstack-control-plane", "operator": "In", "values": []any{"enabled"}}},
	}}},
}}

// noChartIngress turns off a chart's own API Ingress: atmosphere makes its
// own (publicIngresses).
const noChartIngress = `
manifests:
  ingress_api: false
  service_ingress_api: false
`

// podLabels leaves app.kubernetes.io labels out of the charts' pods: the
// openstack-helm selectors predate them.
const podLabels = `
pod:
  labels:
    include_app_kubernetes_io: false
`

// database is the oslo.db pool settings every service gets.
const database = `
    database:
      connection_recycle_time: 600
      max_overflow: 50
      max_pool_size: 5
      pool_timeout: 30`

// ingressNginx is an image as the ingress-nginx chart takes it.
func (r *Render) ingressNginx(key string, indent int, digest bool) string {
	i := r.image(key)
	pad := "\n" + strings.Repeat(" ", indent)
	out := pad + "registry: " + inline(i.Domain) + pad + "image: " + inline(i.Path) + pad + "tag: " + inline(i.Tag)
	if digest {
		out += pad + "digest: " + inline(i.Digest)
	}
	return out
}

// repository and tag are an image's parts as Helm charts take them.
// (quoted: a tag such as 1.5 is a string, not a number).
func (r *Render) repository(key string) string { return inline(r.image(key).Name()) }
func (r *Render) tag(key string) string        { return inline(r.image(key).Tag) }

// imageTags is an openstack-helm chart's images.tags, from the table.
func (r *Render) imageTags() map[string]any {
	if r.Images == nil {
		r.Images = images.Default()
	}
	tags, _ := values.Get(r.Chart, "images.tags")
	m, _ := tags.(map[string]any)
	return r.Images.Tags(m)
}

// wholeNumber is an inventory number as an int: YAML gives ints, JSON
// float64s.
func wholeNumber(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), true
	}
	return 0, false
}

// inline writes v as one line of YAML (JSON is YAML) to embed in a values
// document.
func inline(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("inline %v: %v", v, err)) // values are plain data
	}
	return string(raw)
}

// ownValues are the values each component gives its chart, from atmosphere's
// roles (roles/<component>/vars/main.yml). This first version carries the
// structure (deployment modes, ingress class, node selectors, what the role
// turns on or off); images, endpoints and passwords come with the values
// fidelity work.
var ownValues = map[string]func(*Render) string{
	"kube-prometheus-stack": func(r *Render) string {
		return inline(r.kubePrometheusStack())
	},
	"neutron": func(r *Render) string {
		e := &endpointRender{Render: r}
		region := e.region("neutron")
		user, password := inline("neutron-"+region), inline(e.secret("neutron_keystone_password"))
		metadataSecret := inline(e.secret("neutron_metadata_secret"))
		dnsDriver := ""
		if v, _ := r.knob("neutron_designate_integration_enabled", false).(bool); v {
			dnsDriver = "\n      external_dns_driver: designate"
		}
		doc := r.openstackHelm("neutron") + `
network:
  backend:
    - ` + inline(r.Config.NetworkBackend) + podLabels + `  replicas:
    server: 3
    rpc_server: 3
  sidecars:
    neutron_policy_server: true
conf:
  neutron:
    DEFAULT:
      api_workers: 8
      dhcp_agents_per_network: 3
      log_config_append: null
      rpc_workers: 8
      rpc_response_timeout: 600
      service_plugins: qos,router,segments,trunk,vpnaas,taas,tapmirror` + dnsDriver + `
    cors:
      allowed_origin: "*"` + database + `
    designate:
      url: http://designate-api.openstack.svc.cluster.local:9001/v2
      auth_url: http://keystone-api.openstack.svc.cluster.local:5000
      region_name: ` + inline(region) + `
      username: ` + user + `
      password: ` + password + `
    ngs_coordination:
      backend_url: memcached://memcached.openstack.svc.cluster.local:11211
    nova:
      live_migration_events: true
    ironic:
      valid_interfaces: internal
    placement:
      region_name: ` + inline(region) + `
      username: ` + user + `
      password: ` + password + `
    oslo_messaging_notifications:
      driver: noop
    service_providers:
      service_provider: VPN:strongswan:neutron_vpnaas.services.vpn.service_drivers.ipsec.IPsecVPNDriver:default
  dhcp_agent:
    DEFAULT:
      dnsmasq_dns_servers: ` + inline(r.knob("neutron_coredns_cluster_ip", "10.96.0.20")) + `
      enable_isolated_metadata: true
  l3_agent:
    AGENT:
      extensions: vpnaas
    vpnagent:
      vpn_device_driver: neutron_vpnaas.services.vpn.device_drivers.strongswan_ipsec.StrongSwanDriver
  metadata_agent:
    DEFAULT:
      metadata_proxy_shared_secret: ` + metadataSecret + `
  plugins:
    ml2_conf:
      ml2:
        extension_drivers: dns_domain_ports,port_security,qos
        type_drivers: flat,gre,vlan,vxlan
      ml2_type_gre:
        tunnel_id_ranges: 1:1000
      ml2_type_vlan:
        network_vlan_ranges: external:1:4094
    taas:
      taas:
        enabled: true
  taas_plugin:
    service_providers:
      service_provider: TAAS:TAAS:neutron_taas.services.taas.service_drivers.taas_rpc.TaasRpcDriver:default` + rabbitPolicy("neutron") + `
manifests:
  ingress_server: false
  service_ingress_server: false
`
		if r.Config.NetworkBackend == components.BackendOVN {
			r.extra = append(r.extra, r.parse(`
conf:
  neutron:
    DEFAULT:
      service_plugins: qos,ovn-router,segments,trunk,log,ovn-vpnaas,taas,tapmirror
    ovn:
      ovn_emit_need_to_frag: true
    service_providers:
      service_provider: VPN:strongswan:neutron_vpnaas.services.vpn.service_drivers.ovn_ipsec.IPsecOvnVPNDriver:default
  ovn_metadata_agent:
    DEFAULT:
      metadata_proxy_shared_secret: `+metadataSecret+`
  ovn_vpn_agent:
    AGENT:
      extensions: vpnaas
    vpnagent:
      vpn_device_driver: neutron_vpnaas.services.vpn.device_drivers.ovn_ipsec.OvnStrongSwanDriver
  plugins:
    ml2_conf:
      agent:
        extensions: log
      ml2:
        type_drivers: flat,vlan,geneve
        tenant_network_types: geneve
  taas_plugin:
    service_providers:
      service_provider: TAAS:TAAS:neutron_taas.services.taas.service_drivers.ovn.taas_ovn.TaasOvnDriver:default
manifests:
  daemonset_dhcp_agent: false
  daemonset_l3_agent: false
  daemonset_metadata_agent: false
  daemonset_ovn_metadata_agent: true
  daemonset_ovn_vpn_agent: true
  daemonset_ovs_agent: false
`))
		}
		if v, _ := r.knob("neutron_policy_server_integration_enabled", true).(bool); v {
			// Port changes go through neutron's policy server.
			owner := "((rule:admin_only) or (role:member and rule:network_owner) or role:manager and project_id:%(project_id)s) or (role:member and project_id:%(project_id)s"
			r.extra = append(r.extra, values.Values{"conf": map[string]any{"policy": map[string]any{
				"delete_port":                                   "((rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or role:member and project_id:%(project_id)s) and http://neutron-server:9697/port-delete",
				"update_port:mac_address":                       "((rule:admin_only) or (rule:service_api) or role:manager and project_id:%(project_id)s) and http://neutron-server:9697/port-update",
				"update_port:fixed_ips":                         "((rule:admin_only) or (rule:service_api) or role:manager and project_id:%(project_id)s or role:member and rule:network_owner) and http://neutron-server:9697/port-update",
				"update_port:allowed_address_pairs":             owner + " and http://neutron-server:9697/address-pair )",
				"update_port:allowed_address_pairs:ip_address":  owner + ")",
				"update_port:allowed_address_pairs:mac_address": owner + ")",
			}}})
		}
		if keys, _ := r.knob("neutron_genericswitch_keys", nil).([]any); len(keys) > 0 {
			release, _ := r.knob("neutron_helm_release_name", "neutron").(string)
			r.extra = append(r.extra, r.parse(`
pod:
  security_context:
    neutron_server:
      pod:
        fsGroup: 42424
  mounts:
    neutron_server:
      neutron_server:
        volumeMounts:
          - name: ssh-keys
            mountPath: /etc/neutron/ssh-keys
            readOnly: true
        volumes:
          - name: ssh-keys
            secret:
              secretName: `+inline(release+"-ssh-keys")+`
              defaultMode: 256
`))
		}
		return doc
	},
	"nova": func(r *Render) string {
		e := &endpointRender{Render: r}
		endpoints := values.Merge(r.endpoints("nova"), r.parse(`
# noVNC's proxy talks VeNCrypt to the hypervisors, with a client
# certificate from libvirt's VNC issuer.
compute_novnc_vencrypt:
  hosts:
    default: nova-novncproxy
  host_fqdn_override:
    default:
      tls:
        secretName: nova-novncproxy-vencrypt
        commonName: nova-novncproxy
        usages: [client auth]
        issuerRef:
          kind: Issuer
          name: libvirt-vnc
`))
		private := r.secret("nova_ssh_key")
		if private != "" && !strings.HasSuffix(private, "\n") {
			private += "\n"
		}
		uwsgi := `
    uwsgi:
      chunked-input-limit: "4096000"
      http-auto-chunked: true
      http-raw-body: true
      need-app: true
      socket-timeout: 10`
		return `
endpoints: ` + inline(endpoints) + `
labels:
  agent:
    compute_ironic:
      node_selector_key: openstack-control-plane
      node_selector_value: enabled
images:
  tags: ` + inline(r.imageTags()) + `
network:
  backend:
    - ` + inline(r.Config.NetworkBackend) + `
  ssh:
    enabled: true
    public_key: ` + inline(r.sshPublicKey("_nova_ssh_publickey", private)) + `
    private_key: ` + inline(private) + `
bootstrap:
  structured:
    flavors:
      enabled: false` + podLabels + `  useHostNetwork:
    novncproxy: false
  replicas:
    api_metadata: 3
    osapi: 3
    conductor: 3
    scheduler: 3
    novncproxy: 3
    spiceproxy: 3
conf:
  nova:
    DEFAULT:
      log_config_append: null
      allow_resize_to_same_host: true
      cpu_allocation_ratio: 4.5
      ram_allocation_ratio: 0.9
      disk_allocation_ratio: 3.0
      resume_guests_state_on_host_boot: true
      osapi_compute_workers: 8
      metadata_workers: 8
    api:
      list_records_by_skipping_down_cells: false
    barbican:
      barbican_endpoint_type: internal
    cache:
      backend: oslo_cache.memcache_pool
    conductor:
      workers: 8
    compute:
      consecutive_build_service_disable_threshold: 0
    cors:
      allowed_origin: "*"
      allow_headers: X-Auth-Token,X-OpenStack-Nova-API-Version` + database + `
    filter_scheduler:
      available_filters:
        type: multistring
        values:
          - nova.scheduler.filters.all_filters
          - nova_scheduler_filters.failure_domain_filter.FailureDomainFilter
      enabled_filters: ComputeFilter, AggregateTypeAffinityFilter, ComputeCapabilitiesFilter, PciPassthroughFilter, ImagePropertiesFilter, ServerGroupAntiAffinityFilter, ServerGroupAffinityFilter, FailureDomainFilter
      image_properties_default_architecture: x86_64
      max_instances_per_host: 200
    glance:
      enable_rbd_download: true
    libvirt:
      live_migration_scheme: tls
      swtpm_enabled: true
      swtpm_user: swtpm
      swtpm_group: swtpm
    neutron:
      metadata_proxy_shared_secret: ` + inline(e.secret("neutron_metadata_secret")) + `
    oslo_messaging_notifications:
      driver: noop
    os_vif_ovs:
      ovsdb_connection: unix:/run/openvswitch/db.sock
    privsep_osbrick:
      helper_command: sudo nova-rootwrap /etc/nova/rootwrap.conf privsep-helper --config-file /etc/nova/nova.conf
    scheduler:
      max_attempts: 3
      workers: 8
      discover_hosts_in_cells_interval: 30
    vnc:
      auth_schemes: vencrypt,none
    # Until upstream bug 2039803 is fixed.
    workarounds:
      skip_cpu_compare_on_dest: true
  nova_ironic:
    DEFAULT:
      force_config_drive: true
  nova_api_uwsgi:` + uwsgi + `
  nova_metadata_uwsgi:` + uwsgi + rabbitPolicy("nova") + `
manifests:
  deployment_consoleauth: false
  deployment_placement: false
  ingress_metadata: false
  ingress_novncproxy: false
  ingress_osapi: false
  ingress_placement: false
  ingress_spiceproxy: false
  job_db_init_placement: false
  job_ks_placement_endpoints: false
  job_ks_placement_service: false
  job_ks_placement_user: false
  job_storage_init: false
  secret_keystone_placement: false
  service_ingress_metadata: false
  service_ingress_novncproxy: false
  service_ingress_osapi: false
  service_ingress_placement: false
  service_placement: false
  service_ingress_spiceproxy: false
  # Until ironic is deployed.
  statefulset_compute_ironic: false
` + r.storage("nova")
	},
	"octavia": func(r *Render) string {
		// The Secret of the amphorae's SSH key (the role looks it up on
		// the cluster; octavia-ssh-key, as the keypair, when not given).
		sshKeySecret := r.fact("octavia", "ssh_key_secret", "octavia_ssh_key_secret.resources.0.metadata.name")
		if sshKeySecret == "" {
			sshKeySecret = "octavia-ssh-key"
		}
		jobboardDefault, _ := r.knob("octavia_jobboard_default_secret_name", "valkey-server-certs").(string)
		jobboardSentinel, _ := r.knob("octavia_jobboard_sentinel_secret_name", "valkey-server-certs").(string)
		type mount struct{ name, path, secret string }
		server := mount{"octavia-server-ca", "/etc/octavia/certs/server", "octavia-server-ca"}
		client := mount{"octavia-client-certs", "/etc/octavia/certs/client", "octavia-client-certs"}
		jbDefault := mount{"octavia-jobboard-default-ca", "/etc/octavia/certs/jobboard-default", jobboardDefault}
		jbSentinel := mount{"octavia-jobboard-sentinel-ca", "/etc/octavia/certs/jobboard-sentinel", jobboardSentinel}
		// Each service mounts the certificates; the worker also the
		// amphorae's SSH key. The lists' order is the role's.
		mounts := func(ms, vs []mount, sshKey bool) map[string]any {
			var vm, vol []any
			for _, m := range ms {
				vm = append(vm, map[string]any{"name": m.name, "mountPath": m.path})
			}
			for _, m := range vs {
				vol = append(vol, map[string]any{"name": m.name, "secret": map[string]any{"secretName": m.secret}})
			}
			if sshKey {
				vm = append(vm, map[string]any{"name": "octavia-amphora-ssh-key", "mountPath": "/var/lib/octavia/.ssh", "readOnly": true})
				vol = append(vol, map[string]any{"name": "octavia-amphora-ssh-key", "secret": map[string]any{
					"secretName": sshKeySecret, "defaultMode": 0o444}})
			}
			return map[string]any{"volumeMounts": vm, "volumes": vol}
		}
		usual := []mount{server, client, jbDefault, jbSentinel}
		controller := func(key, path string) string {
			return "\n      " + key + ": " + inline(r.fact("octavia", key, path))
		}
		return `
# The chart's Jobs as Helm hooks (openstack-helm review 965887).
helm3_hook: true` + r.openstackHelm("octavia") + podLabels + `  mounts:
    octavia_api:
      octavia_api: ` + inline(mounts(usual, usual, false)) + `
    octavia_worker:
      octavia_worker: ` + inline(mounts([]mount{server, jbDefault, jbSentinel, client}, []mount{jbDefault, jbSentinel, server, client}, true)) + `
    octavia_housekeeping:
      octavia_housekeeping: ` + inline(mounts(usual, usual, false)) + `
    octavia_health_manager:
      octavia_health_manager: ` + inline(mounts(usual, usual, false)) + `
  replicas:
    api: 3
    worker: 3
    housekeeping: 3
conf:
  octavia:
    DEFAULT:
      log_config_append: null
    api_settings:
      default_provider_driver: amphorav2
      enabled_provider_drivers: "amphorav2:'The v2 amphora driver.',amphora:'The Octavia Amphora driver.',octavia:'Deprecated name of Amphora driver.'"
    certificates:
      ca_certificate: /etc/octavia/certs/server/ca.crt
      ca_private_key: /etc/octavia/certs/server/tls.key
      ca_private_key_passphrase: null
      endpoint_type: internalURL
    cinder:
      endpoint_type: internalURL
    controller_worker:` +
			controller("amp_boot_network_list", "_octavia_management_network.id") +
			controller("amp_flavor_id", "_octavia_amphora_flavor.flavor.id") +
			controller("amp_image_owner_id", "_octavia_amphora_image.images.0.owner") +
			controller("amp_secgroup_list", "_octavia_amphora_sg.security_group.id") +
			controller("amp_ssh_key_name", "octavia_amphora_ssh_keypair.keypair.name") + `
      client_ca: /etc/octavia/certs/client/ca.crt
      volume_driver: volume_cinder_driver
      workers: 4` + database + `
    glance:
      endpoint_type: internalURL
    haproxy_amphora:
      client_cert: /etc/octavia/certs/client/tls-combined.pem
      server_ca: /etc/octavia/certs/server/ca.crt
    health_manager:
      controller_ip_port_list: ` + inline(r.healthManagers()) + `
      heartbeat_key: ` + inline(r.secret("octavia_heartbeat_key")) + `
    oslo_messaging_notifications:
      driver: noop
    neutron:
      endpoint_type: internalURL
      valid_interfaces: internal
    nova:
      endpoint_type: internalURL
    service_auth:
      endpoint_type: internalURL
    task_flow:
      jobboard_expiration_time: 100
      jobboard_redis_sentinel: atmosphere
      jobboard_redis_backend_ssl_options: ssl:True,ssl_keyfile:/etc/octavia/certs/jobboard-default/tls.key,ssl_certfile:/etc/octavia/certs/jobboard-default/tls.crt,ssl_ca_certs:/etc/octavia/certs/jobboard-default/ca.crt,ssl_cert_reqs:required
      jobboard_redis_sentinel_ssl_options: ssl:True,ssl_keyfile:/etc/octavia/certs/jobboard-sentinel/tls.key,ssl_certfile:/etc/octavia/certs/jobboard-sentinel/tls.crt,ssl_ca_certs:/etc/octavia/certs/jobboard-sentinel/ca.crt,ssl_cert_reqs:required` + rabbitPolicy("octavia") + `
` + noChartIngress
	},
	"manila": func(r *Render) string {
		e := &endpointRender{Render: r}
		release, _ := r.knob("manila_helm_release_name", "manila").(string)
		return r.openstackHelm("manila") + podLabels + `  mounts:
    manila_share:
      manila_share:
        volumeMounts:
          - name: ssh-keys
            mountPath: /etc/manila/ssh-keys
        volumes:
          - name: ssh-keys
            secret:
              secretName: ` + inline(release+"-ssh-keys") + `
  replicas:
    api: 3
    scheduler: 3
bootstrap:
  structured:
    flavors: null
    images: null
dependencies:
  static:
    share:
      pod:
        - requireSameNode: true
          labels:
            application: openvswitch
            component: server
conf:
  manila:
    DEFAULT:
      host: manila-share-worker
      osapi_share_workers: 4` + database + `
    generic:
      connect_share_server_to_tenant_network: true
      limit_ssh_access: true
      path_to_private_key: /etc/manila/ssh-keys/id_rsa
      path_to_public_key: /etc/manila/ssh-keys/id_rsa.pub
      service_image_name: ` + inline(r.knob("manila_image_name", "manila-service-image")) + `
      service_instance_boot_from_volume: true
      service_instance_boot_volume_size: 20
      service_instance_flavor_id: ` + inline(r.fact("manila", "service_instance_flavor_id", "_manila_flavor.flavor.id")) + `
      service_instance_security_group: manila-service-security-group
    oslo_messaging_notifications:
      driver: noop
    nova:
      api_microversion: 2.60
      endpoint_type: internalURL
      region_name: ` + inline(e.region("nova")) + `
    glance:
      endpoint_type: internalURL
      region_name: ` + inline(e.region("glance")) + rabbitPolicy("manila") + `
` + noChartIngress
	},
	"magnum": func(r *Render) string {
		e := &endpointRender{Render: r}
		client := func(service string, internal bool) string {
			out := "\n      region_name: " + inline(e.region(service))
			if internal {
				out = "\n      endpoint_type: internalURL" + out
			}
			return out
		}
		caBundle, _ := r.knob("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt").(string)
		return r.openstackHelm("magnum") + `
conf:
  magnum:
    DEFAULT:
      log_config_append: null
    api:
      workers: 4
    barbican_client:` + client("barbican", true) + `
    capi_client:
      ca_file: /etc/ssl/certs/ca-certificates.crt
      endpoint_type: internalURL
    cinder_client:` + client("cinder", true) + `
    cluster_template:
      kubernetes_allowed_network_drivers: calico, cilium
      kubernetes_default_network_driver: calico
    conductor:
      workers: 4` + database + `
    drivers:
      verify_ca: false
    glance_client:` + client("glance", true) + `
    heat_client:` + client("heat", true) + `
    keystone_auth:
      auth_url: http://keystone-api.openstack.svc.cluster.local:5000/v3
      user_domain_name: service
      username: ` + inline("magnum-"+e.region("magnum")) + `
      password: ` + inline(e.secret("magnum_keystone_password")) + `
      # magnum talks to keystone's public interface only.
      insecure: true
    keystone_authtoken:
      insecure: true
    magnum_client:` + client("magnum", false) + `
    manila_client:` + client("manila", true) + `
    neutron_client:` + client("neutron", true) + `
    nova_client:
      api_version: 2.15` + client("nova", true) + `
    octavia_client:` + client("octavia", true) + rabbitPolicy("magnum") + podLabels + `  replicas:
    api: 3
    conductor: 3
  mounts:
    magnum_conductor:
      magnum_conductor:
        volumeMounts:
          - name: ca-certificates
            mountPath: /etc/ssl/certs/ca-certificates.crt
            readOnly: true
        volumes:
          - name: ca-certificates
            hostPath:
              path: ` + inline(caBundle) + `
` + noChartIngress
	},
	"keystone": func(r *Render) string {
		e := &endpointRender{Render: r}
		identity, dashboard := e.host("keystone_api_host"), e.host("horizon_api_host")
		domains := r.keystoneDomains()
		caBundle, _ := r.knob("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt").(string)
		return r.openstackHelm("keystone") + podLabels + `  replicas:
    api: 3
  mounts:
    keystone_api:
      keystone_api:
        volumeMounts: ` + inline(r.keystoneMounts(domains, caBundle)) + `
        volumes:
          - name: keystone-openid-metadata
            configMap:
              name: keystone-openid-metadata
          - name: ca-certificates
            hostPath:
              path: ` + inline(caBundle) + `
conf:
  keystone:
    DEFAULT:
      log_config_append: null
    auth:
      methods: password,token,openid,application_credential
    cors:
      allowed_origins: "*"` + database + `
    openid:
      remote_id_attribute: HTTP_OIDC_ISS
    federation:
      trusted_dashboard:
        type: multistring
        values:
          - http://localhost:9990/auth/websso/
          - ` + inline("https://"+dashboard+"/auth/websso/") + `
    oslo_messaging_notifications:
      driver: noop
  wsgi_keystone: ` + inline(r.keystoneWSGI(domains, identity, dashboard)) + `
  ks_domains: ` + inline(ksDomains(domains)) + rabbitPolicy("keystone") + `
manifests:
  job_credential_cleanup: false
  ingress_api: false
  service_ingress_api: false
`
	},
	"horizon": func(r *Render) string {
		e := &endpointRender{Render: r}
		dashboard, identity := e.host("horizon_api_host"), e.host("keystone_api_host")
		realm, _ := r.knob("keystone_keycloak_realm", "atmosphere").(string)
		label, _ := r.knob("keystone_keycloak_realm_name", "Atmosphere").(string)
		// One identity provider per keystone domain (keystone_domains), or
		// the one realm.
		idps := []any{map[string]any{"label": label, "name": realm, "idp": realm, "protocol": "openid"}}
		if domains, ok := r.knob("keystone_domains", nil).([]any); ok && len(domains) > 0 {
			idps = nil
			for i, d := range domains {
				m, _ := d.(map[string]any)
				if i == 0 {
					realm, _ = m["name"].(string)
				}
				idps = append(idps, map[string]any{"label": m["label"], "name": m["name"], "idp": m["name"], "protocol": "openid"})
			}
		}
		pyBool := func(b bool) string {
			if b {
				return `"True"`
			}
			return `"False"`
		}
		issuer, _ := r.knob("cluster_issuer_type", "self-signed").(string)
		backup := true
		if v, ok := values.Get(r.mapKnob("cinder_helm_values"), "manifests.deployment_backup"); ok {
			backup, _ = v.(bool)
		}
		fsGroup := "\n      pod:\n        fsGroup: 42424"
		return r.openstackHelm("horizon") + podLabels + `  security_context:
    horizon:` + fsGroup + `
    db_sync:` + fsGroup + `
    tests:` + fsGroup + `
  replicas:
    server: 3
conf:
  horizon:
    local_settings:
      config:
        disallow_iframe_embed: "True"
        allowed_hosts: [` + inline(dashboard) + `]
        secure_proxy_ssl_header: "True"
        horizon_images_upload_mode: direct
        openstack_enable_password_retrieve: "True"
        auth:
          sso:
            enabled: true
            initial_choice: ` + inline(realm) + `
          idp_mapping: ` + inline(idps) + `
        raw:
          OPENSTACK_SSL_NO_VERIFY: ` + pyBool(issuer == "self-signed") + `
          WEBSSO_KEYSTONE_URL: ` + inline("https://"+identity+"/v3") + `
          LOGOUT_URL: ` + inline("https://"+identity+"/v3/auth/OS-FEDERATION/identity_providers/redirect?logout=https://"+dashboard+"/auth/logout/") + `
        openstack_cinder_features:
          enable_backup: ` + pyBool(backup) + `
    extra_panels:
      - designatedashboard
      - heat_dashboard
      - ironic_ui
      - magnum_ui
      - manila_ui
      - monitoring
      - neutron_vpnaas_dashboard
      - octavia_dashboard` + rabbitPolicy("horizon") + `
` + noChartIngress
	},
	"heat": func(r *Render) string {
		return r.openstackHelm("heat") + podLabels + `  replicas:
    api: 3
    cfn: 3
    cloudwatch: 3
    engine: 3
conf:
  heat:
    DEFAULT:
      auth_encryption_key: ` + inline(r.secret("heat_auth_encryption_key")) + `
      default_deployment_signal_transport: HEAT_SIGNAL
      default_software_config_transport: POLL_SERVER_HEAT
      log_config_append: null
      num_engine_workers: 8
      region_name_for_services: ` + inline((&endpointRender{Render: r}).region("heat")) + `
      rpc_response_timeout: 600
      server_keystone_endpoint_type: public
    clients_keystone:
      endpoint_type: publicURL` + database + `
    ec2authtoken:
      auth_uri: http://keystone-api.openstack.svc.cluster.local:5000
    heat_api:
      workers: 8
    heat_api_cfn:
      workers: 8
    heat_api_cloudwatch:
      workers: 8
    oslo_messaging_notifications:
      driver: noop` + rabbitPolicy("heat") + `
manifests:
  ingress_api: false
  ingress_cfn: false
  service_ingress_api: false
  service_ingress_cfn: false
`
	},
	"cinder": func(r *Render) string {
		region := (&endpointRender{Render: r}).region("cinder")
		policy := "{}"
		if r.Config.Staffeln {
			// A backup staffeln made is deleted only by an admin or
			// through staffeln, which keeps its retention.
			policy = inline(map[string]any{"backup:delete": "rule:admin_api or (project_id:%(project_id)s and http://staffeln-api:8808/v1/backup?backup_id=%(id)s)"})
		}
		return r.openstackHelm("cinder") + podLabels + `  replicas:
    api: 3
    scheduler: 3
  mounts:
    cinder_volume:
      cinder_volume:
        volumeMounts:
          - name: cinder-tmp
            mountPath: /var/lib/cinder/tmp
        volumes:
          - name: cinder-tmp
            emptyDir: {}
  security_context:
    cinder_volume:
      container:
        cinder_volume:
          privileged: true
conf:
  policy: ` + policy + `
  cinder:
    DEFAULT:
      allowed_direct_url_schemes: cinder
      log_config_append: null
      os_region_name: ` + inline(region) + `
      volume_usage_audit_period: hour
      volume_name_template: volume-%s
      image_conversion_disable: true
      osapi_volume_workers: 8
    barbican:
      barbican_endpoint_type: internal
    cors:
      allowed_origins: "*"` + database + `
    oslo_messaging_notifications:
      driver: noop
    privsep_osbrick:
      helper_command: sudo cinder-rootwrap /etc/cinder/rootwrap.conf privsep-helper --config-file /etc/cinder/cinder.conf` + rabbitPolicy("cinder") + `
manifests:
  ingress_api: false
  job_clean: false
  service_ingress_api: false
` + r.storage("cinder")
	},
	"placement": func(r *Render) string {
		return r.openstackHelm("placement") + podLabels + `  replicas:
    api: 3
conf:
  placement:
    DEFAULT:
      log_config_append: null
    database:
      connection_recycle_time: 600
      max_overflow: 50
      max_pool_size: 5
      max_retries: -1
      pool_timeout: 30
    oslo_messaging_notifications:
      driver: noop` + rabbitPolicy("placement") + `
  placement_api_uwsgi:
    uwsgi:
      processes: 4
manifests:
  ingress: false
  service_ingress: false
`
	},
	"staffeln": func(r *Render) string {
		return r.openstackHelm("staffeln") + podLabels + `  replicas:
    api: 3
    conductor: 3
conf:
  staffeln:
    conductor:
      backup_metadata_key: ` + inline(r.secret("staffeln_backup_metadata_key")) + `
      retention_metadata_key: ` + inline(r.secret("staffeln_retention_metadata_key")) + database + `
` + noChartIngress
	},
	"barbican": func(r *Render) string {
		kek := inline(r.secret("barbican_kek"))
		return r.openstackHelm("barbican") + podLabels + `  replicas:
    api: 3
conf:
  barbican:
    DEFAULT:
      log_config_append: null` + database + `
    oslo_messaging_notifications:
      driver: noop
    simple_crypto_plugin:
      kek: ` + kek + `
  simple_crypto_kek_rewrap:
    old_kek: ` + kek + rabbitPolicy("barbican") + `
` + noChartIngress
	},
	"glance": func(r *Render) string {
		return r.openstackHelm("glance") + `
bootstrap:
  enabled: false` + podLabels + `  replicas:
    api: 3
conf:
  glance:
    DEFAULT:
      log_config_append: null
      show_image_direct_url: true
      show_multiple_locations: true
      enable_import_methods: "[]"
      workers: 8
    cors:
      allowed_origins: "*"` + database + `
    image_format:
      disk_formats: aki,ari,qcow2,raw
    oslo_messaging_notifications:
      driver: noop` + rabbitPolicy("glance") + `
` + noChartIngress + r.storage("glance")
	},
	"keycloak": func(r *Render) string {
		database, _ := r.knob("keycloak_database_name", "keycloak").(string)
		user, _ := r.knob("keycloak_database_username", "keycloak").(string)
		return `
# The Bitnami chart runs the upstream Keycloak image with these.
enableDefaultInitContainers: false
containerSecurityContext:
  readOnlyRootFilesystem: false
  runAsUser: 1000
# The chart has no MySQL vendor: the JDBC URL is given as well as
# externalDatabase.
extraEnvVars:
  - name: KC_FEATURES
    value: token-exchange,admin-fine-grained-authz
  - name: KC_PROXY
    value: edge
  - name: KC_DB
    value: mysql
  - name: KC_DB_URL
    value: ` + inline("jdbc:mysql://percona-xtradb-haproxy.openstack:3306/"+database) + `
  - name: KC_DB_USERNAME
    value: ` + inline(user) + `
  - name: KC_DB_PASSWORD
    valueFrom:
      secretKeyRef:
        key: db-password
        name: keycloak-externaldb
command:
  - /opt/keycloak/bin/kc.sh
  - --verbose
  - start
  - --health-enabled=true
  - --http-enabled=true
  - --http-port=8080
  - --hostname-strict=false
  - --spi-events-listener-jboss-logging-success-level=info
  - --spi-events-listener-jboss-logging-error-level=warn
  - --transaction-xa-enabled=false
  - --metrics-enabled=true
auth:
  adminPassword: ` + inline(r.secret("keycloak_admin_password")) + `
  adminUser: ` + inline(r.knob("keycloak_admin_username", "admin")) + `
externalDatabase:
  host: percona-xtradb-haproxy.openstack
  port: 3306
  database: ` + inline(database) + `
  user: ` + inline(user) + `
  password: ` + inline(r.secret("keycloak_database_password")) + `
image:` + r.bitnami("keycloak", 2) + `
postgresql:
  enabled: false
production: true
proxy: edge
startupProbe:
  enabled: true
  initialDelaySeconds: 5
  failureThreshold: 120
nodeSelector:
  openstack-control-plane: enabled
metrics:
  enabled: true
`
	},
	"ovn": func(r *Render) string {
		selector := "\n    node_selector_key: openstack-control-plane\n    node_selector_value: enabled"
		return `
images:
  tags: ` + inline(r.imageTags()) + `
labels:
  ovn_ovsdb_nb:` + selector + `
  ovn_ovsdb_sb:` + selector + `
  ovn_northd:` + selector + `
  ovn_controller_gw:` + selector + `
volume:
  ovn_ovsdb_nb:
    size: 20Gi
  ovn_ovsdb_sb:
    size: 20Gi
conf:
  ovn_bgp_agent:
    DEFAULT:
      bgp_driver: frr_k8s` + podLabels + `  probes:
    ovn_northd:
      northd:
        liveness:
          enabled: true
          params:
            initialDelaySeconds: 30
            timeoutSeconds: 30
            periodSeconds: 60
  affinity:
    anti:
      type:
        default: requiredDuringSchedulingIgnoredDuringExecution
      topologyKey:
        default: kubernetes.io/hostname
      weight:
        default: 10
  replicas:
    ovn_ovsdb_nb: 3
    ovn_ovsdb_sb: 3
    ovn_northd: 3
  sidecars:
    ovn_logging_parser: ` + inline(r.knob("ovn_network_logging_parser_enabled", true)) + `
    vector: ` + inline(r.knob("ovn_network_logging_parser_enabled", true)) + `
manifests:
  daemonset_ovn_bgp_agent: ` + inline(r.Config.BGPAgent) + `
`
	},
	"libvirt": func(r *Render) string {
		return `
endpoints: ` + inline(r.endpoints("libvirt")) + `
network:
  backend:
    - ` + inline(r.Config.NetworkBackend) + `
images:
  tags: ` + inline(r.imageTags()) + `
conf:
  libvirt:
    listen_tcp: "0"
    listen_tls: "1"
    listen_addr: 0.0.0.0
    tls_priority: NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2
  qemu:
    default_tls_x509_verify: "1"
    vnc_tls: "1"
issuers:
  libvirt:
    kind: Issuer
    name: libvirt-api
  vencrypt:
    kind: Issuer
    name: libvirt-vnc` + podLabels + `  sidecars:
    libvirt_exporter:
      enabled: true
      args:
        - --libvirt.uri
        - /run/libvirt/libvirt-sock-ro
manifests:
  role_cert_manager: true
` + r.storage("libvirt")
	},
	"coredns": func(r *Render) string {
		forward := func(port, upstreams, server string) string {
			return `
  - port: ` + port + `
    zones:
      - zone: .
    plugins:
      - name: forward
        parameters: . ` + upstreams + `
        configBlock: |-
          tls_servername ` + server + `
          health_check 5s`
		}
		return `
image:
  repository: ` + r.repository("neutron_coredns") + `
replicaCount: 3
prometheus:
  service:
    enabled: true
service:
  name: neutron-coredns
  clusterIP: ` + inline(r.knob("neutron_coredns_cluster_ip", "10.96.0.20")) + `
isClusterService: false
servers:
  - port: 53
    zones:
      - zone: .
    plugins:
      - name: errors
      - name: ready
      - name: health
        configBlock: |-
          lameduck 5s
      - name: prometheus
        parameters: 0.0.0.0:9153
      - name: cache
      - name: reload
      - name: loadbalance
      - name: forward
        parameters: . 127.0.0.1:5301 127.0.0.1:5302` +
			forward("5301", "tls://1.1.1.1 tls://1.0.0.1", "cloudflare-dns.com") +
			forward("5302", "tls://8.8.8.8 tls://8.8.4.4", "dns.google") + `
nodeSelector:
  openstack-control-plane: enabled
customLabels:
  application: neutron
  component: coredns
deployment:
  name: neutron-coredns
`
	},
	"ingress-nginx": func(r *Render) string {
		return `
controller:
  image:` + r.ingressNginx("ingress_nginx_controller", 4, true) + `
  config:
    proxy-buffer-size: 16k
    worker-shutdown-timeout: 5s
  dnsPolicy: ClusterFirstWithHostNet
  allowSnippetAnnotations: true
  hostNetwork: true
  ingressClassResource:
    name: ` + r.IngressClass + `
  ingressClass: ` + r.IngressClass + `
  kind: DaemonSet
  nodeSelector:
    openstack-control-plane: enabled
  service:
    type: ClusterIP
  admissionWebhooks:
    port: 7443
    patch:
      image:` + r.ingressNginx("ingress_nginx_kube_webhook_certgen", 8, true) + `
  metrics:
    enabled: true
  terminationGracePeriodSeconds: 10
defaultBackend:
  nodeSelector:
    openstack-control-plane: enabled
  enabled: true
  image:` + r.ingressNginx("ingress_nginx_default_backend", 4, false) + `
# designate's mini-DNS, reached through the ingress controllers.
tcp:
  "5354": openstack/minidns:5354
udp:
  "5354": openstack/minidns:5354
`
	},
	"rabbitmq-cluster-operator": func(r *Render) string {
		operator := func(key string) string {
			i := r.image(key)
			return "\n    repository: " + inline(i.Path) + "\n    tag: " + inline(i.Tag)
		}
		return `
global:
  imageRegistry: ` + inline(r.image("rabbitmq_cluster_operator").Domain) + `
  security:
    allowInsecureImages: true
rabbitmqImage:` + indent(operator("rabbitmq_server"), -2) + `
credentialUpdaterImage:` + indent(operator("rabbitmq_credential_updater"), -2) + `
clusterOperator:
  fullnameOverride: rabbitmq-cluster-operator
  nodeSelector:
    openstack-control-plane: enabled
  command: [/manager]
  image:` + operator("rabbitmq_cluster_operator") + `
msgTopologyOperator:
  fullnameOverride: rabbitmq-messaging-topology-operator
  nodeSelector:
    openstack-control-plane: enabled
  command: [/manager]
  image:` + operator("rabbitmq_topology_operator") + `
useCertManager: true
`
	},
	"valkey": func(r *Render) string {
		release, _ := r.knob("valkey_helm_release_name", "valkey").(string)
		return `
global:
  security:
    # atmosphere's own image repository.
    allowInsecureImages: true
image:` + r.bitnami("valkey", 2) + `
auth:
  # TLS client certificates authenticate and encrypt instead of passwords.
  enabled: false
  sentinel: false
replica:
  nodeSelector:
    openstack-control-plane: enabled
  podAntiAffinityPreset: hard
  resources:
    requests: {cpu: 500m, memory: 512Mi}
    limits: {cpu: 1000m, memory: 1024Mi}
sentinel:
  enabled: true
  image:` + r.bitnami("valkey_sentinel", 4) + `
  primarySet: atmosphere
tls:
  enabled: true
  existingSecret: ` + inline(r.knob("valkey_server_certificate_secret_name", release+"-server-certs")) + `
  certFilename: tls.crt
  certKeyFilename: tls.key
  certCAFilename: ca.crt
metrics:
  enabled: true
  image:` + r.bitnami("redis_exporter", 4) + `
primary:
  resources:
    requests: {cpu: 500m, memory: 512Mi}
    limits: {cpu: 1000m, memory: 1024Mi}
`
	},
	"vector": func(r *Render) string {
		// The labels are Vector templates, given to the chart as Helm
		// template text that prints them.
		label := func(field string) string { return inline(`{{ print "{{ ` + field + ` }}" }}`) }
		return `
role: Agent
image:
  repository: ` + r.repository("vector") + `
  tag: ` + r.tag("vector") + `
service:
  enabled: false
customConfig:
  data_dir: /vector-data-dir
  sources:
    journald:
      type: journald
    kubernetes_logs:
      type: kubernetes_logs
  sinks:
    loki_kubernetes_logs:
      out_of_order_action: accept
      type: loki
      endpoint: http://loki-gateway
      inputs: [kubernetes_logs]
      encoding:
        codec: text
      labels:
        source_type: ` + label("source_type") + `
        node: ` + label("kubernetes.pod_node_name") + `
        pod_namespace: ` + label("kubernetes.pod_namespace") + `
        pod_uid: ` + label("kubernetes.pod_uid") + `
        pod_name: ` + label("kubernetes.pod_name") + `
        pod_ip: ` + label("kubernetes.pod_ip") + `
        pod_label_*: ` + label("kubernetes.pod_labels") + `
        container_name: ` + label("kubernetes.container_name") + `
        container_image: ` + label("kubernetes.container_image") + `
        stream: ` + label("kubernetes.stream") + `
    loki_journald:
      out_of_order_action: accept
      type: loki
      endpoint: http://loki-gateway
      inputs: [journald]
      encoding:
        codec: text
      labels:
        source_type: ` + label("source_type") + `
        node: ` + label("host") + `
        unit: ` + label("_SYSTEMD_UNIT") + `
        stream: ` + label("_TRANSPORT") + `
extraVolumes:
  - name: etc-machineid
    hostPath:
      path: /etc/machine-id
      type: File
extraVolumeMounts:
  - name: etc-machineid
    mountPath: /etc/machine-id
    readOnly: true
`
	},
	"loki": func(r *Render) string {
		return `
deploymentMode: SingleBinary
loki:
  server:
    log_level: warn
  image:` + r.bitnami("loki", 4) + `
  auth_enabled: false
  commonConfig:
    replication_factor: 1
  compactor:
    working_directory: /var/loki/compactor
    compaction_interval: 10m
    retention_enabled: true
    delete_request_store: filesystem
    retention_delete_delay: 2h
    retention_delete_worker_count: 150
  limits_config:
    max_label_names_per_series: 25
    retention_period: 30d
  rulerConfig:
    alertmanager_url: http://alertmanager-operated.monitoring:9093
    enable_alertmanager_v2: true
    enable_api: true
    rule_path: /var/loki/rules-temp
    ring:
      kvstore:
        store: inmemory
    storage:
      type: local
      local:
        directory: /var/loki/rulestorage
  storage:
    type: filesystem
  schemaConfig:
    configs:
      - from: "2024-04-01"
        store: tsdb
        object_store: filesystem
        schema: v13
        index:
          prefix: index_
          period: 24h
memcached:
  image:
    repository: ` + r.repository("memcached") + `
    tag: ` + r.tag("memcached") + `
memcachedExporter:
  image:
    repository: ` + r.repository("prometheus_memcached_exporter") + `
    tag: ` + r.tag("prometheus_memcached_exporter") + `
test:
  enabled: false
singleBinary:
  replicas: 1
  nodeSelector:
    openstack-control-plane: enabled
  persistence:
    size: 256Gi
  extraVolumeMounts:
    - name: rules
      mountPath: /var/loki/rulestorage/fake
  extraVolumes:
    - name: rules
      configMap:
        name: loki-alerting-rules
write:
  replicas: 0
read:
  replicas: 0
backend:
  replicas: 0
gateway:
  image:` + r.bitnami("loki_gateway", 4) + `
  nodeSelector:
    openstack-control-plane: enabled
lokiCanary:
  enabled: false
extraObjects:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: loki-alerting-rules
      labels:
        loki_rule: atmosphere
    data:
      loki-alerting-rules.yaml: |-
        groups:
          - name: additional-loki-rules
            rules:
              - alert: NovaCellNotResponding
                expr: 'count_over_time({pod_label_component="compute"} |= "not responding and hence is being omitted from the results" [1m]) > 0'
                labels:
                  severity: critical
                annotations:
                  summary: Nova Cell is not responding. It can cause port deletion in CAPI.
`
	},
	"cert-manager": func(r *Render) string {
		image := func(key string) string {
			return "\n    repository: " + r.repository(key) + "\n    tag: " + r.tag(key)
		}
		return `
installCRDs: true
featureGates: AdditionalCertificateOutputFormats=true
image:` + image("cert_manager_controller") + `
volumes:
  - name: etc-ssl-certs
    hostPath:
      path: /etc/ssl/certs
volumeMounts:
  - name: etc-ssl-certs
    mountPath: /etc/ssl/certs
    readOnly: true
nodeSelector:
  openstack-control-plane: enabled
webhook:
  extraArgs:
    - --feature-gates=AdditionalCertificateOutputFormats=true
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_webhook"), 2) + `
cainjector:
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_cainjector"), 2) + `
startupapicheck:
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_startupapicheck"), 2) + `
acmesolver:
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_acmesolver"), 2) + `
`
	},
	"ceph-provisioners": func(r *Render) string {
		c := r.ceph()
		return `
network:
  public: ` + inline(r.knob("ceph_provisioners_ceph_public_network", c.publicNetwork)) + `
  cluster: ` + inline(r.knob("ceph_provisioners_ceph_cluster_network", c.clusterNetwork)) + podLabels + `conf:
  ceph:
    global:
      fsid: ` + inline(c.fsid) + `
manifests:
  configmap_bin: false
  configmap_bin_common: false
  deployment_rbd_provisioner: false
  deployment_csi_rbd_provisioner: false
  deployment_cephfs_provisioner: false
  job_cephfs_client_key: false
  job_namespace_client_key_cleaner: false
  job_namespace_client_key: false
  storageclass: false
` + r.storage("ceph-provisioners")
	},
	"csi": func(r *Render) string {
		c := r.ceph()
		return `
csiConfig:
  - clusterID: ` + inline(c.fsid) + `
    monitors: ` + inline(c.monitors) + `
nodeplugin:
  httpMetrics:
    containerPort: 8081
  registrar:
    image:
      repository: ` + r.repository("csi_node_driver_registrar") + `
  plugin:
    image:
      repository: ` + r.repository("csi_rbd_plugin") + `
provisioner:
  nodeSelector:
    openstack-control-plane: enabled
  provisioner:
    image:
      repository: ` + r.repository("csi_rbd_provisioner") + `
  attacher:
    image:
      repository: ` + r.repository("csi_rbd_attacher") + `
  resizer:
    image:
      repository: ` + r.repository("csi_rbd_resizer") + `
  snapshotter:
    image:
      repository: ` + r.repository("csi_rbd_snapshotter") + `
storageClass:
  create: true
  name: general
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
  clusterID: ` + inline(c.fsid) + `
  pool: ` + inline(r.knob("ceph_csi_rbd_pool", "kube")) + `
  mountOptions:
    - discard
secret:
  create: true
  userID: ` + inline(r.knob("ceph_csi_rbd_id", "kube")) + `
  userKey: ` + inline(c.keyring) + `
`
	},
	"rook-ceph-cluster": func(r *Render) string {
		name, _ := r.knob("rook_ceph_cluster_name", "ceph").(string)
		spec := values.Merge(values.Values{
			"cephVersion": map[string]any{"image": r.image("ceph").String()},
			"external":    map[string]any{"enable": true},
			// An external cluster: the operator collects no metrics of it.
			"monitoring": map[string]any{"metricsDisabled": true},
		}, r.mapKnob("rook_ceph_cluster_spec"))
		radosgw := values.Merge(r.parse(`
auth:
  keystone:
    acceptedRoles: [admin, member, service]
    implicitTenants: "true"
    serviceUserSecretName: rook-ceph-rgw-`+name+`-creds
    url: http://keystone-api.openstack.svc.cluster.local:5000
protocols:
  swift:
    accountInUrl: true
    versioningEnabled: true
  s3:
    enabled: true
    authUseKeystone: true
preservePoolsOnDelete: true
metadataPool:
  failureDomain: host
  replicated:
    size: 3
dataPool:
  failureDomain: host
  replicated:
    size: 3
gateway:
  port: 80
  instances: 3
  placement: `+inline(controlPlaneAffinity)+`
`), r.mapKnob("rook_ceph_cluster_radosgw_spec"))
		return `
clusterName: ` + inline(name) + `
configOverride: |
  [client]
  rgw_keystone accepted admin roles = admin
cephClusterSpec: ` + inline(spec) + `
cephBlockPools: []
cephFileSystems: []
cephObjectStores:
  - name: ` + inline(name) + `
    spec: ` + inline(radosgw) + `
    storageClass:
      enabled: false
`
	},
	"memcached": func(r *Render) string {
		return `
endpoints: ` + inline(r.endpoints("memcached")) + `
images:
  tags: ` + inline(r.imageTags()) + podLabels + `monitoring:
  prometheus:
    enabled: true
`
	},
	"openvswitch": func(r *Render) string {
		return `
endpoints: ` + inline(r.endpoints("openvswitch")) + podLabels + `images:
  tags: ` + inline(r.imageTags()) + `
`
	},
	"goldpinger": func(r *Render) string {
		return `
image:
  repository: ` + r.repository("goldpinger") + `
goldpinger:
  port: 30080
extraEnv:
  - name: USE_HOST_IP
    value: "true"
`
	},
	"node-feature-discovery": func(r *Render) string {
		return `
image:
  repository: ` + r.repository("node_feature_discovery") + `
master:
  nodeSelector:
    openstack-control-plane: enabled
`
	},
	"prometheus-pushgateway": func(r *Render) string {
		return `
image:
  repository: ` + r.repository("prometheus_pushgateway") + `
nodeSelector:
  openstack-control-plane: enabled
serviceMonitor:
  enabled: true
  namespace: monitoring
  additionalLabels:
    release: kube-prometheus-stack
  relabelings:
    - sourceLabels: [__meta_kubernetes_pod_name]
      targetLabel: instance
    - regex: ^(container|endpoint|namespace|pod|service)$
      action: labeldrop
`
	},
	"percona-xtradb-cluster-operator": func(r *Render) string {
		return `
image: ` + inline(r.image("percona_xtradb_cluster_operator").String()) + `
nodeSelector:
  openstack-control-plane: enabled
resources:
  limits:
    cpu: 500m
`
	},
	"rook-ceph": func(r *Render) string {
		return `
image:
  repository: ` + r.repository("rook_ceph") + `
  tag: ` + r.tag("rook_ceph") + `
nodeSelector:
  openstack-control-plane: enabled
resources:
  limits:
    cpu: 1
# Rook manages no CSI driver: atmosphere deploys ceph-csi itself.
csi:
  enableRbdDriver: false
  enableCephfsDriver: false
`
	},
}

// OwnValues returns a component's own values for its chart, whose default
// values are chart (empty for a component that gives its chart none).
func OwnValues(component string, s Settings, chart values.Values) (values.Values, error) {
	f, ok := ownValues[component]
	if !ok {
		return values.Values{}, nil
	}
	r := &Render{Settings: s, Chart: chart}
	doc := f(r)
	if r.err != nil {
		return nil, fmt.Errorf("%s own values: %w", component, r.err)
	}
	v, err := values.Parse(component+" own values", []byte(doc))
	if err != nil {
		return nil, err
	}
	for _, x := range r.extra {
		v = values.Merge(v, x)
	}
	return v, nil
}
