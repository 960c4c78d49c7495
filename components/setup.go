package components

import (
	"context"
	"sync"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"golang.org/x/sync/errgroup"

	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// A component's OpenStack set-up (its Component.setup, declared in its own
// file) is the work of its OpenStack phase other than the catalog: the
// bootstrap steps atmosphere's role takes against the cloud (flavors,
// networks, security groups, ports, images, keypairs, quotas, roles,
// federation). The engine that runs the phases (internal/openstackphase)
// hands it a Setup; what it finds or makes that the component's values
// name, it records as facts.

// Setup is what a component's set-up works with.
type Setup struct {
	// Clients are the step sets over the cloud, each made when first
	// asked for.
	Clients SetupClients
	// Settings are the deployment's settings; the component reads its
	// part (Settings.Setup, its knobs) with its defaults.
	Settings Settings
	// Facts records the component's facts, read back by its values
	// through Settings.Facts.
	Facts FactWriter
}

// SetupClients are the provision step sets over one cloud. Each is made
// when first needed: a service joins the catalog during the deploy, so a
// client asked for too early fails naming the region.
type SetupClients interface {
	Identity(ctx context.Context) (*provision.Identity, error)
	Compute(ctx context.Context) (*provision.Compute, error)
	Volume(ctx context.Context) (*provision.Volume, error)
	Network(ctx context.Context) (*provision.Network, error)
	Images(ctx context.Context) (*provision.Images, error)
}

// FactWriter records a fact of one component ("amp_flavor_id"); it is safe
// for concurrent use.
type FactWriter interface {
	Set(key, value string)
}

// SetupSettings are what the inventory says of the components' OpenStack
// set-up. What it leaves out, each component's set-up takes from its
// defaults, declared in its file.
type SetupSettings struct {
	// Flavors are nova_flavors, which nova's set-up makes.
	Flavors []provision.Flavor
	// Networks are neutron_networks, which neutron's set-up makes.
	Networks []provision.NetworkSpec
	// Images are glance_images, which glance-images uploads.
	Images []provision.Image
	// Federations are the keycloak-backed keystone domains keystone's
	// set-up federates; none unless given.
	Federations []provision.Federation
	// OctaviaControllers are the hosts running octavia's health managers
	// (the inventory's controllers group, as the role loops over it), each
	// given a port on the management network.
	OctaviaControllers []string
}

// HasSetup reports whether the component has set-up steps of its own.
func (c *Component) HasSetup() bool { return c.setup != nil }

// Setup runs the component's set-up steps, in order, and reports whether
// they changed anything; it stops at the first error, reporting what
// changed before it. A component without steps of its own changes
// nothing.
func (c *Component) Setup(ctx context.Context, s *Setup) (changed bool, err error) {
	if c.setup == nil {
		return false, nil
	}
	return c.setup(ctx, s)
}

// tally folds the changed flags of steps.
type tally struct{ changed bool }

// add records a step's result and returns its error.
func (t *tally) add(changed bool, err error) error {
	t.changed = t.changed || changed
	return err
}

// impliedRoles are set-up steps that ensure roles and that each prior role
// implies its implied one: extra (when not empty) and the roles of pairs
// are made first, in order, then each implication.
func impliedRoles(extra string, pairs ...[2]string) func(context.Context, *Setup) (bool, error) {
	return func(ctx context.Context, s *Setup) (bool, error) {
		id, err := s.Clients.Identity(ctx)
		if err != nil {
			return false, err
		}
		var t tally
		role := map[string]string{}
		names := []string{extra}
		for _, p := range pairs {
			names = append(names, p[0], p[1])
		}
		for _, name := range names {
			if name == "" || role[name] != "" {
				continue
			}
			got, changed, err := id.EnsureRole(ctx, name)
			if err := t.add(changed, err); err != nil {
				return t.changed, err
			}
			role[name] = got.ID
		}
		for _, p := range pairs {
			if err := t.add(id.EnsureImpliedRole(ctx, role[p[0]], role[p[1]])); err != nil {
				return t.changed, err
			}
		}
		return t.changed, nil
	}
}

// uploads ensures images two at a time (each is a long stream) and
// returns them by name.
func uploads(ctx context.Context, s *Setup, list []provision.Image) (map[string]*images.Image, bool, error) {
	m, err := s.Clients.Images(ctx)
	if err != nil {
		return nil, false, err
	}
	var mu sync.Mutex
	got := map[string]*images.Image{}
	var t tally
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, img := range list {
		g.Go(func() error {
			made, changed, err := m.EnsureImage(ctx, img)
			mu.Lock()
			defer mu.Unlock()
			got[img.Name] = made
			return t.add(changed, err)
		})
	}
	err = g.Wait()
	return got, t.changed, err
}

// serviceProject is the ID of the service project, where octavia's and
// manila's resources live.
func serviceProject(ctx context.Context, id *provision.Identity) (string, error) {
	d, _, err := id.EnsureDomain(ctx, provision.ServiceDomain)
	if err != nil {
		return "", err
	}
	p, _, err := id.EnsureProject(ctx, provision.ServiceProject, d.ID)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// unlimited lifts the quotas that keep octavia's amphorae and manila's
// share servers from starting: compute, volume and network.
func unlimited(ctx context.Context, s *Setup, projectID string) (bool, error) {
	compute, err := s.Clients.Compute(ctx)
	if err != nil {
		return false, err
	}
	volume, err := s.Clients.Volume(ctx)
	if err != nil {
		return false, err
	}
	network, err := s.Clients.Network(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	if err := t.add(compute.EnsureQuota(ctx, projectID, provision.Quota{"instances": -1, "cores": -1, "ram": -1})); err != nil {
		return t.changed, err
	}
	if err := t.add(volume.EnsureQuota(ctx, projectID, provision.Quota{"volumes": -1, "gigabytes": -1})); err != nil {
		return t.changed, err
	}
	err = t.add(network.EnsureQuota(ctx, projectID, provision.Quota{"security_group": -1, "security_group_rule": -1}))
	return t.changed, err
}

// SetupImages returns, by component, the images its set-up uploads with
// the settings s: glance-images' glance_images, octavia's amphora,
// manila's service image and magnum's cluster images. A client that checks
// a deployed cloud (internal/cloudcheck) asks for these.
func SetupImages(s Settings) map[string][]provision.Image {
	return map[string][]provision.Image{"glance-images": s.Setup.Images, "octavia": {octaviaSetupOf(s).Image},
		"manila": {manilaSetupOf(s).Image}, "magnum": magnumSetupImages(s)}
}

// SetupFlavors returns, by component, the flavors its set-up makes with
// the settings s: nova's nova_flavors, octavia's amphora flavor and
// manila's share-server flavor.
func SetupFlavors(s Settings) map[string][]provision.Flavor {
	return map[string][]provision.Flavor{"nova": s.Setup.Flavors, "octavia": {octaviaSetupOf(s).Flavor},
		"manila": {manilaSetupOf(s).Flavor}}
}
