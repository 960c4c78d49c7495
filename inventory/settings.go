package inventory

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/vexxhost/atmosphere-go/components"
	imagetable "github.com/vexxhost/atmosphere-go/internal/images"
	"github.com/vexxhost/atmosphere-go/internal/publichosts"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// Settings are the variables atmosphere itself acts on, typed.
type Settings struct {
	// Config decides which components are deployed.
	Config components.Config
	// HelmValues are the operator's <component>_helm_values, by the
	// variable's prefix ("nova").
	HelmValues map[string]map[string]any
	// Images, Flavors and Networks are glance_images, nova_flavors and
	// neutron_networks.
	Images   []provision.Image
	Flavors  []provision.Flavor
	Networks []provision.NetworkSpec
	// Region is openstack_helm_endpoints_region_name ("" when unset).
	Region string
	// PublicHosts are the public hosts of the services, by service type
	// ("identity"), from openstack_helm_endpoints_<service>_api_host (the
	// catalog's hosts of publichosts.All).
	PublicHosts map[string]string
	// ImageTable is atmosphere's image table with the inventory's
	// atmosphere_image_overrides, atmosphere_image_prefix,
	// atmosphere_image_mirror and atmosphere_kubernetes_version.
	ImageTable imagetable.Table
}

// Domain is the cloud's public domain: the keystone host without its
// first label ("identity.cloud.example.com" gives "cloud.example.com"), or
// "" when the inventory does not set it.
func (s *Settings) Domain() string {
	if _, rest, ok := strings.Cut(s.PublicHosts["identity"], "."); ok {
		return rest
	}
	return ""
}

// Settings types the variables atmosphere acts on; every value of the
// wrong type or shape is a problem naming its file and key.
func (inv *Inventory) Settings() (*Settings, error) {
	d := &decoder{inv: inv, read: settingsRead}
	s := &Settings{Config: components.DefaultConfig(), HelmValues: map[string]map[string]any{}}
	if v, ok := d.str("atmosphere_network_backend"); ok {
		if v != components.BackendOpenvswitch && v != components.BackendOVN {
			d.fail("atmosphere_network_backend", fmt.Sprintf("%q: want %q or %q", v, components.BackendOpenvswitch, components.BackendOVN))
		} else {
			s.Config.NetworkBackend = v
		}
	}
	// atmosphere's playbooks fail when it is set (playbooks/openstack.yml,
	// ceph.yml): storage is atmosphere_storage's.
	if _, ok := d.get("atmosphere_ceph_enabled"); ok {
		d.fail("atmosphere_ceph_enabled", "no longer supported (atmosphere's playbooks refuse it): configure storage with atmosphere_storage")
	}
	d.boolInto("ovn_bgp_agent_enabled", &s.Config.BGPAgent)
	d.boolInto("atmosphere_staffeln_enabled", &s.Config.Staffeln)
	d.boolInto("keepalived_enabled", &s.Config.Keepalived)
	// csi_driver picks the component that provides the StorageClass
	// general; a value atmosphere-go does not implement leaves the default,
	// and the csi_driver knob refuses it before the run, naming the value
	// and what is supported (components' CheckKnobs: one problem, not two).
	s.Config.CSIDriver = components.CSIDriverOf(inv.Vars)
	// cluster_issuer_type acme with cluster_issuer_acme_solver godaddy or
	// infoblox enables that solver's webhook component; any value the
	// knobs refuse leaves none (their problem is the knobs' to report).
	s.Config.IssuerWebhook = components.IssuerWebhookOf(inv.Vars)
	if v, ok := d.str("neutron_coredns_cluster_ip"); ok {
		if _, err := netip.ParseAddr(v); err != nil {
			d.fail("neutron_coredns_cluster_ip", fmt.Sprintf("%q: want an IP address in the cluster's Service range", v))
		}
	}
	if v, ok := d.str("openstack_helm_endpoints_region_name"); ok {
		s.Region = v
	}
	s.PublicHosts = map[string]string{}
	for _, h := range publichosts.All {
		if h.Type == "" {
			continue // not in the catalog
		}
		if v, ok := d.str("openstack_helm_endpoints_" + h.Var); ok && v != "" {
			s.PublicHosts[h.Type] = v
		}
	}
	for k, v := range inv.Vars {
		if IsSecretKey(k) {
			if _, ok := v.(string); !ok && v != nil {
				d.fail(k, "want a string, got "+shape(v)+" (a secret: its value is not shown)")
			}
			continue
		}
		prefix, ok := strings.CutSuffix(k, "_helm_values")
		if !ok {
			continue
		}
		switch m := v.(type) {
		case map[string]any:
			s.HelmValues[prefix] = m
		case nil:
		default:
			d.fail(k, "want a mapping of Helm values, got "+kind(v))
		}
	}
	s.ImageTable = d.imageTable()
	for i, x := range d.list("glance_images") {
		s.Images = append(s.Images, d.image(fmt.Sprintf("glance_images[%d]", i), x))
	}
	for i, x := range d.list("nova_flavors") {
		s.Flavors = append(s.Flavors, d.flavor(fmt.Sprintf("nova_flavors[%d]", i), x))
	}
	for i, x := range d.list("neutron_networks") {
		s.Networks = append(s.Networks, d.network(fmt.Sprintf("neutron_networks[%d]", i), x))
	}
	if len(d.problems) > 0 {
		return nil, inv.redact(d.problems)
	}
	return s, nil
}

