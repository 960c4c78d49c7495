package components

import "github.com/vexxhost/atmosphere-go/components/values"

// heat declares heat, with what it renders.
func heat() *Component {
	c := withCatalog(release("heat", "heat", openstack, chart("heat"), 258, needs("keystone", rabbitmq), kubeAPI))
	c.values = heatValues
	c.ingresses = []publicIngress{
		publicIngressOf("orchestration", "heat-api", 8004, map[string]any{"nginx.ingress.kubernetes.io/proxy-read-timeout": "630"}, "heat"),
		publicIngressOf("cloudformation", "heat-cfn", 8000, map[string]any{"nginx.ingress.kubernetes.io/proxy-read-timeout": "630"}, "heat"),
	}
	c.rabbitMQCluster = "heat"
	return c
}

// heatValues are heat's own values for its chart: its static values with
// the endpoints, the images' tags, the auth encryption key and the region.
func heatValues(r *Render) values.Values {
	return merge(r.static("heat"), r.openstackHelmValues("heat"), values.Values{
		"conf": map[string]any{"heat": map[string]any{"DEFAULT": map[string]any{
			"auth_encryption_key":      r.secret("heat_auth_encryption_key"),
			"region_name_for_services": (&endpointRender{Render: r}).region("heat"),
		}}},
	})
}
