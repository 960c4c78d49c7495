package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/kubephase"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/openstackphase"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
	"github.com/vexxhost/atmosphere-go/internal/vault"
	"github.com/vexxhost/atmosphere-go/inventory"
	"github.com/vexxhost/atmosphere-go/openstack"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// DefaultStateNamespace holds atmosphere's own state: the deploy lease, the
// generated secrets and the measured durations.
const DefaultStateNamespace = "atmosphere"

// DefaultConcurrency is the cap on units in flight unless told otherwise.
const DefaultConcurrency = 16

// openstackNamespace is where atmosphere's operators keep the Secrets the
// OpenStack charts' values read (RabbitMQ users, the database's root).
const openstackNamespace = "openstack"

// ReachTimeout bounds the pre-flight request to the API server.
const ReachTimeout = 10 * time.Second

// Options configure a Configuration. The zero value is atmosphere's
// defaults with the kubeconfig kubectl would use.
type Options struct {
	// Kubeconfig and Context locate the cluster as kubectl does
	// ($KUBECONFIG, then ~/.kube/config; the current context).
	Kubeconfig, Context string
	// Inventory is an atmosphere inventory directory (the hosts file,
	// group_vars/, host_vars/); atmosphere's defaults when empty.
	Inventory string
	// VaultPasswordFile holds the ansible-vault password of the
	// inventory's encrypted files and !vault values
	// ($ANSIBLE_VAULT_PASSWORD_FILE when empty). It is a path, not the
	// password, so that the Ansible units hand the same file to
	// ansible-playbook (--vault-password-file).
	VaultPasswordFile string
	// StateNamespace holds the lease, secrets and measured durations;
	// DefaultStateNamespace when empty.
	StateNamespace string
	// Charts are directories of unpacked charts (<name>/Chart.yaml) that
	// pinned charts are taken from before downloading.
	Charts []string
	// OSCloud is the clouds.yaml cloud of the OpenStack set-up ($OS_CLOUD
	// when empty; when both are, the admin of the keystone atmosphere
	// deploys).
	OSCloud string
	// Registry is the components; components.Default() when nil.
	Registry *components.Registry
	// Log receives the logs (client-go's, Helm's, the deployers'); they
	// are discarded when nil.
	Log *slog.Logger
	// Warnings receives the warnings meant for the operator (the
	// inventory's, a lease taken over), one line each; discarded when nil.
	Warnings io.Writer

	// AnsiblePlaybook is the ansible-playbook that runs the Ansible units
	// (ansible-inventory and ansible-galaxy are taken from beside it);
	// the one on PATH when empty.
	AnsiblePlaybook string
	// CollectionsPaths are where the Ansible units' collections
	// (vexxhost.atmosphere, and those its playbooks import) are looked
	// for, in order, in place of the paths ansible is configured with
	// (ANSIBLE_COLLECTIONS_PATH, ansible.cfg, the defaults): each a
	// directory holding ansible_collections/.
	CollectionsPaths []string
	// HostsProvided says the hosts, the Kubernetes cluster and Ceph exist
	// already: the Ansible units are reported provided by the environment
	// and run nothing, as the inventory's atmosphere_hosts_provided: true
	// says too. Without either, the Ansible units run.
	HostsProvided bool
}

// Configuration is what every verb works with, made once by New. The
// inventory is loaded on first use and the cluster is reached on first use
// by a verb that needs it; each is done at most once, and its error is
// returned to every verb that asks again. Each chart, too, is read once
// (charts.Loader): a Configuration sees the inventory and the charts as
// they were when first read; make a new one to see them changed. A
// Configuration is for one verb at a time.
type Configuration struct {
	opts     Options
	registry *components.Registry
	log      *slog.Logger
	warn     io.Writer

	loadOnce  sync.Once
	inventory *inventory.Inventory
	settings  *inventory.Settings
	loadErr   error
	// hostsProvided is Options.HostsProvided or the inventory's
	// atmosphere_hosts_provided.
	hostsProvided bool

	// ctx is that of the verb running, which the values' secret look-ups
	// (that take none) use.
	ctx           context.Context
	connectOnce   sync.Once
	connectErr    error
	overridesOnce sync.Once
	clientset     kubernetes.Interface
	helm          *helmrelease.Deployer
	applier       *manifest.Applier
	stack         *kubephase.Stack
	runner        *openstackphase.Runner
	secrets       *secrets.Store
	// cloudSecrets finds the secrets the running cloud's releases hold:
	// the store's look-up before it generates one, and the check that no
	// deploy changes one in use (secretProblems).
	cloudSecrets *kubephase.CloudSecrets
	durations    *deploy.Durations
	// engines do each kind of work (engines.go).
	engines map[components.Kind]engine.Engine
}

