package components

import "github.com/vexxhost/atmosphere-go/components/values"

// ingressNginx declares ingress-nginx, with what it renders.
func ingressNginx() *Component {
	c := release("ingress-nginx", "ingress-nginx", "ingress-nginx", chart("ingress-nginx"), 30, needs("kubernetes"), kubeAPI)
	c.values = ingressNginxValues
	return c
}

// ingressNginxValues are ingress-nginx's own values for its chart: its
// static values with the images and atmosphere's ingress class.
func ingressNginxValues(r *Render) values.Values {
	return merge(r.static("ingress-nginx"), values.Values{
		"controller": map[string]any{
			"image":                r.ingressNginxImage("ingress_nginx_controller", true),
			"ingressClassResource": map[string]any{"name": r.IngressClass},
			"ingressClass":         r.IngressClass,
			"admissionWebhooks": map[string]any{"patch": map[string]any{
				"image": r.ingressNginxImage("ingress_nginx_kube_webhook_certgen", true)}},
		},
		"defaultBackend": map[string]any{"image": r.ingressNginxImage("ingress_nginx_default_backend", false)},
	})
}
