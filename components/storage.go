package components

import (
	"fmt"
	"slices"

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
// libvirt, ceph-provisioners), made by of from the deployment's storage,
// to its values, and returns "" to end a values document with; an error of
// of is kept as r's, naming atmosphere_storage.
func (r *Render) storage(of func(cfg values.Values) (values.Values, error)) string {
	v, err := of(r.storageConfig())
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

func toAny(m map[string]rbdPool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
