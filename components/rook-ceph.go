package components

import "github.com/vexxhost/atmosphere-go/components/values"

// rookCeph declares rook-ceph, with what it renders.
func rookCeph() *Component {
	c := release("rook-ceph", "rook-ceph", "rook-ceph", chart("rook-ceph"), 7, needs("kubernetes"), kubeAPI)
	c.values = rookCephValues
	return c
}

// rookCephValues are rook-ceph's own values for its chart: its static
// values with the image's repository and tag.
func rookCephValues(r *Render) values.Values {
	return merge(r.static("rook-ceph"), values.Values{"image": r.repositoryImage("rook_ceph")})
}
