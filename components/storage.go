package components

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// atmosphereStorage is where the cloud keeps its images, volumes, backups
// and ephemeral disks, laid over atmosphere's default.
var atmosphereStorage = sharedKnobs.mapping("atmosphere_storage", nil)

// Storage: where glance keeps images, cinder volumes and backups, and nova
// ephemeral disks, as atmosphere_storage configures them (laid over
// atmosphere's default: Ceph RBD pools, local ephemeral disks), turned into
// each chart's values as atmosphere's storage filters do. This build covers
// RBD image, volume and backup backends and local or RBD ephemeral disks; a
// configuration with another backend is refused, naming it.

// defaultStorage is atmosphere's _atmosphere_storage.
func defaultStorage() values.Values {
	return values.Values{
		"images": map[string]any{"default": "rbd1", "backends": map[string]any{
			"rbd1": map[string]any{"type": "rbd", "pool": "glance.images", "replication": 3, "crush_rule": "replicated_rule", "chunk_size": 8, "user": "glance"},
		}},
		"volumes": map[string]any{"default": "rbd1", "backends": map[string]any{
			"rbd1": map[string]any{"type": "rbd", "pool": "cinder.volumes", "replication": 3, "crush_rule": "replicated_rule", "user": "cinder",
				"secret_uuid": "457eb676-33da-42ec-9a8c-9293d545c337"},
		}},
		"backup":    map[string]any{"type": "rbd", "pool": "cinder.backups", "replication": 3, "crush_rule": "replicated_rule", "user": "cinderbackup"},
		"ephemeral": map[string]any{"type": "local"},
	}
}

// storageConfig is the deployment's storage: the default with the
// inventory's atmosphere_storage laid over it.
func (r *Render) storageConfig() values.Values {
	return values.Merge(defaultStorage(), r.copyOf(atmosphereStorage))
}

// storage adds the storage values of a chart (glance, cinder, nova,
// libvirt, ceph-provisioners) to its values, and returns "" to end a
// values document with.
func (r *Render) storage(chart string) string {
	cfg := r.storageConfig()
	var v values.Values
	var err error
	switch chart {
	case "glance":
		v, err = glanceStorage(cfg)
	case "cinder":
		v, err = cinderStorage(cfg)
	case "nova":
		v, err = novaStorage(cfg)
	case "libvirt":
		v, err = libvirtStorage(cfg)
	case "ceph-provisioners":
		_, err = backends(cfg, "volumes")
	default:
		err = fmt.Errorf("no storage values for %s", chart)
	}
	if err != nil {
		r.fail(fmt.Errorf("atmosphere_storage: %w", err))
	}
	r.extra = append(r.extra, v)
	return ""
}

// rbdPool are the settings of an RBD pool, with atmosphere's defaults.
type rbdPool struct {
	pool, user, crushRule, secretUUID string
	replication, chunkSize            int
}

func poolOf(where string, m map[string]any) (rbdPool, error) {
	p := rbdPool{crushRule: "replicated_rule", replication: 3, chunkSize: 8}
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string, def int) int {
		if n, ok := wholeNumber(m[k]); ok {
			return n
		}
		return def
	}
	p.pool, p.user, p.secretUUID = str("pool"), str("user"), str("secret_uuid")
	if c := str("crush_rule"); c != "" {
		p.crushRule = c
	}
	p.replication, p.chunkSize = num("replication", 3), num("chunk_size", 8)
	if p.pool == "" || p.user == "" {
		return p, fmt.Errorf("%s: an rbd backend needs pool and user", where)
	}
	return p, nil
}

// backends returns the named backends of images or volumes, each checked to
// be of a type this build covers.
func backends(cfg values.Values, kind string) (map[string]rbdPool, error) {
	section, _ := cfg[kind].(map[string]any)
	list, _ := section["backends"].(map[string]any)
	out := map[string]rbdPool{}
	for _, name := range sortedKeys(list) {
		b, _ := list[name].(map[string]any)
		where := kind + ".backends." + name
		if t, _ := b["type"].(string); t != "rbd" {
			return nil, fmt.Errorf("%s: type %q is not supported by this build (rbd is)", where, t)
		}
		p, err := poolOf(where, b)
		if err != nil {
			return nil, err
		}
		out[name] = p
	}
	if d, _ := section["default"].(string); len(list) > 0 && out[d].pool == "" {
		return nil, fmt.Errorf("%s.default: %q is not one of its backends", kind, d)
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

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

func novaStorage(cfg values.Values) (values.Values, error) {
	bs, err := backends(cfg, "volumes")
	if err != nil {
		return nil, err
	}
	eph, _ := cfg["ephemeral"].(map[string]any)
	switch eph["type"] {
	case nil:
		return values.Values{}, nil
	case "local":
		return values.Values{"conf": map[string]any{"ceph": map[string]any{"enabled": len(bs) > 0},
			"nova": map[string]any{"libvirt": map[string]any{"images_type": "qcow2"}}}}, nil
	case "rbd":
		p, err := poolOf("ephemeral", eph)
		if err != nil {
			return nil, err
		}
		return values.Values{
			"conf": map[string]any{"ceph": map[string]any{"enabled": true}, "nova": map[string]any{"libvirt": map[string]any{
				"images_type": "rbd", "images_rbd_pool": p.pool, "images_rbd_ceph_conf": "/etc/ceph/ceph.conf",
				"rbd_user": p.user, "rbd_secret_uuid": p.secretUUID}}},
			"manifests": map[string]any{"job_storage_init": true},
			"rbd_pool":  map[string]any{"app_name": "nova-vms", "replication": p.replication, "crush_rule": p.crushRule, "chunk_size": p.chunkSize},
		}, nil
	}
	return nil, fmt.Errorf("ephemeral: type %q is not supported by this build (local or rbd are)", eph["type"])
}

func libvirtStorage(cfg values.Values) (values.Values, error) {
	bs, err := backends(cfg, "volumes")
	if err != nil {
		return nil, err
	}
	eph, _ := cfg["ephemeral"].(map[string]any)
	ceph := map[string]any{"enabled": eph["type"] == "rbd"}
	section, _ := cfg["volumes"].(map[string]any)
	var additional []any
	for _, n := range sortedKeys(toAny(bs)) {
		p := bs[n]
		ceph["enabled"] = true
		user := map[string]any{"user": p.user, "secret_uuid": p.secretUUID}
		if n == section["default"] {
			ceph["cinder"] = user
		} else {
			user["secret_name"] = "cinder-volume-rbd-keyring-" + strings.ReplaceAll(n, "_", "-")
			additional = append(additional, user)
		}
	}
	if len(additional) > 0 {
		ceph["additional_users"] = additional
	}
	return values.Values{"conf": map[string]any{"ceph": ceph}}, nil
}

func toAny(m map[string]rbdPool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
