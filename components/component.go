// Package components is the registry of what atmosphere deploys: one small
// declaration per component (its kind, Helm release, chart, phases with
// what each needs, the resources it holds and an estimated duration), and
// the lowering of those declarations into a dag.Graph of units of work.
//
// Each component's declaration sits in its own file (<component>.go; the
// host components in hosts.go) with what it renders from atmosphere's
// roles: the values it gives its chart, the objects it applies itself, its
// public Ingresses and RabbitMQ cluster, its keystone catalog entries and
// the chart endpoints it owns, what goes before a change of its release,
// the OpenStack set-up of its set-up phase. The rendering they share
// (Settings, Render, the endpoints, storage and Ingress helpers) is in
// render.go and its neighbours, the set-up's (Setup) in setup.go;
// Component.OwnValues, Component.Objects and Component.Setup put a
// component's pieces together.
//
// A unit is one phase of one component, keyed "component:phase". A need
// names a component (all its phases) or one phase of it ("nova:install").
// The phases of a component run in the order declared.
package components

import (
	"context"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// Kind says what does a phase's work.
type Kind string

// The kinds of work.
const (
	// Ansible work runs ansible-playbook against the inventory's hosts.
	Ansible Kind = "ansible"
	// Helm work installs or upgrades a Helm release in-process.
	Helm Kind = "helm"
	// Manifest work server-side applies Kubernetes objects.
	Manifest Kind = "manifest"
	// OpenStack work creates OpenStack objects through its APIs.
	OpenStack Kind = "openstack"
	// Database work makes databases and users in the cloud's MySQL.
	Database Kind = "database"
	// AnsibleFacts work runs a play that reads facts from the inventory's
	// hosts for the charts' values (Component.Facts), unless the
	// inventory gives them all.
	AnsibleFacts Kind = "ansible-facts"
	// Keycloak work makes realms, clients and their roles through
	// Keycloak's admin API (Component.Keycloak).
	Keycloak Kind = "keycloak"
	// Queue work makes a service's user, virtual host, permissions and
	// policies in its RabbitMQ cluster through the cluster's management API
	// (Component.QueueGrant).
	Queue Kind = "queue"
)

// Resource names a capped resource units hold while they run.
const (
	// ResourceApt is the package manager lock of the hosts.
	ResourceApt = "apt"
	// ResourceContainerd is the container runtime of the hosts, restarted
	// or reconfigured by host roles.
	ResourceContainerd = "containerd"
	// ResourceKubeAPI is the Kubernetes API server, shared by every Helm and
	// manifest unit. A Helm unit holds it while Helm applies its release and
	// gives it back when it only waits (dag.Reporter's Release).
	ResourceKubeAPI = "k8s-api"
	// ResourceKeycloakAdmin is keycloak's admin API, which does not take
	// concurrent realm changes well.
	ResourceKeycloakAdmin = "keycloak-admin"
)

// DefaultCaps are the resource caps a deploy uses unless told otherwise.
func DefaultCaps() map[string]int {
	return map[string]int{
		ResourceApt:           1,
		ResourceContainerd:    1,
		ResourceKubeAPI:       6,
		ResourceKeycloakAdmin: 1,
	}
}

// Phase is one step of a component, run as one unit of work.
type Phase struct {
	// Name is unique within the component ("install", "setup", ...).
	Name string
	// Kind says what does the work.
	Kind Kind
	// Needs lists components ("keystone") or phases ("nova:install") that
	// must be done first. A need on a component the configuration disables
	// is dropped.
	Needs []string
	// Resources are held while the phase runs.
	Resources []string
	// Estimate is the expected duration, used to rank ready units and for
	// the ETA until a measured duration replaces it.
	Estimate time.Duration
}

// Component is one thing atmosphere deploys.
type Component struct {
	// Name is the component's name, also its tag on the command line.
	Name string
	// Kinds lists every kind of work the component does.
	Kinds []Kind
	// Release and Namespace name its Helm release (or, for manifest
	// components, the namespace of its objects).
	Release   string
	Namespace string
	// Chart is the chart of a Helm component.
	Chart *charts.Ref
	// Phases run in order.
	Phases []Phase
	// Timeout bounds one attempt at a phase (PhaseTimeout: unless the
	// inventory sets the role's <prefix>_helm_timeout).
	Timeout time.Duration
	// roleVars is the prefix of the role's variables of the release
	// (<prefix>_helm_release_name, _namespace, _helm_timeout) when it is
	// not the component's name with underscores ("ceph_csi_rbd" for csi);
	// noRoleVars when the role declares none.
	roleVars string
	// roleTimeout says the role takes <prefix>_helm_timeout, which then
	// bounds the component's phases instead of Timeout (PhaseTimeout).
	roleTimeout bool
	// Enabled says whether a configuration deploys the component; nil means
	// always.
	Enabled func(Config) bool

	// What the component renders, from atmosphere's roles; OwnValues and
	// Objects put it together.

	// values are the values the component gives its chart, from its role
	// (roles/<component>/vars/main.yml): its static values as data
	// (<component>.values.yaml, Render.static) with the parts made from the
	// settings merged over them as Go values; nil for none. What it lays
	// aside on the Render (its storage values) is laid over them.
	values func(*Render) values.Values
	// objects are the Kubernetes objects the component applies itself (a
	// manifest component's objects, or a Helm component's extra objects,
	// applied before the release as the roles do: the charts mount the
	// secrets of these certificates), from its role
	// (roles/<component>/tasks), as data: its static objects
	// (<component>.objects.yaml, staticObjects) and the ones made from the
	// settings as Go values; nil for none. An Object's CreateOnly marks
	// one that is created once and never changed (generated passwords);
	// its AfterRelease one applied after the component's release (it
	// needs what the chart creates).
	objects func(Settings) ([]Object, error)
	// ingresses are the component's public Ingresses, made after its
	// release (the openstack_helm_ingress role's).
	ingresses []publicIngress
	// rabbitMQCluster, when set, is the chart whose RabbitMQ of its own,
	// rabbitmq-<chart>, the component's chart talks to: atmosphere's
	// endpoints role makes it before the release (the Secret of its
	// default user gives the chart's values their message-queue user).
	rabbitMQCluster string
	// databases are the databases and users the component needs in the
	// cloud's MySQL, as its values name them; nil for none.
	databases func(Settings) ([]DatabaseGrant, error)
	// services are the component's entries in the keystone catalog, each
	// with the service users its pods authenticate as, made by its
	// OpenStack phase (its catalog phase; keystone's and
	// rook-ceph-cluster's set-up); nil for none. Services gives them.
	services []provision.Service
	// endpoints are the chart endpoints the component owns, by name (a key
	// of an openstack-helm chart's values' endpoints): the values every
	// chart that declares the endpoint gets (endpointTable gathers them
	// with the shared ones of endpoints.go); nil for none.
	endpoints map[string]endpointFragment

	// Ansible, when set, is what the component's Ansible phase runs (a
	// host component's role, ceph's and kubernetes' collection playbooks,
	// openvswitch's host checks), as atmosphere's playbooks run it.
	Ansible *AnsibleWork
	// Facts, when set, is the play of the component's phase of kind
	// AnsibleFacts: it reads from the hosts facts the charts' values
	// need (its Yields), which Settings.Facts gives back by the
	// component's name (ceph's fsid, monitors and keys).
	Facts *AnsibleWork

	// PrePull, when set, is an image pulled onto the nodes of the
	// component's pods before its release changes.
	PrePull *PrePull
	// BeforeChange, when set, removes, before the component's release is
	// installed, upgraded or rolled back, what its chart cannot change in
	// place, as the roles do before their Helm task. It is not called when
	// the release is unchanged.
	BeforeChange func(ctx context.Context, client kubernetes.Interface, namespace string) error
	// guards are the steps the component's role takes around a version
	// upgrade of one of its own objects (the Percona XtraDB cluster);
	// UpgradeGuards adds its RabbitMQ cluster's.
	guards []UpgradeGuard
	// notWaitedFor, when set, gives the objects of the component's
	// release that its Helm wait must not wait for, each with why: an
	// object whose readiness needs what only a unit that needs this one
	// makes (a Secret its pods mount) would hold the wait until its
	// timeout. Helm applies them with the others; every other object is
	// still waited for. NotWaitedFor gives them.
	notWaitedFor func(Settings) []WaitException
	// ChartCRDs says the CRDs of the component's chart are applied before
	// every install and upgrade (Helm installs a chart's crds/ once and
	// never upgrades them; atmosphere's roles apply them for these
	// operators).
	ChartCRDs bool

	// setup, when set, is the component's OpenStack set-up: the work of
	// its OpenStack phase other than the catalog (Setup), which reports
	// whether it changed anything.
	setup func(ctx context.Context, s *Setup) (changed bool, err error)

	// keycloak, when set, is the component's Keycloak work: what its
	// phase of kind Keycloak makes in Keycloak (sso.go; Keycloak gives
	// it).
	keycloak func(Settings) ([]KeycloakWork, error)
}

// WaitException is an object of a component's release that the release's
// Helm wait does not wait for (Component.NotWaitedFor).
type WaitException struct {
	// Kind is the object's kind as the chart renders it ("DaemonSet"),
	// Name a pattern of its name as path.Match takes it
	// ("ovn-controller-*": an openstack-helm chart renders a DaemonSet
	// per group of nodes its overrides name, and one for the rest).
	Kind, Name string
	// Why says what its readiness waits on that the component's install
	// cannot: it is reported with the object.
	Why string
	// UntilSecret, when set, is the Secret of the object's namespace its
	// pods need: once it is there (an upgrade after the unit that makes
	// it), the object is waited for as the others.
	UntilSecret string
}

// NotWaitedFor returns the objects of the component's release its Helm
// wait must not wait for under the settings s, with why (none for most).
func (c *Component) NotWaitedFor(s Settings) []WaitException {
	if c.notWaitedFor == nil {
		return nil
	}
	return c.notWaitedFor(s)
}

// UpgradeGuard is what a role does around a version upgrade of one of a
// component's objects, as observe, decide, act: the engine reads the
// object of Kind and Name in the cluster (observe); when it is there and
// Version gives it another version than the rendered object's (decide),
// Before runs before the component's objects are applied, and After once
// they are applied and ready (act). An object not in the cluster yet, or
// whose version is unchanged, gets no guard work.
type UpgradeGuard struct {
	// What names the guard in the progress and in errors ("the version
	// upgrade of the Percona XtraDB cluster").
	What string
	// APIVersion, Kind and Name say which of the component's objects it
	// guards.
	APIVersion, Kind, Name string
	// Version is the version an object runs or is to run (its image), ""
	// when it says none. Nil for a guard that Changed decides.
	Version func(u *unstructured.Unstructured) string
	// Changed, when set, decides in place of Version whether the guard
	// runs: whether the rendered object changes the live one in a way the
	// guard is about (the RabbitMQ cluster's spec).
	Changed func(live, want *unstructured.Unstructured) bool
	// Before checks that the upgrade may start and prepares it; its error
	// stops the component before anything is changed, and names the
	// object and what is wrong.
	Before func(ctx context.Context, k Kube, live, want *unstructured.Unstructured) error
	// After, when set, waits for the upgrade to be done (bounded by ctx).
	After func(ctx context.Context, k Kube, live, want *unstructured.Unstructured) error
}

// Kube is the cluster as the upgrade guards reach it.
type Kube struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Exec runs commands in the pods.
	Exec PodExec
}

