package components

import (
	"embed"
	"encoding/json"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// staticValues are the components' static values, <component>.values.yaml:
// what their roles' vars/main.yml write as constants.
//
//go:embed *.values.yaml
var staticValues embed.FS

// static returns the static values of a component (<component>.values.yaml),
// parsed anew, so that the caller may change them. A file that is missing
// or not a map of values fails the rendering.
func (r *Render) static(component string) values.Values {
	name := component + ".values.yaml"
	raw, err := staticValues.ReadFile(name)
	if err != nil {
		r.fail(fmt.Errorf("static values of %s: %w", component, err))
		return values.Values{}
	}
	v, err := values.Parse(name, raw)
	if err != nil {
		r.fail(err)
		return values.Values{}
	}
	return v
}

// plain returns v as YAML would give it: maps of string keys, lists of
// any, float64 numbers, through a JSON round trip. Values built in Go
// (ints, []string, typed maps) then compare, digest and merge as the parsed
// values of a YAML document do.
func plain(v values.Values) (values.Values, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("values as data: %w", err)
	}
	var out values.Values
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("values as data: %w", err)
	}
	if out == nil {
		out = values.Values{}
	}
	return out, nil
}

// merge lays each of overlays over base in turn (values.Merge): a
// component's static values, then the parts made from the settings.
func merge(base values.Values, overlays ...values.Values) values.Values {
	for _, o := range overlays {
		base = values.Merge(base, o)
	}
	return base
}

// openstackHelmValues is the start of an openstack-helm chart's values, as
// every OpenStack role writes it: the endpoints and the images' tags from
// the table (the pod labels are in each component's static values).
func (r *Render) openstackHelmValues(chart string) values.Values {
	return values.Values{
		"endpoints": r.endpoints(chart),
		"images":    map[string]any{"tags": r.imageTags()},
	}
}

// bitnamiImage is an image as the Bitnami-style charts take it: registry,
// repository (the path) and tag.
func (r *Render) bitnamiImage(key string) map[string]any {
	i := r.image(key)
	return map[string]any{"registry": i.Domain, "repository": i.Path, "tag": i.Tag}
}

// repositoryImage is an image as most charts take it: its repository (the
// name, with its registry) and tag.
func (r *Render) repositoryImage(key string) map[string]any {
	i := r.image(key)
	return map[string]any{"repository": i.Name(), "tag": i.Tag}
}

// ingressNginxImage is an image as the ingress-nginx chart takes it, with
// its digest when digest is set.
func (r *Render) ingressNginxImage(key string, digest bool) map[string]any {
	i := r.image(key)
	m := map[string]any{"registry": i.Domain, "image": i.Path, "tag": i.Tag}
	if digest {
		m["digest"] = i.Digest
	}
	return m
}

// rabbitPolicies are the policies each service's RabbitMQ vhost gets
// (conf.rabbitmq.policies): messages expire after 70 s.
func rabbitPolicies(vhost string) []any {
	return []any{map[string]any{
		"vhost":      vhost,
		"name":       "ha_ttl_" + vhost,
		"definition": map[string]any{"message-ttl": 70000},
		"priority":   0,
		"apply-to":   "all",
		"pattern":    `^(?!(amq\.|reply_)).*`,
	}}
}
