package components

import (
	"fmt"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
	"slices"
	"strings"
)

// cinder declares cinder, with what it renders.
func cinder() *Component {
	c := withCatalog(release("cinder", "cinder", openstack, chart("cinder"), 328, needs(keystoneAPI, "ceph-provisioners", rabbitmq), kubeAPI))
	c = withDatabases(c, "cinder", "cinder")
	c.services, c.endpoints = cinderServices, cinderEndpoints
	c.values = cinderValues
	c.ingresses = []publicIngress{publicIngressOf("volumev3", "cinder-api", 8776, bodyUnlimited, "cinder")}
	c = withRabbitMQ(c, "cinder")
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
	r.storage(cinderStorage)
	return v
}

// cinderServices are cinder's entry in the catalog and its service user.
var cinderServices = []provision.Service{{Type: "volumev3", Name: "cinderv3", Description: "OpenStack Block Storage",
	Host: "cinder-api", Port: 8776, Path: "/v3/%(tenant_id)s", Users: []provision.ServiceUser{serviceUser("cinder", "cinder", adminService...)}}}

// cinderEndpoints are the chart endpoints cinder owns.
var cinderEndpoints = map[string]endpointFragment{
	"volumev3": func(e *endpointRender) values.Values { return e.service("volumev3", "cinder", nil, true, true) },
}

// cinderStorage are cinder's storage values: a backend per volumes backend
// of atmosphere_storage, their pools, the backups' driver.
func cinderStorage(cfg values.Values) (values.Values, error) {
	bs, err := backends(cfg, "volumes")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(bs))
	for n := range bs {
		names = append(names, n)
	}
	slices.Sort(names)
	backendsConf, pools := map[string]any{}, map[string]any{}
	for _, n := range names {
		p := bs[n]
		backendsConf[n] = map[string]any{
			"volume_driver": "cinder.volume.drivers.rbd.RBDDriver", "volume_backend_name": n, "rbd_pool": p.pool,
			"rbd_ceph_conf": "/etc/ceph/ceph.conf", "rbd_flatten_volume_from_snapshot": false, "report_discard_supported": true,
			"rbd_max_clone_depth": 5, "rbd_store_chunk_size": p.chunkSize, "rados_connect_timeout": -1, "rbd_user": p.user,
			"rbd_secret_uuid": p.secretUUID, "image_volume_cache_enabled": true, "image_volume_cache_max_size_gb": 200,
			"image_volume_cache_max_count": 50,
		}
		pools[p.pool] = map[string]any{"replication": p.replication, "crush_rule": p.crushRule, "chunk_size": p.chunkSize, "app_name": "cinder-volume"}
	}
	section, _ := cfg["volumes"].(map[string]any)
	defaults := map[string]any{"enabled_backends": strings.Join(names, ","), "default_volume_type": section["default"]}
	out := values.Values{"conf": map[string]any{"backends": backendsConf, "cinder": map[string]any{"DEFAULT": defaults}}}
	if len(bs) > 0 {
		out["storage"] = "ceph"
	}
	// The default backend is an rbd one (the only type this build takes):
	// the chart's internal Ceph client is its (as the collection's
	// storage_to_cinder_helm_values has it).
	if d, _ := section["default"].(string); bs[d].pool != "" {
		out["ceph_client"] = map[string]any{"internal_ceph_backend": d}
	}
	switch backup, _ := cfg["backup"].(map[string]any); backup["type"] {
	case nil:
	case "rbd":
		p, err := poolOf("backup", backup)
		if err != nil {
			return nil, err
		}
		defaults["backup_driver"] = "cinder.backup.drivers.ceph.CephBackupDriver"
		defaults["backup_ceph_conf"] = "/etc/ceph/ceph.conf"
		defaults["backup_ceph_user"] = p.user
		defaults["backup_ceph_pool"] = p.pool
		pools["backup"] = map[string]any{"replication": p.replication, "crush_rule": p.crushRule, "chunk_size": p.chunkSize, "app_name": "cinder-backup"}
	case "none":
		out["manifests"] = map[string]any{"deployment_backup": false, "job_backup_storage_init": false}
	default:
		return nil, fmt.Errorf("backup: type %q is not supported by this build (rbd or none are)", backup["type"])
	}
	if len(pools) > 0 {
		out["conf"].(map[string]any)["ceph"] = map[string]any{"pools": pools}
	}
	return out, nil
}
