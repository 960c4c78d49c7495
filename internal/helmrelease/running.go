package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
)

// Running is what the running cloud holds of a release: the user values
// of its last deployed revision (what `helm get values` shows: the values
// given to install or upgrade, without the chart's defaults).
type Running struct {
	// Found is false when the release has no deployed revision.
	Found bool
	// Config are the user values of the last deployed revision.
	Config map[string]any
	// Revision is that revision.
	Revision int
	// Ours says atmosphere made the release's last revision (it carries
	// LabelChartDigest): a release another tool made (Helm's CLI, the
	// Ansible collection's kubernetes.core.helm) is not ours until
	// atmosphere deploys or adopts it.
	Ours bool
}

// Running reads the release name of namespace from Helm's storage (its
// Secrets) as it is: the last deployed revision's user values, and
// whether atmosphere made its last revision. It touches nothing.
func (d *Deployer) Running(ctx context.Context, namespace, name string) (Running, error) {
	if err := ctx.Err(); err != nil {
		return Running{}, err
	}
	// The storage alone: no action configuration (it would reset the
	// shared REST mapper) is needed to read a release.
	st := storage.Init(driver.NewSecrets(d.factory.Clientset().CoreV1().Secrets(namespace)))
	r, err := runningFrom(st, name)
	if err != nil {
		return Running{}, fmt.Errorf("read release %s/%s: %w", namespace, name, err)
	}
	return r, nil
}

// runningFrom reads release name from Helm's storage st.
func runningFrom(st *storage.Storage, name string) (Running, error) {
	deployed, err := st.Deployed(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || errors.Is(err, driver.ErrNoDeployedReleases) {
		return Running{}, nil
	}
	if err != nil {
		return Running{}, err
	}
	out := Running{Found: true, Config: deployed.Config, Revision: deployed.Version, Ours: isOurs(deployed)}
	if last, err := st.Last(name); err == nil && last.Version != deployed.Version {
		out.Ours = isOurs(last)
	} else if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return Running{}, err
	}
	return out, nil
}

// isOurs says atmosphere made the revision r.
func isOurs(r *release.Release) bool { return r.Labels[LabelChartDigest] != "" }

// DeployedRelease is a release with a deployed revision, as its storage
// Secret's labels tell it.
type DeployedRelease struct {
	Namespace, Name string
	Revision        int
	// Ours says atmosphere made the deployed revision (LabelChartDigest):
	// a release whose deployed revision is not ours may still have a
	// later revision atmosphere made (a failed upgrade); Running tells.
	Ours bool
}

// String is "namespace/name".
func (r DeployedRelease) String() string { return r.Namespace + "/" + r.Name }

// secretsResource is what Helm keeps its releases in.
var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// DeployedReleases lists the releases of every namespace that have a
// deployed revision, in namespace and name order, from one request for the
// metadata of Helm's storage Secrets (owner=helm, status=deployed): no
// release's content is read.
func (d *Deployer) DeployedReleases(ctx context.Context) ([]DeployedRelease, error) {
	mc, err := metadata.NewForConfig(d.factory.RESTConfig())
	if err != nil {
		return nil, fmt.Errorf("list the deployed releases: %w", err)
	}
	return ListDeployed(ctx, mc)
}

// ListDeployed is DeployedReleases over a metadata client.
func ListDeployed(ctx context.Context, mc metadata.Interface) ([]DeployedRelease, error) {
	list, err := mc.Resource(secretsResource).Namespace(metav1.NamespaceAll).List(ctx,
		metav1.ListOptions{LabelSelector: "owner=helm,status=deployed"})
	if err != nil {
		return nil, fmt.Errorf("list the deployed releases: %w", err)
	}
	var out []DeployedRelease
	for _, item := range list.Items {
		l := item.Labels
		if l["name"] == "" {
			continue
		}
		v, _ := strconv.Atoi(l["version"])
		out = append(out, DeployedRelease{Namespace: item.Namespace, Name: l["name"], Revision: v, Ours: l[LabelChartDigest] != ""})
	}
	slices.SortFunc(out, func(a, b DeployedRelease) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return b.Revision - a.Revision
	})
	// Helm keeps one deployed revision; an interrupted run may leave two:
	// the latest is the release's.
	return slices.CompactFunc(out, func(a, b DeployedRelease) bool { return a.Namespace == b.Namespace && a.Name == b.Name }), nil
}
