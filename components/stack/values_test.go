package stack

import (
	"context"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
)

func TestEveryOwnValuesAndObjectsParse(t *testing.T) {
	reg := components.Default()
	for name := range ownValues {
		t.Run("values "+name, func(t *testing.T) {
			if _, ok := reg.Get(name); !ok {
				t.Fatalf("own values for unknown component %s", name)
			}
			v, err := OwnValues(name, DefaultSettings(), nil)
			if err != nil || len(v) == 0 {
				t.Errorf("OwnValues = %v, %v", v, err)
			}
		})
	}
	for name := range objects {
		t.Run("objects "+name, func(t *testing.T) {
			if _, ok := reg.Get(name); !ok {
				t.Fatalf("objects for unknown component %s", name)
			}
			objs, err := Objects(name, DefaultSettings())
			if err != nil || len(objs) == 0 {
				t.Fatalf("Objects = %d, %v", len(objs), err)
			}
			for i, o := range objs {
				if o.GetKind() == "" || o.GetAPIVersion() == "" || o.GetName() == "" {
					t.Errorf("object %d lacks kind, apiVersion or name: %v", i, o.Object)
				}
			}
		})
	}
}

func TestOverridesLayerOverOwnValues(t *testing.T) {
	s := &Stack{Config: DefaultSettings(), Overrides: map[string]values.Values{
		"loki": {"singleBinary": map[string]any{"replicas": 3}, "lokiCanary": nil},
	}}
	c, _ := components.Default().Get("loki")
	v, err := s.Values(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := values.Get(v, "singleBinary.replicas"); got != 3 {
		t.Errorf("override lost: %v", got)
	}
	if got, _ := values.Get(v, "singleBinary.persistence.size"); got != "256Gi" {
		t.Errorf("own value lost: %v", got)
	}
	if got, ok := values.Get(v, "lokiCanary"); !ok || got != nil {
		t.Errorf("null must stay to delete the chart default: %v %v", got, ok)
	}
}

func TestPasswordsAreRandomAndCreatedOnce(t *testing.T) {
	a, _ := Objects("percona-xtradb-cluster", DefaultSettings())
	b, _ := Objects("percona-xtradb-cluster", DefaultSettings())
	if !a[0].CreateOnly || a[0].GetKind() != "Secret" {
		t.Fatalf("first object %s create-only %v", a[0].GetKind(), a[0].CreateOnly)
	}
	pa, _ := values.Get(a[0].Object, "stringData.root")
	pb, _ := values.Get(b[0].Object, "stringData.root")
	if pa == pb || len(pa.(string)) != 32 {
		t.Errorf("passwords %q and %q", pa, pb)
	}
}

// A component whose chart is not in the catalogue fails before anything
// is applied or installed (the stack has no clients to touch anything).
func TestBadChartChangesNothing(t *testing.T) {
	s := &Stack{Config: DefaultSettings(), Charts: &charts.Loader{Catalog: charts.Default()}}
	c := &components.Component{Name: "valkey", Release: "valkey", Namespace: "openstack",
		Chart: &charts.Ref{Name: "valkey", Version: "0.0.0-missing"}}
	err := s.Deploy(context.Background(), c, components.Phase{Name: "install", Kind: components.Helm})
	if err == nil || !strings.Contains(err.Error(), "valkey@0.0.0-missing is not in the catalogue") {
		t.Errorf("err = %v", err)
	}
}
