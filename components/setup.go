package components

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
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

// glanceDiskFormats and glanceContainerFormats are the formats glance
// takes for an image (its disk_formats and container_formats options
// allow no others).
var (
	glanceDiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	glanceContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
)

// imageFormatKnobs declares a role's knobs of the formats of an image its
// set-up uploads, <prefix>_container_format (bare by default) and
// <prefix>_disk_format (disk by default): a format glance does not take
// is refused before the run.
func (s *knobSet) imageFormats(prefix, disk string) (container, diskFormat knob[string]) {
	return s.choice(prefix+"_container_format", "bare", glanceContainerFormats, nil, nil),
		s.choice(prefix+"_disk_format", disk, glanceDiskFormats, nil, nil)
}

// flavorKnobs are a role's knobs of a flavor its set-up makes:
// <prefix>_{name,vcpus,ram,disk,extra_specs}.
type flavorKnobs struct {
	name             knob[string]
	vcpus, ram, disk knob[int]
	extraSpecs       knob[map[string]any]
}

// flavor declares the knobs of a flavor whose defaults are def's (the
// role's), with their check: a flavor nova would refuse (no name, no
// vCPU, no RAM, a negative disk, an extra spec that is not a string, a
// number or a boolean) is refused before the run.
func (s *knobSet) flavor(prefix string, def provision.Flavor) flavorKnobs {
	f := flavorKnobs{
		name:       s.str(prefix+"_name", def.Name),
		vcpus:      s.integer(prefix+"_vcpus", def.VCPUs),
		ram:        s.integer(prefix+"_ram", def.RAM),
		disk:       s.integer(prefix+"_disk", def.Disk),
		extraSpecs: s.mapping(prefix+"_extra_specs", map[string]any{}),
	}
	s.check(f.check)
	return f
}

// in is the flavor the inventory's variables vars ask for: private, as
// the roles make it, with exactly the extra specs given (none by
// default), each a string as Ansible's compute_flavor module sends it.
func (f flavorKnobs) in(vars map[string]any) provision.Flavor {
	specs := map[string]string{}
	for k, v := range f.extraSpecs.in(vars) {
		specs[k], _ = extraSpecValue(v)
	}
	return provision.Flavor{Name: f.name.in(vars), VCPUs: f.vcpus.in(vars), RAM: f.ram.in(vars), Disk: f.disk.in(vars),
		ExtraSpecs: specs}
}

// check is the flavor's problems in vars, one per knob at most.
func (f flavorKnobs) check(vars map[string]any) []KnobProblem {
	var out []KnobProblem
	problem := func(k knobDecl, format string, args ...any) {
		out = append(out, KnobProblem{Key: k.key(), Message: fmt.Sprintf(format, args...)})
	}
	if _, set := vars[f.name.name]; set && f.name.in(vars) == "" {
		problem(f.name, "want a flavor name, got the empty string")
	}
	for _, k := range []knob[int]{f.vcpus, f.ram} {
		if _, set := vars[k.name]; set && k.in(vars) < 1 {
			problem(k, "want a whole number of at least 1, got %d", k.in(vars))
		}
	}
	if _, set := vars[f.disk.name]; set && f.disk.in(vars) < 0 {
		problem(f.disk, "want a whole number of at least 0 (GiB; 0 boots from the image's size), got %d", f.disk.in(vars))
	}
	specs := f.extraSpecs.in(vars)
	for _, k := range slices.Sorted(maps.Keys(specs)) {
		if _, ok := extraSpecValue(specs[k]); !ok {
			problem(f.extraSpecs, "%s: want a string, a number or a boolean, got %s", k, describe(f.extraSpecs.name, specs[k]))
			break
		}
	}
	return out
}

// extraSpecValue is a flavor extra spec's value as Ansible's
// compute_flavor module sends it (Python's str of the value: True,
// False, 4, 0.5); false for a value that is not a scalar.
func extraSpecValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	case int:
		return strconv.Itoa(v), true
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10), true
		}
		return strconv.FormatFloat(v, 'g', -1, 64), true
	}
	return "", false
}

// checkCIDR is a set's check that the string knob k, when the inventory
// sets it, is an IPv4 or IPv6 network in CIDR notation.
func checkCIDR(k knob[string]) func(vars map[string]any) []KnobProblem {
	return func(vars map[string]any) []KnobProblem {
		if _, set := vars[k.name]; !set {
			return nil
		}
		if _, _, err := net.ParseCIDR(k.in(vars)); err != nil {
			return []KnobProblem{{Key: k.name, Message: fmt.Sprintf("want a network in CIDR notation (172.24.0.0/22), got %q", k.in(vars))}}
		}
		return nil
	}
}
