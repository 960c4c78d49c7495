package components

import "github.com/vexxhost/atmosphere-go/components/values"

// staffeln declares staffeln, with what it renders.
func staffeln() *Component {
	c := enabledWhen(release("staffeln", "staffeln", openstack, chart("staffeln"), 30, needs("cinder"), nil),
		func(c Config) bool { return c.Staffeln })
	c = withDatabases(c, "staffeln", "staffeln")
	c.roleVars = noRoleVars // the role declares no release name or namespace
	c.endpoints = staffelnEndpoints
	c.values = staffelnValues
	return c
}

// staffelnValues are staffeln's own values for its chart: its static
// values with the endpoints, the images' tags and the metadata keys.
func staffelnValues(r *Render) values.Values {
	return merge(r.static("staffeln"), r.openstackHelmValues("staffeln"), values.Values{
		"conf": map[string]any{"staffeln": map[string]any{"conductor": map[string]any{
			"backup_metadata_key":    r.secret("staffeln_backup_metadata_key"),
			"retention_metadata_key": r.secret("staffeln_retention_metadata_key"),
		}}},
	})
}

// staffelnEndpoints are the chart endpoints staffeln owns.
var staffelnEndpoints = map[string]endpointFragment{
	"staffeln": func(e *endpointRender) values.Values { return e.db("staffeln") },
}