// IsSecretKey reports whether an inventory variable holds a secret
// atmosphere uses (openstack_helm_endpoints_<user>_keystone_password): a
// problem with it never shows its value.
func IsSecretKey(key string) bool {
	return strings.HasPrefix(key, "openstack_helm_endpoints_") && strings.HasSuffix(key, "_password")
}

// shape is what kind of value v is, without the value.
func shape(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// decoder reads typed values out of the variables, collecting problems.
type decoder struct {
	inv      *Inventory
	problems Problems
	// read, when set, is told every variable the settings read.
	read func(key string)
}

// settingsRead, when set, is given to every decoder as its read (the test
// that every role default is read or listed as not used).
var settingsRead func(key string)

// get is the variable key, recorded as read.
func (d *decoder) get(key string) (any, bool) {
	if d.read != nil {
		d.read(key)
	}
	v, ok := d.inv.Vars[key]
	return v, ok
}

func (d *decoder) fail(key, msg string) {
	top, _, _ := strings.Cut(key, "[")
	top, _, _ = strings.Cut(top, ".")
	d.problems = append(d.problems, Problem{File: d.inv.Sources[top], Key: key, Message: msg})
}

func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func (d *decoder) str(key string) (string, bool) {
	v, ok := d.get(key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		d.fail(key, "want a string, got "+kind(v))
	}
	return s, ok
}

func (d *decoder) boolInto(key string, dst *bool) {
	v, ok := d.get(key)
	if !ok {
		return
	}
	if b, ok := asBool(v); ok {
		*dst = b
		return
	}
	d.fail(key, "want true or false, got "+kind(v))
}

// asBool takes YAML booleans and the strings Ansible takes as booleans.
func asBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(v) {
		case "true", "yes", "on", "1":
			return true, true
		case "false", "no", "off", "0":
			return false, true
		}
	}
	return false, false
}

func (d *decoder) list(key string) []any {
	v, ok := d.get(key)
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		d.fail(key, "want a list, got "+kind(v))
	}
	return l
}

// fields reads a mapping's fields, reporting a non-mapping, missing
// required fields and unknown fields.
type fields struct {
	d    *decoder
	key  string
	m    map[string]any
	used map[string]bool
}

func (d *decoder) fields(key string, v any, known ...string) *fields {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, "want a mapping, got "+kind(v))
		m = map[string]any{}
	}
	f := &fields{d: d, key: key, m: m, used: map[string]bool{}}
	for _, k := range known {
		f.used[k] = false
	}
	for k := range m {
		if _, ok := f.used[k]; !ok {
			msg := "unknown field"
			if near := suggest.Nearest(k, known); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			d.fail(key+"."+k, msg)
		}
	}
	return f
}

