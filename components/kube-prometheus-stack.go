package components

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs kube-prometheus-stack reads
// (roles/kube_prometheus_stack/defaults/main.yml), besides the shared
// atmosphere_ingress_annotations, openstack_helm_ingress_secret_name,
// keycloak_host and cluster_issuer_type.
var (
	kubePrometheusStackKnobs                = knobsOf("kube-prometheus-stack")
	kubePrometheusStackHelmReleaseName      = kubePrometheusStackKnobs.str("kube_prometheus_stack_helm_release_name", "kube-prometheus-stack")
	kubePrometheusStackIngressClassName     = kubePrometheusStackKnobs.str("kube_prometheus_stack_ingress_class_name", "")     // atmosphere's
	kubePrometheusStackIngressClusterIssuer = kubePrometheusStackKnobs.str("kube_prometheus_stack_ingress_cluster_issuer", "") // atmosphere's
	kubePrometheusStackKeycloakServerURL    = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_server_url", "")    // https://<keycloak's host>
	kubePrometheusStackKeycloakRealm        = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_realm", "atmosphere")
	kubePrometheusStackCACertificates       = kubePrometheusStackKnobs.str("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt")
	kubePrometheusStackGrafanaAdminPassword = kubePrometheusStackKnobs.str("kube_prometheus_stack_grafana_admin_password", "") // generated
	kubePrometheusStackNodeExporterConfig   = kubePrometheusStackKnobs.mapping("kube_prometheus_stack_node_exporter_config", nil)
	kubePrometheusStackKeycloakClients      = kubePrometheusStackKnobs.list("kube_prometheus_stack_keycloak_clients")
	kubePrometheusStackClusterIssuerType    = kubePrometheusStackKnobs.str("cluster_issuer_type", "acme")                 // the cluster_issuer role's default
	kubePrometheusStackAlertmanagerHost     = kubePrometheusStackKnobs.str("kube_prometheus_stack_alertmanager_host", "") // alertmanager.<the cloud's domain>
	kubePrometheusStackGrafanaHost          = kubePrometheusStackKnobs.str("kube_prometheus_stack_grafana_host", "")      // grafana.<the cloud's domain>
	kubePrometheusStackPrometheusHost       = kubePrometheusStackKnobs.str("kube_prometheus_stack_prometheus_host", "")   // prometheus.<the cloud's domain>
	kubePrometheusStackAlertmanagerIngress  = kubePrometheusStackKnobs.mapping("kube_prometheus_stack_alertmanager_ingress_annotations", nil)
	kubePrometheusStackGrafanaIngress       = kubePrometheusStackKnobs.mapping("kube_prometheus_stack_grafana_ingress_annotations", nil)
	kubePrometheusStackPrometheusIngress    = kubePrometheusStackKnobs.mapping("kube_prometheus_stack_prometheus_ingress_annotations", nil)
	kubePrometheusStackKeycloakRealmName    = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_realm_name", "Atmosphere")
	kubePrometheusStackKeycloakAdminRealm   = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_admin_realm_name", "master")
	kubePrometheusStackKeycloakAdminClient  = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_admin_client_id", "admin-cli")
	kubePrometheusStackKeycloakAdminUser    = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_admin_user", "admin")
	kubePrometheusStackKeycloakAdminPass    = kubePrometheusStackKnobs.str("kube_prometheus_stack_keycloak_admin_password", "") // keycloak_admin_password
)

// The certificate templates of the pod-tls-sidecars of node-exporter and
// prometheus (the role's _kube_prometheus_stack_tls_template by default,
// in the static values).
var (
	kubePrometheusStackNodeExporterTLSTemplate = kubePrometheusStackKnobs.mapping("kube_prometheus_stack_node_exporter_tls_template", nil)
	kubePrometheusStackPrometheusTLSTemplate   = kubePrometheusStackKnobs.mapping("kube_prometheus_stack_prometheus_tls_template", nil)
)

// The knobs of each monitoring UI, by UI.
var (
	monitoringHosts = map[string]knob[string]{"alertmanager": kubePrometheusStackAlertmanagerHost,
		"grafana": kubePrometheusStackGrafanaHost, "prometheus": kubePrometheusStackPrometheusHost}
	monitoringIngressAnnotations = map[string]knob[map[string]any]{"alertmanager": kubePrometheusStackAlertmanagerIngress,
		"grafana": kubePrometheusStackGrafanaIngress, "prometheus": kubePrometheusStackPrometheusIngress}
)

