// Package openstackphase runs the OpenStack set-up phases the registry declares:
// for each component phase of kind OpenStack, the bootstrap steps it takes
// (catalog entries and service users, federation, flavors, networks,
// security groups, ports, images, keypairs, quotas), against one shared,
// authenticated cloud. What a step finds or makes that a later phase's
// values need (octavia's network and flavor IDs) is kept as facts.
package openstackphase

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"golang.org/x/sync/errgroup"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/openstack"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// Config is what the set-up makes, from the inventory.
type Config struct {
	// Endpoints is the URL scheme of the catalog.
	Endpoints provision.Endpoints
	// Federations are the keycloak-backed keystone domains
	// (keystone_domains).
	Federations []provision.Federation
	// Flavors are nova_flavors.
	Flavors []provision.Flavor
	// Networks are neutron_networks.
	Networks []provision.NetworkSpec
	// Images are glance_images.
	Images []provision.Image
	// Octavia, Manila and Magnum configure those services' resources.
	Octavia Octavia
	Manila  Manila
	Magnum  Magnum
	// AdminProject is the project octavia's unlimited quotas go to.
	AdminProject string
}

// Octavia is octavia's set-up: the management network its amphorae and
// health managers meet on, one health-manager port per controller, the
// amphora flavor, image and keypair.
type Octavia struct {
	ManagementNetwork provision.NetworkSpec
	// Controllers are the hosts running health managers.
	Controllers []string
	Flavor      provision.Flavor
	Image       provision.Image
	// KeypairName and PublicKey make the amphorae's SSH keypair;
	// PublicKeyFrom, when set and PublicKey is not, gives the key when the
	// set-up runs (from the secrets store, which a check must not write).
	KeypairName   string
	PublicKey     string
	PublicKeyFrom func(ctx context.Context) (string, error)
}

// Manila is manila's set-up: the share servers' flavor and image.
type Manila struct {
	Flavor provision.Flavor
	Image  provision.Image
}

// Magnum is magnum's set-up: the cluster images.
type Magnum struct {
	Images []provision.Image
}

// Defaults are atmosphere's defaults (roles' defaults/main.yml); the
// inventory fills in the rest.
func Defaults() Config {
	return Config{
		AdminProject: "admin",
		Octavia: Octavia{
			ManagementNetwork: provision.NetworkSpec{Name: "lb-mgmt-net",
				Subnets: []provision.SubnetSpec{{Name: "lb-mgmt-subnet", CIDR: "172.24.0.0/22"}}},
			Flavor: provision.FlavorAmphora,
			Image: provision.Image{Name: "amphora-x64-haproxy", DiskFormat: "raw", Tags: []string{"amphora"},
				Source: "https://tarballs.opendev.org/openstack/octavia/test-images/test-only-amphora-x64-haproxy-ubuntu-focal.qcow2"},
			KeypairName: "octavia-ssh-key",
		},
		Manila: Manila{
			Flavor: provision.FlavorManila,
			Image: provision.Image{Name: "manila-service-image", DiskFormat: "qcow2",
				Source: "https://github.com/vexxhost/manila-service-images/releases/download/2026.05-3/manila-service-image.qcow2"},
		},
		Magnum: Magnum{Images: []provision.Image{
			magnumImage("ubuntu-2204-kube-v1.32.10", "ubuntu-22.04-v1.32.10"),
			magnumImage("ubuntu-2204-kube-v1.33.7", "ubuntu-22.04-v1.33.7"),
			magnumImage("ubuntu-2204-kube-v1.34.3", "ubuntu-22.04-v1.34.3"),
		}},
	}
}

func magnumImage(name, file string) provision.Image {
	return provision.Image{Name: name, DiskFormat: "raw", Properties: map[string]string{"os_distro": "ubuntu"},
		Source: "https://github.com/vexxhost/capo-image-elements/releases/download/2025.12-3/" + file + ".qcow2"}
}

// Clients are the step sets over one cloud. Each is made when first
// needed: a service joins the catalog during the deploy.
type Clients interface {
	Identity(ctx context.Context) (*provision.Identity, error)
	Compute(ctx context.Context) (*provision.Compute, error)
	Volume(ctx context.Context) (*provision.Volume, error)
	Network(ctx context.Context) (*provision.Network, error)
	Images(ctx context.Context) (*provision.Images, error)
}

// Facts are what set-up steps found or made that other phases need, by
// component and key ("octavia", "amp_boot_network_list").
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

