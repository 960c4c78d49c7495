package stack

import (
	"encoding/json"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/images"
	"github.com/vexxhost/atmosphere-go/components/values"
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

// image returns the image of key from the table.
func (r *Render) image(key string) images.Ref {
	if r.Images == nil {
		r.Images = images.Default()
	}
	return r.Images.Ref(key)
}

// repository and tag are an image's parts as Helm charts take them.
func (r *Render) repository(key string) string { return r.image(key).Name() }
func (r *Render) tag(key string) string        { return r.image(key).Tag }

// imageTags is an openstack-helm chart's images.tags, from the table.
func (r *Render) imageTags() map[string]any {
	if r.Images == nil {
		r.Images = images.Default()
	}
	tags, _ := values.Get(r.Chart, "images.tags")
	m, _ := tags.(map[string]any)
	return r.Images.Tags(m)
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
	"memcached": func(r *Render) string {
		return `
endpoints: ` + inline(r.endpoints("memcached")) + `
images:
  tags: ` + inline(r.imageTags()) + `
pod:
  labels:
    include_app_kubernetes_io: false
monitoring:
  prometheus:
    enabled: true
`
	},
	"openvswitch": func(r *Render) string {
		return `
endpoints: ` + inline(r.endpoints("openvswitch")) + `
pod:
  labels:
    include_app_kubernetes_io: false
images:
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
image: ` + r.image("percona_xtradb_cluster_operator").String() + `
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
	"ingress-nginx": func(s *Render) string {
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
	"cert-manager": func(*Render) string {
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
	"loki": func(*Render) string {
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
	"keycloak": func(s *Render) string {
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
	"ceph-provisioners": func(*Render) string {
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
	"rook-ceph-cluster": func(*Render) string {
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
	"valkey": func(*Render) string {
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
	return values.Parse(component+" own values", []byte(doc))
}
