package ansible

import (
	"context"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components"
)

// JobFor returns the Ansible job of a component: the work it declares
// (components.Component.Ansible); false when it declares none.
func JobFor(c *components.Component) (Job, bool) {
	w := c.Ansible
	if w == nil {
		return Job{}, false
	}
	j := Job{Component: c.Name, Playbook: w.Playbook}
	if w.Playbook == "" {
		j.Play = &Play{Hosts: w.Hosts, Role: w.Role, Become: w.Become, GatherFacts: w.GatherFacts, Tasks: w.Tasks}
	}
	return j, true
}

// HostsOf returns the hosts a component's play runs on ("all" for a
// collection playbook).
func HostsOf(inv *Inventory, c *components.Component) ([]string, error) {
	j, ok := JobFor(c)
	if !ok {
		return nil, fmt.Errorf("%s has no Ansible work", c.Name)
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
		hosts, err := HostsOf(inv, c)
		if err != nil {
			return p.Resources // keep the global lock: safe, if slower
		}
		return Resources(p.Resources, hosts)
	}
}

// Deploy runs a component's Ansible phase (components.Deployer).
func (d *Deployer) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	j, ok := JobFor(c)
	if !ok {
		return fmt.Errorf("%s: phase %s: no Ansible job", c.Name, p.Name)
	}
	return d.Run(ctx, j)
}
