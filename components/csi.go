package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs csi reads (roles/csi/defaults/main.yml).
var (
	csiKnobs       = knobsOf("csi")
	csiCephRBDPool = csiKnobs.str("ceph_csi_rbd_pool", "kube")
	csiCephRBDID   = csiKnobs.str("ceph_csi_rbd_id", "kube")
	// csi_driver: atmosphere-go deploys ceph-csi-rbd only; the role's
	// other drivers are refused before the run.
	csiDriver = csiKnobs.choice("csi_driver", "rbd", []string{"rbd"},
		[]string{"local-path-provisioner", "powerstore", "portworx", "storpool", "ibm-block", "hpe-nimble"}, nil)
)

// csi declares csi, with what it renders.
func csi() *Component {
	c := release("csi", "ceph-csi-rbd", "kube-system", chart("ceph-csi-rbd"), 7, needs("ceph", "kubernetes"), nil)
	c.roleVars = "ceph_csi_rbd" // ceph_csi_rbd_helm_release_name, _namespace
	c.values = csiValues
	return c
}

// csiValues are csi's own values for its chart: its static values with
// the Ceph cluster (fsid, monitors, key), the images, the pool and the user.
func csiValues(r *Render) values.Values {
	csiDriver.get(r) // rbd: another driver is a problem
	c := r.ceph()
	image := func(key string) map[string]any {
		return map[string]any{"image": map[string]any{"repository": r.image(key).Name()}}
	}
	return merge(r.static("csi"), values.Values{
		"csiConfig": []any{map[string]any{"clusterID": c.fsid, "monitors": c.monitors}},
		"nodeplugin": map[string]any{
			"registrar": image("csi_node_driver_registrar"),
			"plugin":    image("csi_rbd_plugin"),
		},
		"provisioner": map[string]any{
			"provisioner": image("csi_rbd_provisioner"),
			"attacher":    image("csi_rbd_attacher"),
			"resizer":     image("csi_rbd_resizer"),
			"snapshotter": image("csi_rbd_snapshotter"),
		},
		"storageClass": map[string]any{"clusterID": c.fsid, "pool": csiCephRBDPool.get(r)},
		"secret":       map[string]any{"userID": csiCephRBDID.get(r), "userKey": c.keyring},
	})
}
