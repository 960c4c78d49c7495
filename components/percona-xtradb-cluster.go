package components

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs percona-xtradb-cluster reads
// (roles/percona_xtradb_cluster/defaults/main.yml).
var (
	perconaXtradbClusterKnobs = knobsOf("percona-xtradb-cluster")
	// perconaXtradbClusterSpec is laid over the PerconaXtraDBCluster's spec,
	// as the role's combine(recursive=True): mappings merged key by key,
	// anything else (lists included) replaced.
	perconaXtradbClusterSpec = perconaXtradbClusterKnobs.mapping("percona_xtradb_cluster_spec", nil)
)

// perconaXtradbCluster declares percona-xtradb-cluster, with what it renders.
func perconaXtradbCluster() *Component {
	c := timeout(manifests("percona-xtradb-cluster", openstack, 91, withStorage("percona-xtradb-cluster-operator"), kubeAPI), 10*time.Minute)
	c.objects = perconaXtradbClusterObjects
	c.guards = []UpgradeGuard{perconaXtradbClusterGuard()}
	return c
}

// perconaXtradbClusterObjects are the objects percona-xtradb-cluster
// applies itself: the Secret of its users' generated passwords (created
// once, never changed), then the cluster and the Service of its haproxy's
// metrics (percona-xtradb-cluster.objects.yaml), the cluster's images
// from the image table, as the role's, and the inventory's
// percona_xtradb_cluster_spec laid over the cluster's spec.
func perconaXtradbClusterObjects(s Settings) ([]Object, error) {
	passwords := map[string]any{}
	for _, k := range []string{"clustercheck", "monitor", "operator", "proxyadmin", "replication", "root", "xtrabackup"} {
		p, err := password(32)
		if err != nil {
			return nil, err
		}
		passwords[k] = p
	}
	secret := object(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "percona-xtradb"},
		"stringData": passwords,
	})
	secret.CreateOnly = true
	cluster, err := staticObjects("percona-xtradb-cluster")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	for _, img := range []struct{ key, at string }{{"percona_xtradb_cluster", "pxc"}, {"percona_xtradb_cluster_haproxy", "haproxy"}} {
		ref := r.image(img.key)
		if r.err != nil {
			return nil, r.err
		}
		if err := unstructured.SetNestedField(cluster[0].Object, ref.String(), "spec", img.at, "image"); err != nil {
			return nil, fmt.Errorf("image of the Percona XtraDB cluster's %s: %w", img.at, err)
		}
	}
	if over := r.copyOf(perconaXtradbClusterSpec); len(over) > 0 {
		spec, _ := cluster[0].Object["spec"].(map[string]any)
		cluster[0].Object["spec"] = map[string]any(values.Merge(values.Values(spec), over))
	}
	if r.err != nil {
		return nil, fmt.Errorf("the Percona XtraDB cluster's spec: %w", r.err)
	}
	return append([]Object{secret}, cluster...), nil
}

// perconaXtradbClusterGuard is the percona_xtradb_cluster role's version
// upgrade, run when the cluster's pxc image changes: the cluster must be
// healthy first (state ready, every member ready), or nothing is touched;
// from 5.7 to 8 the role's operator handling (the operator stopped, the
// StatefulSet's image set and rolled out, the cluster's image set, the
// operator started again); then, once the new image is applied, the wait
// until the cluster reports ready with the new version.
func perconaXtradbClusterGuard() UpgradeGuard {
	return UpgradeGuard{
		What:       "the version upgrade of the Percona XtraDB cluster",
		APIVersion: "pxc.percona.com/v1", Kind: "PerconaXtraDBCluster", Name: "percona-xtradb",
		Version: func(u *unstructured.Unstructured) string {
			image, _, _ := unstructured.NestedString(u.Object, "spec", "pxc", "image")
			return image
		},
		Before: pxcBeforeUpgrade,
		After:  pxcAfterUpgrade,
	}
}

// pxcHealth says what is not healthy in a PerconaXtraDBCluster's status,
// as its operator reports it; "" when the cluster is ready with every
// member ready.
func pxcHealth(u *unstructured.Unstructured) string {
	state, _, _ := unstructured.NestedString(u.Object, "status", "state")
	ready, _, _ := unstructured.NestedInt64(u.Object, "status", "pxc", "ready")
	size, _, _ := unstructured.NestedInt64(u.Object, "status", "pxc", "size")
	if want, ok, _ := unstructured.NestedInt64(u.Object, "spec", "pxc", "size"); ok && want > size {
		size = want
	}
	if state == "ready" && ready >= size && size > 0 {
		return ""
	}
	if state == "" {
		state = "none"
	}
	return fmt.Sprintf("state %s, %d of %d members ready", state, ready, size)
}

