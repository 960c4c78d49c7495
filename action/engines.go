package action

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/database"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/kubephase"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// newEngines makes the engine of each kind of work, over the clients
// connect made. Ansible work (hosts, the cluster, ceph) is provided by the
// environment; keycloak realms are not managed by this build.
func (c *Configuration) newEngines() map[components.Kind]engine.Engine {
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
		components.Ansible:  engine.Provided{Why: engine.ProvidedByEnvironment},
		components.Keycloak: engine.Provided{Why: "keycloak realm left to keycloak's operator"},
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
