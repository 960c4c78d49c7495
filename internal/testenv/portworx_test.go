package testenv

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// TestPortworxStandIn: the stand-in of Portworx's operator creates the
// CRD of StorageClusters once the operator's Deployment has an available
// replica, and not before, nor for a Deployment annotated StandInPaused;
// a second pass leaves the CRD as it is.
func TestPortworxStandIn(t *testing.T) {
	ctx := context.Background()
	deployment := func(available int32, paused bool) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: portworxOperatorName, Namespace: portworxOperatorNamespace}}
		d.Status.AvailableReplicas = available
		if paused {
			d.Annotations = map[string]string{StandInPaused: "true"}
		}
		return d
	}
	for _, tc := range []struct {
		name    string
		objs    []runtime.Object
		wantCRD bool
	}{
		{"no operator", nil, false},
		{"the operator not up yet", []runtime.Object{deployment(0, false)}, false},
		{"the operator up", []runtime.Object{deployment(1, false)}, true},
		{"the operator paused", []runtime.Object{deployment(1, true)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset(tc.objs...)
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{crdResource: "CustomResourceDefinitionList"})
			for range 2 {
				if err := portworxStandInPass(ctx, cs, dyn); err != nil {
					t.Fatal(err)
				}
			}
			crd, err := dyn.Resource(crdResource).Get(ctx, PortworxStorageClusterCRD, metav1.GetOptions{})
			switch {
			case tc.wantCRD && err != nil:
				t.Errorf("no CRD: %v", err)
			case !tc.wantCRD && !apierrors.IsNotFound(err):
				t.Errorf("CRD %v, %v; want none", crd, err)
			case tc.wantCRD && crd.Object["spec"].(map[string]any)["group"] != "core.libopenstorage.org":
				t.Errorf("CRD %v, want the group core.libopenstorage.org", crd.Object)
			}
		})
	}
}
