package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
)

// rookCephCluster declares rook-ceph-cluster, with what it renders.
func rookCephCluster() *Component {
	c := withKinds(split(release("rook-ceph-cluster", "ceph", openstack, chart("rook-ceph-cluster", "v1.15.9"), 57,
		needs("rook-ceph", "ceph", "keystone"), kubeAPI), setup(7)), Manifest)
	c.valuesYAML = rookCephClusterValues
	c.objects = rookCephClusterObjects
	c.ingresses = []publicIngress{{"rook_ceph_cluster", "rgw_host", "rook-ceph-rgw-ceph", 80, bodyUnlimited, "rook_ceph_cluster_radosgw"}}
	return c
}

// rookCephClusterValues are rook-ceph-cluster's own values for its chart.
func rookCephClusterValues(r *Render) string {
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
}

// The keystone credentials of the RADOS gateway's service user (rgw),
// which the CephObjectStore's keystone auth reads.
func rookCephClusterObjects(s Settings) (string, error) {
	e := &endpointRender{Render: &Render{Settings: s}}
	name, _ := e.knob("rook_ceph_cluster_name", "ceph").(string)
	_, username, password := e.keystoneUser(rgwUser)
	doc := map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "rook-ceph-rgw-" + name + "-creds"},
		"stringData": map[string]any{
			"OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3",
			"OS_USERNAME": username, "OS_PASSWORD": password,
			"OS_PROJECT_DOMAIN_NAME": "service", "OS_PROJECT_NAME": "service", "OS_USER_DOMAIN_NAME": "service",
		}}
	if e.err != nil {
		return "", e.err
	}
	return joinDocs([]map[string]any{doc})
}
