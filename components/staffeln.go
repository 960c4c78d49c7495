package components

// staffeln declares staffeln, with what it renders.
func staffeln() *Component {
	c := enabledWhen(release("staffeln", "staffeln", openstack, chart("staffeln", "0.1.0"), 30, needs("cinder"), nil),
		func(c Config) bool { return c.Staffeln })
	c.valuesYAML = staffelnValues
	return c
}

// staffelnValues are staffeln's own values for its chart.
func staffelnValues(r *Render) string {
	return r.openstackHelm("staffeln") + podLabels + `  replicas:
    api: 3
    conductor: 3
conf:
  staffeln:
    conductor:
      backup_metadata_key: ` + inline(r.secret("staffeln_backup_metadata_key")) + `
      retention_metadata_key: ` + inline(r.secret("staffeln_retention_metadata_key")) + database + `
` + noChartIngress
}
