package components

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/sshkey"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The knobs octavia reads (roles/octavia/defaults/main.yml).
var (
	octaviaKnobs                        = knobsOf("octavia")
	octaviaJobboardDefaultSecretName    = octaviaKnobs.str("octavia_jobboard_default_secret_name", "valkey-server-certs")
	octaviaJobboardSentinelSecretName   = octaviaKnobs.str("octavia_jobboard_sentinel_secret_name", "valkey-server-certs")
	octaviaTLSClientCommonName          = octaviaKnobs.str("octavia_tls_client_common_name", "octavia-client")
	octaviaTLSClientPrivateKeyAlgorithm = octaviaKnobs.str("octavia_tls_client_private_key_algorithm", "ECDSA")
	octaviaTLSClientPrivateKeySize      = octaviaKnobs.integer("octavia_tls_client_private_key_size", 256)
	octaviaTLSServerCommonName          = octaviaKnobs.str("octavia_tls_server_common_name", "octavia-server")
	octaviaTLSServerPrivateKeyAlgorithm = octaviaKnobs.str("octavia_tls_server_private_key_algorithm", "ECDSA")
	octaviaTLSServerPrivateKeySize      = octaviaKnobs.integer("octavia_tls_server_private_key_size", 256)
	octaviaAmphoraImageURL              = octaviaKnobs.str("octavia_amphora_image_url",
		"https://tarballs.opendev.org/openstack/octavia/test-images/test-only-amphora-x64-haproxy-ubuntu-focal.qcow2")
	// The amphorae's image (octavia_amphora_image_*, with
	// octavia_amphora_image_url above).
	octaviaAmphoraImageName                                           = octaviaKnobs.str("octavia_amphora_image_name", "amphora-x64-haproxy")
	octaviaAmphoraImageContainerFormat, octaviaAmphoraImageDiskFormat = octaviaKnobs.imageFormats("octavia_amphora_image", "raw")
	octaviaAmphoraImageTags                                           = octaviaKnobs.stringList("octavia_amphora_image_tags", []string{"amphora"})
	// The amphorae's flavor (octavia_amphora_flavor_*).
	octaviaAmphoraFlavor = octaviaKnobs.flavor("octavia_amphora_flavor", provision.FlavorAmphora)
	// The amphorae's security group and the management network they and
	// the health managers meet on.
	octaviaAmphoraSecurityGroupName = octaviaKnobs.str("octavia_amphora_security_group_name", "lb-mgmt-sec-grp")
	octaviaManagementNetworkName    = octaviaKnobs.str("octavia_management_network_name", "lb-mgmt-net")
	octaviaManagementSubnetName     = octaviaKnobs.str("octavia_management_subnet_name", "lb-mgmt-subnet")
	octaviaManagementSubnetCIDR     = octaviaKnobs.str("octavia_management_subnet_cidr", "172.24.0.0/22")
	// The health managers' addresses the role registered, given by the
	// operator.
	octaviaControllerIPPortList = octaviaKnobs.list("_octavia_controller_ip_port_list")
)

func init() { octaviaKnobs.check(checkCIDR(octaviaManagementSubnetCIDR)) }

// octavia declares octavia, with what it renders. Octavia's and manila's
// values carry the IDs of what their set-up makes (network, security
// groups, ports, flavor, image), so their set-up comes before the chart,
// and starts as soon as nova, neutron and glance (or cinder) are set up.
func octavia() *Component {
	// The set-up calls the APIs of nova (flavor, keypair, quotas),
	// neutron (network, security groups, ports, quotas), glance (the
	// amphora image) and cinder (quotas: unlimited): it needs their
	// releases, not nova's or neutron's set-up, whose flavors and networks
	// it does not read (#25, docs/edges.md).
	c := withCatalog(before(withKinds(release("octavia", "octavia", openstack, chart("octavia"), 289, needs(keystoneAPI, "valkey", rabbitmq), kubeAPI), Manifest),
		setup(89, "nova:install", "neutron:install", "glance", "cinder")))
	c = withDatabases(c, "octavia", "octavia", "octavia_persistence")
	c.roleTimeout = true // octavia_helm_timeout
	c.services, c.endpoints = octaviaServices, octaviaEndpoints
	c.values = octaviaValues
	c.objects = octaviaObjects
	c.ingresses = []publicIngress{publicIngressOf("load_balancer", "octavia-api", 9876, nil, "octavia")}
	c = withRabbitMQ(c, "octavia")
	c.setup = octaviaSetup
	return c
}

