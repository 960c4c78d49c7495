package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// heat declares heat, with what it renders.
func heat() *Component {
	c := withCatalog(release("heat", "heat", openstack, chart("heat"), 258, needs(keystoneAPI, rabbitmq), kubeAPI))
	c = withDatabases(c, "heat", "heat")
	c.services, c.endpoints = heatServices, heatEndpoints
	c.values = heatValues
	c.ingresses = []publicIngress{
		publicIngressOf("orchestration", "heat-api", 8004, map[string]any{"nginx.ingress.kubernetes.io/proxy-read-timeout": "630"}, "heat"),
		publicIngressOf("cloudformation", "heat-cfn", 8000, map[string]any{"nginx.ingress.kubernetes.io/proxy-read-timeout": "630"}, "heat"),
	}
	c = withRabbitMQ(c, "heat")
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

// heatServices are heat's entries in the catalog, orchestration and
// CloudFormation, and its users: its service user, the trustee and the
// admin of the stack users' domain.
var heatServices = []provision.Service{
	{Type: "orchestration", Name: "heat", Description: "OpenStack Orchestration",
		Host: "heat-api", Port: 8004, Path: "/v1/%(project_id)s", Users: []provision.ServiceUser{
			serviceUser("heat", "heat", admin...), serviceUser("heat_trustee", "heat-trustee", admin...),
			{Key: "heat_stack_user", Name: "heat-stack-user", Domain: "heat"}}},
	{Type: "cloudformation", Name: "heat-cfn", Description: "OpenStack CloudFormation",
		Host: "heat-cfn", Port: 8000, Path: "/v1"},
}

// heatEndpoints are the chart endpoints heat owns.
var heatEndpoints = map[string]endpointFragment{
	"orchestration": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(user{"heat", "heat", "heat", ""},
			user{"heat_trustee", "heat", "heat-trustee", "heat_trustee_keystone_password"},
			user{"heat_stack_user", "heat", "heat-stack-user", "heat_stack_user_keystone_password"}),
			m{"identity": m{"path": m{"public": "/v3"}}},
			e.public("orchestration", "api"), e.db("heat"), e.mq("heat"))
	},
	"cloudformation": func(e *endpointRender) values.Values { return e.public("cloudformation", "api") },
}
