package stack

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

//go:embed kube-prometheus-stack.yaml
var kubePrometheusStatic string

// kubePrometheusStack is kube-prometheus-stack's values: the static part
// with what depends on the deployment laid over it.
func (r *Render) kubePrometheusStack() values.Values {
	v := r.parse(kubePrometheusStatic)
	if r.err != nil {
		return nil
	}
	str := func(name, def string) string { s, _ := r.knob(name, def).(string); return s }
	class := str("kube_prometheus_stack_ingress_class_name", r.IngressClass)
	issuer := str("kube_prometheus_stack_ingress_cluster_issuer", r.ClusterIssuer)
	keycloak := str("kube_prometheus_stack_keycloak_server_url", "https://"+r.keycloakHost())
	realm := str("kube_prometheus_stack_keycloak_realm", "atmosphere")
	caBundle := str("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt")
	global, _ := r.knob("atmosphere_ingress_annotations", map[string]any{}).(map[string]any)
	hosts := map[string]string{}
	for _, ui := range []string{"alertmanager", "grafana", "prometheus"} {
		host := str("kube_prometheus_stack_"+ui+"_host", "")
		if host == "" {
			host = (&endpointRender{Render: r}).derivedHost(ui)
		}
		hosts[ui] = host
		annotations := values.Merge(values.Values{"cert-manager.io/cluster-issuer": issuer, "cert-manager.io/common-name": host},
			r.mapKnob("kube_prometheus_stack_"+ui+"_ingress_annotations"))
		annotations = values.Merge(annotations, global)
		secret := str("openstack_helm_ingress_secret_name", ui+"-tls")
		ingress := map[string]any{
			"enabled": true, "ingressClassName": class, "annotations": annotations,
			"hosts": []any{host}, "tls": []any{map[string]any{"secretName": secret, "hosts": []any{host}}},
		}
		if ui != "grafana" {
			// Through the oauth2-proxy sidecar, which asks keycloak.
			ingress["servicePort"] = 8081
		}
		r.set(v, ui+".ingress", ingress)
	}
	bitnami := func(key string) map[string]any {
		i := r.image(key)
		return map[string]any{"registry": i.Domain, "repository": i.Path, "tag": i.Tag}
	}
	for path, key := range map[string]string{
		"alertmanager.alertmanagerSpec.image":               "alertmanager",
		"grafana.image":                                     "grafana",
		"grafana.sidecar.image":                             "grafana_sidecar",
		"kube-state-metrics.image":                          "kube_state_metrics",
		"prometheus.prometheusSpec.image":                   "prometheus",
		"prometheus-node-exporter.image":                    "prometheus_node_exporter",
		"prometheusOperator.admissionWebhooks.patch.image":  "prometheus_operator_kube_webhook_certgen",
		"prometheusOperator.image":                          "prometheus_operator",
		"prometheusOperator.prometheusConfigReloader.image": "prometheus_config_reloader",
	} {
		r.set(v, path, bitnami(key))
	}
	for path, key := range map[string]string{
		"alertmanager.alertmanagerSpec.containers.0.image": "oauth2_proxy",
		"prometheus.prometheusSpec.containers.0.image":     "pod_tls_sidecar",
		"prometheus.prometheusSpec.containers.1.image":     "oauth2_proxy",
		"prometheus-node-exporter.sidecars.0.image":        "pod_tls_sidecar",
	} {
		r.set(v, path, r.image(key).String())
	}
	r.set(v, "alertmanager.alertmanagerSpec.volumes.0.hostPath.path", caBundle)
	r.set(v, "prometheus.prometheusSpec.volumes.0.hostPath.path", caBundle)
	password, _ := r.knob("kube_prometheus_stack_grafana_admin_password", nil).(string)
	if password == "" {
		password = r.secret("kube_prometheus_stack_grafana_admin_password")
	}
	r.set(v, "grafana.adminPassword", password)
	oidc := keycloak + "/realms/" + realm + "/protocol/openid-connect/"
	r.set(v, "grafana.grafana\\.ini.server.root_url", "https://"+hosts["grafana"])
	r.set(v, "grafana.grafana\\.ini.auth.signout_redirect_url", oidc+"logout?post_logout_redirect_uri=https://"+hosts["grafana"]+"/login")
	for _, k := range []string{"auth", "token", "userinfo"} {
		key := map[string]string{"auth": "auth_url", "token": "token_url", "userinfo": "api_url"}[k]
		r.set(v, "grafana.grafana\\.ini.auth\\.generic_oauth."+key, oidc+k)
	}
	return v
}

// set sets the value at a dotted path (a number indexes a list, "\." is a
// dot in a key), making mappings on the way.
func (r *Render) set(v values.Values, path string, x any) {
	parts := strings.Split(strings.ReplaceAll(path, `\.`, "\x00"), ".")
	var cur any = map[string]any(v)
	for i, p := range parts {
		p = strings.ReplaceAll(p, "\x00", ".")
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = x
				return
			}
			next, ok := c[p]
			if !ok {
				next = map[string]any{}
				c[p] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(c) {
				r.fail(fmt.Errorf("values path %s: no element %s", path, p))
				return
			}
			if last {
				c[n] = x
				return
			}
			cur = c[n]
		default:
			r.fail(fmt.Errorf("values path %s: %s is not a mapping or a list", path, p))
			return
		}
	}
}
