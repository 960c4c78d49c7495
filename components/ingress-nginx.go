package components

// ingressNginx declares ingress-nginx, with what it renders.
func ingressNginx() *Component {
	c := release("ingress-nginx", "ingress-nginx", "ingress-nginx", chart("ingress-nginx", "4.12.1"), 30, needs("kubernetes"), kubeAPI)
	c.valuesYAML = ingressNginxValues
	return c
}

// ingressNginxValues are ingress-nginx's own values for its chart.
func ingressNginxValues(r *Render) string {
	return `
controller:
  image:` + r.ingressNginx("ingress_nginx_controller", 4, true) + `
  config:
    proxy-buffer-size: 16k
    worker-shutdown-timeout: 5s
  dnsPolicy: ClusterFirstWithHostNet
  allowSnippetAnnotations: true
  hostNetwork: true
  ingressClassResource:
    name: ` + r.IngressClass + `
  ingressClass: ` + r.IngressClass + `
  kind: DaemonSet
  nodeSelector:
    openstack-control-plane: enabled
  service:
    type: ClusterIP
  admissionWebhooks:
    port: 7443
    patch:
      image:` + r.ingressNginx("ingress_nginx_kube_webhook_certgen", 8, true) + `
  metrics:
    enabled: true
  terminationGracePeriodSeconds: 10
defaultBackend:
  nodeSelector:
    openstack-control-plane: enabled
  enabled: true
  image:` + r.ingressNginx("ingress_nginx_default_backend", 4, false) + `
# designate's mini-DNS, reached through the ingress controllers.
tcp:
  "5354": openstack/minidns:5354
udp:
  "5354": openstack/minidns:5354
`
}
