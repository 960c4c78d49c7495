package action

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	rabbithole "github.com/michaelklishin/rabbit-hole/v3"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/ansible"
	"github.com/vexxhost/atmosphere-go/internal/database"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/keycloak"
	"github.com/vexxhost/atmosphere-go/internal/kubephase"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/internal/queue"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// newEngines makes the engine of each kind of work, over the clients
// connect made. Ansible work (hosts, the cluster, ceph) is run by
// ansible-playbook against the inventory's hosts, unless the hosts are
// provided (Options.HostsProvided, atmosphere_hosts_provided); Keycloak
// realms and clients are made through Keycloak's admin API
// (internal/keycloak), with the deployment's settings and secrets, the
// realms' discovery documents stored with the other facts; RabbitMQ users
// through each cluster's management API (internal/queue).
func (c *Configuration) newEngines() map[components.Kind]engine.Engine {
	var hosts engine.Engine = engine.Provided{Why: engine.ProvidedByEnvironment}
	if !c.hostsProvided {
		hosts = &ansible.Engine{Deployer: c.ansibleDeployer(c.opts.AnsiblePlaybook)}
	}
	return map[components.Kind]engine.Engine{
		components.Helm:      kubephase.HelmEngine{Stack: c.stack},
		components.Manifest:  kubephase.ManifestEngine{Stack: c.stack},
		components.OpenStack: c.runner,
		components.Database: &database.Deployer{
			Connect: func(ctx context.Context, user, password, db string) (*sql.DB, error) {
				return c.stack.ConnectDatabase(ctx, c.clientset, openstackNamespace, user, password, db)
			},
			Grants:      c.stack.Grants,
			CheckGrants: c.stack.CheckGrants,
		},
		components.Ansible:      hosts,
		components.AnsibleFacts: c.factsEngine(),
		components.Keycloak:     &keycloak.Engine{Settings: c.stack.Config, Store: c.runner.Facts.Set},
		components.Queue: &queue.Deployer{
			Grants: c.stack.QueueGrants,
			Connect: func(ctx context.Context, g components.QueueGrant) (*rabbithole.Client, error) {
				return c.stack.ConnectQueue(ctx, c.clientset, g)
			},
		},
	}
}

// engine is the engine of a kind of work; the cluster must be reached
// (connect).
func (c *Configuration) engine(kind components.Kind) (engine.Engine, error) {
	e, ok := c.engines[kind]
	if !ok {
		return nil, fmt.Errorf("no engine for %s work", kind)
	}
	return e, nil
}

// unit is the component and phase of a unit key of the registry's graph.
func (c *Configuration) unit(key string) (*components.Component, components.Phase) {
	name, phase := components.SplitUnit(key)
	comp, _ := c.registry.Get(name)
	p, _ := comp.Phase(phase)
	return comp, p
}

// deployer hands each unit to the engine of its kind. Work is done again
// when it failed on a transient API error (an API server restart); work
// done elsewhere never fails.
func (c *Configuration) deployer() components.Deployer {
	byKind := components.ByKind{}
	for kind, e := range c.engines {
		byKind[kind] = components.Retrying{Deployer: e, Transient: kubeutil.IsUnavailable}
	}
	return byKind
}

// HostsProvidedKey is the inventory's way to say, once, that the hosts,
// the Kubernetes cluster and Ceph exist already (Options.HostsProvided):
// a fact of the site, kept with its inventory, so that every verb and
// every operator reads it alike.
const HostsProvidedKey = "atmosphere_hosts_provided"

// hostsProvidedOf reads HostsProvidedKey: false when unset; anything but
// a boolean is a problem naming the file and the key.
func hostsProvidedOf(inv *inventory.Inventory) (bool, *inventory.Problem) {
	v, ok := inv.Vars[HostsProvidedKey]
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		p := inv.ProblemWith(HostsProvidedKey, fmt.Sprintf("want true or false, got %v", v))
		return false, &p
	}
	return b, nil
}

// hostGraph is how the units of keys are lowered when Ansible units run:
// a host lock (apt, containerd) of an Ansible unit becomes one per host it
// runs on, each with the lock's cap, so that plays on different hosts do
// not wait for each other. Without Ansible units to run, or when the
// hosts are provided, it changes nothing. When the hosts cannot be read
// (no ansible-playbook, an ansible-core too old, a hosts file ansible
// refuses) it is a UsageError naming what is missing.
func (c *Configuration) hostGraph(ctx context.Context, keys []string, opts components.GraphOptions, caps map[string]int) (components.GraphOptions, map[string]int, error) {
	e, ok := c.engines[components.Ansible].(*ansible.Engine)
	if !ok || !slices.ContainsFunc(keys, func(k string) bool { _, p := c.unit(k); return p.Kind == components.Ansible }) {
		return opts, caps, nil
	}
	inv, err := e.Inventory(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return opts, caps, err
		}
		// No ansible, one too old, a hosts file ansible refuses: the
		// environment or the input, before anything starts.
		return opts, caps, &UsageError{Err: fmt.Errorf("the Ansible units need their hosts: %w", err)}
	}
	opts.Resources = ansible.UnitResources(inv)
	return opts, ansible.HostCaps(caps, inv), nil
}

// ansibleDeployer runs ansible-playbook bin (the one on PATH when empty)
// against the inventory's hosts file, with the options' collections and
// vault password, the inventory's decrypted values hidden from its output,
// which goes to the log. The hosts file, not the directory: the
// group_vars/ and host_vars/ beside it are read with it, and ansible
// ignores a directory's .ini files.
func (c *Configuration) ansibleDeployer(bin string) *ansible.Deployer {
	return &ansible.Deployer{Bin: bin, Inventory: c.inventory.Hosts,
		CollectionsPaths: c.opts.CollectionsPaths, VaultPasswordFile: c.opts.VaultPasswordFile,
		Secrets: c.inventory.Secrets(),
		Output:  func(line string) { c.log.Info(line) }}
}
