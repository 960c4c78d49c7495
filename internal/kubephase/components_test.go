package kubephase

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// component is a component of the default registry, nil when there is
// none of that name.
func component(name string) *components.Component {
	c, _ := components.Default().Get(name)
	return c
}

// ownValuesOf are a component's own values for its chart, whose default
// values are chart (empty for a name the registry does not have).
func ownValuesOf(name string, s components.Settings, chart values.Values) (values.Values, error) {
	c := component(name)
	if c == nil {
		return values.Values{}, nil
	}
	return c.OwnValues(s, chart)
}

// objectsOf are the objects a component applies itself (none for a name
// the registry does not have).
func objectsOf(name string, s components.Settings) ([]manifest.Object, error) {
	c := component(name)
	if c == nil {
		return nil, nil
	}
	return objects(c, s)
}

// TestEngineNamesNoComponent: what a component renders is declared with it
// in package components; the engine names none of them.
func TestEngineNamesNoComponent(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("the engine's files: %v, %v", files, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range components.Default().Components() {
			if strings.Contains(string(raw), strconv.Quote(c.Name)) {
				t.Errorf("%s names component %s", f, c.Name)
			}
		}
	}
}
