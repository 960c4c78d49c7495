package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs ceph-provisioners reads (roles/ceph_provisioners/defaults/main.yml),
// besides the shared Ceph facts (render.go).
var (
	cephProvisionersKnobs          = knobsOf("ceph-provisioners")
	cephProvisionersPublicNetwork  = cephProvisionersKnobs.str("ceph_provisioners_ceph_public_network", "")  // ceph_mon_public_network
	cephProvisionersClusterNetwork = cephProvisionersKnobs.str("ceph_provisioners_ceph_cluster_network", "") // ceph_mon_cluster_network
	// The monitors' addresses the role registered (ip and port of each),
	// given by the operator.
	cephProvisionersMonitors = cephProvisionersKnobs.list("_ceph_provisioners_ceph_monitors")
)

// cephProvisioners declares ceph-provisioners, with what it renders.
func cephProvisioners() *Component {
	c := withKinds(release("ceph-provisioners", "ceph-provisioners", openstack, chart("ceph-provisioners"), 24, needs("ceph", "kubernetes"), kubeAPI), Manifest)
	c.values = cephProvisionersValues
	c.objects = cephProvisionersObjects
	return c
}

// cephProvisionersValues are ceph-provisioners's own values for its chart:
// its static values with the Ceph cluster's networks and fsid (r.storage
// checks the volume backends of atmosphere_storage and adds no values).
func cephProvisionersValues(r *Render) values.Values {
	c := r.ceph()
	v := merge(r.static("ceph-provisioners"), values.Values{
		"network": map[string]any{
			"public":  orFact(r, cephProvisionersPublicNetwork, c.publicNetwork),
			"cluster": orFact(r, cephProvisionersClusterNetwork, c.clusterNetwork),
		},
		"conf": map[string]any{"ceph": map[string]any{"global": map[string]any{"fsid": c.fsid}}},
	})
	r.storage(func(cfg values.Values) (values.Values, error) {
		_, err := backends(cfg, "volumes")
		return nil, err
	})
	return v
}

// The Ceph monitors as a headless Service with their addresses (the
// ceph charts' clients find them by DNS), and the client.admin key the
// provisioners' PVCs use, as the ceph_provisioners role makes them: the
// inventory's, else what ceph's facts phase read.
func cephProvisionersObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	var addresses []any
	if list, ok := cephProvisionersMonitors.lookup(r); ok {
		addresses = list
	} else {
		for _, ip := range r.cephMonitors() {
			addresses = append(addresses, map[string]any{"ip": ip})
		}
	}
	ports := func(withProtocol bool) []any {
		var out []any
		for _, p := range []struct {
			name string
			port int
		}{{"mon", 6789}, {"mon-msgr2", 3300}, {"metrics", 9283}} {
			m := map[string]any{"name": p.name, "port": p.port}
			if withProtocol {
				m["protocol"] = "TCP"
			} else {
				m["targetPort"] = p.port
			}
			out = append(out, m)
		}
		return out
	}
	docs := []map[string]any{{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "ceph-mon", "labels": map[string]any{"application": "ceph"}},
		"spec":     map[string]any{"clusterIP": "None", "ports": ports(false)},
	}}
	if len(addresses) > 0 {
		docs = append(docs, map[string]any{
			"apiVersion": "v1", "kind": "Endpoints",
			"metadata": map[string]any{"name": "ceph-mon", "labels": map[string]any{"application": "ceph"}},
			"subsets":  []any{map[string]any{"addresses": addresses, "ports": ports(true)}},
		})
	}
	if key := r.cephAdminKey(); key != "" {
		docs = append(docs, map[string]any{
			"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/rbd",
			"metadata":   map[string]any{"name": "pvc-ceph-client-key", "labels": map[string]any{"application": "ceph"}},
			"stringData": map[string]any{"key": key},
		})
	}
	if r.err != nil {
		return nil, r.err
	}
	return objectList(docs...), nil
}

// cephAdminKey is the client.admin key: the inventory's
// _ceph_provisioners_keyring.key, else what ceph's facts phase read; ""
// when neither has it.
func (r *Render) cephAdminKey() string {
	key, _ := r.fact("", "", "_ceph_provisioners_keyring.key").(string)
	if key == "" {
		key = r.cephFact("admin_key")
	}
	return key
}

// orFact is a knob's value, else the fact it defaults to.
func orFact(r *Render, k knob[string], fact any) any {
	if v, ok := k.lookup(r); ok {
		return v
	}
	return fact
}
