package stack

import (
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
)

// Settings are what the components' own values and objects are made from.
type Settings struct {
	components.Config
	// IngressClass is the class of atmosphere's ingress controller.
	IngressClass string
	// ClusterIssuer issues the certificates of the cloud's endpoints.
	ClusterIssuer string
}

// DefaultSettings are atmosphere's defaults.
func DefaultSettings() Settings {
	return Settings{Config: components.DefaultConfig(), IngressClass: "atmosphere", ClusterIssuer: "atmosphere"}
}

// ownValues are the values each component gives its chart, from atmosphere's
// roles (roles/<component>/vars/main.yml). This first version carries the
// structure (deployment modes, ingress class, node selectors, what the role
// turns on or off); images, endpoints and passwords come with the values
// fidelity work.
var ownValues = map[string]func(Settings) string{
	"ingress-nginx": func(s Settings) string {
		return `
controller:
  ingressClassResource:
    name: ` + s.IngressClass + `
  ingressClass: ` + s.IngressClass + `
  kind: DaemonSet
  nodeSelector:
    openstack-control-plane: enabled
  config:
    proxy-buffer-size: 16k
  metrics:
    enabled: true
defaultBackend:
  enabled: true
`
	},
	"cert-manager": func(Settings) string {
		return `
crds:
  enabled: true
nodeSelector:
  openstack-control-plane: enabled
webhook:
  nodeSelector:
    openstack-control-plane: enabled
cainjector:
  nodeSelector:
    openstack-control-plane: enabled
startupapicheck:
  nodeSelector:
    openstack-control-plane: enabled
`
	},
	"loki": func(Settings) string {
		return `
deploymentMode: SingleBinary
loki:
  server:
    log_level: warn
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
test:
  enabled: false
singleBinary:
  replicas: 1
  nodeSelector:
    openstack-control-plane: enabled
  persistence:
    size: 256Gi
write:
  replicas: 0
read:
  replicas: 0
backend:
  replicas: 0
gateway:
  nodeSelector:
    openstack-control-plane: enabled
lokiCanary:
  enabled: false
`
	},
	"keycloak": func(s Settings) string {
		return `
ingress:
  enabled: true
  ingressClassName: ` + s.IngressClass + `
  annotations:
    cert-manager.io/cluster-issuer: ` + s.ClusterIssuer + `
nodeSelector:
  openstack-control-plane: enabled
`
	},
	"ceph-provisioners": func(Settings) string {
		return `
pod:
  labels:
    include_app_kubernetes_io: false
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
`
	},
	"rook-ceph-cluster": func(Settings) string {
		return `
clusterName: ceph
configOverride: |
  [client]
  rgw_keystone accepted admin roles = admin
cephClusterSpec:
  external:
    enable: true
  monitoring:
    metricsDisabled: true
cephBlockPools: []
cephFileSystems: []
cephObjectStores:
  - name: ceph
    spec:
      auth:
        keystone:
          acceptedRoles: [admin, member, service]
          implicitTenants: "true"
          serviceUserSecretName: rook-ceph-rgw-ceph-creds
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
    storageClass:
      enabled: false
`
	},
	"valkey": func(Settings) string {
		return `
architecture: replication
sentinel:
  enabled: true
primary:
  nodeSelector:
    openstack-control-plane: enabled
replica:
  nodeSelector:
    openstack-control-plane: enabled
`
	},
}

// OwnValues returns a component's own values (empty for a component that
// gives its chart none).
func OwnValues(component string, s Settings) (values.Values, error) {
	f, ok := ownValues[component]
	if !ok {
		return values.Values{}, nil
	}
	return values.Parse(component+" own values", []byte(f(s)))
}
