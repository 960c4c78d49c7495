package components

// goldpinger declares goldpinger, with what it renders.
func goldpinger() *Component {
	c := release("goldpinger", "goldpinger", monitoring, chart("goldpinger", "1.0.0"), 6, needs("kubernetes"), kubeAPI)
	c.valuesYAML = goldpingerValues
	return c
}

// goldpingerValues are goldpinger's own values for its chart.
func goldpingerValues(r *Render) string {
	return `
image:
  repository: ` + r.repository("goldpinger") + `
goldpinger:
  port: 30080
extraEnv:
  - name: USE_HOST_IP
    value: "true"
`
}
