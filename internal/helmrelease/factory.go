// Package helmrelease installs and upgrades Helm releases in-process with
// the Helm SDK (helm.sh/helm/v3/pkg/action).
//
// The rules that keep it safe under concurrency: one
// Factory holds the expensive, thread-safe parts (REST config, cached
// discovery, REST mapper); every action gets a fresh action.Configuration
// whose kube client namespace is the release namespace and whose release
// storage is Secrets in that namespace. Waits honour the context and fail
// early on pods that cannot start or hook Jobs that failed.
package helmrelease

import (
	"context"
	"fmt"
	"log/slog"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// Factory builds action configurations for any namespace from shared parts.
// It is safe for concurrent use.
type Factory struct {
	config    *rest.Config
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.ResettableRESTMapper
	kinds     *kubeutil.KindResolver
	clientset kubernetes.Interface
	log       *slog.Logger
}

// NewFactory builds the shared parts from a REST config. The config's rate
// limits are kept; raise QPS and Burst before for many parallel releases.
func NewFactory(config *rest.Config, log *slog.Logger) (*Factory, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	config = rest.CopyConfig(config)
	dc, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	dyn, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	// The deferred mapper re-reads discovery when it is reset; the kind
	// resolver resets it when a kind is unknown and waits for a kind whose
	// CRD exists but is not served yet, so CRDs installed by an earlier
	// release, or just before, are found.
	mapper, ok := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil).(meta.ResettableRESTMapper)
	if !ok {
		return nil, fmt.Errorf("REST mapper cannot be reset")
	}
	return &Factory{config: config, discovery: cached, mapper: mapper, clientset: cs, log: log,
		kinds: &kubeutil.KindResolver{Mapper: mapper, Dynamic: dyn}}, nil
}

// Clientset is the shared typed client.
func (f *Factory) Clientset() kubernetes.Interface { return f.clientset }

// RESTConfig is a copy of the shared REST config.
func (f *Factory) RESTConfig() *rest.Config { return rest.CopyConfig(f.config) }

// Mapper is the shared REST mapper.
func (f *Factory) Mapper() meta.RESTMapper { return f.mapper }

// Getter returns a RESTClientGetter bound to namespace, sharing the
// factory's parts. Its REST mapper waits, bounded by ctx, for kinds whose
// CRD exists but is not served yet (kubeutil.KindResolver).
func (f *Factory) Getter(ctx context.Context, namespace string) genericclioptions.RESTClientGetter {
	return &getter{f: f, namespace: namespace, mapper: f.kinds.Bind(ctx)}
}

// ActionConfig returns a fresh action.Configuration for one action on a
// release in namespace: its kube client works in that namespace (manifests
// without one land there, not in "default"), its waits are those of w,
// releases are stored as Secrets in that namespace, and a kind of the
// release whose CRD was just created is waited for, bounded by ctx, until
// it is served.
func (f *Factory) ActionConfig(ctx context.Context, namespace string, w *waiter) (*action.Configuration, error) {
	// A release may use kinds whose CRDs an earlier release installed from
	// its templates (Helm refreshes discovery only for crds/ directories).
	// Resetting the mapper drops its cached kinds and invalidates discovery.
	meta.MaybeResetRESTMapper(f.mapper)
	cfg := new(action.Configuration)
	logf := func(format string, v ...any) {
		f.log.Debug(fmt.Sprintf(format, v...), "namespace", namespace)
	}
	if err := cfg.Init(f.Getter(ctx, namespace), namespace, "secret", logf); err != nil {
		return nil, fmt.Errorf("helm configuration for namespace %s: %w", namespace, err)
	}
	kc, ok := cfg.KubeClient.(*kube.Client)
	if !ok {
		return nil, fmt.Errorf("helm configuration: unexpected kube client %T", cfg.KubeClient)
	}
	kc.Namespace = namespace
	if w != nil {
		w.Client = kc
		cfg.KubeClient = w
	}
	return cfg, nil
}

// getter implements genericclioptions.RESTClientGetter over a Factory.
type getter struct {
	f         *Factory
	namespace string
	mapper    meta.RESTMapper
}

func (g *getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.f.config), nil }

func (g *getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.f.discovery, nil
}

func (g *getter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader gives a loader whose only job is to name the
// namespace; everything else comes from the shared REST config.
func (g *getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["atmosphere"] = &clientcmdapi.Cluster{Server: g.f.config.Host}
	cfg.Contexts["atmosphere"] = &clientcmdapi.Context{Cluster: "atmosphere", Namespace: g.namespace}
	cfg.CurrentContext = "atmosphere"
	return clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
