package kubephase

import (
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
