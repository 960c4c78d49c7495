package components

import (
	"encoding/json"

	"sigs.k8s.io/yaml"
)

// keystone declares keystone, with what it renders.
func keystone() *Component {
	c := withKinds(split(release("keystone", "keystone", openstack, chart("keystone", "0.3.17"), 229,
		needs("ingress-nginx", "rabbitmq-cluster-operator", "percona-xtradb-cluster", "memcached"), kubeAPI),
		Phase{Name: "setup", Kind: OpenStack, Needs: needs("keycloak"), Resources: []string{ResourceKeycloakAdmin}, Estimate: s(29)}), Manifest)
	c.valuesYAML = keystoneValues
	c.objects = keystoneOpenIDMetadata
	c.ingresses = []publicIngress{{"identity", "keystone_api_host", "keystone-api", 5000, map[string]any{
		"nginx.ingress.kubernetes.io/proxy-body-size": "2m", "nginx.ingress.kubernetes.io/proxy-read-timeout": "120"}, "keystone"}}
	c.rabbitMQCluster = "keystone"
	return c
}

// keystoneValues are keystone's own values for its chart.
func keystoneValues(r *Render) string {
	e := &endpointRender{Render: r}
	identity, dashboard := e.host("keystone_api_host"), e.host("horizon_api_host")
	domains := r.keystoneDomains()
	caBundle, _ := r.knob("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt").(string)
	return r.openstackHelm("keystone") + podLabels + `  replicas:
    api: 3
  mounts:
    keystone_api:
      keystone_api:
        volumeMounts: ` + inline(r.keystoneMounts(domains, caBundle)) + `
        volumes:
          - name: keystone-openid-metadata
            configMap:
              name: keystone-openid-metadata
          - name: ca-certificates
            hostPath:
              path: ` + inline(caBundle) + `
conf:
  keystone:
    DEFAULT:
      log_config_append: null
    auth:
      methods: password,token,openid,application_credential
    cors:
      allowed_origins: "*"` + database + `
    openid:
      remote_id_attribute: HTTP_OIDC_ISS
    federation:
      trusted_dashboard:
        type: multistring
        values:
          - http://localhost:9990/auth/websso/
          - ` + inline("https://"+dashboard+"/auth/websso/") + `
    oslo_messaging_notifications:
      driver: noop
  wsgi_keystone: ` + inline(r.keystoneWSGI(domains, identity, dashboard)) + `
  ks_domains: ` + inline(ksDomains(domains)) + rabbitPolicy("keystone") + `
manifests:
  job_credential_cleanup: false
  ingress_api: false
  service_ingress_api: false
`
}

// keystoneOpenIDMetadata is the ConfigMap keystone's pods mount
// mod_auth_openidc's metadata from, one set of files per domain: the client
// and its scopes. The provider's metadata (the realm's discovery document)
// and its signing key are Keycloak's to give; until keystone's set-up
// writes them, the provider file is empty, so that the pods can start. It
// is created once and not overwritten, so that what the set-up wrote stays.
func keystoneOpenIDMetadata(s Settings) (string, error) {
	r := &Render{Settings: s}
	data := map[string]any{}
	for _, d := range r.keystoneDomains() {
		client, err := json.Marshal(map[string]string{"client_id": d.clientID, "client_secret": d.clientSecret, "response_type": "id_token"})
		if err != nil {
			return "", err
		}
		conf, err := json.Marshal(map[string]string{"scope": d.scopes})
		if err != nil {
			return "", err
		}
		data[d.name+"-oidc-client"] = string(client)
		data[d.name+"-oidc-conf"] = string(conf)
		data[d.name+"-oidc-provider"] = "{}"
	}
	if r.err != nil {
		return "", r.err
	}
	raw, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "keystone-openid-metadata", "labels": map[string]any{"application": "keystone"}},
		"data":     data,
	})
	return "#create-only\n" + string(raw), err
}
