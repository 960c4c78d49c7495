package kubeutil

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// crdResource is the API resource of CustomResourceDefinitions.
var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// KindResolver resolves kinds to REST mappings, and waits for kinds whose
// CustomResourceDefinition exists but is not served yet.
//
// A CRD that was just created (by a release's crds/, by the operators' CRDs
// applied before an install, or by our own objects) is not served at once:
// the API server first marks it Established, and discovery answers for it
// a moment later. A mapper that refreshes discovery once and gives up fails
// on that moment when the machine is slow. RESTMapping waits instead, as
// long as its context allows, but only for a kind that a CRD in the cluster
// provides: a kind that no CRD and no API group provides fails at once,
// naming the kind.
//
// It is safe for concurrent use when Mapper is.
type KindResolver struct {
	// Mapper resolves kinds; it is reset (which invalidates its discovery)
	// when a kind is unknown.
	Mapper meta.ResettableRESTMapper
	// Dynamic reads CustomResourceDefinitions.
	Dynamic dynamic.Interface
	// Interval is the longest pause between two polls (the first ones are
	// shorter: Backoff); default one second.
	Interval time.Duration
}

// KindNotServedError is returned when a kind's CRD exists but the kind was
// still not served when the context ended.
type KindNotServedError struct {
	Kind schema.GroupVersionKind
	CRD  string
	// Why is what was still missing: "not Established" or "not served by
	// discovery".
	Why string
	Err error
}

func (e *KindNotServedError) Error() string {
	return fmt.Sprintf("kind %s: its CustomResourceDefinition %s is %s: %v", e.Kind, e.CRD, e.Why, e.Err)
}

func (e *KindNotServedError) Unwrap() error { return e.Err }

// RESTMapping returns the mapping of a kind in one of versions (any version
// when none is given). When the kind is unknown it resets the mapper; when
// it is still unknown and a CRD of the cluster provides it, it waits until
// the CRD is Established and discovery serves the kind, bounded by ctx.
// When no CRD provides it, the mapper's no-match error is returned at once
// (meta.IsNoMatchError holds for it).
func (k *KindResolver) RESTMapping(ctx context.Context, gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m, err := k.Mapper.RESTMapping(gk, versions...)
	if !meta.IsNoMatchError(err) {
		return m, err
	}
	k.Mapper.Reset()
	if m, err = k.Mapper.RESTMapping(gk, versions...); !meta.IsNoMatchError(err) {
		return m, err
	}
	name, err := k.crdFor(ctx, gk, versions)
	if err != nil || name == "" {
		return nil, errors.Join(noMatch(gk, versions), err)
	}
	kind := gk.WithVersion("")
	if len(versions) > 0 {
		kind = gk.WithVersion(versions[0])
	}
	interval := k.Interval
	if interval <= 0 {
		interval = time.Second
	}
	backoff := NewBackoff(interval)
	for {
		established, err := k.established(ctx, name)
		why := "not served by discovery"
		switch {
		case err != nil:
			why = "unreadable"
		case !established:
			why = "not Established"
		default:
			k.Mapper.Reset()
			m, err = k.Mapper.RESTMapping(gk, versions...)
			if !meta.IsNoMatchError(err) {
				return m, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, &KindNotServedError{Kind: kind, CRD: name, Why: why, Err: errors.Join(ctx.Err(), err)}
		case <-time.After(backoff.Next()):
		}
	}
}

// crdFor returns the name of the CRD that provides gk in one of versions
// (any version when none is given), or "" when none does.
func (k *KindResolver) crdFor(ctx context.Context, gk schema.GroupKind, versions []string) (string, error) {
	if k.Dynamic == nil {
		return "", nil
	}
	list, err := k.Dynamic.Resource(crdResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list CustomResourceDefinitions for kind %s: %w", gk, err)
	}
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		if group != gk.Group || kind != gk.Kind {
			continue
		}
		if len(versions) == 0 || slices.ContainsFunc(servedVersions(crd), func(v string) bool { return slices.Contains(versions, v) }) {
			return crd.GetName(), nil
		}
	}
	return "", nil
}

// servedVersions are the versions a CRD serves.
func servedVersions(crd unstructured.Unstructured) []string {
	vs, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var out []string
	for _, v := range vs {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if served, _ := m["served"].(bool); served {
			if name, ok := m["name"].(string); ok {
				out = append(out, name)
			}
		}
	}
	return out
}

// established reads a CRD and reports whether it is Established.
func (k *KindResolver) established(ctx context.Context, name string) (bool, error) {
	crd, err := k.Dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("read CustomResourceDefinition %s: %w", name, err)
	}
	return CRDEstablished(crd), nil
}

// CRDEstablished reports whether a CRD's Established condition is True.
func CRDEstablished(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// noMatch is the error of a kind that nothing provides.
func noMatch(gk schema.GroupKind, versions []string) error {
	return &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
}

// Bind returns a RESTMapper whose RESTMapping and RESTMappings wait as
// RESTMapping above, bounded by ctx: for a library (Helm's kube client)
// that takes a RESTMapper and no context.
func (k *KindResolver) Bind(ctx context.Context) meta.ResettableRESTMapper {
	return &boundMapper{ResettableRESTMapper: k.Mapper, resolver: k, ctx: ctx}
}

type boundMapper struct {
	meta.ResettableRESTMapper
	resolver *KindResolver
	ctx      context.Context
}

func (b *boundMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	return b.resolver.RESTMapping(b.ctx, gk, versions...)
}

func (b *boundMapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	ms, err := b.ResettableRESTMapper.RESTMappings(gk, versions...)
	if !meta.IsNoMatchError(err) {
		return ms, err
	}
	if _, err := b.resolver.RESTMapping(b.ctx, gk, versions...); err != nil {
		return nil, err
	}
	return b.ResettableRESTMapper.RESTMappings(gk, versions...)
}
