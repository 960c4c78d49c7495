package cmd

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/bootstrap"
	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/database"
	"github.com/vexxhost/atmosphere-go/components/helmdeployer"
	"github.com/vexxhost/atmosphere-go/components/manifest"
	"github.com/vexxhost/atmosphere-go/components/setup"
	"github.com/vexxhost/atmosphere-go/components/stack"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/inventory"
	"github.com/vexxhost/atmosphere-go/openstack"
	"github.com/vexxhost/atmosphere-go/secrets"
)

// openstackNamespace is where atmosphere's operators keep the Secrets the
// OpenStack charts' values read (RabbitMQ users, the database's root).
const openstackNamespace = "openstack"

// deployEnv is what a deploy works with: the cluster's clients, the chart
// loader, the deployers of each kind of work, atmosphere's own state.
type deployEnv struct {
	clientset kubernetes.Interface
	helm      *helmdeployer.Deployer
	applier   *manifest.Applier
	stack     *stack.Stack
	runner    *setup.Runner
	secrets   *secrets.Store
	durations *deploy.Durations
	log       *slog.Logger
}

// connect builds the deploy's environment after the pre-flight check of
// the cluster (kubeFlags.reach), so that a cluster that cannot be used is
// one error before anything else is tried. Nothing is written to the
// cluster.
func (a *app) connect(ctx context.Context, o *deployOptions, inv *inventory.Inventory, s *inventory.Settings) (*deployEnv, error) {
	rc, err := o.kube.reach(ctx)
	if err != nil {
		return nil, err
	}
	// A deploy talks to the API server from many units at once.
	rc.QPS, rc.Burst = 100, 200
	// The API server's warnings (deprecated fields in a chart) are for -v,
	// not for the operator's screen.
	rc.WarningHandler = apiWarnings{a.log}
	factory, err := helmdeployer.NewFactory(rc, a.log)
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	applier, err := manifest.NewApplierForConfig(rc, a.log)
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	var sources []charts.Source
	for _, d := range o.charts {
		sources = append(sources, charts.DirSource{Dir: d})
	}
	cacheDir := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(dir, "atmosphere", "charts")
		sources = append(sources, charts.ArchiveSource{Dir: cacheDir})
	}
	sources = append(sources, charts.RepoSource{})
	e := &deployEnv{
		clientset: factory.Clientset(),
		helm:      helmdeployer.New(factory, a.log),
		applier:   applier,
		log:       a.log,
		secrets: &secrets.Store{Client: factory.Clientset(), Namespace: o.state,
			Overrides: secrets.OverridesFrom(inv.Vars)},
		durations: &deploy.Durations{Client: factory.Clientset(), Namespace: o.state},
	}
	settings := components.DefaultSettings()
	settings.Config = s.Config
	settings.Vars = inv.Vars
	// What the OpenStack set-up makes that the charts' values name.
	facts := &setup.Facts{}
	settings.Facts = facts.Of
	if s.ImageTable != nil {
		settings.Images = s.ImageTable
	}
	settings.Secret = func(name string) (string, error) {
		if v, ok := inv.Vars[name].(string); ok && v != "" {
			return v, nil
		}
		return e.secrets.Get(ctx, secrets.VarKey(name))
	}
	settings.PeekSecret = func(name string) (string, error) {
		if v, ok := inv.Vars[name].(string); ok && v != "" {
			return v, nil
		}
		return e.secrets.Peek(ctx, secrets.VarKey(name))
	}
	settings.ClusterSecret = func(name, key string) (string, error) {
		sec, err := e.clientset.CoreV1().Secrets(openstackNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		v, ok := sec.Data[key]
		if !ok {
			return "", fmt.Errorf("secret %s/%s has no key %s", openstackNamespace, name, key)
		}
		return string(v), nil
	}
	timeouts := map[string]time.Duration{}
	if o.unitTimeout > 0 {
		for _, c := range a.registry.Components() {
			timeouts[c.Name] = o.unitTimeout
		}
	}
	e.stack = &stack.Stack{
		Charts:    &charts.Loader{Catalog: charts.Default(), Sources: sources, CacheDir: cacheDir, Log: a.log},
		Helm:      e.helm,
		Manifests: applier,
		Config:    settings,
		Registry:  a.registry,
		Overrides: a.overrides(s),
		Timeouts:  timeouts,
		Atomic:    o.rollback,
		Log:       a.log,
	}
	cfg := setup.Defaults()
	region := s.Region
	if region == "" {
		region = "RegionOne"
	}
	cfg.Endpoints = bootstrap.Endpoints{Region: region, Domain: s.Domain(), PublicHosts: s.PublicHosts,
		Namespace: "openstack", ClusterDomain: "cluster.local"}
	cfg.Flavors, cfg.Networks = s.Flavors, s.Networks
	if s.Images != nil {
		cfg.Images = s.Images
	}
	cfg.Octavia.PublicKeyFrom = func(context.Context) (string, error) { return e.stack.AmphoraPublicKey() }
	e.runner = &setup.Runner{
		Config:    cfg,
		Clients:   &setup.CloudClients{Connect: a.cloud(o, s, e.secrets, region)},
		Passwords: e.secrets,
		Facts:     facts,
		Log:       a.log,
	}
	return e, nil
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
// --os-cloud or $OS_CLOUD, else the admin of the keystone atmosphere
// deploys (its password in the secrets store).
func (a *app) cloud(o *deployOptions, s *inventory.Settings, store *secrets.Store, region string) func(context.Context) (*openstack.Cloud, error) {
	return func(ctx context.Context) (*openstack.Cloud, error) {
		name := o.osCloud
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
		password, err := store.Password(ctx, "keystone", user)
		if err != nil {
			return nil, err
		}
		return openstack.FromPassword(ctx, openstack.Password{AuthURL: "https://" + host + "/v3", Region: region,
			Username: user, Password: password, UserDomainName: "Default", ProjectName: "admin", ProjectDomainName: "Default"})
	}
}

// check finds every problem of the input the units would meet, before
// anything is changed: charts that do not load or verify, values that do
// not render, set-up that lacks what it needs.
func (e *deployEnv) check(ctx context.Context, reg *components.Registry, keys []string) error {
	var problems []string
	seen := map[string]bool{}
	for _, k := range keys {
		name, phase := components.SplitUnit(k)
		c, _ := reg.Get(name)
		p, _ := c.Phase(phase)
		if (p.Kind == components.Helm || p.Kind == components.Manifest) && !seen["objects "+name] {
			seen["objects "+name] = true
			if err := e.stack.CheckObjects(c); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		}
		switch {
		case p.Kind == components.Helm && !seen[name]:
			seen[name] = true
			if _, err := e.stack.Release(ctx, c); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		case p.Kind == components.Database && !seen["database "+name]:
			seen["database "+name] = true
			if err := e.stack.CheckGrants(name); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		case p.Kind == components.OpenStack && phase == "catalog" && e.runner.Config.Endpoints.Domain == "":
			if !seen["domain"] {
				seen["domain"] = true
				problems = append(problems, fmt.Sprintf("%s: the service catalog needs the public domain: set openstack_helm_endpoints_keystone_api_host (identity.<domain>) in the inventory", k))
			}
		}
	}
	if len(problems) > 0 {
		return &UsageError{Err: fmt.Errorf("%d problems, nothing was changed:\n  %s", len(problems), strings.Join(problems, "\n  "))}
	}
	return nil
}

// deployer hands each kind of work to its deployer. Ansible work (hosts,
// the cluster, ceph) is provided by the environment; keycloak realms are
// not managed by this build. Work on the cluster and OpenStack is done
// again when it failed on a transient API error (an API server restart).
func (e *deployEnv) deployer() components.Deployer {
	retrying := func(d components.Deployer) components.Deployer {
		return components.Retrying{Deployer: d, Transient: kubeutil.IsUnavailable}
	}
	return components.ByKind{
		components.Helm:      retrying(e.stack),
		components.Manifest:  retrying(e.stack),
		components.OpenStack: retrying(e.runner),
		components.Database: retrying(&database.Deployer{
			Connect: func(ctx context.Context, user, password, database string) (*sql.DB, error) {
				return e.stack.ConnectDatabase(ctx, e.clientset, openstackNamespace, user, password, database)
			},
			Grants: e.stack.Grants,
		}),
		components.Ansible:  provided("provided by the environment"),
		components.Keycloak: provided("keycloak realm left to keycloak's operator"),
	}
}

// provided is the deployer of work done elsewhere: it says so and changes
// nothing.
func provided(why string) components.Deployer {
	return components.DeployerFunc(func(ctx context.Context, _ *components.Component, _ components.Phase) error {
		dag.Notify(ctx, dag.Note{Did: why, Unchanged: true})
		return nil
	})
}

// notDeployed names the components outside keys that units of keys need
// and that are not healthy in the cluster (release not deployed, objects
// absent), each with its state.
func (e *deployEnv) notDeployed(ctx context.Context, reg *components.Registry, full *dag.Graph[string], keys []string) ([]string, error) {
	var needed []string
	for _, k := range keys {
		n, _ := full.Node(k)
		for _, need := range n.Needs {
			if !slices.Contains(keys, need) {
				name, _ := components.SplitUnit(need)
				needed = append(needed, name)
			}
		}
	}
	slices.Sort(needed)
	var missing []string
	for _, name := range slices.Compact(needed) {
		c, _ := reg.Get(name)
		st, err := componentStatus(ctx, e.helm, e.applier, c)
		if err != nil {
			return nil, err
		}
		if !st.healthy() {
			missing = append(missing, name+" ("+st.State+")")
		}
	}
	return missing, nil
}
