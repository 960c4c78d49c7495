package components

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/images"
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
	// Sources gives the file each variable came from, relative to the
	// inventory (group_vars/all/…yml), for the problems of a knob.
	Sources map[string]string
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
	// Setup is what the inventory says of the components' OpenStack
	// set-up (nova_flavors, neutron_networks, glance_images, ...).
	Setup SetupSettings

	// knobRead, when set, is told the name of every knob read (the test
	// that every knob read is declared).
	knobRead func(name string)
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
	if v, ok := lookupPath(r.Vars, path); ok {
		return v
	}
	return ""
}

// lookupPath is the inventory variable at path ("_manila_flavor.flavor.id":
// a variable, then keys of maps and indexes of lists); false when it is
// missing or null.
func lookupPath(vars map[string]any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	v := vars[parts[0]]
	for _, p := range parts[1:] {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
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

// copyOf is a mapping knob's value, copied (empty when unset).
func (r *Render) copyOf(k knob[map[string]any]) values.Values {
	return values.Copy(k.get(r))
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
// ceph_csi_rbd_keyring, ceph_mon_public_network, ceph_mon_cluster_network),
// else from what ceph's facts phase read from the live cluster (ceph.go).
type cephFacts struct {
	fsid, keyring, publicNetwork, clusterNetwork any
	monitors                                     any
}

// The Ceph facts' knobs; unset and not read by ceph's facts phase, a fact
// is null in the values (that phase's check refuses the run before that
// when it cannot read them).
var (
	cephFSID           = sharedKnobs.str("ceph_csi_rbd_ceph_fsid", "")
	cephMonitors       = sharedKnobs.list("ceph_csi_rbd_monitors")
	cephKeyring        = sharedKnobs.str("ceph_csi_rbd_keyring", "")
	cephPublicNetwork  = sharedKnobs.str("ceph_mon_public_network", "")
	cephClusterNetwork = sharedKnobs.str("ceph_mon_cluster_network", "")
)

func (r *Render) ceph() cephFacts {
	orNil := func(k knob[string]) any {
		if v, ok := k.lookup(r); ok {
			return v
		}
		return nil
	}
	orFact := func(k knob[string], key string) any {
		if v, ok := k.lookup(r); ok {
			return v
		}
		if v := r.cephFact(key); v != "" {
			return v
		}
		return nil
	}
	c := cephFacts{fsid: orFact(cephFSID, "fsid"), keyring: orFact(cephKeyring, "keyring"), publicNetwork: orNil(cephPublicNetwork),
		clusterNetwork: orNil(cephClusterNetwork)}
	if c.clusterNetwork == nil {
		c.clusterNetwork = c.publicNetwork
	}
	c.monitors = r.cephMonitors()
	return c
}

// cephMonitors are the monitors' addresses: the inventory's, else the ones
// ceph's facts phase read, else none.
func (r *Render) cephMonitors() []any {
	if m, ok := cephMonitors.lookup(r); ok {
		return m
	}
	if m := r.cephFactList("monitors"); m != nil {
		return m
	}
	return []any{}
}

// image returns the image of key from the table.
func (r *Render) image(key string) images.Ref {
	if r.Images == nil {
		r.Images = images.Default()
	}
	return r.Images.Ref(key)
}

// controlPlaneAffinity keeps pods on the control-plane nodes.
var controlPlaneAffinity = map[string]any{"nodeAffinity": map[string]any{
	"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{map[string]any{
		"matchExpressions": []any{map[string]any{"key": "openstack-control-plane", "operator": "In", "values": []any{"enabled"}}},
	}}},
}}

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
// none): its static values with the parts made from the settings merged
// over them, in YAML's types, and what the rendering laid aside (its
// storage values) laid over those.
func (c *Component) OwnValues(s Settings, chart values.Values) (values.Values, error) {
	if c.values == nil {
		return values.Values{}, nil
	}
	r := &Render{Settings: s, Chart: chart}
	v := c.values(r)
	if r.err != nil {
		return nil, fmt.Errorf("%s own values: %w", c.Name, r.err)
	}
	v, err := plain(v)
	if err != nil {
		return nil, fmt.Errorf("%s own values: %w", c.Name, err)
	}
	for _, x := range r.extra {
		v = values.Merge(v, x)
	}
	return v, nil
}

// ReleaseValues returns the values the component's release is given: its
// own values (OwnValues) with the operator's overrides (its role's
// <role>_helm_values) laid over them, and then, for a component whose
// catalog phase registers it in keystone natively (Services), the chart's
// keystone Jobs turned off and taken out of its dependencies, and for one
// whose database phase makes its databases (DatabaseGrants), its db-init
// Job likewise, and for one whose queue phase makes its RabbitMQ user
// (QueueGrants), its rabbit-init Job (withoutJobs), whatever the
// overrides say of them.
func (c *Component) ReleaseValues(s Settings, chart, overrides values.Values) (values.Values, error) {
	own, err := c.OwnValues(s, chart)
	if err != nil {
		return nil, err
	}
	v := values.Merge(own, overrides)
	for _, jobs := range c.nativeJobs() {
		v = withoutJobs(chart, v, jobs)
	}
	return v, nil
}