// PodExec runs a command in a container of a pod, as kubectl exec does
// (the Kubernetes API's exec subresource), and returns what it wrote to
// stdout and stderr; a command that exits non-zero is an error.
type PodExec interface {
	Exec(ctx context.Context, namespace, pod, container string, command []string) (stdout, stderr string, err error)
}

// AnsibleWork is one ansible-playbook run of a component: a collection
// playbook, else a play of one role, or of tasks of its own, on a host
// pattern of the inventory.
type AnsibleWork struct {
	// Playbook is a collection playbook's FQCN
	// ("vexxhost.atmosphere.ceph"); the play below is used when it is
	// empty.
	Playbook string
	// Hosts is the play's host pattern ("controllers:computes").
	Hosts string
	// Role is the play's role, by FQCN ("vexxhost.atmosphere.lpfc").
	Role        string
	Become      bool
	GatherFacts bool
	// Tasks, when Role is empty, are the play's own tasks.
	Tasks []map[string]any
	// Yields, for the play of a phase of kind AnsibleFacts
	// (Component.Facts), are the facts the play hands back: its last task
	// writes {"changed": bool, "facts": {key: value}} to the controller's
	// file that the extra var atmosphere_facts_file names. A fact's value
	// is a string, or any other JSON value, kept as its JSON text.
	Yields []YieldedFact
	// From, for the play of a phase of kind AnsibleFacts, returns the host
	// patterns the play reads its facts from ("controllers[0]"): each must
	// name a host of the inventory for the play to run.
	From func(Settings) []string
}

