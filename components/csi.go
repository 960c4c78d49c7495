package components

import (
	"slices"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs csi reads (roles/csi/defaults/main.yml).
var (
	csiKnobs       = knobsOf("csi")
	csiCephRBDPool = csiKnobs.str("ceph_csi_rbd_pool", "kube")
	csiCephRBDID   = csiKnobs.str("ceph_csi_rbd_id", "kube")
)

// csiDriverKnob is csi_driver (roles/csi/meta/main.yml picks the role of
// the driver it names), a knob of the shared rendering: it is checked
// whichever driver's component is enabled. atmosphere-go deploys rbd
// (csi, ceph-csi-rbd), local-path-provisioner, hpe-nimble (hpe-csi-driver),
// storpool (storpool-csi), portworx and ibm-block (ibm-block-csi-operator,
// ibm-block-csi-driver); the role's other
// drivers, and any other value, are refused before the run, naming the
// value and what is supported. The settings (inventory) read it into
// Config.CSIDriver, which enables the driver's component.
var csiDriverKnob = sharedKnobs.choice("csi_driver", CSIDriverRBD, CSIDrivers,
	[]string{"powerstore"}, nil)

// CSIDriverOf is the CSI driver the inventory's variables vars pick
// (Config.CSIDriver): csi_driver when it names a driver atmosphere-go
// implements (CSIDrivers), else rbd, the default — any other value is the
// csi_driver knob's to refuse, once.
func CSIDriverOf(vars map[string]any) string {
	if v := csiDriverKnob.in(vars); slices.Contains(CSIDrivers, v) {
		return v
	}
	return CSIDriverRBD
}

// storageProviders are the components that may provide the StorageClass
// general, one for each CSI driver atmosphere-go implements: exactly one
// is enabled (Config.CSIDriver), and a component whose values or objects
// claim volumes of that class needs them all (a need of a disabled
// component is dropped by Graph).
var storageProviders = []string{"csi", "local-path-provisioner", "hpe-csi-driver", "storpool-csi", "ibm-block-csi-driver", "portworx"}

// withStorage is the needs of a component that claims volumes of the
// StorageClass general: every one of storageProviders, and others.
func withStorage(others ...string) []string {
	return append(slices.Clone(storageProviders), others...)
}

// csi declares csi, with what it renders: ceph-csi-rbd, enabled when the
// CSI driver is rbd.
func csi() *Component {
	c := enabledWhen(release("csi", "ceph-csi-rbd", "kube-system", chart("ceph-csi-rbd"), 7, needs("ceph", "kubernetes"), nil),
		func(c Config) bool { return c.csiDriver() == CSIDriverRBD })
	c.roleVars = "ceph_csi_rbd" // ceph_csi_rbd_helm_release_name, _namespace
	c.values = csiValues
	return c
}

// csiValues are csi's own values for its chart: its static values with
// the Ceph cluster (fsid, monitors, key), the images, the pool and the user.
func csiValues(r *Render) values.Values {
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
