package components

import (
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// libvirt declares libvirt, with what it renders.
func libvirt() *Component {
	c := withKinds(release("libvirt", "libvirt", openstack, chart("libvirt"), 12, needs("cluster-issuer",
		"ceph-provisioners", // DaemonSet libvirt-libvirt-default mounts Secret pvc-ceph-client-key
	), nil), Manifest)
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
	r.storage(libvirtStorage)
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

// libvirtStorage are libvirt's storage values: the Ceph users of the
// volumes backends (the default one as cinder's).
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
