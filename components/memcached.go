package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs memcached reads (roles/memcached/defaults/main.yml).
var (
	memcachedKnobs           = knobsOf("memcached")
	memcachedHelmReleaseName = memcachedKnobs.str("memcached_helm_release_name", "memcached")
)

// memcached declares memcached, with what it renders.
func memcached() *Component {
	c := withKinds(release("memcached", "memcached", openstack, chart("memcached"), 7, needs("kubernetes"), kubeAPI), Manifest)
	c.values = memcachedValues
	c.objects = memcachedObjects
	return c
}

// memcachedValues are memcached's own values for its chart: its static
// values with the endpoints and images' tags.
func memcachedValues(r *Render) values.Values {
	return merge(r.static("memcached"), r.openstackHelmValues("memcached"))
}

// The Service Prometheus scrapes memcached's exporter through.
func memcachedObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	release := memcachedHelmReleaseName.get(r)
	if r.err != nil {
		return nil, r.err
	}
	labels := map[string]any{"application": "memcached", "component": "server"}
	return afterRelease(objectList(map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": release + "-metrics", "labels": labels},
		"spec": map[string]any{"selector": labels,
			"ports": []any{map[string]any{"name": "metrics", "protocol": "TCP", "port": 9150, "targetPort": 9150}}}})), nil
}
