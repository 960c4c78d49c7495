package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// barbican declares barbican, with what it renders.
func barbican() *Component {
	c := withCatalog(split(release("barbican", "barbican", openstack, chart("barbican"), 183, needs(keystoneAPI, rabbitmq), kubeAPI), setup(8)))
	c = withDatabases(c, "barbican", "barbican")
	c.services, c.endpoints = barbicanServices, barbicanEndpoints
	c.values = barbicanValues
	c.ingresses = []publicIngress{publicIngressOf("key_manager", "barbican-api", 9311, nil, "barbican")}
	c = withRabbitMQ(c, "barbican")
	c.setup = barbicanSetup
	return c
}

// barbicanValues are barbican's own values for its chart: its static
// values with the endpoints, the images' tags, the key encryption key and
// the RabbitMQ policies.
func barbicanValues(r *Render) values.Values {
	kek := r.secret("barbican_kek")
	return merge(r.static("barbican"), r.openstackHelmValues("barbican"), values.Values{
		"conf": map[string]any{
			"barbican":                 map[string]any{"simple_crypto_plugin": map[string]any{"kek": kek}},
			"simple_crypto_kek_rewrap": map[string]any{"old_kek": kek},
			"rabbitmq":                 map[string]any{"policies": rabbitPolicies("barbican")},
		},
	})
}

// barbicanServices are barbican's entry in the catalog and its service
// user.
var barbicanServices = []provision.Service{{Type: "key-manager", Name: "barbican", Description: "OpenStack Key Manager",
	Host: "barbican-api", Port: 9311, Path: "/", Users: []provision.ServiceUser{serviceUser("barbican", "barbican", admin...)}}}

// barbicanEndpoints are the chart endpoints barbican owns.
var barbicanEndpoints = map[string]endpointFragment{
	"key_manager": func(e *endpointRender) values.Values { return e.service("key_manager", "barbican", nil, true, false) },
}

// barbicanSetup makes the creator role and has member imply it, as
// atmosphere's barbican role does.
var barbicanSetup = impliedRoles("creator", [2]string{"member", "creator"})