// kubePrometheusStack declares kube-prometheus-stack, with what it renders.
func kubePrometheusStack() *Component {
	c := withKinds(&Component{
		Name: "kube-prometheus-stack", Kinds: []Kind{Keycloak, Helm, Manifest},
		Release: "kube-prometheus-stack", Namespace: monitoring,
		Chart: pinned("kube-prometheus-stack"), Timeout: 5 * time.Minute,
		Phases: []Phase{
			{Name: "sso", Kind: Keycloak, Needs: needs("keycloak"), Resources: []string{ResourceKeycloakAdmin}, Estimate: s(9)},
			{Name: "install", Kind: Helm, Needs: withStorage("cluster-issuer"), Resources: kubeAPI, Estimate: s(120)},
		},
	})
	c.values = kubePrometheusStackValues
	c.objects = kubePrometheusObjects
	c.keycloak = kubePrometheusStackKeycloak
	c.ChartCRDs = true
	return c
}

// kubePrometheusStackKeycloak is the monitoring's Keycloak work (its sso
// phase), as the kube_prometheus_stack role makes it: the realm
// (kube_prometheus_stack_keycloak_realm, its display name
// kube_prometheus_stack_keycloak_realm_name), the "client roles" mapper of
// the realm's "roles" client scope putting the client roles in the ID
// token too, and each of kube_prometheus_stack_keycloak_clients with its
// redirect URIs, its audience mapper and its roles. The clients are public
// with direct access grants, as the role's keycloak_client task leaves
// them (it sets neither: testdata/fidelity/keycloak/atmosphere.json), so
// Keycloak keeps no secret of theirs: the secret of a client's Secret
// (kube_prometheus_stack_<id>_client_secret, kubePrometheusObjects) that
// its oauth2-proxy or grafana sends is not checked. The admin is the role's kube_prometheus_stack_keycloak_admin_*
// (the password else keycloak_admin_password, in the secrets store).
func kubePrometheusStackKeycloak(s Settings) ([]KeycloakWork, error) {
	r := &Render{Settings: s}
	password := kubePrometheusStackKeycloakAdminPass.get(r)
	if password == "" {
		password = r.secret("keycloak_admin_password")
	}
	server := KeycloakServer{
		URL:        orDefault(r, kubePrometheusStackKeycloakServerURL, "https://"+r.keycloakHost()),
		AdminRealm: kubePrometheusStackKeycloakAdminRealm.get(r), AdminClientID: kubePrometheusStackKeycloakAdminClient.get(r),
		User: kubePrometheusStackKeycloakAdminUser.get(r), Password: password,
		Insecure: kubePrometheusStackClusterIssuerType.get(r) == "self-signed",
	}
	name := kubePrometheusStackKeycloakRealm.get(r)
	realm := KeycloakRealm{
		Name:       name,
		Attributes: map[string]any{"id": name, "displayName": kubePrometheusStackKeycloakRealmName.get(r), "enabled": true},
		ClientScopes: []KeycloakClientScope{{Name: "roles", Mappers: []KeycloakMapper{{
			Name: "client roles", Protocol: oidc, Mapper: "oidc-usermodel-client-role-mapper",
			Config: map[string]string{"claim.name": "resource_access.${client_id}.roles", "access.token.claim": "true",
				"id.token.claim": "true", "multivalued": "true"},
		}}}},
	}
	for _, c := range r.monitoringClients() {
		realm.Clients = append(realm.Clients, KeycloakClient{
			ClientID: c.ID,
			Attributes: map[string]any{"protocol": oidc, "publicClient": true, "directAccessGrantsEnabled": true,
				"redirectUris": stringsAny(c.RedirectURIs)},
			Mappers: []KeycloakMapper{{Name: "aud-mapper-" + c.ID, Protocol: oidc, Mapper: "oidc-audience-mapper",
				Config: map[string]string{"included.client.audience": c.ID, "access.token.claim": "true"}}},
			Roles: c.Roles,
		})
	}
	if r.err != nil {
		return nil, r.err
	}
	return []KeycloakWork{{Server: server, Realms: []KeycloakRealm{realm}}}, nil
}

// stringsAny is a list of strings as a list of values.
func stringsAny(list []string) []any {
	out := make([]any, len(list))
	for i, x := range list {
		out[i] = x
	}
	return out
}