// New makes the Configuration of opts. Nothing is read or reached yet.
func New(opts Options) *Configuration {
	if opts.StateNamespace == "" {
		opts.StateNamespace = DefaultStateNamespace
	}
	c := &Configuration{opts: opts, registry: opts.Registry, log: opts.Log, warn: opts.Warnings, hostsProvided: opts.HostsProvided}
	if c.registry == nil {
		c.registry = components.Default()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.warn == nil {
		c.warn = io.Discard
	}
	return c
}

// Registry is the configuration's components.
func (c *Configuration) Registry() *components.Registry { return c.registry }

// Settings loads the inventory (once) and returns it with its typed
// settings. A bad inventory is a UsageError listing every problem; its
// warnings go to Options.Warnings.
func (c *Configuration) Settings() (*inventory.Inventory, *inventory.Settings, error) {
	c.loadOnce.Do(func() { c.inventory, c.settings, c.loadErr = c.load(c.opts.Inventory) })
	return c.inventory, c.settings, c.loadErr
}

func (c *Configuration) load(dir string) (*inventory.Inventory, *inventory.Settings, error) {
	if dir == "" {
		return &inventory.Inventory{Vars: map[string]any{}},
			&inventory.Settings{Config: components.DefaultConfig(), HelmValues: map[string]map[string]any{}, PublicHosts: map[string]string{}}, nil
	}
	if f := c.opts.VaultPasswordFile; f != "" {
		if _, err := vault.ReadPassword(f); err != nil {
			return nil, nil, usagef("--vault-password-file %s: %v", f, err)
		}
	}
	inv, err := inventory.LoadWith(dir, inventory.Options{VaultPasswordFile: c.opts.VaultPasswordFile})
	var problems inventory.Problems
	if err == nil {
		for _, w := range inv.Warnings {
			fmt.Fprintf(c.warn, "warning: %s\n", w)
		}
		var s *inventory.Settings
		s, err = inv.Settings()
		unknown := append(c.unknownComponents(inv), c.knobProblems(inv, s)...)
		if provided, problem := hostsProvidedOf(inv); problem != nil {
			unknown = append(unknown, *problem)
		} else if provided {
			c.hostsProvided = true
		}
		if len(unknown) > 0 && (err == nil || errors.As(err, &problems)) {
			err = append(problems, unknown...)
		}
		if err == nil {
			return inv, s, nil
		}
	}
	if errors.As(err, &problems) {
		return nil, nil, &UsageError{Err: fmt.Errorf("--inventory %s: %w", dir, err)}
	}
	return nil, nil, fmt.Errorf("--inventory %s: %w", dir, err)
}

// unknownComponents finds <name>_helm_values whose name is no component
// of the registry (by its name or its release's, "_" for "-") and no
// variable atmosphere's roles declare: a misspelt component, whose values
// would otherwise be silently dropped.
func (c *Configuration) unknownComponents(inv *inventory.Inventory) inventory.Problems {
	known := c.registry.ValuesPrefixes()
	names := slices.Sorted(maps.Keys(known))
	var problems inventory.Problems
	for _, key := range slices.Sorted(maps.Keys(inv.Vars)) {
		prefix, ok := strings.CutSuffix(key, "_helm_values")
		if _, isComponent := known[prefix]; !ok || isComponent || inventory.Declared(key) {
			continue
		}
		msg := "no component is called " + prefix
		if near := suggest.Nearest(prefix, names); near != "" {
			msg += fmt.Sprintf(" (did you mean %s_helm_values?)", near)
		}
		problems = append(problems, inventory.Problem{File: inv.Sources[key], Key: key, Message: msg})
	}
	return problems
}

// selected returns the components named by tags, with what the inventory
// enables, or nil for all when tags is empty.
func (c *Configuration) selected(cfg components.Config, tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	names, err := c.registry.Select(cfg, tags)
	if err != nil {
		return nil, usagef("--tags: %w", err)
	}
	return names, nil
}

// Reach is the pre-flight check of a cluster: it loads the client
// configuration of kubeconfig and context as kubectl does, then asks the
// API server for its version once, within ReachTimeout. A cluster that
// cannot be used (no kubeconfig, an unknown context, a server that refuses
// connections or does not resolve, a certificate the kubeconfig does not
// trust, credentials refused) is a UsageError of one line naming the
// kubeconfig, the context and the server; any other failure of the check
// is returned as it is, one line too.
func Reach(ctx context.Context, kubeconfig, kubeContext string) (*rest.Config, error) {
	cfg, target, err := kubeutil.LoadConfig(kubeconfig, kubeContext)
	if err == nil {
		err = kubeutil.Reach(ctx, cfg, target, ReachTimeout)
	}
	var re *kubeutil.ReachError
	switch {
	case err == nil:
		return cfg, nil
	case errors.As(err, &re) && re.Kind != kubeutil.ReachOther:
		return nil, &UsageError{Err: err}
	}
	return nil, err
}

// fieldManagerOnce sets Helm's field manager, a process global, once.
var fieldManagerOnce sync.Once

// connect reaches the cluster (Reach) and builds the clients of a deploy,
// once: nothing is written to the cluster. It loads the inventory first.
func (c *Configuration) connect(ctx context.Context) error {
	inv, s, err := c.Settings()
	if err != nil {
		return err
	}
	// The values' secrets are read with the context of the verb running.
	c.ctx = ctx
	c.connectOnce.Do(func() {
		if c.connectErr = c.connectTo(inv, s); c.connectErr == nil {
			c.engines = c.newEngines()
		}
	})
	return c.connectErr
}

// connectStack is connect for the verbs that render releases (deploy,
// upgrade, plan, check): it also maps the inventory's <name>_helm_values
// to components, warning once of those that name none.
func (c *Configuration) connectStack(ctx context.Context) error {
	if err := c.connect(ctx); err != nil {
		return err
	}
	c.overridesOnce.Do(func() { c.stack.Overrides = c.overrides(c.settings) })
	return nil
}

func (c *Configuration) connectTo(inv *inventory.Inventory, s *inventory.Settings) error {
	rc, err := Reach(c.ctx, c.opts.Kubeconfig, c.opts.Context)
	if err != nil {
		return err
	}
	fieldManagerOnce.Do(func() { kube.ManagedFieldsManager = manifest.FieldManager })
	// A deploy talks to the API server from many units at once.
	rc.QPS, rc.Burst = 100, 200
	// The API server's warnings (deprecated fields in a chart) are for
	// the log at info level, not for the operator's screen.
	rc.WarningHandler = apiWarnings{c.log}
	factory, err := helmrelease.NewFactory(rc, c.log)
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	applier, err := manifest.NewApplierForConfig(rc, c.log)
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	guarded, err := kubephase.NewKube(rc)
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	var sources []charts.Source
	for _, d := range c.opts.Charts {
		sources = append(sources, charts.DirSource{Dir: d})
	}
	cacheDir := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(dir, "atmosphere", "charts")
		sources = append(sources, charts.ArchiveSource{Dir: cacheDir})
	}
	sources = append(sources, charts.RepoSource{})
	state := c.opts.StateNamespace
	c.clientset = factory.Clientset()
	c.helm = helmrelease.New(factory, c.log)
	c.applier = applier
	c.secrets = &secrets.Store{Client: c.clientset, Namespace: state, Overrides: secrets.OverridesFrom(inv.Vars)}
	c.durations = &deploy.Durations{Client: c.clientset, Namespace: state}

	settings := components.DefaultSettings()
	settings.Config = s.Config
	settings.Vars = inv.Vars
	settings.Setup = components.SetupSettings{Flavors: s.Flavors, Networks: s.Networks, Images: s.Images,
		OctaviaControllers: inv.Groups["controllers"]}
	settings.Sources = inv.Sources
	// What the OpenStack set-up makes that the charts' values name.
	facts := &openstackphase.Facts{}
	settings.Facts = facts.Of
	if s.ImageTable != nil {
		settings.Images = s.ImageTable
	}
	settings.Secret = func(name string) (string, error) {
		if v, ok := inv.Vars[name].(string); ok && v != "" {
			return v, nil
		}
		return c.secrets.Get(c.ctx, secrets.VarKey(name))
	}
	settings.PeekSecret = func(name string) (string, error) {
		if v, ok := inv.Vars[name].(string); ok && v != "" {
			return v, nil
		}
		return c.secrets.Peek(c.ctx, secrets.VarKey(name))
	}
	settings.ClusterSecret = func(name, key string) (string, error) {
		sec, err := c.clientset.CoreV1().Secrets(openstackNamespace).Get(c.ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		v, ok := sec.Data[key]
		if !ok {
			return "", fmt.Errorf("secret %s/%s has no key %s", openstackNamespace, name, key)
		}
		return string(v), nil
	}
	c.stack = &kubephase.Stack{
		Charts:    &charts.Loader{Catalog: charts.Default(), Sources: sources, CacheDir: cacheDir, Log: c.log},
		Helm:      c.helm,
		Manifests: applier,
		Config:    settings,
		Registry:  c.registry,
		Timeouts:  map[string]time.Duration{},
		Cluster:   guarded,
		Log:       c.log,
	}
	kubeComponents, err := c.kubeComponents(s.Config)
	if err != nil {
		return err
	}
	c.cloudSecrets = &kubephase.CloudSecrets{Stack: c.stack, Components: kubeComponents, Releases: c.helm,
		Objects: kubephase.LiveObjects{Dynamic: guarded.Dynamic, Mapper: factory.Mapper()}, Key: secrets.VarKey}
	// A secret neither the inventory nor the store has is looked up in
	// the running cloud before one is generated: no password in use
	// rotates.
	c.secrets.Find = c.cloudSecrets.Find
	var cfg openstackphase.Config
	region := s.Region
	if region == "" {
		region = "RegionOne"
	}
	cfg.Endpoints = provision.Endpoints{Region: region, Domain: s.Domain(), PublicHosts: s.PublicHosts,
		Namespace: "openstack", ClusterDomain: "cluster.local"}
	c.runner = &openstackphase.Runner{
		Config:    cfg,
		Clients:   &openstackphase.CloudClients{Connect: c.cloud(s, region)},
		Passwords: c.secrets,
		Settings:  settings,
		Facts:     facts,
		Log:       c.log,
	}
	return nil
}

// overrides maps the inventory's <name>_helm_values to components: by the
// component's name or its release's, with "_" for "-". Values for a
// component this deployment does not have are warned about and ignored.
func (c *Configuration) overrides(s *inventory.Settings) map[string]values.Values {
	byVar := c.registry.ValuesPrefixes()
	out := map[string]values.Values{}
	for _, prefix := range slices.Sorted(maps.Keys(s.HelmValues)) {
		name, ok := byVar[prefix]
		if !ok {
			fmt.Fprintf(c.warn, "warning: %s_helm_values: no component of this deployment has a chart called %s; ignored\n", prefix, prefix)
			continue
		}
		out[name] = values.Merge(out[name], s.HelmValues[prefix])
	}
	return out
}

// apiWarnings logs the API server's warnings at info level.
type apiWarnings struct{ log *slog.Logger }

// HandleWarningHeader implements rest.WarningHandler.
func (w apiWarnings) HandleWarningHeader(code int, agent, text string) {
	if code == 299 && text != "" {
		w.log.Info("kubernetes API warning", "warning", text)
	}
}

// cloud connects to OpenStack for the set-up: the clouds.yaml cloud of
// Options.OSCloud or $OS_CLOUD, else the admin of the keystone atmosphere
// deploys (its password in the secrets store).
func (c *Configuration) cloud(s *inventory.Settings, region string) func(context.Context) (*openstack.Cloud, error) {
	return func(ctx context.Context) (*openstack.Cloud, error) {
		name := c.opts.OSCloud
		if name == "" {
			name = os.Getenv("OS_CLOUD")
		}
		if name != "" {
			return openstack.FromClouds(ctx, name)
		}
		host := s.PublicHosts["identity"]
		if host == "" {
			return nil, fmt.Errorf("no OpenStack credentials: set --os-cloud (or OS_CLOUD), or openstack_helm_endpoints_keystone_api_host in the inventory")
		}
		user := "admin-" + region
		password, err := c.secrets.Password(ctx, "keystone", user)
		if err != nil {
			return nil, err
		}
		return openstack.FromPassword(ctx, openstack.Password{AuthURL: "https://" + host + "/v3", Region: region,
			Username: user, Password: password, UserDomainName: "Default", ProjectName: "admin", ProjectDomainName: "Default"})
	}
}
