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
			if !slices.Contains([]Kind{Ansible, AnsibleFacts, Helm, Manifest, OpenStack, Keycloak, Database, Queue}, p.Kind) {
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
// release's, with "_" for "-", and by the prefix of its role's release
// variables (roleVarPrefix: cluster_issuer_acme_godaddy for godaddy's
// webhook, as the role names its values).
func (r *Registry) ValuesPrefixes() map[string]string {
	byVar := map[string]string{}
	for _, c := range r.components {
		if c.Chart == nil {
			continue
		}
		byVar[strings.ReplaceAll(c.Name, "-", "_")] = c.Name
		byVar[strings.ReplaceAll(c.Release, "-", "_")] = c.Name
		if prefix := c.roleVarPrefix(); prefix != "" {
			byVar[prefix] = c.Name
		}
	}
	return byVar
}

// Default returns the registry of the 58 components atmosphere deploys.
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
	// keystoneAPI is what an OpenStack service's chart needs of keystone:
	// its API (keystone:install), not its set-up (keystone's own catalog
	// entry with atmosphere's URLs and the federation of its domains),
	// which no chart and no catalog phase reads (#25).
	keystoneAPI = "keystone:install"
	kubeAPI     = []string{ResourceKubeAPI}
	hostLock    = []string{ResourceApt, ResourceContainerd}
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

// withDatabases puts first the phase that makes the component's databases
// in the cloud's MySQL, dbs, each owned by user with the password its
// chart's oslo_db endpoints carry (the secret
// openstack_helm_endpoints_<user>_mariadb_password):
// its chart's db-init Job's work, done natively, which is why
// ReleaseValues turns that Job off. It needs only the Percona XtraDB
// cluster, so it is done long before the chart is installed.
func withDatabases(c *Component, user string, dbs ...string) *Component {
	c = before(c, Phase{Name: "database", Kind: Database, Needs: needs("percona-xtradb-cluster"), Estimate: s(2)})
	c.databases = func(s Settings) ([]DatabaseGrant, error) {
		r := &Render{Settings: s}
		password := (&endpointRender{Render: r}).secret(user + "_mariadb_password") // as e.db renders it
		if r.err != nil {
			return nil, r.err
		}
		out := make([]DatabaseGrant, 0, len(dbs))
		for _, db := range dbs {
			out = append(out, DatabaseGrant{Database: db, User: user, Password: password})
		}
		return out, nil
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

// chart is the chart of that name at the version atmosphere pins in its
// catalogue (charts/catalog.yaml, the one place a chart's version is
// written). A chart the catalogue does not have gets no version, and
// TestChartVersionsMatchTheSharedCharts fails.
func chart(name string) charts.Ref {
	ref, _ := charts.Default().Pinned(name)
	return ref
}

// pinned is chart, for a declaration that takes a pointer.
func pinned(name string) *charts.Ref {
	ref := chart(name)
	return &ref
}

// The namespaces most components deploy to.
const (
	openstack  = "openstack"
	monitoring = "monitoring"
)

// setup is the phase that makes a service's OpenStack objects.
func setup(seconds int, needs ...string) Phase {
	return Phase{Name: "setup", Kind: OpenStack, Needs: needs, Estimate: s(seconds)}
}

// defaultComponents are the components atmosphere deploys, in declaration
// order (each is declared, with what it renders, in its own file: hosts.go
// for the host components).
func defaultComponents() []*Component {
	return []*Component{
		// Hosts and the cluster itself: Ansible.
		ceph(),
		kubernetesCluster(),
		lpfc(),
		multipathd(),
		iscsi(),
		udev(),
		imageWarmup(),
		openstackCli(),

		// Infrastructure.
		csi(),
		localPathProvisioner(),
		hpeCSIDriver(),
		storpoolCSI(),
		ibmBlockCSIOperator(),
		ibmBlockCSIDriver(),
		portworx(),
		certManager(),
		certManagerWebhookGoDaddy(),
		certManagerWebhookInfoblox(),
		clusterIssuer(),
		ingressNginx(),
		rabbitmqClusterOperator(),
		perconaXtradbClusterOperator(),
		perconaXtradbCluster(),
		valkey(),
		keycloak(),
		keepalived(),

		// Monitoring. kube-prometheus-stack's keycloak realm and clients come
		// first: the chart's values carry the client secret.
		nodeFeatureDiscovery(),
		kubePrometheusStack(),
		loki(),
		vector(),
		goldpinger(),
		ipmiExporter(),
		smartctlExporter(),
		prometheusPushgateway(),

		// OpenStack control plane.
		memcached(),
		keystone(),
		barbican(),
		rookCeph(),
		rookCephCluster(),
		cephProvisioners(),
		glance(),
		glanceImages(),
		cinder(),
		staffeln(),
		placement(),

		// Networking and compute.
		openvswitch(),
		ovn(),
		frrK8s(),
		libvirt(),
		coredns(),
		nova(),
		neutron(),
		heat(),
		octavia(),
		magnum(),
		manila(),
		horizon(),
		openstackExporter(),
	}
}
