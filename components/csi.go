package components

// csi declares csi, with what it renders.
func csi() *Component {
	c := release("csi", "ceph-csi-rbd", "kube-system", chart("ceph-csi-rbd", "3.11.0"), 7, needs("ceph", "kubernetes"), nil)
	c.valuesYAML = csiValues
	return c
}

// csiValues are csi's own values for its chart.
func csiValues(r *Render) string {
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
}
