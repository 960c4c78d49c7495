package components

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/images"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/sshkey"
)

// Settings are what the components' own values and objects are made from.
type Settings struct {
	Config
	// IngressClass is the class of atmosphere's ingress controller.
	IngressClass string
	// ClusterIssuer issues the certificates of the cloud's endpoints.
	ClusterIssuer string
	// Images is the image table (atmosphere's pinned one when nil).
	Images images.Table
	// Vars are the inventory's variables: the roles' operator knobs
	// (defaults/main.yml), and the facts an operator may give instead of
	// letting a role read them from the live cluster (ceph_csi_rbd_ceph_fsid).
	Vars map[string]any
	// Secret returns the secret of an inventory variable
	// (openstack_helm_endpoints_memcached_secret_key): the inventory's value,
	// else the deployment's generated one.
	Secret func(name string) (string, error)
	// PeekSecret, when set, is Secret without writing anything: what
	// rendering before a run changes the cluster uses (a secret not stored
	// yet is made up, and stored as it is by the first Secret of it).
	PeekSecret func(name string) (string, error)
	// Facts returns what a component's OpenStack set-up made that its
	// values name (manila's flavor ID, octavia's network), by key.
	Facts func(component string) map[string]string
	// ClusterSecret returns a key of a Secret of the openstack namespace
	// that an operator made (the RabbitMQ clusters' default users, the
	// Percona XtraDB cluster's root password).
	ClusterSecret func(name, key string) (string, error)
}

// DefaultSettings are atmosphere's defaults.
func DefaultSettings() Settings {
	return Settings{Config: DefaultConfig(), IngressClass: "atmosphere", ClusterIssuer: "atmosphere", Images: images.Default()}
}

// Image returns the image of key from the table (atmosphere's pinned one
// when the settings have none).
func (s Settings) Image(key string) images.Ref {
	if s.Images == nil {
		return images.Default().Ref(key)
	}
	return s.Images.Ref(key)
}

// Render is what one component's own values are made from: the
// deployment's settings and the chart's own default values.
type Render struct {
	Settings
	// Chart is the chart's values.yaml.
	Chart values.Values

	err error
	// extra are values laid over the document a component's function
	// returns (its storage values).
	extra []values.Values
}

// knob returns an inventory variable, or def when the inventory does not
// set it.
func (r *Render) knob(name string, def any) any {
	if v, ok := r.Vars[name]; ok && v != nil {
		return v
	}
	return def
}

// secret returns the secret of an inventory variable; the first error is
// kept for OwnValues to return.
func (r *Render) secret(name string) string {
	if r.Secret == nil {
		r.fail(fmt.Errorf("secret %s: no secret store", name))
		return ""
	}
	v, err := r.Secret(name)
	if err != nil {
		r.fail(fmt.Errorf("secret %s: %w", name, err))
	}
	return v
}

func (r *Render) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// fact is what a component's set-up made (its facts), else the inventory
// variable at path (a role's registered result, given by the operator).
func (r *Render) fact(component, key, path string) any {
	if r.Facts != nil {
		if v, ok := r.Facts(component)[key]; ok {
			return v
		}
	}
	parts := strings.Split(path, ".")
	v := r.knob(parts[0], nil)
	for _, p := range parts[1:] {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	if v == nil {
		return ""
	}
	return v
}

// sshPublicKey is the public key of an SSH private key, in
// authorized_keys form: the inventory's <fact>.public_key when it gives it
// (what the role's key generation registered), else derived from the key.
func (r *Render) sshPublicKey(fact, private string) string {
	if v, ok := r.fact("", "", fact+".public_key").(string); ok && v != "" {
		return v
	}
	if private == "" {
		return ""
	}
	public, err := sshkey.PublicKey(private)
	if err != nil {
		r.fail(fmt.Errorf("SSH key of %s: %w", strings.TrimPrefix(fact, "_"), err))
	}
	return public
}

// mapKnob is an inventory variable that holds a mapping (empty when unset).
func (r *Render) mapKnob(name string) values.Values {
	m, _ := r.knob(name, nil).(map[string]any)
	return values.Copy(m)
}

// parse parses a YAML fragment of a component's values.
func (r *Render) parse(doc string) values.Values {
	v, err := values.Parse("values fragment", []byte(doc))
	if err != nil {
		r.fail(err)
	}
	return v
}

// cephFacts are what the ceph roles read from the Ceph cluster: its fsid
// and monitors (`ceph mon dump`), the networks of its monitors and the key
// of the Kubernetes client. They are taken from the inventory variables an
// operator can set instead (ceph_csi_rbd_ceph_fsid, ceph_csi_rbd_monitors,
// ceph_csi_rbd_keyring, ceph_mon_public_network, ceph_mon_cluster_network).
type cephFacts struct {
	fsid, keyring, publicNetwork, clusterNetwork any
	monitors                                     any
}

func (r *Render) ceph() cephFacts {
	return cephFacts{
		fsid: r.knob("ceph_csi_rbd_ceph_fsid", nil), monitors: r.knob("ceph_csi_rbd_monitors", []any{}),
		keyring: r.knob("ceph_csi_rbd_keyring", nil), publicNetwork: r.knob("ceph_mon_public_network", nil),
		clusterNetwork: r.knob("ceph_mon_cluster_network", r.knob("ceph_mon_public_network", nil)),
	}
}

// indent indents every line of s after the first by n more spaces (fewer
// when n is negative).
func indent(s string, n int) string {
	if n < 0 {
		return strings.ReplaceAll(s, "\n"+strings.Repeat(" ", -n), "\n")
	}
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
}

// image returns the image of key from the table.
func (r *Render) image(key string) images.Ref {
	if r.Images == nil {
		r.Images = images.Default()
	}
	return r.Images.Ref(key)
}

// bitnami is an image as the Bitnami-style charts take it: registry,
// repository (the path) and tag, indented under its key.
func (r *Render) bitnami(key string, indent int) string {
	i := r.image(key)
	pad := "\n" + strings.Repeat(" ", indent)
	return pad + "registry: " + inline(i.Domain) + pad + "repository: " + inline(i.Path) + pad + "tag: " + inline(i.Tag)
}

// openstackHelm is the start of an openstack-helm chart's values, as every
// OpenStack role writes it: the endpoints, the images and pod labels
// without app.kubernetes.io (the charts' selectors predate them).
func (r *Render) openstackHelm(chart string) string {
	return `
endpoints: ` + inline(r.endpoints(chart)) + `
images:
  tags: ` + inline(r.imageTags()) + `
`
}

// rabbitPolicy is the policy each service's RabbitMQ vhost gets: messages
// expire after 70 s.
func rabbitPolicy(vhost string) string {
	return `
  rabbitmq:
    policies:
      - vhost: ` + vhost + `
        name: ha_ttl_` + vhost + `
        definition:
          message-ttl: 70000
        priority: 0
        apply-to: all
        pattern: '^(?!(amq\.|reply_)).*'`
}

// controlPlaneAffinity keeps pods on the control-plane nodes.
var controlPlaneAffinity = map[string]any{"nodeAffinity": map[string]any{
	"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{map[string]any{
		"matchExpressions": []any{map[string]any{"key": "openstack-control-plane", "operator": "In", "values": []any{"enabled"}}},
	}}},
}}

