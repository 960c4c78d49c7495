package values

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func mustParse(t testing.TB, s string) Values {
	t.Helper()
	v, err := Parse("test", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name, base, overlay, want string
	}{
		{"maps merge", "a: {b: 1, c: 2}", "a: {c: 3, d: 4}", "a: {b: 1, c: 3, d: 4}"},
		{"lists replace", "a: [1, 2, 3]", "a: [4]", "a: [4]"},
		{"null kept as deletion marker", "a: {b: 1, c: 2}", "a: {b: null}", "a: {b: null, c: 2}"},
		{"null deletes a whole map", "a: {b: 1}\nz: 1", "a: null", "a: null\nz: 1"},
		{"scalar replaces map", "a: {b: 1}", "a: 5", "a: 5"},
		{"map replaces scalar", "a: 5", "a: {b: 1}", "a: {b: 1}"},
		{"empty overlay", "a: 1", "", "a: 1"},
		{"empty base", "", "a: {b: [1]}", "a: {b: [1]}"},
		{"deep", "a: {b: {c: {d: 1, e: 2}}}", "a: {b: {c: {e: 3}}}", "a: {b: {c: {d: 1, e: 3}}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, overlay := mustParse(t, tt.base), mustParse(t, tt.overlay)
			baseBefore, overlayBefore := Copy(base), Copy(overlay)
			got := Merge(base, overlay)
			if want := mustParse(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("Merge = %v, want %v", got, want)
			}
			if !reflect.DeepEqual(base, baseBefore) || !reflect.DeepEqual(overlay, overlayBefore) {
				t.Error("Merge changed its inputs")
			}
		})
	}
}

func TestLayerThenDropNulls(t *testing.T) {
	chart := mustParse(t, "images: {tags: {api: a:1, db: b:1}}\npod: {replicas: {api: 1}}\nlist: [x, y]")
	component := mustParse(t, "images: {tags: {api: a:2}}\nlist: [z]")
	operator := mustParse(t, "images: {tags: {db: null}}\npod: {replicas: {api: 3}}")
	got := DropNulls(Layer(chart, component, operator))
	want := mustParse(t, "images: {tags: {api: a:2}}\npod: {replicas: {api: 3}}\nlist: [z]")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestResultSharesNothingWithInputs(t *testing.T) {
	overlay := mustParse(t, "a: {b: [1, {c: 2}]}")
	got := Merge(nil, overlay)
	got["a"].(map[string]any)["b"].([]any)[1].(map[string]any)["c"] = 99
	if v, _ := Get(overlay, "a.b"); v.([]any)[1].(map[string]any)["c"] != float64(2) {
		t.Error("changing the result changed the overlay")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"[1, 2]", "values must be a map, not a list"},
		{"just text", "values must be a map, not a string"},
		{"a: [", "file.yaml:"},
	}
	for _, tt := range tests {
		if _, err := Parse("file.yaml", []byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}

func TestGetSet(t *testing.T) {
	v := Values{}
	if err := Set(v, "conf.keystone.DEFAULT.debug", true); err != nil {
		t.Fatal(err)
	}
	if got, ok := Get(v, "conf.keystone.DEFAULT.debug"); !ok || got != true {
		t.Errorf("Get = %v %v", got, ok)
	}
	if err := Set(v, "conf.keystone.DEFAULT.debug.x", 1); err == nil || !strings.Contains(err.Error(), "conf.keystone.DEFAULT.debug is a bool") {
		t.Errorf("Set through a scalar: %v", err)
	}
	if got := Paths(v); !reflect.DeepEqual(got, []string{"conf.keystone.DEFAULT.debug"}) {
		t.Errorf("Paths = %v", got)
	}
}

// FuzzMerge checks the laws of Merge on arbitrary YAML: the overlay's leaves
// win, the base's other leaves survive, and inputs are left alone.
func FuzzMerge(f *testing.F) {
	f.Add("a: {b: 1}", "a: {c: 2}")
	f.Add("a: [1]", "a: null")
	f.Add("x: 1", "x: {y: [1, {z: 2}]}")
	f.Add("a: {b: 1}", "a: {}")
	f.Fuzz(func(t *testing.T, a, b string) {
		base, err1 := Parse("a", []byte(a))
		overlay, err2 := Parse("b", []byte(b))
		if err1 != nil || err2 != nil {
			return
		}
		before, _ := yaml.Marshal(base)
		got := Merge(base, overlay)
		if after, _ := yaml.Marshal(base); string(before) != string(after) {
			t.Fatal("base changed")
		}
		for _, p := range leaves(overlay, nil) {
			want, _ := getKeys(overlay, p)
			if have, ok := getKeys(got, p); !ok || !reflect.DeepEqual(have, want) {
				t.Fatalf("overlay leaf %q = %v, result has %v", p, want, have)
			}
		}
		for _, p := range leaves(base, nil) {
			if overlayCovers(overlay, p) {
				continue
			}
			want, _ := getKeys(base, p)
			if have, ok := getKeys(got, p); !ok || !reflect.DeepEqual(have, want) {
				t.Fatalf("base leaf %q = %v lost, result has %v", p, want, have)
			}
		}
	})
}

// leaves lists the key paths of every leaf of v (keys may hold dots).
func leaves(v Values, prefix []string) [][]string {
	var out [][]string
	for k, x := range v {
		p := append(append([]string(nil), prefix...), k)
		if m, ok := x.(map[string]any); ok {
			// An empty map sets nothing: it merges into what is under it.
			out = append(out, leaves(m, p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func getKeys(v Values, keys []string) (any, bool) {
	var cur any = v
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// overlayCovers reports whether the overlay sets p or a non-map on its way.
func overlayCovers(overlay Values, keys []string) bool {
	cur := overlay
	for i, k := range keys {
		v, ok := cur[k]
		if !ok {
			return false
		}
		m, isMap := v.(map[string]any)
		if !isMap || i == len(keys)-1 {
			return true
		}
		cur = m
	}
	return false
}
