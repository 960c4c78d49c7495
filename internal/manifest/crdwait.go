package manifest

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// CRDWaitError is a CustomResourceDefinition that an operator was to
// create and that was not there, or not Established, when the wait for it
// ended.
type CRDWaitError struct {
	// CRD is the CustomResourceDefinition's name.
	CRD string
	// Waited is how long it was waited for.
	Waited time.Duration
	// Why is what was still missing: "not created" or "not Established".
	Why string
	// Err is why the wait ended (a deadline, a cancellation).
	Err error
}

func (e *CRDWaitError) Error() string {
	return fmt.Sprintf("CustomResourceDefinition %s, which its operator creates when it runs, was %s within %s: %v",
		e.CRD, e.Why, e.Waited.Round(time.Second), e.Err)
}

func (e *CRDWaitError) Unwrap() error { return e.Err }

// WaitForCRD waits until the CustomResourceDefinition named name is in
// the cluster and Established, as a role's k8s_info retried until it finds
// it: an operator creates it at runtime, so that it is neither a chart's
// nor an object anyone applies. It tells the run what it waits on, polls
// (kubeutil.Backoff up to Interval), and gives up after timeout or when
// ctx ends, with a *CRDWaitError naming the CRD and what was missing. A
// read that fails other than by the CRD's absence (or a transient error)
// ends the wait at once.
func (a *Applier) WaitForCRD(ctx context.Context, name string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "CustomResourceDefinition " + name + " (its operator creates it)"})
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	poll := kubeutil.NewBackoff(a.Interval)
	for {
		crd, err := a.dynamic.Resource(crdResource).Get(wctx, name, metav1.GetOptions{})
		why := "not created"
		switch {
		case err == nil && kubeutil.CRDEstablished(crd):
			a.log.Info("custom resource definition is there", "crd", name, "waited", time.Since(start).Round(time.Millisecond).String())
			return nil
		case err == nil:
			why = "not Established"
		case wctx.Err() != nil:
		case !apierrors.IsNotFound(err) && !kubeutil.IsTransient(err):
			return fmt.Errorf("wait for CustomResourceDefinition %s: %w", name, err)
		}
		select {
		case <-wctx.Done():
			err := wctx.Err()
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return &CRDWaitError{CRD: name, Waited: time.Since(start), Why: why, Err: err}
		case <-time.After(poll.Next()):
		}
	}
}
