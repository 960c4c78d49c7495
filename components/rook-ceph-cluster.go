package components

import (
	"fmt"
	"net"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The knobs rook-ceph-cluster reads (roles/rook_ceph_cluster/defaults/main.yml).
var (
	rookCephClusterKnobs       = knobsOf("rook-ceph-cluster")
	rookCephClusterName        = rookCephClusterKnobs.str("rook_ceph_cluster_name", "ceph")
	rookCephClusterRadosgwSpec = rookCephClusterKnobs.mapping("rook_ceph_cluster_radosgw_spec", nil)
	rookCephClusterSpec        = rookCephClusterKnobs.mapping("rook_ceph_cluster_spec", nil)
)

// rookCephCluster declares rook-ceph-cluster, with what it renders.
func rookCephCluster() *Component {
	c := withKinds(split(release("rook-ceph-cluster", "ceph", openstack, chart("rook-ceph-cluster"), 57,
		needs("rook-ceph", "ceph", "keystone"), kubeAPI), setup(7)), Manifest)
	c.services, c.endpoints = rookCephClusterServices, rookCephClusterEndpoints
	c.values = rookCephClusterValues
	c.objects = rookCephClusterObjects
	// The RADOS gateway's Ingress, with the role's own knobs: its
	// annotations laid over the role's, its class (atmosphere's by default).
	rgw := publicIngressOf("rook_ceph_cluster", "rook-ceph-rgw-ceph", 80, bodyUnlimited, "rook_ceph_cluster_radosgw")
	rgw.annotationsKnob, rgw.classKnob = "rook_ceph_cluster_radosgw_annotations", "rook_ceph_cluster_ingress_class_name"
	c.ingresses = []publicIngress{rgw}
	return c
}

// rookCephClusterValues are rook-ceph-cluster's own values for its chart:
// its static values with the cluster's name, the Ceph image and the
// RADOS gateway's keystone credentials Secret, the operator's
// rook_ceph_cluster_spec and rook_ceph_cluster_radosgw_spec laid over the
// cluster's and the gateway's specs.
func rookCephClusterValues(r *Render) values.Values {
	name := rookCephClusterName.get(r)
	v := r.static("rook-ceph-cluster")
	// The one object store of the static values, the RADOS gateway.
	if stores, _ := v["cephObjectStores"].([]any); len(stores) == 1 {
		if store, ok := stores[0].(map[string]any); ok {
			spec, _ := store["spec"].(map[string]any)
			store["name"] = name
			store["spec"] = merge(spec, values.Values{"auth": map[string]any{"keystone": map[string]any{
				"serviceUserSecretName": "rook-ceph-rgw-" + name + "-creds"}}}, r.copyOf(rookCephClusterRadosgwSpec))
		}
	}
	return merge(v, values.Values{
		"clusterName":     name,
		"cephClusterSpec": map[string]any{"cephVersion": map[string]any{"image": r.image("ceph").String()}},
	}, values.Values{"cephClusterSpec": r.copyOf(rookCephClusterSpec)})
}

// rookExternalMonSecret is the monitors' secret rook's own import of an
// external cluster writes when it is not given
// (deploy/examples/import-external-cluster.sh): rook does not use it for
// an external cluster.
const rookExternalMonSecret = "mon-secret"

// rookCephClusterObjects are, as the rook_ceph_cluster role makes them:
// the keystone credentials of the RADOS gateway's service user (rgw),
// which the CephObjectStore's keystone auth reads; and, once the Ceph
// cluster's fsid and client.admin key are known (the inventory's, else
// what ceph's facts phase read, as the Ceph charts take them), the
// rook-ceph-mon Secret (cluster name, fsid, admin and monitors' keys) and
// the rook-ceph-mon-endpoints ConfigMap (the quorum leader's
// "name=address") through which rook's external CephCluster reaches the
// cluster. The monitors' key and the leader are read by the facts phase
// whenever it runs; when it did not (the inventory gives every Ceph fact),
// the key is rook's placeholder and the endpoint the inventory's first
// monitor, named "a".
func rookCephClusterObjects(s Settings) ([]Object, error) {
	e := &endpointRender{Render: &Render{Settings: s}}
	name := rookCephClusterName.get(e.Render)
	_, username, password := e.keystoneUser(rgwUser)
	doc := map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "rook-ceph-rgw-" + name + "-creds"},
		"stringData": map[string]any{
			"OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3",
			"OS_USERNAME": username, "OS_PASSWORD": password,
			"OS_PROJECT_DOMAIN_NAME": "service", "OS_PROJECT_NAME": "service", "OS_USER_DOMAIN_NAME": "service",
		}}
	docs := append([]map[string]any{doc}, rookCephMonObjects(e.Render, name)...)
	if e.err != nil {
		return nil, e.err
	}
	return objectList(docs...), nil
}

// rookCephMonObjects are the rook-ceph-mon Secret and the
// rook-ceph-mon-endpoints ConfigMap (rookCephClusterObjects); none while
// the fsid or the client.admin key is not known.
func rookCephMonObjects(r *Render, name string) []map[string]any {
	fsid, _ := r.ceph().fsid.(string)
	admin := r.cephAdminKey()
	if fsid == "" || admin == "" {
		return nil
	}
	monKey := r.cephFact("mon_key")
	if monKey == "" {
		monKey = rookExternalMonSecret
	}
	docs := []map[string]any{{"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "rook-ceph-mon"},
		"stringData": map[string]any{"cluster-name": name, "fsid": fsid, "admin-secret": admin, "mon-secret": monKey}}}
	endpoints := r.cephFact("mon_endpoints")
	if mons := r.cephMonitors(); endpoints == "" && len(mons) > 0 {
		addr := fmt.Sprint(mons[0])
		if _, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(addr, "6789")
		}
		endpoints = "a=" + addr
	}
	if endpoints != "" {
		docs = append(docs, map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "rook-ceph-mon-endpoints"},
			"data":     map[string]any{"data": endpoints, "maxMonId": "0", "mapping": "{}"}})
	}
	return docs
}

// rgwUser is the RADOS gateway's keystone user: in its chart's endpoints
// and in the credentials Secret its object store reads.
var rgwUser = user{"rgw", "rgw", "rgw", ""}

// rookCephClusterServices are the RADOS gateway's entry in the catalog,
// the object store, and its service user.
var rookCephClusterServices = []provision.Service{{Type: "object-store", Name: "swift", Description: "OpenStack Object Storage",
	Host: "rook-ceph-rgw-ceph", Port: 80, Path: "/swift/v1/%(tenant_id)s", Users: []provision.ServiceUser{serviceUser("rgw", "rgw", admin...)}}}

// rookCephClusterEndpoints are the chart endpoints rook-ceph-cluster owns.
var rookCephClusterEndpoints = map[string]endpointFragment{
	"rook_ceph_cluster": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(rgwUser), e.public("rook_ceph_cluster", "api"))
	},
}
