package components

import "github.com/vexxhost/atmosphere-go/components/values"

// placement declares placement, with what it renders.
func placement() *Component {
	c := withCatalog(release("placement", "placement", openstack, chart("placement"), 120, needs("keystone"), kubeAPI))
	c.values = placementValues
	c.ingresses = []publicIngress{publicIngressOf("placement", "placement-api", 8778, nil, "placement")}
	return c
}

// placementValues are placement's own values for its chart: its static
// values with the endpoints, the images' tags and its RabbitMQ vhost's
// policies.
func placementValues(r *Render) values.Values {
	return merge(r.static("placement"), r.openstackHelmValues("placement"),
		values.Values{"conf": map[string]any{"rabbitmq": map[string]any{"policies": rabbitPolicies("placement")}}})
}
