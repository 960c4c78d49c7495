package manifest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Drift is one object whose live state is not what atmosphere applied.
type Drift struct {
	// Object is "<Kind> <namespace>/<name>" ("<Kind> <name>" when
	// cluster-scoped).
	Object string `json:"object"`
	// Missing is true when the object is gone.
	Missing bool `json:"missing,omitempty"`
	// Fields are the fields that differ, by path.
	Fields []FieldDrift `json:"fields,omitempty"`
}

// FieldDrift is one field of an object that is not what was applied.
type FieldDrift struct {
	// Path is the field's path ("spec.replicas", "data.password",
	// "spec.template.spec.containers[0].image").
	Path string `json:"path"`
	// Applied and Live are the field's values as JSON ("" when absent).
	// Both are empty for a Secret's data: its values are never shown.
	Applied string `json:"applied,omitempty"`
	Live    string `json:"live,omitempty"`
}

// shortValue is how much of a value String shows.
const shortValue = 40

// String is "spec.replicas 1 → 3", "data.password changed" (a Secret's
// value), "data.b (absent) → \"2\""; a value longer than 40 characters is
// cut short ("…"), JSON has it whole.
func (f FieldDrift) String() string {
	if f.Applied == "" && f.Live == "" {
		return f.Path + " changed"
	}
	show := func(s string) string {
		switch r := []rune(s); {
		case s == "":
			return "(absent)"
		case len(r) > shortValue:
			return string(r[:shortValue]) + "…"
		}
		return s
	}
	return f.Path + " " + show(f.Applied) + " → " + show(f.Live)
}

// String is "Deployment openstack/keystone-api: spec.replicas 1 → 3;
// ..." or "ConfigMap openstack/x: missing".
func (d Drift) String() string {
	if d.Missing {
		return d.Object + ": missing"
	}
	parts := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		parts[i] = f.String()
	}
	return d.Object + ": " + strings.Join(parts, "; ")
}

// Compare names the fields of live that are not as in applied.
//
// The rule: only the fields atmosphere set are compared, that is the
// fields present in what it applied, walked from its root. A map is
// compared key by key, for the keys applied holds (the fields the API
// server defaults, and those other controllers add, are not ours and are
// ignored); a list is compared item by item when it has as many items as
// applied (so the defaults the server puts in each container are ignored),
// and as a whole when its length changed; a scalar is compared by value
// (numbers as numbers). An empty value applied ("", false, 0, [], {}) and
// absent live is the same (the API's types omit empty fields). metadata is compared only for its labels and
// annotations (the rest is the server's), status never (it is no one's
// spec). A Secret's stringData is compared as the data it becomes, and a
// Secret's data is reported by key, never with its values.
func Compare(applied, live *unstructured.Unstructured) []FieldDrift {
	want := secretAsData(applied).Object
	got := live.Object
	secret := applied.GetKind() == "Secret" && applied.GroupVersionKind().Group == ""
	var out []FieldDrift
	keys := sortedKeys(want)
	for _, k := range keys {
		switch k {
		case "apiVersion", "kind", "status":
			continue
		case "metadata":
			wm, _ := want[k].(map[string]any)
			gm, _ := got[k].(map[string]any)
			for _, mk := range []string{"labels", "annotations"} {
				if w, ok := wm[mk]; ok {
					out = compareValue(out, "metadata."+mk, w, gm[mk], false)
				}
			}
			continue
		}
		out = compareValue(out, k, want[k], got[k], secret && (k == "data" || k == "stringData"))
	}
	return out
}

// compareValue appends the drift of live from want at path. hidden fields
// are reported without values.
func compareValue(out []FieldDrift, path string, want, live any, hidden bool) []FieldDrift {
	switch w := want.(type) {
	case map[string]any:
		if live == nil && len(w) == 0 {
			return out // {} applied: dropped as empty
		}
		l, ok := live.(map[string]any)
		if !ok {
			return append(out, field(path, want, live, hidden))
		}
		for _, k := range sortedKeys(w) {
			out = compareValue(out, join(path, k), w[k], l[k], hidden)
		}
		return out
	case []any:
		if live == nil && len(w) == 0 {
			return out // [] applied: dropped as empty
		}
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return append(out, field(path, want, live, hidden))
		}
		for i := range w {
			out = compareValue(out, path+"["+strconv.Itoa(i)+"]", w[i], l[i], hidden)
		}
		return out
	case nil:
		return out // applied as null: nothing set
	}
	if live == nil && isZero(want) {
		return out // the API's types omit empty fields ("", false, 0)
	}
	if !sameScalar(want, live) {
		return append(out, field(path, want, live, hidden))
	}
	return out
}

