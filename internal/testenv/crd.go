package testenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// NewKind is a kind of a group no other test uses, for CRD.
func NewKind(kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: fmt.Sprintf("g%08x.crd.atmosphere.test", rand.Uint32()), Version: "v1", Kind: kind}
}

// CRD is the namespaced CustomResourceDefinition of a kind (NewKind), whose
// objects may hold any fields.
func CRD(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	plural := strings.ToLower(gvk.Kind) + "s"
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": plural + "." + gvk.Group},
		"spec": map[string]any{
			"group": gvk.Group,
			"scope": "Namespaced",
			"names": map[string]any{"kind": gvk.Kind, "plural": plural, "singular": strings.ToLower(gvk.Kind), "listKind": gvk.Kind + "List"},
			"versions": []any{map[string]any{
				"name": gvk.Version, "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
}

// CreateCRD creates the CRD of a kind and returns at once, without waiting
// for it to be Established or served: for tests of what applies an object
// of a kind that was just created. The CRD is deleted when the test ends.
func CreateCRD(t testing.TB, cfg *rest.Config, gvk schema.GroupVersionKind) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crd := CRD(gvk)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := dyn.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CustomResourceDefinition %s: %v", crd.GetName(), err)
	}
	DeleteCRDAtEnd(t, cfg, gvk)
}

// DeleteCRDAtEnd deletes the CRD of a kind (CRD) when the test ends,
// whoever made it.
func DeleteCRDAtEnd(t testing.TB, cfg *rest.Config, gvk schema.GroupVersionKind) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := CRD(gvk).GetName()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dyn.Resource(crdResource).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Logf("delete CustomResourceDefinition %s: %v", name, err)
		}
	})
}
