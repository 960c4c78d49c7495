package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs horizon reads (roles/horizon/defaults/main.yml), besides
// keystone's domains' (keystone_domains, keystone_keycloak_realm{,_name};
// keystonedomains.go).
var (
	horizonKnobs             = knobsOf("horizon")
	horizonClusterIssuerType = horizonKnobs.str("cluster_issuer_type", "acme") // the cluster_issuer role's default
	// cinder's Helm values say whether cinder runs backups.
	horizonCinderHelmValues = horizonKnobs.mapping("cinder_helm_values", nil)
)

// horizon declares horizon, with what it renders.
func horizon() *Component {
	c := release("horizon", "horizon", openstack, chart("horizon"), 44, needs("keystone"), kubeAPI)
	c = withDatabases(c, "horizon", "horizon")
	c.endpoints = horizonEndpoints
	c.values = horizonValues
	c.ingresses = []publicIngress{publicIngressOf("dashboard", "horizon-int", 80, map[string]any{
		"nginx.ingress.kubernetes.io/proxy-body-size": "5000m", "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
		"nginx.ingress.kubernetes.io/enable-cors": "true"}, "horizon")}
	return c
}

// horizonValues are horizon's own values for its chart: its static values
// with the endpoints, the images' tags, its host, the single sign-on
// identity providers, keystone's URLs, whether to verify TLS (not with
// self-signed certificates) and whether cinder's backups are shown.
func horizonValues(r *Render) values.Values {
	e := &endpointRender{Render: r}
	dashboard, identity := e.host("horizon_api_host"), e.host("keystone_api_host")
	realm := keystoneKeycloakRealm.get(r)
	label := keystoneKeycloakRealmName.get(r)
	// One identity provider per keystone domain (keystone_domains), or
	// the one realm.
	idps := []any{map[string]any{"label": label, "name": realm, "idp": realm, "protocol": "openid"}}
	if domains := keystoneDomainsList.get(r); len(domains) > 0 {
		idps = nil
		for i, d := range domains {
			m, _ := d.(map[string]any)
			if i == 0 {
				realm, _ = m["name"].(string)
			}
			idps = append(idps, map[string]any{"label": m["label"], "name": m["name"], "idp": m["name"], "protocol": "openid"})
		}
	}
	// Django settings the chart writes as Python: booleans as "True" or
	// "False".
	pyBool := func(b bool) string {
		if b {
			return "True"
		}
		return "False"
	}
	issuer := horizonClusterIssuerType.get(r)
	backup := true
	if v, ok := values.Get(r.copyOf(horizonCinderHelmValues), "manifests.deployment_backup"); ok {
		backup, _ = v.(bool)
	}
	return merge(r.static("horizon"), r.openstackHelmValues("horizon"), values.Values{
		"conf": map[string]any{"horizon": map[string]any{"local_settings": map[string]any{"config": map[string]any{
			"allowed_hosts": []any{dashboard},
			"auth": map[string]any{
				"sso":         map[string]any{"initial_choice": realm},
				"idp_mapping": idps,
			},
			"raw": map[string]any{
				"OPENSTACK_SSL_NO_VERIFY": pyBool(issuer == "self-signed"),
				"WEBSSO_KEYSTONE_URL":     "https://" + identity + "/v3",
				"LOGOUT_URL":              "https://" + identity + "/v3/auth/OS-FEDERATION/identity_providers/redirect?logout=https://" + dashboard + "/auth/logout/",
			},
			"openstack_cinder_features": map[string]any{"enable_backup": pyBool(backup)},
		}}}},
	})
}

// horizonEndpoints are the chart endpoints horizon owns.
var horizonEndpoints = map[string]endpointFragment{
	"dashboard": func(e *endpointRender) values.Values {
		return merge(e.public("dashboard", "api"), e.db("horizon"))
	},
}
