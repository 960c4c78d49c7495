package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs of the godaddy ACME solver (roles/cluster_issuer/defaults/main.yml,
// cluster_issuer_acme_godaddy_*): its webhook's API group, the Secret of
// its credentials, the Role and RoleBinding letting the webhook read it,
// the issuer's settings and the credentials themselves (the API key and
// its secret, which the knobs' names mark as secrets: IsSecretKnob). They
// are checked when the solver is godaddy (the webhook is enabled); the
// cluster issuer's check requires the credentials (issuerRequired).
var (
	godaddyKnobs = knobsOf("cert-manager-webhook-godaddy")

	godaddyGroupName       = godaddyKnobs.str("cluster_issuer_acme_godaddy_group_name", "godaddy.cert-manager.atmosphere.dev")
	godaddySecret          = godaddyKnobs.str("cluster_issuer_acme_godaddy_secret_name", "godaddy-api-key")
	godaddyRoleName        = godaddyKnobs.str("cluster_issuer_acme_godaddy_role_name", "webhook-godaddy:secret-reader")
	godaddyRoleBindingName = godaddyKnobs.str("cluster_issuer_acme_godaddy_role_binding_name", "") // the role name
	godaddyServiceAccount  = godaddyKnobs.str("cluster_issuer_acme_godaddy_service_account_name", godaddyRelease)
	godaddyProduction      = godaddyKnobs.boolean("cluster_issuer_acme_godaddy_is_production", true)
	godaddyTTL             = godaddyKnobs.integer("cluster_issuer_acme_godaddy_ttl", 600)
	godaddyAPIKey          = godaddyKnobs.str("cluster_issuer_acme_godaddy_api_key", "")
	godaddySecretKey       = godaddyKnobs.str("cluster_issuer_acme_godaddy_secret_key", "")
)

// godaddyRelease is the release (and component) name of godaddy's webhook,
// the role's cluster_issuer_acme_godaddy_helm_release_name.
const godaddyRelease = "cert-manager-webhook-godaddy"

// certManagerWebhookGoDaddy declares cert-manager-webhook-godaddy: the
// godaddy-webhook chart, the cert-manager webhook that solves ACME DNS-01
// challenges in GoDaddy's DNS, as atmosphere's cluster_issuer role deploys
// it for the solver godaddy (tasks/type/acme/solver/godaddy.yml: release
// cert-manager-webhook-godaddy in cert-manager, the role's values). It is
// enabled only when the cluster issuer is acme with the solver godaddy
// (Config.IssuerWebhook), and needs cert-manager, whose Issuer and
// Certificate its chart makes for its own serving certificate;
// cluster-issuer needs it, as the role applies the issuer after the
// chart. The role's cluster_issuer_acme_godaddy_helm_release_name and
// _namespace take only these (releaseKnobs), and its
// cluster_issuer_acme_godaddy_helm_values are laid over its values. Its
// estimate is not measured: that of a chart of one small Deployment.
func certManagerWebhookGoDaddy() *Component {
	c := enabledWhen(release("cert-manager-webhook-godaddy", godaddyRelease, "cert-manager", chart("godaddy-webhook"), 6,
		needs("cert-manager"), kubeAPI),
		func(c Config) bool { return c.IssuerWebhook == IssuerWebhookGoDaddy })
	c.roleVars = "cluster_issuer_acme_godaddy"
	c.values = godaddyWebhookValues
	return c
}

// godaddyWebhookValues are godaddy's webhook's own values for its chart
// (the role's _cluster_issuer_acme_godaddy_helm_values): the API group its
// webhook serves, which the ClusterIssuer's solver names.
func godaddyWebhookValues(r *Render) values.Values {
	return values.Values{"groupName": godaddyGroupName.get(r)}
}

// godaddyObjects are the objects of the godaddy solver of an ACME issuer,
// as the role applies them after the webhook's chart: the Secret of the
// credentials (token: the API key and its secret, joined by a colon), the
// Role and RoleBinding letting the webhook's service account read that
// Secret, and the issuer's solver (the webhook's, with its group, the
// solver name godaddy and its config).
func (r *Render) godaddyObjects() (own []map[string]any, solver map[string]any) {
	what := "acme/" + IssuerWebhookGoDaddy
	secret := godaddySecret.get(r)
	token := required(r, godaddyAPIKey, what) + ":" + required(r, godaddySecretKey, what)
	role := godaddyRoleName.get(r)
	own = append([]map[string]any{credentials(secret, "Opaque", map[string]any{"token": token})},
		secretReader(role, orDefault(r, godaddyRoleBindingName, role), secret, godaddyServiceAccount.get(r))...)
	solver = map[string]any{"dns01": map[string]any{"webhook": map[string]any{
		"groupName":  godaddyGroupName.get(r),
		"solverName": "godaddy",
		"config": map[string]any{
			"apiKeySecretRef": map[string]any{"name": secret, "key": "token"},
			"production":      godaddyProduction.get(r),
			"ttl":             godaddyTTL.get(r),
		},
	}}}
	return own, solver
}

// secretReader is the Role role of cert-manager's namespace that lets get
// and watch the Secret secret, and the RoleBinding binding that grants it
// to the ServiceAccount sa of that namespace (a webhook solver's, which
// reads its credentials there).
func secretReader(role, binding, secret, sa string) []map[string]any {
	meta := func(name string) map[string]any { return map[string]any{"name": name, "namespace": "cert-manager"} }
	return []map[string]any{
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(role),
			"rules": []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"secrets"},
				"verbs": []any{"get", "watch"}, "resourceNames": []any{secret}}}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(binding),
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": sa, "namespace": "cert-manager"}}},
	}
}
