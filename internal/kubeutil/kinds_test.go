package kubeutil

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

// learningMapper knows its kinds only after a number of resets, as a
// discovery that serves a new CRD a moment after it is Established.
type learningMapper struct {
	*meta.DefaultRESTMapper
	mu         sync.Mutex
	resets     int
	learnAfter int // -1: never
	kind       schema.GroupVersionKind
}

func (m *learningMapper) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resets++
	if m.learnAfter >= 0 && m.resets >= m.learnAfter {
		m.DefaultRESTMapper.Add(m.kind, meta.RESTScopeNamespace)
	}
}

func crd(group, kind, version string, established bool) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": strings.ToLower(kind) + "s." + group},
		"spec": map[string]any{
			"group":    group,
			"names":    map[string]any{"kind": kind, "plural": strings.ToLower(kind) + "s"},
			"versions": []any{map[string]any{"name": version, "served": true, "storage": true}},
		},
	}}
	if established {
		u.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Established", "status": "True"}}}
	}
	return u
}

func TestKindResolver(t *testing.T) {
	kind := schema.GroupVersionKind{Group: "race.atmosphere.test", Version: "v1", Kind: "Race"}
	tests := []struct {
		name       string
		crds       []runtime.Object
		learnAfter int
		known      bool
		version    string
		// want: "ok", "no match" or the KindNotServedError's Why.
		want string
	}{
		{name: "known kind", known: true, learnAfter: -1, want: "ok"},
		{name: "served after a reset", learnAfter: 1, want: "ok"},
		{name: "CRD established, served after a few polls", crds: []runtime.Object{crd(kind.Group, kind.Kind, "v1", true)}, learnAfter: 4, want: "ok"},
		{name: "no CRD provides the kind", learnAfter: -1, want: "no match"},
		{name: "a CRD of another kind", crds: []runtime.Object{crd(kind.Group, "Other", "v1", true)}, learnAfter: -1, want: "no match"},
		{name: "the CRD serves another version", crds: []runtime.Object{crd(kind.Group, kind.Kind, "v1", true)}, version: "v2", learnAfter: -1, want: "no match"},
		{name: "CRD never established", crds: []runtime.Object{crd(kind.Group, kind.Kind, "v1", false)}, learnAfter: -1, want: "not Established"},
		{name: "CRD established, never served", crds: []runtime.Object{crd(kind.Group, kind.Kind, "v1", true)}, learnAfter: -1, want: "not served by discovery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &learningMapper{DefaultRESTMapper: meta.NewDefaultRESTMapper(nil), learnAfter: tt.learnAfter, kind: kind}
			if tt.known {
				m.Add(kind, meta.RESTScopeNamespace)
			}
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{crdResource: "CustomResourceDefinitionList"}, tt.crds...)
			r := &KindResolver{Mapper: m, Dynamic: dyn, Interval: 20 * time.Millisecond}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			version := tt.version
			if version == "" {
				version = "v1"
			}
			got, err := r.RESTMapping(ctx, kind.GroupKind(), version)
			var notServed *KindNotServedError
			switch {
			case tt.want == "ok":
				if err != nil || got.GroupVersionKind != kind {
					t.Fatalf("RESTMapping = %v, %v; want the mapping of %s", got, err, kind)
				}
			case tt.want == "no match":
				if !meta.IsNoMatchError(err) || errors.As(err, &notServed) {
					t.Fatalf("err = %v; want a no-match error at once", err)
				}
				if ctx.Err() != nil {
					t.Fatalf("waited for a kind nothing provides: %v", err)
				}
				if !strings.Contains(err.Error(), "Race") {
					t.Errorf("err = %v; want it to name the kind", err)
				}
			default:
				if !errors.As(err, &notServed) || notServed.Why != tt.want || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v; want a KindNotServedError %q bounded by the context", err, tt.want)
				}
				if !strings.Contains(err.Error(), "races.race.atmosphere.test") {
					t.Errorf("err = %v; want it to name the CRD", err)
				}
			}
		})
	}
}

func TestBoundMapperWaits(t *testing.T) {
	kind := schema.GroupVersionKind{Group: "race.atmosphere.test", Version: "v1", Kind: "Race"}
	m := &learningMapper{DefaultRESTMapper: meta.NewDefaultRESTMapper(nil), learnAfter: 3, kind: kind}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{crdResource: "CustomResourceDefinitionList"}, crd(kind.Group, kind.Kind, "v1", true))
	bound := (&KindResolver{Mapper: m, Dynamic: dyn, Interval: 20 * time.Millisecond}).Bind(t.Context())
	ms, err := bound.RESTMappings(kind.GroupKind(), "v1")
	if err != nil || len(ms) != 1 || ms[0].GroupVersionKind != kind {
		t.Fatalf("RESTMappings = %v, %v; want the mapping of %s", ms, err, kind)
	}
}
