package manifest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// TestWaitForCRD: the wait ends when the CRD is there and Established —
// at once when it is, or when an operator makes it meanwhile; a CRD never
// made, or never Established, ends the wait at its bound with a
// CRDWaitError naming the CRD and what was missing; a cancelled context
// ends it too.
func TestWaitForCRD(t *testing.T) {
	const name = "storageclusters.core.libopenstorage.org"
	crd := func(established bool) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": name}}}
		if established {
			_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Established", "status": "True"}}, "status", "conditions")
		}
		return u
	}
	applier := func(objs ...runtime.Object) (*Applier, *dynamicfake.FakeDynamicClient) {
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
			map[schema.GroupVersionResource]string{crdResource: "CustomResourceDefinitionList"}, objs...)
		a := NewApplier(dyn, fake.NewClientset(), nil, nil)
		a.Interval = 20 * time.Millisecond
		return a, dyn
	}
	ctx := context.Background()

	a, _ := applier(crd(true))
	if err := a.WaitForCRD(ctx, name, time.Second); err != nil {
		t.Errorf("CRD there: %v", err)
	}

	a, dyn := applier()
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = dyn.Resource(crdResource).Create(ctx, crd(true), metav1.CreateOptions{})
	}()
	start := time.Now()
	if err := a.WaitForCRD(ctx, name, 5*time.Second); err != nil || time.Since(start) < 100*time.Millisecond {
		t.Errorf("CRD made after 150ms: %v after %s", err, time.Since(start))
	}

	for _, tc := range []struct {
		name string
		objs []runtime.Object
		why  string
	}{
		{"never made", nil, "not created"},
		{"never Established", []runtime.Object{crd(false)}, "not Established"},
	} {
		a, _ := applier(tc.objs...)
		err := a.WaitForCRD(ctx, name, 200*time.Millisecond)
		var we *CRDWaitError
		if !errors.As(err, &we) || we.CRD != name || we.Why != tc.why || !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "CustomResourceDefinition "+name) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: error %v, want a CRDWaitError naming %s, %s", tc.name, err, name, tc.why)
		}
	}

	a, _ = applier()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.WaitForCRD(cctx, name, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}