func (f *fields) str(name string, required bool) string {
	v, ok := f.m[name]
	if !ok || v == nil {
		if required {
			f.d.fail(f.key+"."+name, "required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.d.fail(f.key+"."+name, "want a string, got "+kind(v))
	}
	return s
}

func (f *fields) integer(name string, required bool) int {
	v, ok := f.m[name]
	if !ok || v == nil {
		if required {
			f.d.fail(f.key+"."+name, "required")
		}
		return 0
	}
	n, ok := v.(float64)
	if !ok || n != math.Trunc(n) || n < 0 || n > math.MaxInt32 {
		f.d.fail(f.key+"."+name, "want a whole number of 0 or more, got "+kind(v))
		return 0
	}
	return int(n)
}

func (f *fields) boolean(name string) *bool {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	b, ok := asBool(v)
	if !ok {
		f.d.fail(f.key+"."+name, "want true or false, got "+kind(v))
		return nil
	}
	return &b
}

func (f *fields) strings(name string) []string {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		f.d.fail(f.key+"."+name, "want a list of strings, got "+kind(v))
		return nil
	}
	var out []string
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			f.d.fail(fmt.Sprintf("%s.%s[%d]", f.key, name, i), "want a string, got "+kind(x))
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) image(key string, v any) provision.Image {
	f := d.fields(key, v, "name", "url", "disk_format", "container_format", "min_disk", "min_ram", "is_public", "properties", "tags", "checksum")
	img := provision.Image{Name: f.str("name", true), Source: f.str("url", true), DiskFormat: f.str("disk_format", false),
		ContainerFormat: f.str("container_format", false), Tags: f.strings("tags"), MD5: f.str("checksum", false)}
	f.integer("min_disk", false)
	f.integer("min_ram", false)
	if img.DiskFormat == "" {
		img.DiskFormat = "qcow2"
	}
	if pub := f.boolean("is_public"); pub != nil && *pub {
		img.Visibility = images.ImageVisibilityPublic
	}
	if props, ok := f.m["properties"].(map[string]any); ok {
		img.Properties = map[string]string{}
		for k, p := range props {
			img.Properties[k] = fmt.Sprint(p)
		}
	}
	return img
}

func (d *decoder) flavor(key string, v any) provision.Flavor {
	f := d.fields(key, v, "name", "flavorid", "vcpus", "ram", "disk", "ephemeral", "swap", "is_public", "rxtx_factor", "extra_specs")
	fl := provision.Flavor{Name: f.str("name", true), VCPUs: f.integer("vcpus", true), RAM: f.integer("ram", true),
		Disk: f.integer("disk", false), Public: true}
	if pub := f.boolean("is_public"); pub != nil {
		fl.Public = *pub
	}
	return fl
}

func (d *decoder) network(key string, v any) provision.NetworkSpec {
	f := d.fields(key, v, "name", "external", "shared", "mtu_size", "port_security_enabled", "provider_network_type",
		"provider_physical_network", "provider_segmentation_id", "subnets")
	n := provision.NetworkSpec{Name: f.str("name", true), External: f.boolean("external"), Shared: f.boolean("shared"),
		PortSecurity: f.boolean("port_security_enabled"), MTU: f.integer("mtu_size", false),
		ProviderType: f.str("provider_network_type", false), PhysicalNetwork: f.str("provider_physical_network", false),
		SegmentationID: f.integer("provider_segmentation_id", false)}
	subs, ok := f.m["subnets"]
	if !ok || subs == nil {
		return n
	}
	list, ok := subs.([]any)
	if !ok {
		d.fail(key+".subnets", "want a list, got "+kind(subs))
		return n
	}
	for i, x := range list {
		sk := fmt.Sprintf("%s.subnets[%d]", key, i)
		sf := d.fields(sk, x, "name", "cidr", "ip_version", "gateway_ip", "no_gateway_ip", "allocation_pool_start",
			"allocation_pool_end", "dns_nameservers", "enable_dhcp", "host_routes")
		sub := provision.SubnetSpec{Name: sf.str("name", true), CIDR: sf.str("cidr", true), GatewayIP: sf.str("gateway_ip", false),
			DNSNameservers: sf.strings("dns_nameservers"), EnableDHCP: sf.boolean("enable_dhcp")}
		if no := sf.boolean("no_gateway_ip"); no != nil {
			sub.NoGateway = *no
		}
		start, end := sf.str("allocation_pool_start", false), sf.str("allocation_pool_end", false)
		if (start == "") != (end == "") {
			d.fail(sk, "allocation_pool_start and allocation_pool_end go together")
		} else if start != "" {
			sub.AllocationPools = []subnets.AllocationPool{{Start: start, End: end}}
		}
		n.Subnets = append(n.Subnets, sub)
	}
	return n
}

// imageTable builds the image table from the inventory's image variables.
func (d *decoder) imageTable() imagetable.Table {
	var o imagetable.Options
	o.Prefix, _ = d.str("atmosphere_image_prefix")
	o.Mirror, _ = d.str("atmosphere_image_mirror")
	o.KubernetesVersion, _ = d.str("atmosphere_kubernetes_version")
	if v, ok := d.get("atmosphere_image_overrides"); ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			d.fail("atmosphere_image_overrides", "want a mapping of image keys to references, got "+kind(v))
			return nil
		}
		o.Overrides = map[string]string{}
		for k, ref := range m {
			s, ok := ref.(string)
			if !ok {
				d.fail("atmosphere_image_overrides."+k, "want an image reference, got "+kind(ref))
				continue
			}
			o.Overrides[k] = s
		}
	}
	t, err := imagetable.New(o)
	if err != nil {
		key := "atmosphere_image_overrides"
		if o.Mirror != "" && !strings.Contains(err.Error(), key) {
			key = "atmosphere_image_mirror"
		}
		d.fail(key, strings.TrimPrefix(err.Error(), key+": "))
		return nil
	}
	return t
}