// kubePrometheusStackValues are kube-prometheus-stack's own values for its
// chart: its static values (kube-prometheus-stack.values.yaml) with what
// depends on the deployment laid over them — the UIs' Ingresses, the
// images, grafana's admin password and its sign-in through keycloak — and
// put in the static lists' items: the sidecars' images, the host's CA
// bundle, the node exporter's web configuration.
func kubePrometheusStackValues(r *Render) values.Values {
	class := orDefault(r, kubePrometheusStackIngressClassName, r.IngressClass)
	issuer := orDefault(r, kubePrometheusStackIngressClusterIssuer, r.ClusterIssuer)
	keycloak := orDefault(r, kubePrometheusStackKeycloakServerURL, "https://"+r.keycloakHost())
	realm := kubePrometheusStackKeycloakRealm.get(r)
	caBundle := kubePrometheusStackCACertificates.get(r)
	global := atmosphereIngressAnnotations.get(r)
	hosts := map[string]string{}
	ingresses := values.Values{}
	for _, ui := range []string{"alertmanager", "grafana", "prometheus"} {
		host := r.monitoringHost(ui)
		hosts[ui] = host
		annotations := values.Merge(values.Values{"cert-manager.io/cluster-issuer": issuer, "cert-manager.io/common-name": host},
			r.copyOf(monitoringIngressAnnotations[ui]))
		annotations = values.Merge(annotations, global)
		secret := orDefault(r, openstackHelmIngressSecretName, ui+"-tls")
		ingress := map[string]any{
			"enabled": true, "ingressClassName": class, "annotations": annotations,
			"hosts": []any{host}, "tls": []any{map[string]any{"secretName": secret, "hosts": []any{host}}},
		}
		if ui != "grafana" {
			// Through the oauth2-proxy sidecar, which asks keycloak.
			ingress["servicePort"] = 8081
		}
		ingresses[ui] = map[string]any{"ingress": ingress}
	}
	password := kubePrometheusStackGrafanaAdminPassword.get(r)
	if password == "" {
		password = r.secret("kube_prometheus_stack_grafana_admin_password")
	}
	oidc := keycloak + "/realms/" + realm + "/protocol/openid-connect/"
	grafana := "https://" + hosts["grafana"]
	image := r.bitnamiImage
	v := merge(r.static("kube-prometheus-stack"), ingresses, values.Values{
		"alertmanager": map[string]any{"alertmanagerSpec": map[string]any{"image": image("alertmanager")}},
		"grafana": map[string]any{
			"image":         image("grafana"),
			"sidecar":       map[string]any{"image": image("grafana_sidecar")},
			"adminPassword": password,
			"grafana.ini": map[string]any{
				"server": map[string]any{"root_url": grafana},
				"auth":   map[string]any{"signout_redirect_url": oidc + "logout?post_logout_redirect_uri=" + grafana + "/login"},
				"auth.generic_oauth": map[string]any{
					"auth_url": oidc + "auth", "token_url": oidc + "token", "api_url": oidc + "userinfo",
				},
			},
		},
		"kube-state-metrics":       map[string]any{"image": image("kube_state_metrics")},
		"prometheus":               map[string]any{"prometheusSpec": map[string]any{"image": image("prometheus")}},
		"prometheus-node-exporter": map[string]any{"image": image("prometheus_node_exporter")},
		"prometheusOperator": map[string]any{
			"image":                    image("prometheus_operator"),
			"admissionWebhooks":        map[string]any{"patch": map[string]any{"image": image("prometheus_operator_kube_webhook_certgen")}},
			"prometheusConfigReloader": map[string]any{"image": image("prometheus_config_reloader")},
		},
	})
	// Lists are laid over whole, not merged: what depends on the deployment
	// in the static lists' items is put in them.
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
	r.nodeExporterConfig(v)
	r.tlsTemplates(v)
	return v
}

