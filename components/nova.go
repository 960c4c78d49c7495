package components

import (
	"context"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// nova declares nova, with what it renders.
func nova() *Component {
	c := withCatalog(split(release("nova", "nova", openstack, chart("nova", "0.3.46"), 231, needs("placement", "glance", "libvirt", rabbitmq), kubeAPI), setup(11)))
	c.valuesYAML = novaValues
	c.BeforeChange = novaBeforeChange
	c.ingresses = []publicIngress{
		{"compute", "nova_api_host", "nova-api", 8774, nil, "nova_api"},
		{"compute_novnc_proxy", "nova_novnc_host", "nova-novncproxy", 6080, map[string]any{
			"nginx.ingress.kubernetes.io/proxy-read-timeout": "3600", "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600"}, "nova_novnc"},
	}
	c.rabbitMQCluster = "nova"
	return c
}

// novaValues are nova's own values for its chart.
func novaValues(r *Render) string {
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
}

// nova's bootstrap and cell-setup Jobs are not Helm hooks, and a
// Job's template cannot change: the upgrade would be refused
// (roles/nova: "Remove nova-bootstrap and nova-cell-setup job").
func novaBeforeChange(ctx context.Context, client kubernetes.Interface, namespace string) error {
	jobs := client.BatchV1().Jobs(namespace)
	for _, name := range []string{"nova-bootstrap", "nova-cell-setup"} {
		err := kubeutil.DeleteAndWait(ctx, "Job "+namespace+"/"+name,
			func(ctx context.Context, opts metav1.DeleteOptions) error { return jobs.Delete(ctx, name, opts) },
			func(ctx context.Context) error { _, err := jobs.Get(ctx, name, metav1.GetOptions{}); return err })
		if err != nil {
			return err
		}
	}
	return nil
}
