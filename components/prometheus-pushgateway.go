package components

import "github.com/vexxhost/atmosphere-go/components/values"

// prometheusPushgateway declares prometheus-pushgateway, with what it renders.
func prometheusPushgateway() *Component {
	c := release("prometheus-pushgateway", "prometheus-pushgateway", monitoring, chart("prometheus-pushgateway"), 6, needs("kube-prometheus-stack"), kubeAPI)
	c.values = prometheusPushgatewayValues
	return c
}

// prometheusPushgatewayValues are prometheus-pushgateway's own values for
// its chart: its static values with the image's repository.
func prometheusPushgatewayValues(r *Render) values.Values {
	return merge(r.static("prometheus-pushgateway"), values.Values{
		"image": map[string]any{"repository": r.image("prometheus_pushgateway").Name()},
	})
}