// tlsTemplates puts kube_prometheus_stack_node_exporter_tls_template and
// kube_prometheus_stack_prometheus_tls_template, when the inventory sets
// them, where the role puts them: the certificate-template.yml of the
// node-exporter ConfigMap among the exporter's extraManifests, and that of
// the kube-prometheus-stack-prometheus-tls ConfigMap among the chart's extraManifests
// (what the pod-tls-sidecars read). The defaults are the role's template,
// in the static values; a knob's template is the same data in YAML of our
// own layout, as nodeExporterConfig writes it.
func (r *Render) tlsTemplates(v values.Values) {
	if tmpl, ok := kubePrometheusStackNodeExporterTLSTemplate.lookup(r); ok {
		raw, err := yaml.Marshal(tmpl)
		if err != nil {
			r.fail(fmt.Errorf("kube_prometheus_stack_node_exporter_tls_template: %w", err))
			return
		}
		found, _ := values.Get(v, "prometheus-node-exporter.extraManifests")
		manifests, _ := found.([]any)
		const begin = "\n  certificate-template.yml: |\n"
		done := false
		for i, m := range manifests {
			text, _ := m.(string)
			if b := strings.Index(text, begin); b >= 0 {
				manifests[i] = text[:b+len(begin)] + indentLines(string(raw), 4)
				done = true
				break
			}
		}
		if !done {
			r.fail(fmt.Errorf("kube_prometheus_stack_node_exporter_tls_template: no node-exporter ConfigMap in the exporter's extraManifests"))
		}
	}
	if tmpl, ok := kubePrometheusStackPrometheusTLSTemplate.lookup(r); ok {
		raw, err := yaml.Marshal(tmpl)
		if err != nil {
			r.fail(fmt.Errorf("kube_prometheus_stack_prometheus_tls_template: %w", err))
			return
		}
		// The static values name it after the default release.
		const name = "kube-prometheus-stack-prometheus-tls"
		found, _ := values.Get(v, "extraManifests")
		manifests, _ := found.([]any)
		for _, m := range manifests {
			o, _ := m.(map[string]any)
			meta, _ := o["metadata"].(map[string]any)
			data, _ := o["data"].(map[string]any)
			if o["kind"] == "ConfigMap" && meta["name"] == name && data != nil {
				data["certificate-template.yml"] = string(raw)
				return
			}
		}
		r.fail(fmt.Errorf("kube_prometheus_stack_prometheus_tls_template: no ConfigMap %s in the chart's extraManifests", name))
	}
}

