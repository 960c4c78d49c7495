package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs of the infoblox ACME solver (roles/cluster_issuer/defaults/main.yml,
// cluster_issuer_acme_infoblox_*): its webhook's API group, the Secret of
// its credentials, the Role and RoleBinding letting the webhook read it,
// the Infoblox WAPI's host and DNS view, and the credentials (the
// password's knob name marks it as a secret: IsSecretKnob). They are
// checked when the solver is infoblox (the webhook is enabled); the
// cluster issuer's check requires the host, the view and the credentials
// (issuerRequired).
var (
	infobloxKnobs = knobsOf("cert-manager-webhook-infoblox-wapi")

	infobloxGroupName       = infobloxKnobs.str("cluster_issuer_acme_infoblox_group_name", "infoblox.cert-manager.atmosphere.dev")
	infobloxSecret          = infobloxKnobs.str("cluster_issuer_acme_infoblox_secret_name", "cert-manager-issuer-infoblox-credentials")
	infobloxRoleName        = infobloxKnobs.str("cluster_issuer_acme_infoblox_role_name", "webhook-infoblox-wapi:secret-reader")
	infobloxRoleBindingName = infobloxKnobs.str("cluster_issuer_acme_infoblox_role_binding_name", "") // the role name
	infobloxServiceAccount  = infobloxKnobs.str("cluster_issuer_acme_infoblox_service_account_name", infobloxRelease)
	infobloxHost            = infobloxKnobs.str("cluster_issuer_acme_infoblox_host", "")
	infobloxView            = infobloxKnobs.str("cluster_issuer_acme_infoblox_view", "")
	infobloxUsername        = infobloxKnobs.str("cluster_issuer_acme_infoblox_username", "")
	infobloxPassword        = infobloxKnobs.str("cluster_issuer_acme_infoblox_password", "")
)

// infobloxRelease is the release (and component) name of infoblox's
// webhook, the role's cluster_issuer_acme_infoblox_helm_release_name.
const infobloxRelease = "cert-manager-webhook-infoblox-wapi"

// certManagerWebhookInfoblox declares cert-manager-webhook-infoblox-wapi:
// the cert-manager-webhook-infoblox-wapi chart, the cert-manager webhook
// that solves ACME DNS-01 challenges through an Infoblox WAPI, as
// atmosphere's cluster_issuer role deploys it for the solver infoblox
// (tasks/type/acme/solver/infoblox.yml: release
// cert-manager-webhook-infoblox-wapi in cert-manager, the role's values).
// It is enabled only when the cluster issuer is acme with the solver
// infoblox (Config.IssuerWebhook), and needs cert-manager, whose Issuer
// and Certificate its chart makes for its own serving certificate;
// cluster-issuer needs it, as the role applies the issuer after the
// chart. The role's cluster_issuer_acme_infoblox_helm_release_name and
// _namespace take only these (releaseKnobs), and its
// cluster_issuer_acme_infoblox_helm_values are laid over its values. Its
// estimate is not measured: that of a chart of one small Deployment.
func certManagerWebhookInfoblox() *Component {
	c := enabledWhen(release("cert-manager-webhook-infoblox-wapi", infobloxRelease, "cert-manager",
		chart("cert-manager-webhook-infoblox-wapi"), 6, needs("cert-manager"), kubeAPI),
		func(c Config) bool { return c.IssuerWebhook == IssuerWebhookInfoblox })
	c.roleVars = "cluster_issuer_acme_infoblox"
	c.values = infobloxWebhookValues
	return c
}

// infobloxWebhookValues are infoblox's webhook's own values for its chart
// (the role's _cluster_issuer_acme_infoblox_helm_values): the API group
// its webhook serves, which the ClusterIssuer's solver names.
func infobloxWebhookValues(r *Render) values.Values {
	return values.Values{"groupName": infobloxGroupName.get(r)}
}

// infobloxObjects are the objects of the infoblox solver of an ACME
// issuer, as the role applies them after the webhook's chart: the Secret
// of the credentials (username and password), the Role and RoleBinding
// letting the webhook's service account read that Secret, and the
// issuer's solver (the webhook's, with its group, the solver name
// infoblox-wapi and its config: the WAPI's host, the DNS view and the
// references to the credentials).
func (r *Render) infobloxObjects() (own []map[string]any, solver map[string]any) {
	what := "acme/" + IssuerWebhookInfoblox
	secret := infobloxSecret.get(r)
	role := infobloxRoleName.get(r)
	own = append([]map[string]any{credentials(secret, "Opaque", map[string]any{
		"username": required(r, infobloxUsername, what), "password": required(r, infobloxPassword, what)})},
		secretReader(role, orDefault(r, infobloxRoleBindingName, role), secret, infobloxServiceAccount.get(r))...)
	ref := func(key string) map[string]any { return map[string]any{"name": secret, "key": key} }
	solver = map[string]any{"dns01": map[string]any{"webhook": map[string]any{
		"groupName":  infobloxGroupName.get(r),
		"solverName": "infoblox-wapi",
		"config": map[string]any{
			"host":              required(r, infobloxHost, what),
			"view":              required(r, infobloxView, what),
			"usernameSecretRef": ref("username"),
			"passwordSecretRef": ref("password"),
		},
	}}}
	return own, solver
}
