package ansible

import (
	"context"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components"
)

// jobs are the Ansible work of the components that stay Ansible, as
// atmosphere's playbooks run it (playbooks/openstack.yml, ceph.yml,
// kubernetes.yml).
var jobs = map[string]Job{
	"ceph":       {Playbook: "vexxhost.atmosphere.ceph"},
	"kubernetes": {Playbook: "vexxhost.atmosphere.kubernetes"},
	"lpfc":       {Play: &Play{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.lpfc", Become: true, GatherFacts: true}},
	"multipathd": {Play: &Play{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.multipathd", Become: true, GatherFacts: true}},
	"iscsi":      {Play: &Play{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.iscsi", Become: true, GatherFacts: true}},
	"udev":       {Play: &Play{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.udev", Become: true, GatherFacts: true}},
	"image-warmup": {Play: &Play{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.image_warmup", Become: true,
		GatherFacts: true}},
	// openvswitch's role checks its hosts before the chart; the chart is
	// our Helm work, the checks stay here.
	"openvswitch": {Play: &Play{Hosts: "all", Become: true, Tasks: []map[string]any{
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
	}}},
	"openstack-cli": {Play: &Play{Hosts: "controllers", Role: "vexxhost.atmosphere.openstack_cli", Become: true, GatherFacts: true}},
}

// JobFor returns the Ansible job of a component.
func JobFor(component string) (Job, bool) {
	j, ok := jobs[component]
	if !ok {
		return Job{}, false
	}
	j.Component = component
	return j, true
}

// HostsOf returns the hosts a component's play runs on ("all" for a
// collection playbook).
func HostsOf(inv *Inventory, component string) ([]string, error) {
	j, ok := JobFor(component)
	if !ok {
		return nil, fmt.Errorf("%s has no Ansible work", component)
	}
	if j.Play == nil {
		return inv.Hosts("all")
	}
	return inv.Hosts(j.Play.Hosts)
}

// UnitResources is a components.GraphOptions.Resources for an inventory:
// the host locks of an Ansible phase become one per host it runs on.
func UnitResources(inv *Inventory) func(c *components.Component, p components.Phase) []string {
	return func(c *components.Component, p components.Phase) []string {
		if p.Kind != components.Ansible {
			return p.Resources
		}
		hosts, err := HostsOf(inv, c.Name)
		if err != nil {
			return p.Resources // keep the global lock: safe, if slower
		}
		return Resources(p.Resources, hosts)
	}
}

// Deploy runs a component's Ansible phase (components.Deployer).
func (d *Deployer) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	j, ok := JobFor(c.Name)
	if !ok {
		return fmt.Errorf("%s: phase %s: no Ansible job", c.Name, p.Name)
	}
	return d.Run(ctx, j)
}