// YieldedFact is a fact an Ansible play reads from the hosts for the
// charts' values, and the inventory variable that gives it instead.
type YieldedFact struct {
	// Key names the fact in the play's facts ("fsid").
	Key string
	// Var is the inventory variable, or a path into one
	// ("_ceph_provisioners_keyring.key"), that gives the fact: the
	// inventory's value wins over the play's. Empty for an Optional fact.
	Var string
	// Optional marks a fact the play reads when it runs that the values
	// can do without (they fall back on what the inventory gives): the
	// play is not run for it alone, and a play that does not yield it is
	// no error.
	Optional bool
}

// PrePull is an image pulled onto every node that runs a component's pods
// before its release changes, as atmosphere's openvswitch and ovn roles do
// with crictl: an upgrade restarts the switch on each node, and a node
// whose new pod waits for its image has no network meanwhile.
type PrePull struct {
	// Image is the key of the image table.
	Image string
	// Selector is where in the release's values the chart's node selector
	// is (its node_selector_key and node_selector_value).
	Selector string
}

// DatabaseGrant is a database of the cloud's MySQL and the user that owns
// it.
type DatabaseGrant struct {
	// Database and User are names; Password is the user's.
	Database, User, Password string
}

// UpgradeGuards returns, for the settings s, the steps the component's
// roles take around a change of its objects (its RabbitMQ cluster's first:
// the confirmation of a spec change unless rabbitmq_skip_spec_diff is true,
// then the image upgrade's; then its own; none for most): the engine runs
// them only when the guarded object is in the cluster and its version (or
// what Changed looks at) changes.
func (c *Component) UpgradeGuards(s Settings) []UpgradeGuard {
	var out []UpgradeGuard
	if c.rabbitMQCluster != "" {
		if !rabbitmqSkipSpecDiff.in(s.Vars) {
			out = append(out, rabbitmqSpecGuard(c.rabbitMQCluster))
		}
		out = append(out, rabbitmqClusterGuard(c.rabbitMQCluster))
	}
	return append(out, c.guards...)
}