// noChartIngress turns off a chart's own API Ingress: atmosphere makes its
// own (the component's public Ingresses).
const noChartIngress = `
manifests:
  ingress_api: false
  service_ingress_api: false
`

// podLabels leaves app.kubernetes.io labels out of the charts' pods: the
// openstack-helm selectors predate them.
const podLabels = `
pod:
  labels:
    include_app_kubernetes_io: false
`

// database is the oslo.db pool settings every service gets.
const database = `
    database:
      connection_recycle_time: 600
      max_overflow: 50
      max_pool_size: 5
      pool_timeout: 30`

// ingressNginx is an image as the ingress-nginx chart takes it.
func (r *Render) ingressNginx(key string, indent int, digest bool) string {
	i := r.image(key)
	pad := "\n" + strings.Repeat(" ", indent)
	out := pad + "registry: " + inline(i.Domain) + pad + "image: " + inline(i.Path) + pad + "tag: " + inline(i.Tag)
	if digest {
		out += pad + "digest: " + inline(i.Digest)
	}
	return out
}

// repository and tag are an image's parts as Helm charts take them.
// (quoted: a tag such as 1.5 is a string, not a number).
func (r *Render) repository(key string) string { return inline(r.image(key).Name()) }
func (r *Render) tag(key string) string        { return inline(r.image(key).Tag) }

// imageTags is an openstack-helm chart's images.tags, from the table.
func (r *Render) imageTags() map[string]any {
	if r.Images == nil {
		r.Images = images.Default()
	}
	tags, _ := values.Get(r.Chart, "images.tags")
	m, _ := tags.(map[string]any)
	return r.Images.Tags(m)
}

// wholeNumber is an inventory number as an int: YAML gives ints, JSON
// float64s.
func wholeNumber(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		return int(n), true
	}
	return 0, false
}

// inline writes v as one line of YAML (JSON is YAML) to embed in a values
// document.
func inline(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("inline %v: %v", v, err)) // values are plain data
	}
	return string(raw)
}

// OwnValues returns the component's own values for its chart, whose
// default values are chart (empty for a component that gives its chart
// none): its values document with what the document's rendering laid aside
// (its storage values) laid over it.
func (c *Component) OwnValues(s Settings, chart values.Values) (values.Values, error) {
	r := &Render{Settings: s, Chart: chart}
	var v values.Values
	switch {
	case c.values != nil:
		v = c.values(r)
		if r.err == nil {
			v, r.err = plain(v)
		}
	case c.valuesYAML != nil:
		doc := c.valuesYAML(r)
		if r.err != nil {
			break
		}
		var err error
		if v, err = values.Parse(c.Name+" own values", []byte(doc)); err != nil {
			return nil, err
		}
	default:
		return values.Values{}, nil
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s own values: %w", c.Name, r.err)
	}
	for _, x := range r.extra {
		v = values.Merge(v, x)
	}
	return v, nil
}