// octaviaValues are octavia's own values for its chart: its static values
// with the endpoints, the images' tags, the pods' mounts, what the set-up
// made, the health managers and the RabbitMQ vhost's policies.
func octaviaValues(r *Render) values.Values {
	// The Secret of the amphorae's SSH key (the role looks it up on
	// the cluster; octavia-ssh-key, as the keypair, when not given).
	sshKeySecret := r.fact("octavia", "ssh_key_secret", "octavia_ssh_key_secret.resources.0.metadata.name")
	if sshKeySecret == "" {
		sshKeySecret = "octavia-ssh-key"
	}
	jobboardDefault := octaviaJobboardDefaultSecretName.get(r)
	jobboardSentinel := octaviaJobboardSentinelSecretName.get(r)
	type mount struct{ name, path, secret string }
	server := mount{"octavia-server-ca", "/etc/octavia/certs/server", "octavia-server-ca"}
	client := mount{"octavia-client-certs", "/etc/octavia/certs/client", "octavia-client-certs"}
	jbDefault := mount{"octavia-jobboard-default-ca", "/etc/octavia/certs/jobboard-default", jobboardDefault}
	jbSentinel := mount{"octavia-jobboard-sentinel-ca", "/etc/octavia/certs/jobboard-sentinel", jobboardSentinel}
	// Each service mounts the certificates; the worker also the
	// amphorae's SSH key. The lists' order is the role's.
	mounts := func(ms, vs []mount, sshKey bool) map[string]any {
		var vm, vol []any
		for _, m := range ms {
			vm = append(vm, map[string]any{"name": m.name, "mountPath": m.path})
		}
		for _, m := range vs {
			vol = append(vol, map[string]any{"name": m.name, "secret": map[string]any{"secretName": m.secret}})
		}
		if sshKey {
			vm = append(vm, map[string]any{"name": "octavia-amphora-ssh-key", "mountPath": "/var/lib/octavia/.ssh", "readOnly": true})
			vol = append(vol, map[string]any{"name": "octavia-amphora-ssh-key", "secret": map[string]any{
				"secretName": sshKeySecret, "defaultMode": 0o444}})
		}
		return map[string]any{"volumeMounts": vm, "volumes": vol}
	}
	helm := r.openstackHelmValues("octavia")
	usual := []mount{server, client, jbDefault, jbSentinel}
	worker := mounts([]mount{server, jbDefault, jbSentinel, client}, []mount{jbDefault, jbSentinel, server, client}, true)
	// What the set-up made (the role's registered results).
	controller := map[string]any{}
	for _, f := range [][2]string{
		{"amp_boot_network_list", "_octavia_management_network.id"},
		{"amp_flavor_id", "_octavia_amphora_flavor.flavor.id"},
		{"amp_image_owner_id", "_octavia_amphora_image.images.0.owner"},
		{"amp_secgroup_list", "_octavia_amphora_sg.security_group.id"},
		{"amp_ssh_key_name", "octavia_amphora_ssh_keypair.keypair.name"},
	} {
		controller[f[0]] = r.fact("octavia", f[0], f[1])
	}
	dynamic := values.Values{
		"pod": map[string]any{"mounts": map[string]any{
			"octavia_api":            map[string]any{"octavia_api": mounts(usual, usual, false)},
			"octavia_worker":         map[string]any{"octavia_worker": worker},
			"octavia_housekeeping":   map[string]any{"octavia_housekeeping": mounts(usual, usual, false)},
			"octavia_health_manager": map[string]any{"octavia_health_manager": mounts(usual, usual, false)},
		}},
		"conf": map[string]any{
			"octavia": map[string]any{
				"controller_worker": controller,
				"health_manager": map[string]any{
					"controller_ip_port_list": r.healthManagers(),
					"heartbeat_key":           r.secret("octavia_heartbeat_key"),
				},
			},
			"rabbitmq": map[string]any{"policies": rabbitPolicies("octavia")},
		},
	}
	return merge(r.static("octavia"), helm, dynamic)
}

// The amphorae's CAs and the controllers' client certificate, with the
// role's octavia_tls_{server,client}_{common_name,private_key_*} knobs.
func octaviaObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	clientName, clientAlgorithm, clientSize := octaviaTLSClientCommonName.get(r), octaviaTLSClientPrivateKeyAlgorithm.get(r), octaviaTLSClientPrivateKeySize.get(r)
	serverName, serverAlgorithm, serverSize := octaviaTLSServerCommonName.get(r), octaviaTLSServerPrivateKeyAlgorithm.get(r), octaviaTLSServerPrivateKeySize.get(r)
	sshKey, err := octaviaSSHKey(r)
	if err != nil || r.err != nil {
		return nil, errors.Join(err, r.err)
	}
	// The controllers' client certificate, with a combined PEM for
	// haproxy_amphora.client_cert.
	cert := object(map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": "octavia-client-certs"},
		"spec": map[string]any{
			"commonName":              clientName,
			"secretName":              "octavia-client-certs",
			"additionalOutputFormats": []any{map[string]any{"type": "CombinedPEM"}},
			"duration":                "87600h0m0s",
			"renewBefore":             "720h0m0s",
			"privateKey":              map[string]any{"algorithm": clientAlgorithm, "size": clientSize},
			"issuerRef":               map[string]any{"name": "octavia-client", "kind": "Issuer", "group": "cert-manager.io"},
		}})
	out := append(caIssuer("octavia-client", clientName, "octavia-client-ca", clientAlgorithm, clientSize),
		caIssuer("octavia-server", serverName, "octavia-server-ca", serverAlgorithm, serverSize)...)
	return append(append(out, cert), sshKey...), nil
}

