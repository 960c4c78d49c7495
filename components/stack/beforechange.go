package stack

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// beforeChange removes, before a component's release is installed,
// upgraded or rolled back, what its chart cannot change in place, as the
// roles do before their Helm task. Nothing is removed when the release is
// unchanged.
var beforeChange = map[string]func(ctx context.Context, client kubernetes.Interface, namespace string) error{
	// nova's bootstrap and cell-setup Jobs are not Helm hooks, and a
	// Job's template cannot change: the upgrade would be refused
	// (roles/nova: "Remove nova-bootstrap and nova-cell-setup job").
	"nova": func(ctx context.Context, client kubernetes.Interface, namespace string) error {
		jobs := client.BatchV1().Jobs(namespace)
		for _, name := range []string{"nova-bootstrap", "nova-cell-setup"} {
			err := deleteAndWait(ctx, "Job "+namespace+"/"+name,
				func(ctx context.Context, opts metav1.DeleteOptions) error { return jobs.Delete(ctx, name, opts) },
				func(ctx context.Context) error { _, err := jobs.Get(ctx, name, metav1.GetOptions{}); return err })
			if err != nil {
				return err
			}
		}
		return nil
	},
	// ovn-controller's selector no longer has the "type" label, and a
	// DaemonSet's selector cannot change: one made with it is deleted
	// (roles/ovn: "Replace unnecessary label in ovn-controller daemonset").
	"ovn": func(ctx context.Context, client kubernetes.Interface, namespace string) error {
		sets := client.AppsV1().DaemonSets(namespace)
		ds, err := sets.Get(ctx, "ovn-controller", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read DaemonSet %s/ovn-controller: %w", namespace, err)
		}
		if ds.Spec.Selector == nil || ds.Spec.Selector.MatchLabels["type"] == "" {
			return nil
		}
		return deleteAndWait(ctx, "DaemonSet "+namespace+"/ovn-controller",
			func(ctx context.Context, opts metav1.DeleteOptions) error {
				opts.Preconditions = &metav1.Preconditions{UID: &ds.UID}
				return sets.Delete(ctx, ds.Name, opts)
			},
			func(ctx context.Context) error {
				got, err := sets.Get(ctx, ds.Name, metav1.GetOptions{})
				if err == nil && got.UID != ds.UID {
					return apierrors.NewNotFound(ds.GroupVersionKind().GroupVersion().WithResource("daemonsets").GroupResource(), ds.Name)
				}
				return err
			})
	},
}

// deleteGone is how long deleteAndWait waits for an object to be gone.
const deleteGone = 2 * time.Minute

// deleteAndWait deletes an object (its dependents in the background) and
// waits until it is gone, so that Helm can create it again; an object
// already absent is fine.
func deleteAndWait(ctx context.Context, what string, del func(context.Context, metav1.DeleteOptions) error, get func(context.Context) error) error {
	background := metav1.DeletePropagationBackground
	if err := del(ctx, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, deleteGone)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := get(ctx)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return fmt.Errorf("wait for %s to be deleted: %w", what, err)
	}
	return nil
}