// nodeExporterConfig puts kube_prometheus_stack_node_exporter_config, when
// the inventory sets it, in node-exporter's web configuration (the
// node-exporter.yml of the ConfigMap among the exporter's extraManifests);
// the default is the role's (TLS 1.3, client certificates verified when
// given). The role writes it with to_nice_yaml; ours is the same data in
// YAML of our own layout.
func (r *Render) nodeExporterConfig(v values.Values) {
	config, ok := kubePrometheusStackNodeExporterConfig.lookup(r)
	if !ok {
		return
	}
	found, _ := values.Get(v, "prometheus-node-exporter.extraManifests")
	manifests, _ := found.([]any)
	const begin, end = "  node-exporter.yml: |\n", "\n  certificate-template.yml: |\n"
	for i, m := range manifests {
		text, _ := m.(string)
		b, e := strings.Index(text, begin), strings.Index(text, end)
		if b < 0 || e < b {
			continue
		}
		raw, err := yaml.Marshal(config)
		if err != nil {
			r.fail(fmt.Errorf("kube_prometheus_stack_node_exporter_config: %w", err))
			return
		}
		manifests[i] = text[:b+len(begin)] + indentLines(string(raw), 4) + text[e:]
		return
	}
	r.fail(fmt.Errorf("kube_prometheus_stack_node_exporter_config: no node-exporter ConfigMap in the exporter's extraManifests"))
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

// monitoringHost is a monitoring UI's public host:
// kube_prometheus_stack_<ui>_host, else <ui>.<the cloud's domain>.
func (r *Render) monitoringHost(ui string) string {
	if h := monitoringHosts[ui].get(r); h != "" {
		return h
	}
	return (&endpointRender{Render: r}).derivedHost(ui)
}

// monitoringClient is one of kube_prometheus_stack_keycloak_clients: a
// monitoring UI that signs in through Keycloak.
type monitoringClient struct {
	ID           string   `json:"id"`
	Port         int      `json:"port"`
	Roles        []string `json:"roles"`
	OAuth2Proxy  bool     `json:"oauth2_proxy"`
	RedirectURIs []string `json:"redirect_uris"`
}

// monitoringClients are kube_prometheus_stack_keycloak_clients, the role's
// default (alertmanager and prometheus behind oauth2-proxy, grafana
// signing in itself) when the inventory does not set them.
func (r *Render) monitoringClients() []monitoringClient {
	if raw, ok := kubePrometheusStackKeycloakClients.lookup(r); ok {
		var out []monitoringClient
		if err := convert(raw, &out); err != nil {
			r.fail(fmt.Errorf("kube_prometheus_stack_keycloak_clients: %w", err))
		}
		return out
	}
	host := r.monitoringHost
	return []monitoringClient{
		{ID: "alertmanager", Port: 9093, Roles: []string{"member"}, OAuth2Proxy: true,
			RedirectURIs: []string{"https://" + host("alertmanager") + "/oauth2/callback"}},
		{ID: "grafana", Roles: []string{"admin", "editor", "viewer"},
			RedirectURIs: []string{"https://" + host("grafana") + "/login", "https://" + host("grafana") + "/login/generic_oauth"}},
		{ID: "prometheus", Port: 9090, Roles: []string{"member"}, OAuth2Proxy: true,
			RedirectURIs: []string{"https://" + host("prometheus") + "/oauth2/callback"}},
	}
}

// kubePrometheusObjects are the objects around kube-prometheus-stack's
// chart: the CA and ClusterIssuer of its certificates, and the Secrets its
// Keycloak clients read — each client's secret (grafana mounts it), and
// for the UIs behind oauth2-proxy its cookie secret and the proxy's
// environment. The role has secretgen-controller make these Secrets from
// Password and SecretTemplate objects; atmosphere takes the passwords from
// its secrets store (kube_prometheus_stack_<id>_client_secret,
// kube_prometheus_stack_<id>_cookie_secret) and writes the same Secrets.
func kubePrometheusObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	release := kubePrometheusStackHelmReleaseName.get(r)
	keycloak := orDefault(r, kubePrometheusStackKeycloakServerURL, "https://"+r.keycloakHost())
	realm := kubePrometheusStackKeycloakRealm.get(r)
	insecure := "False"
	if kubePrometheusStackClusterIssuerType.get(r) == "self-signed" {
		insecure = "True"
	}
	docs := []map[string]any{
		{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
			"metadata": map[string]any{"name": "kube-prometheus-stack-ca", "namespace": "cert-manager"},
			"spec": map[string]any{"commonName": "kube-prometheus-stack", "duration": "87600h0m0s", "isCA": true,
				"issuerRef":  map[string]any{"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "self-signed"},
				"privateKey": map[string]any{"algorithm": "ECDSA", "size": 256}, "renewBefore": "720h0m0s",
				"secretName": "kube-prometheus-stack-ca"}},
		{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": map[string]any{"name": "kube-prometheus-stack"},
			"spec": map[string]any{"ca": map[string]any{"secretName": "kube-prometheus-stack-ca"}}},
	}
	secret := func(name string, data map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata": map[string]any{"name": name}, "stringData": data}
	}
	for _, c := range r.monitoringClients() {
		key := strings.ReplaceAll(c.ID, "-", "_")
		client := r.secret("kube_prometheus_stack_" + key + "_client_secret")
		docs = append(docs, secret(release+"-"+c.ID+"-client-secret", map[string]any{"password": client}))
		if !c.OAuth2Proxy {
			continue
		}
		if len(c.RedirectURIs) == 0 || len(c.Roles) == 0 {
			r.fail(fmt.Errorf("kube_prometheus_stack_keycloak_clients: %s: an oauth2-proxy client needs redirect_uris and roles", c.ID))
			continue
		}
		cookie := r.secret("kube_prometheus_stack_" + key + "_cookie_secret")
		docs = append(docs, secret(release+"-"+c.ID+"-cookie-secret", map[string]any{"password": cookie}))
		docs = append(docs, secret(release+"-"+c.ID+"-oauth2-proxy", map[string]any{
			"OAUTH2_PROXY_UPSTREAMS":                fmt.Sprintf("http://127.0.0.1:%d", c.Port),
			"OAUTH2_PROXY_HTTP_ADDRESS":             "0.0.0.0:8081",
			"OAUTH2_PROXY_METRICS_ADDRESS":          "0.0.0.0:8082",
			"OAUTH2_PROXY_EMAIL_DOMAINS":            "*",
			"OAUTH2_PROXY_REVERSE_PROXY":            "true",
			"OAUTH2_PROXY_SKIP_PROVIDER_BUTTON":     "true",
			"OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY": insecure,
			"OAUTH2_PROXY_PROVIDER":                 "keycloak-oidc",
			"OAUTH2_PROXY_CLIENT_ID":                c.ID,
			"OAUTH2_PROXY_REDIRECT_URL":             c.RedirectURIs[0],
			"OAUTH2_PROXY_OIDC_ISSUER_URL":          keycloak + "/realms/" + realm,
			"OAUTH2_PROXY_ALLOWED_ROLE":             c.ID + ":" + c.Roles[0],
			"OAUTH2_PROXY_CODE_CHALLENGE_METHOD":    "S256",
			"OAUTH2_PROXY_SKIP_JWT_BEARER_TOKENS":   "true",
			"OAUTH2_PROXY_COOKIE_SECRET":            cookie,
			"OAUTH2_PROXY_CLIENT_SECRET":            client,
		}))
	}
	if r.err != nil {
		return nil, r.err
	}
	return objectList(docs...), nil
}