// HasOwnValues reports whether the component gives its chart values of
// its own.
func (c *Component) HasOwnValues() bool { return c.values != nil }

// HasObjects reports whether the component has objects of its own
// (besides its RabbitMQ cluster and public Ingresses).
func (c *Component) HasObjects() bool { return c.objects != nil }

// DatabaseGrants returns the databases and users the component needs in
// the cloud's MySQL (none for most).
func (c *Component) DatabaseGrants(s Settings) ([]DatabaseGrant, error) {
	if c.databases == nil {
		return nil, nil
	}
	return c.databases(s)
}

// Services returns the component's entries in the keystone catalog (none
// for most), each with Component set to the component's name, the owner
// of its users' passwords. The entries are copies: the caller may change
// them.
func (c *Component) Services() []provision.Service {
	out := slices.Clone(c.services)
	for i := range out {
		out[i].Component = c.Name
		out[i].Users = slices.Clone(out[i].Users)
	}
	return out
}

// MissingFacts returns the inventory variables of the facts the
// component's play yields that the inventory does not give, in the
// play's order (Optional facts aside): none when the play need not run.
func (c *Component) MissingFacts(s Settings) []string {
	if c.Facts == nil {
		return nil
	}
	var out []string
	for _, y := range c.Facts.Yields {
		if y.Optional {
			continue
		}
		if v, ok := lookupPath(s.Vars, y.Var); !ok || v == "" {
			out = append(out, y.Var)
		}
	}
	return out
}

