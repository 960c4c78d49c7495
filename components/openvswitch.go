package components

import (
	"time"

	"github.com/vexxhost/atmosphere-go/charts"
)

// openvswitch declares openvswitch, with what it renders.
func openvswitch() *Component {
	c := then(
		&Component{Name: "openvswitch", Kinds: []Kind{Ansible}, Release: "openvswitch", Namespace: openstack,
			Chart: &charts.Ref{Name: "openvswitch", Version: "1.2.0"}, Timeout: 5 * time.Minute,
			Phases: []Phase{{Name: "host-check", Kind: Ansible, Needs: needs("kubernetes"), Estimate: s(2)}}},
		Phase{Name: "install", Kind: Helm, Estimate: s(11)})
	c.valuesYAML = openvswitchValues
	c.PrePull = &PrePull{Image: "openvswitch_vswitchd", Selector: "labels.ovs"}
	return c
}

// openvswitchValues are openvswitch's own values for its chart.
func openvswitchValues(r *Render) string {
	return `
endpoints: ` + inline(r.endpoints("openvswitch")) + podLabels + `images:
  tags: ` + inline(r.imageTags()) + `
`
}
