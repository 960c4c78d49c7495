package components

import (
	"fmt"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// glance declares glance, with what it renders.
func glance() *Component {
	c := withCatalog(release("glance", "glance", openstack, chart("glance"), 316, needs(keystoneAPI, rabbitmq,
		"ceph-provisioners", // Job glance-storage-init mounts Secret pvc-ceph-client-key
	), kubeAPI))
	c = withDatabases(c, "glance", "glance")
	c.services, c.endpoints = glanceServices, glanceEndpoints
	c.values = glanceValues
	c.ingresses = []publicIngress{publicIngressOf("image", "glance-api", 9292, bodyUnlimited, "glance")}
	c = withRabbitMQ(c, "glance")
	return c
}

// glanceValues are glance's own values for its chart: its static values
// with the endpoints, the images' tags and its RabbitMQ vhost's policies;
// its storage values (r.storage) are laid over them.
func glanceValues(r *Render) values.Values {
	v := merge(r.static("glance"), r.openstackHelmValues("glance"),
		values.Values{"conf": map[string]any{"rabbitmq": map[string]any{"policies": rabbitPolicies("glance")}}})
	r.storage(glanceStorage)
	return v
}

// glanceServices are glance's entry in the catalog and its service user.
var glanceServices = []provision.Service{{Type: "image", Name: "glance", Description: "OpenStack Image",
	Host: "glance-api", Port: 9292, Users: []provision.ServiceUser{serviceUser("glance", "glance", admin...)}}}

// glanceEndpoints are the chart endpoints glance owns.
var glanceEndpoints = map[string]endpointFragment{
	"image": func(e *endpointRender) values.Values { return e.service("image", "glance", nil, true, true) },
}

// glanceStorage are glance's storage values: its one images backend's RBD
// store (atmosphere_storage.images), none when there is none.
func glanceStorage(cfg values.Values) (values.Values, error) {
	bs, err := backends(cfg, "images")
	if err != nil || len(bs) == 0 {
		return values.Values{}, err
	}
	if len(bs) > 1 {
		return nil, fmt.Errorf("images: several backends are not supported by this build")
	}
	for _, p := range bs {
		return values.Values{"storage": "rbd", "conf": map[string]any{"glance": map[string]any{"glance_store": map[string]any{
			"rbd_store_pool": p.pool, "rbd_store_user": p.user, "rbd_store_ceph_conf": "/etc/ceph/ceph.conf",
			"rbd_store_chunk_size": p.chunkSize, "rbd_store_replication": p.replication, "rbd_store_crush_rule": p.crushRule,
		}}}}, nil
	}
	return nil, nil
}