// isZero reports whether a scalar is its type's zero value.
func isZero(v any) bool {
	if f, ok := number(v); ok {
		return f == 0
	}
	return v == "" || v == false
}

func field(path string, want, live any, hidden bool) FieldDrift {
	if hidden {
		return FieldDrift{Path: path}
	}
	return FieldDrift{Path: path, Applied: show(want), Live: show(live)}
}

func show(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sameScalar compares scalars, numbers as numbers (int64 from the API
// server, float64 from YAML).
func sameScalar(a, b any) bool {
	// A quantity ("1000m", 1, "1024Mi") is kept by the server in its
	// canonical form ("1", "1Gi"): the same amount is no drift.
	if qa, ok := quantity(a); ok {
		if qb, ok := quantity(b); ok && qa.Cmp(qb) == 0 {
			return true
		}
	}
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return a == b
}

func quantity(v any) (resource.Quantity, bool) {
	s := fmt.Sprint(v)
	if _, ok := v.(string); !ok {
		if _, isNum := number(v); !isNum {
			return resource.Quantity{}, false
		}
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// join makes "a.b", or "a[\"b.c\"]" for a key with a dot (labels,
// annotations).
func join(path, k string) string {
	if strings.ContainsAny(k, "./") {
		return path + "[" + strconv.Quote(k) + "]"
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// objectName is "Kind ns/name" or "Kind name".
func objectName(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// CompareLive reads each object (a namespaced one without a namespace is
// in namespace) and compares it with the object as given (Compare): the
// drifted and missing ones, in the order given. It changes nothing.
func (a *Applier) CompareLive(ctx context.Context, objs []*unstructured.Unstructured, namespace string) ([]Drift, error) {
	var out []Drift
	for _, o := range objs {
		m, err := a.mapping(ctx, o.GroupVersionKind())
		if err != nil {
			return nil, fmt.Errorf("compare %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		want := o.DeepCopy()
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if want.GetNamespace() == "" {
				want.SetNamespace(namespace)
			}
		} else {
			want.SetNamespace("")
		}
		d, err := a.compareOne(ctx, want, a.resource(m, want.GetNamespace()).Get)
		if err != nil {
			return nil, err
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}

func (a *Applier) compareOne(ctx context.Context, want *unstructured.Unstructured,
	get func(context.Context, string, metav1.GetOptions, ...string) (*unstructured.Unstructured, error)) (*Drift, error) {
	live, err := get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &Drift{Object: objectName(want), Missing: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", objectName(want), err)
	}
	if f := Compare(want, live); len(f) > 0 {
		return &Drift{Object: objectName(want), Fields: f}, nil
	}
	return nil, nil
}

// Drift compares the live objects of a set that was applied with what was
// applied: the objects of the set whose digest is the one the inventory
// recorded (they are what was applied). It changes nothing. An object
// rendered otherwise since (the next deploy changes it anyway), a
// create-only object (made once, never put back) and an object the set
// does not hold are not compared. No inventory: nothing was applied, no
// drift.
func (a *Applier) Drift(ctx context.Context, set Set) ([]Drift, error) {
	old, stored, err := a.readInventory(ctx, set)
	if err != nil || stored == nil {
		return nil, err
	}
	objs, err := a.prepare(ctx, set)
	if err != nil {
		return nil, err
	}
	last := map[string]applied{}
	for _, r := range old {
		last[r.key()] = r.applied
	}
	var out []Drift
	for _, p := range objs {
		rec, ok := last[p.ref.key()]
		if p.createOnly || !ok || rec.Digest != p.digest {
			continue
		}
		d, err := a.compareOne(ctx, p.obj, a.resource(p.mapping, p.obj.GetNamespace()).Get)
		if err != nil {
			return nil, fmt.Errorf("component %s: %w", set.Component, err)
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}
