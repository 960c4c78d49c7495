package components

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/charts"
)

// Registry holds component declarations by name.
type Registry struct {
	components []*Component
	byName     map[string]*Component
}

// NewRegistry builds a registry and checks it: unique component and phase
// names, known kinds, and needs that name a known component or phase. Every
// problem is reported at once.
func NewRegistry(components ...*Component) (*Registry, error) {
	r := &Registry{byName: map[string]*Component{}}
	var problems []string
	for _, c := range components {
		if c.Name == "" || strings.Contains(c.Name, ":") {
			problems = append(problems, fmt.Sprintf("component %q: name must be non-empty and free of ':'", c.Name))
			continue
		}
		if _, dup := r.byName[c.Name]; dup {
			problems = append(problems, fmt.Sprintf("component %s: declared twice", c.Name))
			continue
		}
		if len(c.Phases) == 0 {
			problems = append(problems, fmt.Sprintf("component %s: no phases", c.Name))
		}
		seen := map[string]bool{}
		for _, p := range c.Phases {
			if p.Name == "" || seen[p.Name] {
				problems = append(problems, fmt.Sprintf("component %s: phase %q empty or declared twice", c.Name, p.Name))
			}
			seen[p.Name] = true
			if !slices.Contains([]Kind{Ansible, Helm, Manifest, OpenStack, Keycloak, Database}, p.Kind) {
				problems = append(problems, fmt.Sprintf("component %s: phase %s: unknown kind %q", c.Name, p.Name, p.Kind))
			}
		}
		r.components = append(r.components, c)
		r.byName[c.Name] = c
	}
	for _, c := range r.components {
		for _, p := range c.Phases {
			for _, need := range p.Needs {
				if err := r.checkNeed(need); err != nil {
					problems = append(problems, fmt.Sprintf("component %s: phase %s: %v", c.Name, p.Name, err))
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid registry:\n  %s", strings.Join(problems, "\n  "))
	}
	return r, nil
}

func (r *Registry) checkNeed(need string) error {
	name, phase, hasPhase := strings.Cut(need, ":")
	c, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("needs unknown component %q", name)
	}
	if hasPhase {
		if _, ok := c.Phase(phase); !ok {
			return fmt.Errorf("needs unknown phase %q of %s", phase, name)
		}
	}
	return nil
}

// Get returns the named component.
func (r *Registry) Get(name string) (*Component, bool) {
	c, ok := r.byName[name]
	return c, ok
}

// Components returns every component in declaration order.
func (r *Registry) Components() []*Component { return slices.Clone(r.components) }

// Names returns every component name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.components))
	for _, c := range r.components {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// ValuesPrefixes maps each <prefix> of an inventory's <prefix>_helm_values
// to the component it names: a component with a chart, by its name or its
// release's, with "_" for "-".
func (r *Registry) ValuesPrefixes() map[string]string {
	byVar := map[string]string{}
	for _, c := range r.components {
		if c.Chart == nil {
			continue
		}
		byVar[strings.ReplaceAll(c.Name, "-", "_")] = c.Name
		byVar[strings.ReplaceAll(c.Release, "-", "_")] = c.Name
	}
	return byVar
}

// Keycloak work talks to keycloak's admin API (realms, clients).
const Keycloak Kind = "keycloak"

// Default returns the registry of the 49 components atmosphere deploys.
// Estimates are the durations measured by the parallel orchestrator
// (../shared/data/seed-aio-ovn-durations.csv); where a component is split
// into phases, the split of that measure between them is an estimate.
func Default() *Registry {
	r, err := NewRegistry(defaultComponents()...)
	if err != nil {
		panic(err) // the built-in declarations are checked by tests
	}
	return r
}

// Shorthands for the declarations below.
var (
	// rabbitmq is needed by the components that make a RabbitMQ cluster of
	// their own before their chart (its kind is the operator's).
	rabbitmq = "rabbitmq-cluster-operator"
	kubeAPI  = []string{ResourceKubeAPI}
	hostLock = []string{ResourceApt, ResourceContainerd}
)

func s(seconds int) time.Duration { return time.Duration(seconds) * time.Second }

func needs(n ...string) []string { return n }

// one declares a single-phase component.
func one(name string, kind Kind, phase string, seconds int, needs []string, resources []string) *Component {
	return &Component{
		Name:    name,
		Kinds:   []Kind{kind},
		Timeout: 5 * time.Minute,
		Phases:  []Phase{{Name: phase, Kind: kind, Needs: needs, Resources: resources, Estimate: s(seconds)}},
	}
}

// ansible declares a host component run by ansible-playbook.
func ansible(name string, seconds int, needs []string, resources []string) *Component {
	c := one(name, Ansible, "install", seconds, needs, resources)
	c.Timeout = time.Hour
	return c
}

// release declares a single-phase Helm component.
func release(name, release, namespace string, chart charts.Ref, seconds int, needs []string, resources []string) *Component {
	c := one(name, Helm, "install", seconds, needs, resources)
	c.Release, c.Namespace, c.Chart = release, namespace, &chart
	return c
}

// manifests declares a single-phase manifest component.
func manifests(name, namespace string, seconds int, needs []string, resources []string) *Component {
	c := one(name, Manifest, "install", seconds, needs, resources)
	c.Namespace = namespace
	return c
}

// withKinds adds kinds of work done inside the component's phases.
func withKinds(c *Component, kinds ...Kind) *Component {
	c.Kinds = append(c.Kinds, kinds...)
	return c
}

// then appends a phase.
func then(c *Component, p Phase) *Component {
	c.Phases = append(c.Phases, p)
	if !slices.Contains(c.Kinds, p.Kind) {
		c.Kinds = append(c.Kinds, p.Kind)
	}
	return c
}

// before puts a phase first, taking its estimate from the install phase
// (the measure the estimates come from covered the whole component).
func before(c *Component, p Phase) *Component {
	for i := range c.Phases {
		if c.Phases[i].Name == "install" {
			c.Phases[i].Estimate -= p.Estimate
		}
	}
	c.Phases = append([]Phase{p}, c.Phases...)
	if !slices.Contains(c.Kinds, p.Kind) {
		c.Kinds = append(c.Kinds, p.Kind)
	}
	return c
}

// withCatalog puts first the phase that makes a service's keystone
// catalog entry and users, which its pods authenticate as. It needs only
// keystone's API, not keystone's federation set-up.
func withCatalog(c *Component) *Component {
	return before(c, Phase{Name: "catalog", Kind: OpenStack, Needs: needs("keystone:install"), Estimate: s(3)})
}

// split moves seconds of the first phase's estimate to a second phase.
func split(c *Component, p Phase) *Component {
	c.Phases[0].Estimate -= p.Estimate
	return then(c, p)
}

func enabledWhen(c *Component, f func(Config) bool) *Component {
	c.Enabled = f
	return c
}

func timeout(c *Component, d time.Duration) *Component {
	c.Timeout = d
	return c
}

func chart(name, version string) charts.Ref { return charts.Ref{Name: name, Version: version} }

func defaultComponents() []*Component {
	const (
		openstack  = "openstack"
		monitoring = "monitoring"
	)
	setup := func(seconds int, needs ...string) Phase {
		return Phase{Name: "setup", Kind: OpenStack, Needs: needs, Estimate: s(seconds)}
	}
	return []*Component{
		// Hosts and the cluster itself: Ansible.
		ansible("ceph", 362, nil, hostLock),
		ansible("kubernetes", 506, nil, hostLock),
		ansible("lpfc", 3, nil, nil),
		ansible("multipathd", 24, nil, []string{ResourceApt}),
		ansible("iscsi", 511, nil, []string{ResourceApt}),
		ansible("udev", 4, nil, nil),
		ansible("image-warmup", 60, needs("kubernetes"), nil),
		ansible("openstack-cli", 16, needs("keystone"), nil),

		// Infrastructure.
		release("csi", "ceph-csi-rbd", "kube-system", chart("ceph-csi-rbd", "3.11.0"), 7, needs("ceph", "kubernetes"), nil),
		release("cert-manager", "cert-manager", "cert-manager",
			chart("cert-manager", "v1.15.5"),
			31, needs("kubernetes"), nil),
		manifests("cluster-issuer", "cert-manager", 11, needs("cert-manager"), nil),
		release("ingress-nginx", "ingress-nginx", "ingress-nginx", chart("ingress-nginx", "4.12.1"), 30, needs("kubernetes"), kubeAPI),
		release("rabbitmq-cluster-operator", "rabbitmq-cluster-operator", openstack, chart("rabbitmq-cluster-operator", "4.4.34"), 11, needs("cert-manager"), kubeAPI),
		release("percona-xtradb-cluster-operator", "pxc-operator", openstack, chart("pxc-operator", "1.18.0"), 10, needs("cert-manager"), kubeAPI),
		timeout(manifests("percona-xtradb-cluster", openstack, 91, needs("percona-xtradb-cluster-operator", "csi"), kubeAPI), 10*time.Minute),
		withKinds(release("valkey", "valkey", openstack, chart("valkey", "2.4.6"), 8, needs("csi", "cluster-issuer"), kubeAPI), Manifest),
		// keycloak's database and user, made in Percona XtraDB Cluster
		// before its chart, with strict mode loosened for its migrations
		// and put back after.
		timeout(then(&Component{
			Name: "keycloak", Kinds: []Kind{Database, Helm}, Release: "keycloak", Namespace: "auth-system",
			Chart: &charts.Ref{Name: "keycloak", Version: "21.4.1"},
			Phases: []Phase{
				{Name: "database", Kind: Database, Needs: needs("percona-xtradb-cluster"), Estimate: s(2)},
				{Name: "install", Kind: Helm, Needs: needs("ingress-nginx"), Resources: kubeAPI, Estimate: s(169)},
			},
		}, Phase{Name: "strict-mode", Kind: Database, Estimate: s(1)}), 10*time.Minute),
		enabledWhen(manifests("keepalived", openstack, 4, needs("kubernetes"), nil), func(c Config) bool { return c.Keepalived }),

		// Monitoring. kube-prometheus-stack's keycloak realm and clients come
		// first: the chart's values carry the client secret.
		release("node-feature-discovery", "node-feature-discovery", monitoring, chart("node-feature-discovery", "0.15.4"), 6, needs("kubernetes"), kubeAPI),
		withKinds(&Component{
			Name: "kube-prometheus-stack", Kinds: []Kind{Keycloak, Helm, Manifest},
			Release: "kube-prometheus-stack", Namespace: monitoring,
			Chart: &charts.Ref{Name: "kube-prometheus-stack", Version: "60.2.0"}, Timeout: 5 * time.Minute,
			Phases: []Phase{
				{Name: "sso", Kind: Keycloak, Needs: needs("keycloak"), Resources: []string{ResourceKeycloakAdmin}, Estimate: s(9)},
				{Name: "install", Kind: Helm, Needs: needs("csi", "cluster-issuer"), Resources: kubeAPI, Estimate: s(120)},
			},
		}),
		release("loki", "loki", monitoring, chart("loki", "6.6.3"), 9, needs("csi"), kubeAPI),
		release("vector", "vector", monitoring, chart("vector", "0.33.0"), 6, needs("loki"), kubeAPI),
		release("goldpinger", "goldpinger", monitoring, chart("goldpinger", "1.0.0"), 6, needs("kubernetes"), kubeAPI),
		manifests("ipmi-exporter", monitoring, 5, needs("kube-prometheus-stack"), kubeAPI),
		release("prometheus-pushgateway", "prometheus-pushgateway", monitoring, chart("prometheus-pushgateway", "2.13.0"), 6, needs("kube-prometheus-stack"), kubeAPI),

		// OpenStack control plane.
		withKinds(release("memcached", "memcached", openstack, chart("memcached", "0.1.12"), 7, needs("kubernetes"), kubeAPI), Manifest),
		withKinds(split(release("keystone", "keystone", openstack, chart("keystone", "0.3.17"), 229,
			needs("ingress-nginx", "rabbitmq-cluster-operator", "percona-xtradb-cluster", "memcached"), kubeAPI),
			Phase{Name: "setup", Kind: OpenStack, Needs: needs("keycloak"), Resources: []string{ResourceKeycloakAdmin}, Estimate: s(29)}), Manifest),
		withCatalog(split(release("barbican", "barbican", openstack, chart("barbican", "0.3.10"), 183, needs("keystone", rabbitmq), kubeAPI), setup(8))),
		release("rook-ceph", "rook-ceph", "rook-ceph", chart("rook-ceph", "v1.15.9"), 7, needs("kubernetes"), kubeAPI),
		withKinds(split(release("rook-ceph-cluster", "ceph", openstack, chart("rook-ceph-cluster", "v1.15.9"), 57,
			needs("rook-ceph", "ceph", "keystone"), kubeAPI), setup(7)), Manifest),
		withKinds(release("ceph-provisioners", "ceph-provisioners", openstack, chart("ceph-provisioners", "0.1.8"), 24, needs("ceph", "kubernetes"), kubeAPI), Manifest),
		withCatalog(release("glance", "glance", openstack, chart("glance", "0.4.15"), 316, needs("keystone", rabbitmq), kubeAPI)),
		timeout(one("glance-images", OpenStack, "setup", 60, needs("glance"), nil), 30*time.Minute),
		withCatalog(release("cinder", "cinder", openstack, chart("cinder", "0.3.23"), 328, needs("keystone", "ceph-provisioners", rabbitmq), kubeAPI)),
		enabledWhen(release("staffeln", "staffeln", openstack, chart("staffeln", "0.1.0"), 30, needs("cinder"), nil),
			func(c Config) bool { return c.Staffeln }),
		withCatalog(release("placement", "placement", openstack, chart("placement", "0.3.9"), 120, needs("keystone"), kubeAPI)),

		// Networking and compute.
		then(
			&Component{Name: "openvswitch", Kinds: []Kind{Ansible}, Release: "openvswitch", Namespace: openstack,
				Chart: &charts.Ref{Name: "openvswitch", Version: "1.2.0"}, Timeout: 5 * time.Minute,
				Phases: []Phase{{Name: "host-check", Kind: Ansible, Needs: needs("kubernetes"), Estimate: s(2)}}},
			Phase{Name: "install", Kind: Helm, Estimate: s(11)}),
		enabledWhen(release("ovn", "ovn", openstack, chart("ovn", "1.1.0"), 12, needs("openvswitch", "csi"), nil),
			func(c Config) bool { return c.NetworkBackend == BackendOVN }),
		enabledWhen(release("frr-k8s", "frr-k8s", "frr-k8s-system", chart("frr-k8s", "0.0.17"), 0, needs("kubernetes"), nil),
			func(c Config) bool { return c.BGPAgent }),
		withKinds(release("libvirt", "libvirt", openstack, chart("libvirt", "1.1.0"), 12, needs("cluster-issuer"), nil), Manifest),
		enabledWhen(release("coredns", "neutron-coredns", openstack, chart("coredns", "1.31.0"), 3, needs("kubernetes"), nil),
			func(c Config) bool { return c.NetworkBackend != BackendOVN }),
		withCatalog(split(release("nova", "nova", openstack, chart("nova", "0.3.46"), 231, needs("placement", "glance", "libvirt", rabbitmq), kubeAPI), setup(11))),
		withCatalog(split(release("neutron", "neutron", openstack, chart("neutron", "0.3.47"), 200, needs("keystone", "ovn", "coredns", rabbitmq), kubeAPI),
			setup(20, "nova"))),
		withCatalog(release("heat", "heat", openstack, chart("heat", "0.3.7"), 258, needs("keystone", rabbitmq), kubeAPI)),
		// Octavia's and manila's values carry the IDs of what their set-up
		// makes (network, security groups, ports, flavor, image), so their
		// set-up comes before the chart, and starts as soon as nova,
		// neutron and glance (or cinder) are set up.
		withCatalog(before(withKinds(release("octavia", "octavia", openstack, chart("octavia", "0.2.9"), 289, needs("keystone", "valkey", rabbitmq), kubeAPI), Manifest),
			setup(89, "nova", "neutron", "glance"))),
		withCatalog(withKinds(split(release("magnum", "magnum", openstack, chart("magnum", "0.2.9"), 290, needs("keystone", rabbitmq), kubeAPI),
			setup(90, "glance")), Manifest)),
		withCatalog(before(withKinds(release("manila", "manila", openstack, chart("manila", "0.1.7"), 258, needs("keystone", rabbitmq), kubeAPI), Manifest),
			setup(58, "nova", "neutron", "cinder"))),
		release("horizon", "horizon", openstack, chart("horizon", "0.3.16"), 44, needs("keystone"), kubeAPI),
		manifests("openstack-exporter", openstack, 16, needs("cinder", "neutron"), nil),
	}
}
