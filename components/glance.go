package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// glance declares glance, with what it renders.
func glance() *Component {
	c := withCatalog(release("glance", "glance", openstack, chart("glance"), 316, needs("keystone", rabbitmq), kubeAPI))
	c.services, c.endpoints = glanceServices, glanceEndpoints
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

// glanceServices are glance's entry in the catalog and its service user.
var glanceServices = []provision.Service{{Type: "image", Name: "glance", Description: "OpenStack Image",
	Host: "glance-api", Port: 9292, Users: []provision.ServiceUser{serviceUser("glance", "glance", admin...)}}}

// glanceEndpoints are the chart endpoints glance owns.
var glanceEndpoints = map[string]endpointFragment{
	"image": func(e *endpointRender) values.Values { return e.service("image", "glance", nil, true, true) },
}