// healthManagers are octavia's health managers' addresses, sorted and
// joined: the set-up's fact, else the inventory's
// _octavia_controller_ip_port_list.
func (r *Render) healthManagers() string {
	if r.Facts != nil {
		if v, ok := r.Facts("octavia")["controller_ip_port_list"]; ok {
			list := strings.Split(v, ",")
			slices.Sort(list)
			return strings.Join(list, ",")
		}
	}
	var list []string
	if xs := octaviaControllerIPPortList.get(r); xs != nil {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				list = append(list, s)
			}
		}
	}
	slices.Sort(list)
	return strings.Join(list, ",")
}

// octaviaSSHKey is the Secret of the amphorae's SSH key (octavia_ssh_key
// from the secrets store: the private key and its authorized_keys line,
// under the names secretgen-controller's SSHKey gives them), which
// octavia's worker mounts and whose public half the set-up makes the
// amphorae's keypair of; none when the inventory names a Secret of its
// own (octavia_ssh_key_secret). The role's generate_resources.yml, which
// makes it there, is not in ../shared.
func octaviaSSHKey(r *Render) ([]Object, error) {
	private, public, err := amphoraKey(r)
	if err != nil || private == "" {
		return nil, err
	}
	return objectList(map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "octavia-ssh-key"},
		"stringData": map[string]any{"ssh-privatekey": private, "ssh-authorizedkey": public + "\n"}}), nil
}

// amphoraKey is the amphorae's SSH key, octavia_ssh_key, and its public
// half; both empty when the inventory names a Secret of its own
// (octavia_ssh_key_secret).
func amphoraKey(r *Render) (private, public string, err error) {
	if name, _ := r.fact("octavia", "ssh_key_secret", "octavia_ssh_key_secret.resources.0.metadata.name").(string); name != "" {
		return "", "", nil
	}
	private = r.secret("octavia_ssh_key")
	if r.err != nil {
		return "", "", r.err
	}
	if public, err = sshkey.PublicKey(private); err != nil {
		return "", "", fmt.Errorf("octavia_ssh_key: %w", err)
	}
	return private, public, nil
}

// AmphoraPublicKey is the public half of the key octavia's objects put in
// the octavia-ssh-key Secret, which the set-up makes the amphorae's
// keypair of; empty when the inventory names a Secret of its own.
func AmphoraPublicKey(s Settings) (string, error) {
	_, public, err := amphoraKey(&Render{Settings: s})
	return public, err
}

// octaviaServices are octavia's entry in the catalog and its service user.
var octaviaServices = []provision.Service{{Type: "load-balancer", Name: "octavia", Description: "OpenStack Load Balancer",
	Host: "octavia-api", Port: 9876, Users: []provision.ServiceUser{serviceUser("octavia", "octavia", admin...)}}}

// octaviaEndpoints are the chart endpoints octavia owns: its API, with its
// jobboard's valkey and its persistence database, and that database.
var octaviaEndpoints = map[string]endpointFragment{
	"load_balancer": func(e *endpointRender) values.Values {
		return merge(e.service("load_balancer", "octavia", nil, true, true), m{
			"valkey":              m{"hosts": m{"default": "valkey"}},
			"oslo_db_persistence": m{"auth": m{"octavia": m{"password": e.secret("octavia_mariadb_password")}}},
		})
	},
	"oslo_db_persistence": func(e *endpointRender) values.Values { return e.extraDB("oslo_db_persistence", "octavia") },
}

// octaviaSetupConfig is octavia's set-up: the management network its
// amphorae and health managers meet on, the amphorae's security group, one
// health-manager port per controller, the amphora flavor, image and
// keypair, and the project its unlimited quotas go to.
type octaviaSetupConfig struct {
	ManagementNetwork provision.NetworkSpec
	// AmphoraSecurityGroup is the name of the amphorae's security group
	// (amp_secgroup_list).
	AmphoraSecurityGroup string
	// Controllers are the hosts running health managers.
	Controllers []string
	Flavor      provision.Flavor
	Image       provision.Image
	KeypairName string
	// AdminProject is the project (of the Default domain) whose quotas
	// are lifted.
	AdminProject string
}

