package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// cinder declares cinder, with what it renders.
func cinder() *Component {
	c := withCatalog(release("cinder", "cinder", openstack, chart("cinder"), 328, needs("keystone", "ceph-provisioners", rabbitmq), kubeAPI))
	c.services, c.endpoints = cinderServices, cinderEndpoints
	c.values = cinderValues
	c.ingresses = []publicIngress{publicIngressOf("volumev3", "cinder-api", 8776, bodyUnlimited, "cinder")}
	c.rabbitMQCluster = "cinder"
	return c
}

// cinderValues are cinder's own values for its chart: its static values
// with the endpoints, the images' tags, the region and, with staffeln, its
// backup policy; r.storage lays the storage backends over them.
func cinderValues(r *Render) values.Values {
	region := (&endpointRender{Render: r}).region("cinder")
	conf := map[string]any{"cinder": map[string]any{"DEFAULT": map[string]any{"os_region_name": region}}}
	if r.Config.Staffeln {
		// A backup staffeln made is deleted only by an admin or
		// through staffeln, which keeps its retention.
		conf["policy"] = map[string]any{"backup:delete": "rule:admin_api or (project_id:%(project_id)s and http://staffeln-api:8808/v1/backup?backup_id=%(id)s)"}
	}
	v := merge(r.static("cinder"), r.openstackHelmValues("cinder"), values.Values{"conf": conf})
	r.storage("cinder")
	return v
}

// cinderServices are cinder's entry in the catalog and its service user.
var cinderServices = []provision.Service{{Type: "volumev3", Name: "cinderv3", Description: "OpenStack Block Storage",
	Host: "cinder-api", Port: 8776, Path: "/v3/%(tenant_id)s", Users: []provision.ServiceUser{serviceUser("cinder", "cinder", adminService...)}}}

// cinderEndpoints are the chart endpoints cinder owns.
var cinderEndpoints = map[string]endpointFragment{
	"volumev3": func(e *endpointRender) values.Values { return e.service("volumev3", "cinder", nil, true, true) },
}