// Runner does the OpenStack phases. It is a components.Deployer for
// phases of kind OpenStack.
type Runner struct {
	Config    Config
	Clients   Clients
	Passwords provision.Passwords
	Facts     *Facts
	Log       *slog.Logger
}

// step is the work of one phase.
type step func(ctx context.Context, r *Runner) (changed bool, err error)

// steps holds the work of every OpenStack phase of the registry, by unit
// key. Every catalog phase makes the component's catalog entries.
var steps = map[string]step{
	"keystone:setup":          keystoneSetup,
	"barbican:setup":          impliedRoles("creator", [2]string{"member", "creator"}),
	"rook-ceph-cluster:setup": catalog,
	"nova:setup":              novaFlavors,
	"neutron:setup":           neutronNetworks,
	"glance-images:setup":     glanceImages,
	"octavia:setup":           octaviaSetup,
	"manila:setup":            manilaSetup,
	"magnum:setup":            magnumImages,
}

// Deploy runs the set-up of one phase.
func (r *Runner) Deploy(ctx context.Context, c *components.Component, phase components.Phase) error {
	key := components.UnitKey(c.Name, phase.Name)
	s, ok := steps[key]
	if !ok && phase.Name == "catalog" {
		s, ok = catalog, true
	}
	if !ok {
		return fmt.Errorf("no OpenStack set-up is known for %s", key)
	}
	changed, err := s(withComponent(ctx, c), r)
	if err != nil {
		return err
	}
	did := "OpenStack set-up unchanged"
	if changed {
		did = "OpenStack set-up changed"
	}
	dag.Notify(ctx, dag.Note{Did: did, Unchanged: !changed})
	if r.Log != nil {
		r.Log.InfoContext(ctx, "openstack set-up done", "unit", key, "changed", changed)
	}
	return nil
}

