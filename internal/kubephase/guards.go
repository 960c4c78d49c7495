package kubephase

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// guarded is an upgrade guard with the live object it found changing
// version and the rendered one.
type guarded struct {
	guard      components.UpgradeGuard
	live, want *unstructured.Unstructured
}

// observeGuards reads, for each upgrade guard of the component, its
// object in the cluster (observe), and keeps the guards whose object is
// there and changes version, or what the guard's Changed looks at (decide). A kind the cluster does not serve
// yet, or an object not there yet, is a first install: no guard work.
func (s *Stack) observeGuards(ctx context.Context, c *components.Component, objs []manifest.Object) ([]guarded, error) {
	guards := c.UpgradeGuards(s.Config)
	if len(guards) == 0 {
		return nil, nil
	}
	if s.Cluster == nil {
		return nil, fmt.Errorf("%s has upgrade guards and the stack no cluster to run them on", c.Name)
	}
	var out []guarded
	for _, g := range guards {
		var want *unstructured.Unstructured
		for _, o := range objs {
			if o.GetAPIVersion() == g.APIVersion && o.GetKind() == g.Kind && o.GetName() == g.Name {
				want = o.Unstructured.DeepCopy()
			}
		}
		if want == nil {
			continue
		}
		if want.GetNamespace() == "" {
			want.SetNamespace(c.Namespace)
		}
		gv, err := schema.ParseGroupVersion(g.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("upgrade guard of %s: %w", c.Name, err)
		}
		// The guarded operators' kinds are plural with an "s".
		gvr := gv.WithResource(strings.ToLower(g.Kind) + "s")
		live, err := s.Cluster.Dynamic.Resource(gvr).Namespace(want.GetNamespace()).Get(ctx, g.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s/%s for %s: %w", g.Kind, want.GetNamespace(), g.Name, g.What, err)
		}
		if g.Changed != nil {
			if !g.Changed(live, want) {
				continue
			}
		} else if from, to := g.Version(live), g.Version(want); from == "" || from == to {
			continue
		}
		out = append(out, guarded{guard: g, live: live, want: want})
	}
	return out, nil
}

// describe is the guard's work for the progress and the plan: what it
// guards, and the versions from and to when it has a Version.
func (g guarded) describe() string {
	if g.guard.Version == nil {
		return g.guard.What
	}
	return fmt.Sprintf("%s: %s to %s", g.guard.What, g.guard.Version(g.live), g.guard.Version(g.want))
}

// runGuards runs Before (before is true) or After of each guard, all of
// them within the component's timeout.
func (s *Stack) runGuards(ctx context.Context, c *components.Component, gs []guarded, before bool) error {
	if len(gs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout(c))
	defer cancel()
	for _, g := range gs {
		step := g.guard.After
		if before {
			step = g.guard.Before
			dag.ReporterFrom(ctx).Note(dag.Note{Waiting: g.describe()})
		}
		if step == nil {
			continue
		}
		if err := step(ctx, *s.Cluster, g.live, g.want); err != nil {
			return fmt.Errorf("%s: %s: %w", c.Name, g.guard.What, err)
		}
	}
	return nil
}

// APIExec runs commands in pods through the Kubernetes API's exec
// subresource (client-go's remotecommand, over websockets with a fallback
// to SPDY), as kubectl exec does.
type APIExec struct {
	Config *rest.Config
	Client kubernetes.Interface
}

var _ components.PodExec = APIExec{}

// Exec runs command in the container of the pod and returns its stdout
// and stderr; a non-zero exit is an error.
func (e APIExec) Exec(ctx context.Context, namespace, pod, container string, command []string) (string, string, error) {
	req := e.Client.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: command, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(e.Config, "GET", req.URL().String())
	if err != nil {
		return "", "", fmt.Errorf("exec in pod %s/%s: %w", namespace, pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(e.Config, "POST", req.URL())
	if err != nil {
		return "", "", fmt.Errorf("exec in pod %s/%s: %w", namespace, pod, err)
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool { return true })
	if err != nil {
		return "", "", fmt.Errorf("exec in pod %s/%s: %w", namespace, pod, err)
	}
	var stdout, stderr bytes.Buffer
	if err := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr}); err != nil {
		return stdout.String(), stderr.String(), fmt.Errorf("exec %q in pod %s/%s: %w", command, namespace, pod, err)
	}
	return stdout.String(), stderr.String(), nil
}

// NewKube is the cluster of config as the upgrade guards reach it, their
// commands run in the pods through the API's exec (APIExec).
func NewKube(config *rest.Config) (*components.Kube, error) {
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	dyn, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return &components.Kube{Client: cs, Dynamic: dyn, Exec: APIExec{Config: config, Client: cs}}, nil
}

// plannedGuards says, touching nothing, which upgrade guards a deploy of
// the component's phase p would run and why ("the image upgrade of RabbitMQ
// cluster rabbitmq-nova: A to B"); none when no guarded object changes
// version or the stack has no cluster.
func (s *Stack) plannedGuards(ctx context.Context, c *components.Component, p components.Phase) ([]string, error) {
	if len(c.UpgradeGuards(s.Config)) == 0 || s.Cluster == nil {
		return nil, nil
	}
	cfg, _ := s.lenient(true)
	objs, err := objects(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("objects of %s: %w", c.Name, err)
	}
	gs, err := s.observeGuards(ctx, c, phaseObjects(objs, p))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.describe())
	}
	return out, nil
}
