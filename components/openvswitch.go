package components

import (
	"time"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// openvswitch declares openvswitch, with what it renders.
func openvswitch() *Component {
	c := then(
		&Component{Name: "openvswitch", Kinds: []Kind{Ansible}, Release: "openvswitch", Namespace: openstack,
			Chart: pinned("openvswitch"), Timeout: 5 * time.Minute,
			Phases: []Phase{{Name: "host-check", Kind: Ansible, Needs: needs("kubernetes"), Estimate: s(2)}}},
		Phase{Name: "install", Kind: Helm, Estimate: s(11)})
	c.values = openvswitchValues
	// openvswitch's role checks its hosts before the chart (the chart is
	// Helm work; the checks stay Ansible's).
	c.Ansible = &AnsibleWork{Hosts: "all", Become: true, Tasks: []map[string]any{
		{
			"name":                    "Get the LimitMEMLOCK of containerd",
			"ansible.builtin.command": "systemctl show containerd --property LimitMEMLOCK",
			"changed_when":            false,
			"register":                "_openvswitch_memlock_value",
		},
		{
			"name":                   "Assert that LimitMEMLOCK is infinity (Open vSwitch will not start otherwise)",
			"ansible.builtin.assert": map[string]any{"that": []any{"'LimitMEMLOCK=infinity' in _openvswitch_memlock_value.stdout"}},
		},
	}}
	c.PrePull = &PrePull{Image: "openvswitch_vswitchd", Selector: "labels.ovs"}
	return c
}

// openvswitchValues are openvswitch's own values for its chart: its static
// values with the endpoints and the images' tags.
func openvswitchValues(r *Render) values.Values {
	return merge(r.static("openvswitch"), r.openstackHelmValues("openvswitch"))
}
