package components

// rookCeph declares rook-ceph, with what it renders.
func rookCeph() *Component {
	c := release("rook-ceph", "rook-ceph", "rook-ceph", chart("rook-ceph", "v1.15.9"), 7, needs("kubernetes"), kubeAPI)
	c.valuesYAML = rookCephValues
	return c
}

// rookCephValues are rook-ceph's own values for its chart.
func rookCephValues(r *Render) string {
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
}
