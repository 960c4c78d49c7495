package components

import (
	"context"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The knobs manila reads (roles/manila/defaults/main.yml).
var (
	manilaKnobs           = knobsOf("manila")
	manilaHelmReleaseName = manilaKnobs.str("manila_helm_release_name", "manila")
	manilaImageName       = manilaKnobs.str("manila_image_name", "manila-service-image")
	manilaImageURL        = manilaKnobs.str("manila_image_url",
		"https://github.com/vexxhost/manila-service-images/releases/download/2026.05-3/manila-service-image.qcow2")
	manilaImageContainerFormat, manilaImageDiskFormat = manilaKnobs.imageFormats("manila_image", "qcow2")
	// The share servers' flavor (manila_flavor_*).
	manilaFlavor = manilaKnobs.flavor("manila_flavor", provision.FlavorManila)
)

// manila declares manila, with what it renders. As octavia's, its set-up
// comes before its chart (its values carry the IDs of what the set-up
// makes) and starts as soon as nova, neutron and cinder are set up.
func manila() *Component {
	// The set-up calls the APIs of nova (flavor, quotas), neutron
	// (security group, quotas), cinder (quotas) and glance (the service
	// image): it needs their releases, not nova's or neutron's set-up
	// (#25, docs/edges.md).
	c := withCatalog(before(withKinds(release("manila", "manila", openstack, chart("manila"), 258, needs(keystoneAPI, rabbitmq), kubeAPI), Manifest),
		setup(58, "nova:install", "neutron:install", "cinder", "glance")))
	c = withDatabases(c, "manila", "manila")
	c.roleTimeout = true // manila_helm_timeout
	c.services, c.endpoints = manilaServices, manilaEndpoints
	c.values = manilaValues
	c.objects = manilaObjects
	c.ingresses = []publicIngress{publicIngressOf("sharev2", "manila-api", 8786, nil, "manila")}
	c = withRabbitMQ(c, "manila")
	c.setup = manilaSetup
	return c
}

// manilaValues are manila's own values for its chart: its static values
// with the endpoints and images' tags, the SSH keys' Secret (manilaObjects),
// the service image, the service instances' flavor (from manila's set-up),
// the regions of nova and glance and the RabbitMQ policy.
func manilaValues(r *Render) values.Values {
	e := &endpointRender{Render: r}
	release := manilaHelmReleaseName.get(r)
	return merge(r.static("manila"), r.openstackHelmValues("manila"), values.Values{
		"pod": map[string]any{"mounts": map[string]any{"manila_share": map[string]any{"manila_share": map[string]any{
			"volumes": []any{map[string]any{"name": "ssh-keys", "secret": map[string]any{"secretName": release + "-ssh-keys"}}},
		}}}},
		"conf": map[string]any{
			"manila": map[string]any{
				"generic": map[string]any{
					"service_image_name":         manilaImageName.get(r),
					"service_instance_flavor_id": r.fact("manila", "service_instance_flavor_id", "_manila_flavor.flavor.id"),
				},
				"nova":   map[string]any{"region_name": e.region("nova")},
				"glance": map[string]any{"region_name": e.region("glance")},
			},
			"rabbitmq": map[string]any{"policies": rabbitPolicies("manila")},
		},
	})
}

// The SSH key manila's share service reaches its share servers with,
// mounted at /etc/manila/ssh-keys (id_rsa, id_rsa.pub), from
// manila_ssh_key.
func manilaObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	private := r.secret("manila_ssh_key")
	if private != "" && !strings.HasSuffix(private, "\n") {
		private += "\n"
	}
	public := r.sshPublicKey("_manila_ssh_publickey", private)
	release := manilaHelmReleaseName.get(r)
	if r.err != nil {
		return nil, r.err
	}
	return objectList(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": release + "-ssh-keys"},
		"stringData": map[string]any{"id_rsa": private, "id_rsa.pub": public + "\n"},
	}), nil
}

// manilaServices are manila's entry in the catalog and its service user.
var manilaServices = []provision.Service{{Type: "sharev2", Name: "manilav2", Description: "OpenStack Shared File Systems",
	Host: "manila-api", Port: 8786, Path: "/v2", Users: []provision.ServiceUser{serviceUser("manila", "manila", admin...)}}}

// manilaEndpoints are the chart endpoints manila owns.
var manilaEndpoints = map[string]endpointFragment{
	"sharev2": func(e *endpointRender) values.Values { return e.service("sharev2", "manila", nil, true, false) },
}

// manilaSetupConfig is manila's set-up: the share servers' flavor and
// image.
type manilaSetupConfig struct {
	Flavor provision.Flavor
	Image  provision.Image
}

// manilaSetupOf is manila's set-up in s: the role's knobs (manila_flavor_*,
// manila_image_{name,url,container_format,disk_format}), each the role's
// default when the inventory leaves it out. Values of the wrong type are
// CheckKnobs' problems, refused before the run.
func manilaSetupOf(s Settings) manilaSetupConfig {
	return manilaSetupConfig{
		Flavor: manilaFlavor.in(s.Vars),
		Image: provision.Image{Name: manilaImageName.in(s.Vars), ContainerFormat: manilaImageContainerFormat.in(s.Vars),
			DiskFormat: manilaImageDiskFormat.in(s.Vars), Source: manilaImageURL.in(s.Vars)},
	}
}

// manilaSetup makes manila's share-server flavor, security group and
// image, and lifts the service project's quotas its share servers run
// under; the flavor's ID and the security group's name are its facts.
func manilaSetup(ctx context.Context, s *Setup) (bool, error) {
	cfg := manilaSetupOf(s.Settings)
	id, err := s.Clients.Identity(ctx)
	if err != nil {
		return false, err
	}
	service, err := serviceProject(ctx, id)
	if err != nil {
		return false, err
	}
	var t tally
	if err := t.add(unlimited(ctx, s, service)); err != nil {
		return t.changed, err
	}
	compute, err := s.Clients.Compute(ctx)
	if err != nil {
		return t.changed, err
	}
	flavor, changed, err := compute.EnsureFlavor(ctx, cfg.Flavor)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	s.Facts.Set("service_instance_flavor_id", flavor.ID)
	network, err := s.Clients.Network(ctx)
	if err != nil {
		return t.changed, err
	}
	sg, changed, err := network.EnsureSecurityGroup(ctx, "manila-service", service, "manila share servers", provision.ManilaServiceRules)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	s.Facts.Set("service_instance_security_group", sg.Name)
	_, changed, err = uploads(ctx, s, []provision.Image{cfg.Image})
	return t.changed || changed, err
}
