package components

import (
	"github.com/vexxhost/atmosphere-go/components/values"
)

// horizon declares horizon, with what it renders.
func horizon() *Component {
	c := release("horizon", "horizon", openstack, chart("horizon", "0.3.16"), 44, needs("keystone"), kubeAPI)
	c.valuesYAML = horizonValues
	c.ingresses = []publicIngress{{"dashboard", "horizon_api_host", "horizon-int", 80, map[string]any{
		"nginx.ingress.kubernetes.io/proxy-body-size": "5000m", "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
		"nginx.ingress.kubernetes.io/enable-cors": "true"}, "horizon"}}
	return c
}

// horizonValues are horizon's own values for its chart.
func horizonValues(r *Render) string {
	e := &endpointRender{Render: r}
	dashboard, identity := e.host("horizon_api_host"), e.host("keystone_api_host")
	realm, _ := r.knob("keystone_keycloak_realm", "atmosphere").(string)
	label, _ := r.knob("keystone_keycloak_realm_name", "Atmosphere").(string)
	// One identity provider per keystone domain (keystone_domains), or
	// the one realm.
	idps := []any{map[string]any{"label": label, "name": realm, "idp": realm, "protocol": "openid"}}
	if domains, ok := r.knob("keystone_domains", nil).([]any); ok && len(domains) > 0 {
		idps = nil
		for i, d := range domains {
			m, _ := d.(map[string]any)
			if i == 0 {
				realm, _ = m["name"].(string)
			}
			idps = append(idps, map[string]any{"label": m["label"], "name": m["name"], "idp": m["name"], "protocol": "openid"})
		}
	}
	pyBool := func(b bool) string {
		if b {
			return `"True"`
		}
		return `"False"`
	}
	issuer, _ := r.knob("cluster_issuer_type", "self-signed").(string)
	backup := true
	if v, ok := values.Get(r.mapKnob("cinder_helm_values"), "manifests.deployment_backup"); ok {
		backup, _ = v.(bool)
	}
	fsGroup := "\n      pod:\n        fsGroup: 42424"
	return r.openstackHelm("horizon") + podLabels + `  security_context:
    horizon:` + fsGroup + `
    db_sync:` + fsGroup + `
    tests:` + fsGroup + `
  replicas:
    server: 3
conf:
  horizon:
    local_settings:
      config:
        disallow_iframe_embed: "True"
        allowed_hosts: [` + inline(dashboard) + `]
        secure_proxy_ssl_header: "True"
        horizon_images_upload_mode: direct
        openstack_enable_password_retrieve: "True"
        auth:
          sso:
            enabled: true
            initial_choice: ` + inline(realm) + `
          idp_mapping: ` + inline(idps) + `
        raw:
          OPENSTACK_SSL_NO_VERIFY: ` + pyBool(issuer == "self-signed") + `
          WEBSSO_KEYSTONE_URL: ` + inline("https://"+identity+"/v3") + `
          LOGOUT_URL: ` + inline("https://"+identity+"/v3/auth/OS-FEDERATION/identity_providers/redirect?logout=https://"+dashboard+"/auth/logout/") + `
        openstack_cinder_features:
          enable_backup: ` + pyBool(backup) + `
    extra_panels:
      - designatedashboard
      - heat_dashboard
      - ironic_ui
      - magnum_ui
      - manila_ui
      - monitoring
      - neutron_vpnaas_dashboard
      - octavia_dashboard` + rabbitPolicy("horizon") + `
` + noChartIngress
}
