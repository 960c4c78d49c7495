package components

import "github.com/vexxhost/atmosphere-go/components/values"

// libvirt declares libvirt, with what it renders.
func libvirt() *Component {
	c := withKinds(release("libvirt", "libvirt", openstack, chart("libvirt"), 12, needs("cluster-issuer"), nil), Manifest)
	c.endpoints = libvirtEndpoints
	c.values = libvirtValues
	c.objects = libvirtObjects
	return c
}

// libvirtValues are libvirt's own values for its chart: its static values
// with the endpoints, the network backend and the images' tags; its storage
// values are laid over them (r.storage).
func libvirtValues(r *Render) values.Values {
	v := merge(r.static("libvirt"), r.openstackHelmValues("libvirt"), values.Values{
		"network": map[string]any{"backend": []any{r.Config.NetworkBackend}},
	})
	r.storage("libvirt")
	return v
}

// libvirtObjects are the objects libvirt applies itself.
func libvirtObjects(Settings) ([]Object, error) {
	return append(caIssuer("libvirt-vnc", "libvirt", "libvirt-vnc-ca", "ECDSA", 256),
		caIssuer("libvirt-api", "libvirt", "libvirt-api-ca", "ECDSA", 256)...), nil
}

// libvirtEndpoints are the chart endpoints libvirt owns.
var libvirtEndpoints = map[string]endpointFragment{
	"libvirt_exporter": func(*endpointRender) values.Values {
		return m{"libvirt_exporter": m{"port": m{"metrics": m{"default": 9177}}}}
	},
}
