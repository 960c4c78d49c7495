package components

// libvirt declares libvirt, with what it renders.
func libvirt() *Component {
	c := withKinds(release("libvirt", "libvirt", openstack, chart("libvirt", "1.1.0"), 12, needs("cluster-issuer"), nil), Manifest)
	c.valuesYAML = libvirtValues
	c.objects = libvirtObjects
	return c
}

// libvirtValues are libvirt's own values for its chart.
func libvirtValues(r *Render) string {
	return `
endpoints: ` + inline(r.endpoints("libvirt")) + `
network:
  backend:
    - ` + inline(r.Config.NetworkBackend) + `
images:
  tags: ` + inline(r.imageTags()) + `
conf:
  libvirt:
    listen_tcp: "0"
    listen_tls: "1"
    listen_addr: 0.0.0.0
    tls_priority: NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2
  qemu:
    default_tls_x509_verify: "1"
    vnc_tls: "1"
issuers:
  libvirt:
    kind: Issuer
    name: libvirt-api
  vencrypt:
    kind: Issuer
    name: libvirt-vnc` + podLabels + `  sidecars:
    libvirt_exporter:
      enabled: true
      args:
        - --libvirt.uri
        - /run/libvirt/libvirt-sock-ro
manifests:
  role_cert_manager: true
` + r.storage("libvirt")
}

// libvirtObjects are the objects libvirt applies itself.
func libvirtObjects(Settings) (string, error) {
	return caIssuer("libvirt-vnc", "libvirt", "libvirt-vnc-ca", "ECDSA", 256) + "\n---\n" +
		caIssuer("libvirt-api", "libvirt", "libvirt-api-ca", "ECDSA", 256), nil
}
