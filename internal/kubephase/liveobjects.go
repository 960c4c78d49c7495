package kubephase

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// ObjectReader reads live objects.
type ObjectReader interface {
	// Live is the object of that kind and name; found is false when it,
	// or its kind, is not there.
	Live(ctx context.Context, apiVersion, kind, namespace, name string) (obj map[string]any, found bool, err error)
}

// LiveObjects reads live objects through a dynamic client, their kinds
// mapped to resources by Mapper.
type LiveObjects struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// Live implements ObjectReader. A cluster-scoped kind's namespace is
// ignored.
func (l LiveObjects) Live(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false, fmt.Errorf("%s %s: %w", kind, name, err)
	}
	mapping, err := l.Mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if meta.IsNoMatchError(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s %s: %w", kind, name, err)
	}
	var r dynamic.ResourceInterface = l.Dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		r = l.Dynamic.Resource(mapping.Resource).Namespace(namespace)
	}
	obj, err := r.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s %s/%s: %w", kind, namespace, name, err)
	}
	return obj.Object, true, nil
}