// pxcBeforeUpgrade refuses an upgrade of a cluster that is not healthy,
// and does the role's operator handling of an upgrade from 5.7 to 8.
func pxcBeforeUpgrade(ctx context.Context, k Kube, live, want *unstructured.Unstructured) error {
	from, _, _ := unstructured.NestedString(live.Object, "spec", "pxc", "image")
	to, _, _ := unstructured.NestedString(want.Object, "spec", "pxc", "image")
	if bad := pxcHealth(live); bad != "" {
		return fmt.Errorf("PerconaXtraDBCluster %s/%s is not healthy (%s): fix the cluster before its upgrade from %s to %s; nothing was changed",
			live.GetNamespace(), live.GetName(), bad, from, to)
	}
	version, _, _ := unstructured.NestedString(live.Object, "status", "pxc", "version")
	if !strings.HasPrefix(version, "5.7") || !strings.HasPrefix(imageTag(to), "8.") {
		return nil
	}
	return pxcMajorUpgrade(ctx, k, live, to)
}

// pxcMajorUpgrade is the role's upgrade from 5.7 to 8: the operator is
// stopped (it would undo the StatefulSet's image), the StatefulSet of the
// cluster's members gets the new image and is waited for until every
// replica is ready, the cluster gets the new image and is waited for until
// it is ready, and the operator is started again.
func pxcMajorUpgrade(ctx context.Context, k Kube, live *unstructured.Unstructured, image string) error {
	ns := live.GetNamespace()
	scale := func(n int32) error {
		patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
		if _, err := k.Client.AppsV1().Deployments(ns).Patch(ctx, "pxc-operator", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("scale Deployment %s/pxc-operator to %d: %w", ns, n, err)
		}
		return nil
	}
	if err := scale(0); err != nil {
		return err
	}
	sts := live.GetName() + "-pxc"
	patch := fmt.Appendf(nil, `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":%q}]`, image)
	if _, err := k.Client.AppsV1().StatefulSets(ns).Patch(ctx, sts, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("set the image of StatefulSet %s/%s to %s: %w", ns, sts, image, err)
	}
	err := pollUntil(ctx, "StatefulSet "+ns+"/"+sts+" rolled out", func(ctx context.Context) (string, error) {
		s, err := k.Client.AppsV1().StatefulSets(ns).Get(ctx, sts, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if s.Status.ReadyReplicas != s.Status.Replicas {
			return fmt.Sprintf("%d of %d replicas ready", s.Status.ReadyReplicas, s.Status.Replicas), nil
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	res := k.Dynamic.Resource(pxcResource).Namespace(ns)
	spec := fmt.Appendf(nil, `{"spec":{"pxc":{"image":%q}}}`, image)
	if _, err := res.Patch(ctx, live.GetName(), types.MergePatchType, spec, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("set the image of PerconaXtraDBCluster %s/%s to %s: %w", ns, live.GetName(), image, err)
	}
	if err := pxcWaitVersion(ctx, k, ns, live.GetName(), image); err != nil {
		return err
	}
	return scale(1)
}

// pxcAfterUpgrade waits until the cluster reports ready with the new
// image's version.
func pxcAfterUpgrade(ctx context.Context, k Kube, _, want *unstructured.Unstructured) error {
	image, _, _ := unstructured.NestedString(want.Object, "spec", "pxc", "image")
	return pxcWaitVersion(ctx, k, want.GetNamespace(), want.GetName(), image)
}

// pxcWaitVersion waits until the cluster's status says it is healthy
// and runs the version of image (its operator's status.pxc.version).
func pxcWaitVersion(ctx context.Context, k Kube, namespace, name, image string) error {
	version := imageTag(image)
	return pollUntil(ctx, fmt.Sprintf("PerconaXtraDBCluster %s/%s ready at %s", namespace, name, version), func(ctx context.Context) (string, error) {
		u, err := k.Dynamic.Resource(pxcResource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if got, _, _ := unstructured.NestedString(u.Object, "status", "pxc", "version"); got != version {
			return fmt.Sprintf("version %q", got), nil
		}
		return pxcHealth(u), nil
	})
}

// pxcResource is the resource of PerconaXtraDBClusters.
var pxcResource = schema.GroupVersionResource{Group: "pxc.percona.com", Version: "v1", Resource: "perconaxtradbclusters"}
