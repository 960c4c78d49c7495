package components

import "github.com/vexxhost/atmosphere-go/components/values"

// glance declares glance, with what it renders.
func glance() *Component {
	c := withCatalog(release("glance", "glance", openstack, chart("glance"), 316, needs("keystone", rabbitmq), kubeAPI))
	c.values = glanceValues
	c.ingresses = []publicIngress{publicIngressOf("image", "glance-api", 9292, bodyUnlimited, "glance")}
	c.rabbitMQCluster = "glance"
	return c
}

// glanceValues are glance's own values for its chart: its static values
// with the endpoints, the images' tags and its RabbitMQ vhost's policies;
// its storage values (r.storage) are laid over them.
func glanceValues(r *Render) values.Values {
	v := merge(r.static("glance"), r.openstackHelmValues("glance"),
		values.Values{"conf": map[string]any{"rabbitmq": map[string]any{"policies": rabbitPolicies("glance")}}})
	r.storage("glance")
	return v
}
