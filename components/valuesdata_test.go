package components

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// TestStaticValuesBelongToComponents: every <component>.values.yaml parses
// as a map of values and is read by a component of the registry that gives
// its chart values; a file no component reads is a leftover.
func TestStaticValuesBelongToComponents(t *testing.T) {
	files, err := fs.Glob(staticValues, "*.values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no static values embedded")
	}
	for _, f := range files {
		name := strings.TrimSuffix(f, ".values.yaml")
		c, ok := Default().Get(name)
		switch {
		case !ok:
			t.Errorf("%s: no component %s", f, name)
		case !c.HasOwnValues():
			t.Errorf("%s: component %s gives its chart no values", f, name)
		}
		r := &Render{}
		if v := r.static(name); r.err != nil || len(v) == 0 {
			t.Errorf("%s: %v (%d keys)", f, r.err, len(v))
		}
	}
}

func TestStaticOfAMissingFileFailsTheRendering(t *testing.T) {
	r := &Render{}
	r.static("no-such-component")
	if r.err == nil || !strings.Contains(r.err.Error(), "static values of no-such-component") {
		t.Errorf("error %v, want one naming the component", r.err)
	}
}

// TestPlainGivesYAMLsTypes: values built in Go come out as a YAML
// document's would (float64 numbers, []any lists, map[string]any maps).
func TestPlainGivesYAMLsTypes(t *testing.T) {
	got, err := plain(values.Values{"num": 3, "l": []string{"a"}, "m": map[string]int{"x": 1}, "gone": nil})
	if err != nil {
		t.Fatal(err)
	}
	want, err := values.Parse("want", []byte("num: 3\nl: [a]\nm: {x: 1}\ngone: null\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plain gave %#v, want %#v", got, want)
	}
}
