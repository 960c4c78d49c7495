package components

// certManager declares cert-manager, with what it renders.
func certManager() *Component {
	c := release("cert-manager", "cert-manager", "cert-manager",
		chart("cert-manager", "v1.15.5"),
		31, needs("kubernetes"), nil)
	c.valuesYAML = certManagerValues
	return c
}

// certManagerValues are cert-manager's own values for its chart.
func certManagerValues(r *Render) string {
	image := func(key string) string {
		return "\n    repository: " + r.repository(key) + "\n    tag: " + r.tag(key)
	}
	return `
installCRDs: true
featureGates: AdditionalCertificateOutputFormats=true
image:` + image("cert_manager_controller") + `
volumes:
  - name: etc-ssl-certs
    hostPath:
      path: /etc/ssl/certs
volumeMounts:
  - name: etc-ssl-certs
    mountPath: /etc/ssl/certs
    readOnly: true
nodeSelector:
  openstack-control-plane: enabled
webhook:
  extraArgs:
    - --feature-gates=AdditionalCertificateOutputFormats=true
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_webhook"), 2) + `
cainjector:
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_cainjector"), 2) + `
startupapicheck:
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_startupapicheck"), 2) + `
acmesolver:
  nodeSelector:
    openstack-control-plane: enabled
  image:` + indent(image("cert_manager_acmesolver"), 2) + `
`
}
