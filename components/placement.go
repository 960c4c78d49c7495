package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// placement declares placement, with what it renders.
func placement() *Component {
	c := withCatalog(release("placement", "placement", openstack, chart("placement"), 120, needs(keystoneAPI), kubeAPI))
	c = withDatabases(c, "placement", "placement")
	c.services, c.endpoints = placementServices, placementEndpoints
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

// placementServices are placement's entry in the catalog and its service
// user.
var placementServices = []provision.Service{{Type: "placement", Name: "placement", Description: "OpenStack Placement",
	Host: "placement-api", Port: 8778, Path: "/", Users: []provision.ServiceUser{serviceUser("placement", "placement", adminService...)}}}

// placementEndpoints are the chart endpoints placement owns.
var placementEndpoints = map[string]endpointFragment{
	"placement": func(e *endpointRender) values.Values { return e.service("placement", "placement", nil, true, false) },
}