// octaviaSetupOf is octavia's set-up in s: the role's knobs
// (octavia_management_{network_name,subnet_name,subnet_cidr},
// octavia_amphora_security_group_name, octavia_amphora_flavor_*,
// octavia_amphora_image_*), each the role's default when the inventory
// leaves it out, with the inventory's controllers. The management subnet
// has no gateway (the role's disable_gateway_ip). Values of the wrong type
// are CheckKnobs' problems, refused before the run.
func octaviaSetupOf(s Settings) octaviaSetupConfig {
	return octaviaSetupConfig{
		ManagementNetwork: provision.NetworkSpec{Name: octaviaManagementNetworkName.in(s.Vars),
			Subnets: []provision.SubnetSpec{{Name: octaviaManagementSubnetName.in(s.Vars),
				CIDR: octaviaManagementSubnetCIDR.in(s.Vars), NoGateway: true}}},
		AmphoraSecurityGroup: octaviaAmphoraSecurityGroupName.in(s.Vars),
		Controllers:          s.Setup.OctaviaControllers,
		Flavor:               octaviaAmphoraFlavor.in(s.Vars),
		Image: provision.Image{Name: octaviaAmphoraImageName.in(s.Vars),
			ContainerFormat: octaviaAmphoraImageContainerFormat.in(s.Vars), DiskFormat: octaviaAmphoraImageDiskFormat.in(s.Vars),
			Tags: octaviaAmphoraImageTags.in(s.Vars), Source: octaviaAmphoraImageURL.in(s.Vars)},
		KeypairName:  "octavia-ssh-key",
		AdminProject: "admin",
	}
}

// OctaviaManagement is what octavia's set-up names in s of the management
// network: the network, its subnet and the subnet's CIDR, and the
// amphorae's security group (for a client that checks a deployed cloud).
func OctaviaManagement(s Settings) (network, subnet, cidr, amphoraSecurityGroup string) {
	cfg := octaviaSetupOf(s)
	sub := cfg.ManagementNetwork.Subnets[0]
	return cfg.ManagementNetwork.Name, sub.Name, sub.CIDR, cfg.AmphoraSecurityGroup
}

// octaviaSetup makes what octavia's values name: the management network,
// the amphora and health-manager security groups, a health-manager port
// per controller, the amphora flavor, image and keypair (of the public
// half of octavia_ssh_key, read when the set-up runs; none when the
// inventory names a Secret of its own); it lifts the admin project's
// quotas, makes the load-balancer roles implied by member and reader, and
// records the IDs as facts.
func octaviaSetup(ctx context.Context, s *Setup) (bool, error) {
	cfg := octaviaSetupOf(s.Settings)
	id, err := s.Clients.Identity(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	if err := t.add(impliedRoles("", [2]string{"member", "load-balancer_member"}, [2]string{"reader", "load-balancer_observer"})(ctx, s)); err != nil {
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
	admin, _, err := id.EnsureProject(ctx, cfg.AdminProject, adminDomain.ID)
	if err != nil {
		return t.changed, err
	}
	if err := t.add(unlimited(ctx, s, admin.ID)); err != nil {
		return t.changed, err
	}
	network, err := s.Clients.Network(ctx)
	if err != nil {
		return t.changed, err
	}
	spec := cfg.ManagementNetwork
	spec.ProjectID = service
	net, changed, err := network.EnsureNetwork(ctx, spec)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	amphoraSG, changed, err := network.EnsureSecurityGroup(ctx, cfg.AmphoraSecurityGroup, service, "octavia amphorae", provision.LBManagementRules)
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
		s.Facts.Set("health_manager_port_"+host, port.ID)
		for _, ip := range port.FixedIPs {
			controllers = append(controllers, ip.IPAddress+":5555")
		}
	}
	sort.Strings(controllers)
	compute, err := s.Clients.Compute(ctx)
	if err != nil {
		return t.changed, err
	}
	flavor, changed, err := compute.EnsureFlavor(ctx, cfg.Flavor)
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	imgs, changed, err := uploads(ctx, s, []provision.Image{cfg.Image})
	if err := t.add(changed, err); err != nil {
		return t.changed, err
	}
	publicKey, err := AmphoraPublicKey(s.Settings)
	if err != nil {
		return t.changed, fmt.Errorf("the amphorae's SSH key: %w", err)
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
		s.Facts.Set(k, v)
	}
	return t.changed, nil
}
