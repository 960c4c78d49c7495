// Package values layers Helm values: a chart's defaults, then a component's
// own values, then the operator's overrides. Maps merge key by key, lists
// and scalars replace, and null deletes.
package values

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Values is a tree of Helm values, as YAML or JSON decode it.
type Values = map[string]any

// Merge returns base with overlay laid over it, and changes neither: where
// both hold a map the maps merge, otherwise overlay's value replaces base's
// (lists are replaced whole). A null in overlay is kept as null in the
// result, so that it also deletes the key from the layers under base (Helm
// removes a key whose value is null from the chart's defaults).
func Merge(base, overlay Values) Values {
	out := Copy(base)
	if out == nil {
		out = Values{}
	}
	for k, v := range overlay {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = Merge(bm, vm)
				continue
			}
		}
		out[k] = copyValue(v)
	}
	return out
}

// Layer merges layers in order, each over the ones before it.
func Layer(layers ...Values) Values {
	out := Values{}
	for _, l := range layers {
		out = Merge(out, l)
	}
	return out
}

// DropNulls returns v without the keys whose value is null, at every depth:
// the values Helm would compute once the nulls have done their work.
func DropNulls(v Values) Values {
	out := make(Values, len(v))
	for k, x := range v {
		switch x := x.(type) {
		case nil:
			continue
		case map[string]any:
			out[k] = DropNulls(x)
		default:
			out[k] = copyValue(x)
		}
	}
	return out
}

// Copy returns a deep copy of v.
func Copy(v Values) Values {
	if v == nil {
		return nil
	}
	out := make(Values, len(v))
	for k, x := range v {
		out[k] = copyValue(x)
	}
	return out
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return Copy(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyValue(x)
		}
		return out
	default:
		return v
	}
}

// Get returns the value at a dotted path ("images.tags.keystone_api").
func Get(v Values, path string) (any, bool) {
	var cur any = v
	for _, key := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[key]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// Set sets the value at a dotted path, creating maps on the way. It fails
// when the path crosses a value that is not a map.
func Set(v Values, path string, x any) error {
	keys := strings.Split(path, ".")
	cur := v
	for i, key := range keys[:len(keys)-1] {
		next, ok := cur[key]
		if !ok || next == nil {
			m := Values{}
			cur[key] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("set %s: %s is a %T, not a map", path, strings.Join(keys[:i+1], "."), next)
		}
		cur = m
	}
	cur[keys[len(keys)-1]] = x
	return nil
}

// Parse decodes YAML (or JSON) values. The document must be a map; an empty
// document gives empty values. name says where the text came from, for
// errors.
func Parse(name string, data []byte) (Values, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch v := v.(type) {
	case nil:
		return Values{}, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("%s: values must be a map, not a %s", name, kindOf(v))
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, int64, int:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// Paths lists the dotted paths of every leaf of v, sorted: for reports of
// what a layer sets.
func Paths(v Values) []string {
	var out []string
	var walk func(prefix string, m Values)
	walk = func(prefix string, m Values) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
				walk(p, sub)
				continue
			}
			out = append(out, p)
		}
	}
	walk("", v)
	return out
}
