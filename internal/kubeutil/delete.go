package kubeutil

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// DeleteGone is how long DeleteAndWait waits for an object to be gone.
const DeleteGone = 2 * time.Minute

// DeleteAndWait deletes an object (its dependents in the background) and
// waits until it is gone, so that Helm can create it again; an object
// already absent is fine.
func DeleteAndWait(ctx context.Context, what string, del func(context.Context, metav1.DeleteOptions) error, get func(context.Context) error) error {
	background := metav1.DeletePropagationBackground
	if err := del(ctx, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DeleteGone)
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