// FactSources returns the host patterns the component's play reads its
// facts from (none when it declares none).
func (c *Component) FactSources(s Settings) []string {
	if c.Facts == nil || c.Facts.From == nil {
		return nil
	}
	return c.Facts.From(s)
}

// Estimate is the sum of the phases' estimates.
func (c *Component) Estimate() time.Duration {
	var d time.Duration
	for _, p := range c.Phases {
		d += p.Estimate
	}
	return d
}

// Phase returns the named phase.
func (c *Component) Phase(name string) (Phase, bool) {
	for _, p := range c.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

// IsEnabled reports whether cfg deploys the component.
func (c *Component) IsEnabled(cfg Config) bool {
	return c.Enabled == nil || c.Enabled(cfg)
}

// UnitKey is the key of one phase of a component in the graph.
func UnitKey(component, phase string) string { return component + ":" + phase }

// SplitUnit splits a unit key into component and phase; a key without a
// phase (a whole-component unit) gives an empty phase.
func SplitUnit(key string) (component, phase string) {
	component, phase, _ = strings.Cut(key, ":")
	return component, phase
}

// Network backends.
const (
	BackendOpenvswitch = "openvswitch"
	BackendOVN         = "ovn"
)

// Config holds the settings that decide which components a deployment has.
type Config struct {
	// NetworkBackend is "openvswitch" (the default) or "ovn"
	// (atmosphere_network_backend).
	NetworkBackend string
	// BGPAgent enables frr-k8s (ovn_bgp_agent_enabled).
	BGPAgent bool
	// Staffeln enables staffeln (atmosphere_staffeln_enabled).
	Staffeln bool
	// Keepalived enables keepalived (keepalived_enabled).
	Keepalived bool
	// CSIDriver is the CSI driver that provides the StorageClass general
	// (csi_driver): "rbd" (the default; "" is taken as it) deploys csi
	// (ceph-csi-rbd), "local-path-provisioner" deploys
	// local-path-provisioner, "hpe-nimble" deploys hpe-csi-driver,
	// "storpool" deploys storpool-csi, "ibm-block" deploys
	// ibm-block-csi-operator and ibm-block-csi-driver, "portworx" deploys
	// portworx. The role's other
	// drivers are not implemented: the csi_driver knob refuses them before
	// the run.
	CSIDriver string
	// IssuerWebhook is the ACME solver of the cluster issuer that is
	// served by a cert-manager webhook atmosphere deploys (the
	// cluster_issuer role's godaddy and infoblox solvers, each with its
	// chart): IssuerWebhookGoDaddy or IssuerWebhookInfoblox when
	// cluster_issuer_type is acme and cluster_issuer_acme_solver names
	// one of them (IssuerWebhookOf), "" otherwise. It enables that
	// solver's webhook component alone.
	IssuerWebhook string
}

// ACME solvers (cluster_issuer_acme_solver) served by a cert-manager
// webhook atmosphere deploys (Config.IssuerWebhook).
const (
	IssuerWebhookGoDaddy  = "godaddy"
	IssuerWebhookInfoblox = "infoblox"
)

// CSI drivers (csi_driver) atmosphere-go implements.
const (
	CSIDriverRBD       = "rbd"
	CSIDriverLocalPath = "local-path-provisioner"
	CSIDriverHPENimble = "hpe-nimble"
	CSIDriverStorPool  = "storpool"
	CSIDriverIBMBlock  = "ibm-block"
	CSIDriverPortworx  = "portworx"
)

// CSIDrivers are the values of csi_driver atmosphere-go implements, the
// default first.
var CSIDrivers = []string{CSIDriverRBD, CSIDriverLocalPath, CSIDriverHPENimble, CSIDriverStorPool, CSIDriverIBMBlock, CSIDriverPortworx}

// csiDriver is the CSI driver cfg deploys: CSIDriver, or "rbd" when it is
// empty.
func (c Config) csiDriver() string {
	if c.CSIDriver == "" {
		return CSIDriverRBD
	}
	return c.CSIDriver
}

// DefaultConfig is atmosphere's default: openvswitch, no BGP agent,
// staffeln and keepalived on, the rbd CSI driver.
func DefaultConfig() Config {
	return Config{NetworkBackend: BackendOpenvswitch, Staffeln: true, Keepalived: true, CSIDriver: CSIDriverRBD}
}
