package action

import (
	"os/exec"

	"github.com/vexxhost/atmosphere-go/internal/ansible"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

// factsEngine is the engine of the plays that read, from the inventory's
// hosts, facts the charts' values need (components.AnsibleFacts): run by
// the Ansible units' ansible-playbook (Options.AnsiblePlaybook, else the
// one on PATH) against the inventory's hosts file (with the group_vars/
// and host_vars/ beside it, as the roles read them), their facts stored with
// the OpenStack set-up's, which Settings.Facts reads. Without a hosts file
// or an ansible-playbook it can still report that the inventory gives
// every fact, and its check names what is missing.
func (c *Configuration) factsEngine() engine.Engine {
	e := &ansible.FactsEngine{Settings: c.stack.Config, Store: c.runner.Facts.Set}
	if c.inventory == nil || c.inventory.Hosts == "" {
		return e
	}
	bin := c.opts.AnsiblePlaybook
	if bin == "" {
		bin, _ = exec.LookPath("ansible-playbook")
	}
	if bin != "" {
		e.Runner = c.ansibleDeployer(bin)
	}
	// The hosts as the inventory's hosts file says (read in Go, vault
	// and all: inventory.Inventory.Groups).
	e.Hosts = ansible.NewInventory(c.inventory.Groups).Hosts
	return e
}
