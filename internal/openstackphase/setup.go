// Package openstackphase runs the OpenStack phases the registry declares,
// against one shared, authenticated cloud: a component's catalog phase
// makes its catalog entries and service users; its other OpenStack phase
// runs the set-up steps the component declares with it
// (components.Component.Setup: flavors, networks, security groups, ports,
// images, keypairs, quotas, roles, federation). What a step finds or makes
// that a later phase's values need (a network's or a flavor's ID) is kept
// as facts, by component. The engine names no component.
package openstackphase

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/openstack"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// Config is what the catalog phases make their entries with.
type Config struct {
	// Endpoints is the URL scheme of the catalog.
	Endpoints provision.Endpoints
}

// Clients are the step sets over one cloud. Each is made when first
// needed: a service joins the catalog during the deploy.
type Clients = components.SetupClients

// Facts are what set-up steps found or made that other phases need, by
// component and key ("amp_boot_network_list"). It is safe for concurrent
// use.
type Facts struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

// Set records a fact.
func (f *Facts) Set(component, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]map[string]string{}
	}
	if f.m[component] == nil {
		f.m[component] = map[string]string{}
	}
	f.m[component][key] = value
}

// Of returns a copy of a component's facts.
func (f *Facts) Of(component string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.m[component])
}

// componentFacts writes the facts of one component: what a component's
// set-up is given, so that it names no component.
type componentFacts struct {
	facts     *Facts
	component string
}

// Set implements components.FactWriter.
func (f componentFacts) Set(key, value string) { f.facts.Set(f.component, key, value) }

// Runner does the OpenStack phases. It is a components.Deployer for
// phases of kind OpenStack.
type Runner struct {
	Config    Config
	Clients   Clients
	Passwords provision.Passwords
	// Settings are the deployment's settings, which each component's
	// set-up reads its part of (components.Settings.Setup, its defaults).
	Settings components.Settings
	// Facts receives the components' facts; Settings.Facts reads them.
	Facts *Facts
	Log   *slog.Logger
}

// catalogPhase is the name of the phase that makes a component's catalog
// entries and service users.
const catalogPhase = "catalog"

// Deploy runs one OpenStack phase of c under ctx: a catalog phase makes
// the component's catalog entries and service users; its other OpenStack
// phase runs the component's set-up steps, after its catalog entries when
// it has entries and no catalog phase of its own. It fails when the phase
// has no work, and returns the first step's error as it is; otherwise it
// notes (dag.Notify) and logs whether anything changed.
func (r *Runner) Deploy(ctx context.Context, c *components.Component, phase components.Phase) error {
	key := components.UnitKey(c.Name, phase.Name)
	steps := withComponent(ctx, c)
	var t tally
	switch {
	case phase.Name == catalogPhase:
		if err := t.add(catalog(steps, r)); err != nil {
			return err
		}
	case c.HasSetup() || catalogInSetup(c):
		if catalogInSetup(c) {
			if err := t.add(catalog(steps, r)); err != nil {
				return err
			}
		}
		s := &components.Setup{Clients: r.Clients, Settings: r.Settings, Facts: componentFacts{facts: r.Facts, component: c.Name}}
		if err := t.add(c.Setup(steps, s)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("no OpenStack set-up is known for %s", key)
	}
	did := "OpenStack set-up unchanged"
	if t.changed {
		did = "OpenStack set-up changed"
	}
	dag.ReporterFrom(ctx).Note(dag.Note{Did: did, Unchanged: !t.changed})
	if r.Log != nil {
		r.Log.InfoContext(ctx, "openstack set-up done", "unit", key, "changed", t.changed)
	}
	return nil
}

// catalogInSetup reports whether c's set-up phase makes its catalog
// entries: it has some, and no catalog phase of its own.
func catalogInSetup(c *components.Component) bool {
	_, ok := c.Phase(catalogPhase)
	return !ok && len(c.Services()) > 0
}

type componentKey struct{}

func withComponent(ctx context.Context, c *components.Component) context.Context {
	return context.WithValue(ctx, componentKey{}, c)
}

// componentOf is the component whose phase runs (an empty one outside a
// phase).
func componentOf(ctx context.Context) *components.Component {
	if c, ok := ctx.Value(componentKey{}).(*components.Component); ok {
		return c
	}
	return &components.Component{}
}

// tally folds the changed flags of steps.
type tally struct{ changed bool }

func (t *tally) add(changed bool, err error) error {
	t.changed = t.changed || changed
	return err
}

// catalog makes the catalog entries and service users of the phase's
// component.
func catalog(ctx context.Context, r *Runner) (bool, error) {
	id, err := r.Clients.Identity(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	for _, s := range componentOf(ctx).Services() {
		if err := t.add(id.EnsureCatalogService(ctx, r.Config.Endpoints, s, r.Passwords)); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}

// CloudClients makes the step sets from an authenticated cloud, each when
// first asked for.
type CloudClients struct {
	// Cloud is the authenticated cloud; when nil, Connect makes it at the
	// first use (keystone may not be deployed yet when the run starts).
	Cloud   *openstack.Cloud
	Connect func(context.Context) (*openstack.Cloud, error)

	mu       sync.Mutex
	identity *provision.Identity
	compute  *provision.Compute
	volume   *provision.Volume
	network  *provision.Network
	images   *provision.Images
}

// lazy makes a step set once, from the service client the cloud gives.
func lazy[T any](ctx context.Context, c *CloudClients, slot **T,
	client func(context.Context) (*gophercloud.ServiceClient, error), wrap func(*gophercloud.ServiceClient) *T) (*T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *slot != nil {
		return *slot, nil
	}
	if c.Cloud == nil {
		if c.Connect == nil {
			return nil, fmt.Errorf("no OpenStack credentials")
		}
		cloud, err := c.Connect(ctx)
		if err != nil {
			return nil, err
		}
		c.Cloud = cloud
	}
	sc, err := client(ctx)
	if err != nil {
		return nil, err
	}
	*slot = wrap(sc)
	return *slot, nil
}

// Identity implements Clients.
func (c *CloudClients) Identity(ctx context.Context) (*provision.Identity, error) {
	return lazy(ctx, c, &c.identity, func(context.Context) (*gophercloud.ServiceClient, error) { return c.Cloud.Identity() },
		provision.NewIdentity)
}

// Compute implements Clients.
func (c *CloudClients) Compute(ctx context.Context) (*provision.Compute, error) {
	return lazy(ctx, c, &c.compute, func(ctx context.Context) (*gophercloud.ServiceClient, error) { return c.Cloud.Compute(ctx) }, provision.NewCompute)
}

// Volume implements Clients.
func (c *CloudClients) Volume(ctx context.Context) (*provision.Volume, error) {
	return lazy(ctx, c, &c.volume, func(ctx context.Context) (*gophercloud.ServiceClient, error) { return c.Cloud.BlockStorage(ctx) }, provision.NewVolume)
}

// Network implements Clients.
func (c *CloudClients) Network(ctx context.Context) (*provision.Network, error) {
	return lazy(ctx, c, &c.network, func(ctx context.Context) (*gophercloud.ServiceClient, error) { return c.Cloud.Network(ctx) }, provision.NewNetwork)
}

// Images implements Clients.
func (c *CloudClients) Images(ctx context.Context) (*provision.Images, error) {
	return lazy(ctx, c, &c.images, func(ctx context.Context) (*gophercloud.ServiceClient, error) { return c.Cloud.Image(ctx) },
		func(sc *gophercloud.ServiceClient) *provision.Images { return provision.NewImages(sc, nil) })
}