// Units lists the unit keys the runner knows, sorted; the registry's
// OpenStack phases must all be among them (a test checks).
func Units() []string {
	keys := make([]string, 0, len(steps))
	for k := range steps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// keystoneSetup points the identity entry at atmosphere's URLs and sets up
// the federation of every keycloak domain.
func keystoneSetup(ctx context.Context, r *Runner) (bool, error) {
	t := tally{}
	if err := t.add(catalog(ctx, r)); err != nil {
		return t.changed, err
	}
	id, err := r.Clients.Identity(ctx)
	if err != nil {
		return t.changed, err
	}
	for _, f := range r.Config.Federations {
		if err := t.add(id.EnsureFederation(ctx, f)); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}

// impliedRoles ensures roles and that each prior role implies its implied
// one.
func impliedRoles(extra string, pairs ...[2]string) step {
	return func(ctx context.Context, r *Runner) (bool, error) {
		id, err := r.Clients.Identity(ctx)
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

func novaFlavors(ctx context.Context, r *Runner) (bool, error) {
	compute, err := r.Clients.Compute(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	for _, f := range r.Config.Flavors {
		_, changed, err := compute.EnsureFlavor(ctx, f)
		if err := t.add(changed, err); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}

func neutronNetworks(ctx context.Context, r *Runner) (bool, error) {
	network, err := r.Clients.Network(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	for _, n := range r.Config.Networks {
		_, changed, err := network.EnsureNetwork(ctx, n)
		if err := t.add(changed, err); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}

// uploads ensures images two at a time (each is a long stream).
func uploads(ctx context.Context, r *Runner, list []provision.Image) (map[string]*images.Image, bool, error) {
	m, err := r.Clients.Images(ctx)
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

func glanceImages(ctx context.Context, r *Runner) (bool, error) {
	_, changed, err := uploads(ctx, r, r.Config.Images)
	return changed, err
}

func magnumImages(ctx context.Context, r *Runner) (bool, error) {
	_, changed, err := uploads(ctx, r, r.Config.Magnum.Images)
	return changed, err
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
func unlimited(ctx context.Context, r *Runner, projectID string) (bool, error) {
	compute, err := r.Clients.Compute(ctx)
	if err != nil {
		return false, err
	}
	volume, err := r.Clients.Volume(ctx)
	if err != nil {
		return false, err
	}
	network, err := r.Clients.Network(ctx)
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

// octaviaSetup makes what octavia's values name: the management network,
// the amphora and health-manager security groups, a health-manager port
// per controller, the amphora flavor, image and keypair; it lifts the
// admin project's quotas, makes the load-balancer roles implied by member
// and reader, and records the IDs as facts.
func octaviaSetup(ctx context.Context, r *Runner) (bool, error) {
	cfg := r.Config.Octavia
	id, err := r.Clients.Identity(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	if err := t.add(impliedRoles("", [2]string{"member", "load-balancer_member"}, [2]string{"reader", "load-balancer_observer"})(ctx, r)); err != nil {
		return t.changed, err
	}
	service, err := serviceProject(ctx, id)
	if err != nil {
		return t.changed, err
	}
	adminDomain, _, err := id.EnsureDomain(ctx, "Default")
	if err != nil {
		return t.changed, err
	}
	admin, _, err := id.EnsureProject(ctx, r.Config.AdminProject, adminDomain.ID)
	if err != nil {
		return t.changed, err
	}
	if err := t.add(unlimited(ctx, r, admin.ID)); err != nil {
		return t.changed, err
	}
	network, err := r.Clients.Network(ctx)
	if err != nil {
		return t.changed, err
	}
	spec := cfg.ManagementNetwork
	spec.ProjectID = service
	net, changed, err := network.EnsureNetwork(ctx, spec)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	amphoraSG, changed, err := network.EnsureSecurityGroup(ctx, "lb-mgmt-sec-grp", service, "octavia amphorae", provision.LBManagementRules)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	healthSG, changed, err := network.EnsureSecurityGroup(ctx, "lb-health-mgr-sec-grp", service, "octavia health managers", provision.LBHealthManagerRules)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	var controllers []string
	for _, host := range cfg.Controllers {
		port, changed, err := network.EnsurePort(ctx, provision.Port{Name: "octavia-health-manager-port-" + host, NetworkID: net.ID,
			ProjectID: service, HostID: host, DeviceOwner: "Octavia:health-mgr", DeviceID: host, SecurityGroups: []string{healthSG.ID}})
		if err := t.add(changed, err); err != nil {
			return t.changed, err
		}
		r.Facts.Set("octavia", "health_manager_port_"+host, port.ID)
		for _, ip := range port.FixedIPs {
			controllers = append(controllers, ip.IPAddress+":5555")
		}
	}
	sort.Strings(controllers)
	compute, err := r.Clients.Compute(ctx)
	if err != nil {
		return t.changed, err
	}
	flavor, changed, err := compute.EnsureFlavor(ctx, cfg.Flavor)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	imgs, changed, err := uploads(ctx, r, []provision.Image{cfg.Image})
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	publicKey := cfg.PublicKey
	if publicKey == "" && cfg.PublicKeyFrom != nil {
		if publicKey, err = cfg.PublicKeyFrom(ctx); err != nil {
			return t.changed, fmt.Errorf("the amphorae's SSH key: %w", err)
		}
	}
	if publicKey != "" {
		_, changed, err := compute.EnsureKeypair(ctx, provision.Keypair{Name: cfg.KeypairName, PublicKey: publicKey})
		if err := t.add(changed, err); err != nil {
			return t.changed, err
		}
	}
	for k, v := range map[string]string{
		"amp_boot_network_list":   net.ID,
		"amp_secgroup_list":       amphoraSG.ID,
		"amp_flavor_id":           flavor.ID,
		"amp_image_owner_id":      imgs[cfg.Image.Name].Owner,
		"amp_ssh_key_name":        cfg.KeypairName,
		"controller_ip_port_list": strings.Join(controllers, ","),
	} {
		r.Facts.Set("octavia", k, v)
	}
	return t.changed, nil
}

// manilaSetup makes manila's share-server flavor, security group and
// image, and lifts the service project's quotas its share servers run
// under.
func manilaSetup(ctx context.Context, r *Runner) (bool, error) {
	id, err := r.Clients.Identity(ctx)
	if err != nil {
		return false, err
	}
	service, err := serviceProject(ctx, id)
	if err != nil {
		return false, err
	}
	var t tally
	if err := t.add(unlimited(ctx, r, service)); err != nil {
		return t.changed, err
	}
	compute, err := r.Clients.Compute(ctx)
	if err != nil {
		return t.changed, err
	}
	flavor, changed, err := compute.EnsureFlavor(ctx, r.Config.Manila.Flavor)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	r.Facts.Set("manila", "service_instance_flavor_id", flavor.ID)
	network, err := r.Clients.Network(ctx)
	if err != nil {
		return t.changed, err
	}
	sg, changed, err := network.EnsureSecurityGroup(ctx, "manila-service", service, "manila share servers", provision.ManilaServiceRules)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	r.Facts.Set("manila", "service_instance_security_group", sg.Name)
	_, changed, err = uploads(ctx, r, []provision.Image{r.Config.Manila.Image})
	return t.changed || changed, err
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
