package components

import "fmt"

// The knobs cluster-issuer reads (roles/cluster_issuer/defaults/main.yml):
// the issuer's type, the ACME account and solver, and each type's and
// solver's settings and credentials. The credentials go into Secrets of
// cert-manager's namespace, as the role puts them; their knobs' names end
// as secrets' do (IsSecretKnob), so that no problem shows them.
var (
	clusterIssuerKnobs = knobsOf("cluster-issuer")

	issuerName = clusterIssuerKnobs.str("cluster_issuer_name", "") // atmosphere_ingress_cluster_issuer
	issuerType = clusterIssuerKnobs.choice("cluster_issuer_type", "acme",
		[]string{"acme", "ca", "venafi", "none", "self-signed"}, nil, nil)

	acmeServer     = clusterIssuerKnobs.str("cluster_issuer_acme_server", "https://acme-v02.api.letsencrypt.org/directory")
	acmeEmail      = clusterIssuerKnobs.str("cluster_issuer_acme_email", "")
	acmeAccountKey = clusterIssuerKnobs.str("cluster_issuer_acme_private_key_secret_name", "cert-manager-issuer-account-key")
	// The webhook solvers (godaddy, infoblox) come with their webhook's
	// chart, a component of its own (Config.IssuerWebhook).
	acmeSolver = clusterIssuerKnobs.choice("cluster_issuer_acme_solver", "http01",
		[]string{"http01", "rfc2136", "route53", "cloudflare", "azuredns", IssuerWebhookGoDaddy, IssuerWebhookInfoblox}, nil, isACME)
	http01IngressClass = clusterIssuerKnobs.str("cluster_issuer_acme_http01_ingress_class", "") // atmosphere_ingress_class_name

	rfc2136Secret     = clusterIssuerKnobs.str("cluster_issuer_acme_rfc2136_secret_name", "cert-manager-issuer-tsig-secret-key")
	rfc2136Nameserver = clusterIssuerKnobs.str("cluster_issuer_acme_rfc2136_nameserver", "")
	rfc2136Algorithm  = clusterIssuerKnobs.str("cluster_issuer_acme_rfc2136_tsig_algorithm", "")
	rfc2136KeyName    = clusterIssuerKnobs.str("cluster_issuer_acme_rfc2136_tsig_key_name", "")
	rfc2136Key        = clusterIssuerKnobs.str("cluster_issuer_acme_rfc2136_tsig_secret_key", "")

	route53Auth = clusterIssuerKnobs.choice("cluster_issuer_acme_route53_auth", "static",
		[]string{"static", "ambient", "kubernetes"}, nil, solverIs("route53"))
	route53Secret         = clusterIssuerKnobs.str("cluster_issuer_acme_route53_secret_name", "cert-manager-issuer-route53-credentials")
	route53ServiceAccount = clusterIssuerKnobs.str("cluster_issuer_acme_route53_service_account_name", "cert-manager-route53")
	route53Region         = clusterIssuerKnobs.str("cluster_issuer_acme_route53_region", "")
	route53HostedZone     = clusterIssuerKnobs.str("cluster_issuer_acme_route53_hosted_zone_id", "")
	route53RoleARN        = clusterIssuerKnobs.str("cluster_issuer_acme_route53_role_arn", "")
	route53AccessKeyID    = clusterIssuerKnobs.str("cluster_issuer_acme_route53_access_key_id", "")
	route53SecretKey      = clusterIssuerKnobs.str("cluster_issuer_acme_route53_secret_access_key", "")

	cloudflareSecret = clusterIssuerKnobs.str("cluster_issuer_acme_cloudflare_secret_name", "cloudflare-api-token")
	cloudflareEmail  = clusterIssuerKnobs.str("cluster_issuer_acme_cloudflare_email", "") // cluster_issuer_acme_email
	cloudflareToken  = clusterIssuerKnobs.str("cluster_issuer_acme_cloudflare_api_token", "")

	azureSecret        = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_secret_name", "cert-manager-issuer-azuredns-credentials")
	azureEnvironment   = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_environment", "AzurePublicCloud")
	azureClientID      = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_client_id", "")
	azureClientSecret  = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_client_secret", "")
	azureSubscription  = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_subscription_id", "")
	azureTenant        = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_tenant_id", "")
	azureResourceGroup = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_resourcegroup_name", "")
	azureHostedZone    = clusterIssuerKnobs.str("cluster_issuer_acme_azuredns_hostedzone_name", "")

	caSecret      = clusterIssuerKnobs.str("cluster_issuer_ca_secret_name", "cert-manager-issuer-ca")
	caCertificate = clusterIssuerKnobs.str("cluster_issuer_ca_certificate", "")
	caPrivateKey  = clusterIssuerKnobs.str("cluster_issuer_ca_private_key", "")

	selfSignedCertificate = clusterIssuerKnobs.str("cluster_issuer_self_signed_certificate_name", "self-signed-ca")
	selfSignedSecret      = clusterIssuerKnobs.str("cluster_issuer_self_signed_secret_name", "cert-manager-selfsigned-ca")

	venafiSecret      = clusterIssuerKnobs.str("cluster_issuer_venafi_secret_name", "cert-manager-venafi-credentials")
	venafiZone        = clusterIssuerKnobs.str("cluster_issuer_venafi_zone", "")
	venafiURL         = clusterIssuerKnobs.str("cluster_issuer_venafi_tpp_url", "")
	venafiCABundle    = clusterIssuerKnobs.str("cluster_issuer_venafi_tpp_ca_bundle", "")
	venafiUsername    = clusterIssuerKnobs.str("cluster_issuer_venafi_username", "")
	venafiPassword    = clusterIssuerKnobs.str("cluster_issuer_venafi_password", "")
	venafiAccessToken = clusterIssuerKnobs.str("cluster_issuer_venafi_access_token", "")
)

// isACME: the issuer is an ACME one (its solver is read).
func isACME(vars map[string]any) bool { return issuerType.in(vars) == "acme" }

// solverIs: the issuer is an ACME one with the solver.
func solverIs(solver string) func(map[string]any) bool {
	return func(vars map[string]any) bool { return isACME(vars) && acmeSolver.in(vars) == solver }
}

// IssuerWebhookOf is the ACME solver served by a webhook atmosphere
// deploys that the inventory's variables vars pick (Config.IssuerWebhook):
// cluster_issuer_acme_solver when cluster_issuer_type is acme (the role's
// default) and the solver is godaddy or infoblox, else "". A value of the
// wrong type counts as the knob's default (the knob refuses it).
func IssuerWebhookOf(vars map[string]any) string {
	if !isACME(vars) {
		return ""
	}
	switch s := acmeSolver.in(vars); s {
	case IssuerWebhookGoDaddy, IssuerWebhookInfoblox:
		return s
	}
	return ""
}

// issuerRequired are the knobs each issuer type and ACME solver requires
// (the role's templates name them with no default), by "type" or
// "acme/solver"; route53's by its authentication, "acme/route53/auth".
var issuerRequired = map[string][]knob[string]{
	"acme":                    {acmeEmail},
	"acme/rfc2136":            {rfc2136Nameserver, rfc2136Algorithm, rfc2136KeyName, rfc2136Key},
	"acme/route53":            {route53Region, route53HostedZone},
	"acme/route53/static":     {route53SecretKey},
	"acme/route53/kubernetes": {route53RoleARN},
	"acme/cloudflare":         {cloudflareToken},
	"acme/azuredns":           {azureClientID, azureClientSecret, azureSubscription, azureTenant, azureResourceGroup, azureHostedZone},
	"acme/godaddy":            {godaddyAPIKey, godaddySecretKey},
	"acme/infoblox":           {infobloxHost, infobloxView, infobloxUsername, infobloxPassword},
	"ca":                      {caCertificate, caPrivateKey},
	"venafi":                  {venafiZone, venafiURL, venafiCABundle},
}

func init() { clusterIssuerKnobs.check(checkClusterIssuer) }

// checkClusterIssuer finds the knobs the inventory's issuer type and solver
// require and it does not set, and venafi's credentials: a username and a
// password, or an access token, as the role takes them.
func checkClusterIssuer(vars map[string]any) []KnobProblem {
	for _, k := range []knob[string]{issuerType, acmeSolver, route53Auth} {
		if v, ok := vars[k.name]; ok && v != nil {
			if _, ok := k.conv(v); !ok {
				return nil // the choice's own problem; what it would require is moot
			}
		}
	}
	typ := issuerType.in(vars)
	paths := []string{typ}
	what := "cluster_issuer_type " + typ
	if typ == "acme" {
		solver := acmeSolver.in(vars)
		paths = append(paths, "acme/"+solver)
		what += " with the solver " + solver
		if solver == "route53" {
			paths = append(paths, "acme/route53/"+route53Auth.in(vars))
		}
	}
	var out []KnobProblem
	for _, p := range paths {
		for _, k := range issuerRequired[p] {
			if k.in(vars) == "" {
				out = append(out, KnobProblem{Key: k.name, Message: "required with " + what + ", and not set"})
			}
		}
	}
	if typ == "venafi" {
		user, pass, token := venafiUsername.in(vars) != "", venafiPassword.in(vars) != "", venafiAccessToken.in(vars) != ""
		if !(user && pass && !token) && !(token && !user && !pass) {
			out = append(out, KnobProblem{Key: venafiAccessToken.name,
				Message: "cluster_issuer_type venafi wants either cluster_issuer_venafi_username and cluster_issuer_venafi_password, or cluster_issuer_venafi_access_token alone"})
		}
	}
	return out
}

// clusterIssuer declares cluster-issuer, with what it renders. It needs
// the webhook of a webhook solver (godaddy's, infoblox's), whose chart the
// role deploys before it applies the issuer: the need of the webhook the
// inventory does not pick is dropped, as it is disabled.
func clusterIssuer() *Component {
	c := manifests("cluster-issuer", "cert-manager", 11,
		needs("cert-manager", "cert-manager-webhook-godaddy", "cert-manager-webhook-infoblox-wapi"), nil)
	c.objects = clusterIssuerObjects
	return c
}

// clusterIssuerObjects are the objects cluster-issuer applies itself, as
// atmosphere's cluster_issuer role applies them: the self-signed
// ClusterIssuer (cluster-issuer.objects.yaml) whatever the type, then the
// objects of the type cluster_issuer_type names (tasks/type/<type>, and
// for acme tasks/type/acme/solver/<solver>): the Secrets of its
// credentials, and the cluster's ClusterIssuer. With none, only the
// self-signed ClusterIssuer.
func clusterIssuerObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("cluster-issuer")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	name := orDefault(r, issuerName, s.ClusterIssuer)
	var own []map[string]any
	switch typ := issuerType.get(r); typ {
	case "self-signed":
		secret := selfSignedSecret.get(r)
		own = []map[string]any{
			{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
				"metadata": map[string]any{"name": selfSignedCertificate.get(r), "namespace": "cert-manager"},
				"spec": map[string]any{
					"isCA": true, "commonName": "selfsigned-ca", "secretName": secret,
					"duration": "87600h0m0s", "renewBefore": "360h0m0s",
					"privateKey": map[string]any{"algorithm": "ECDSA", "size": 256},
					"issuerRef":  map[string]any{"kind": "ClusterIssuer", "name": "self-signed"},
				}},
			caClusterIssuer(name, secret),
		}
	case "ca":
		secret := caSecret.get(r)
		own = []map[string]any{
			credentials(secret, "kubernetes.io/tls", map[string]any{
				"tls.crt": required(r, caCertificate, typ), "tls.key": required(r, caPrivateKey, typ)}),
			caClusterIssuer(name, secret),
		}
	case "venafi":
		secret := venafiSecret.get(r)
		data := map[string]any{"username": venafiUsername.get(r), "password": venafiPassword.get(r)}
		if token := venafiAccessToken.get(r); token != "" {
			data = map[string]any{"access-token": token}
		}
		sec := credentials(secret, "", data)
		own = []map[string]any{sec, {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
			"metadata": map[string]any{"name": name},
			"spec": map[string]any{"venafi": map[string]any{
				"zone": required(r, venafiZone, typ),
				"tpp": map[string]any{"url": required(r, venafiURL, typ), "caBundle": required(r, venafiCABundle, typ),
					"credentialsRef": map[string]any{"name": secret}},
			}}}}
	case "acme":
		own = r.acmeObjects(name)
	case "none":
	}
	if r.err != nil {
		return nil, r.err
	}
	return append(objs, objectList(own...)...), nil
}

// acmeObjects are the objects of an ACME ClusterIssuer named name with the
// inventory's solver: the Secret of its credentials (and, for route53's
// kubernetes authentication, the ServiceAccount cert-manager takes tokens
// of, with the Role and RoleBinding that let it; for a webhook solver, the
// Role and RoleBinding that let its webhook read the Secret), then the
// issuer.
func (r *Render) acmeObjects(name string) []map[string]any {
	var own []map[string]any
	var solver, issuerLabels map[string]any
	ref := func(secret, key string) map[string]any { return map[string]any{"name": secret, "key": key} }
	switch s := acmeSolver.get(r); s {
	case "http01":
		solver = map[string]any{"http01": map[string]any{"ingress": map[string]any{
			"class": orDefault(r, http01IngressClass, r.IngressClass)}}}
	case "rfc2136":
		secret := rfc2136Secret.get(r)
		own = append(own, credentials(secret, "Opaque", map[string]any{"tsig-secret-key": required(r, rfc2136Key, "acme/"+s)}))
		solver = map[string]any{"dns01": map[string]any{"rfc2136": map[string]any{
			"nameserver":          required(r, rfc2136Nameserver, "acme/"+s),
			"tsigAlgorithm":       required(r, rfc2136Algorithm, "acme/"+s),
			"tsigKeyName":         required(r, rfc2136KeyName, "acme/"+s),
			"tsigSecretSecretRef": ref(secret, "tsig-secret-key"),
		}}}
	case "route53":
		route53 := map[string]any{"region": required(r, route53Region, "acme/"+s),
			"hostedZoneID": required(r, route53HostedZone, "acme/"+s)}
		if arn := route53RoleARN.get(r); arn != "" {
			route53["role"] = arn
		}
		switch auth := route53Auth.get(r); auth {
		case "static":
			secret := route53Secret.get(r)
			own = append(own, credentials(secret, "Opaque", map[string]any{
				"secret-access-key": required(r, route53SecretKey, "acme/route53/static")}))
			route53["accessKeyID"] = route53AccessKeyID.get(r)
			route53["secretAccessKeySecretRef"] = ref(secret, "secret-access-key")
		case "kubernetes":
			required(r, route53RoleARN, "acme/route53/kubernetes")
			sa := route53ServiceAccount.get(r)
			own = append(own, route53TokenRequest(sa)...)
			route53["auth"] = map[string]any{"kubernetes": map[string]any{"serviceAccountRef": map[string]any{"name": sa}}}
		}
		solver = map[string]any{"dns01": map[string]any{"route53": route53}}
	case "cloudflare":
		secret := cloudflareSecret.get(r)
		own = append(own, credentials(secret, "Opaque", map[string]any{"api-token": required(r, cloudflareToken, "acme/"+s)}))
		solver = map[string]any{"dns01": map[string]any{"cloudflare": map[string]any{
			"email":             orDefault(r, cloudflareEmail, acmeEmail.get(r)),
			"apiTokenSecretRef": ref(secret, "api-token"),
		}}}
	case "azuredns":
		secret := azureSecret.get(r)
		// The role puts these labels in the metadata itself, where the
		// API server drops them; they are the objects' labels.
		labels := map[string]any{"app.kubernetes.io/part-of": "cert-manager", "app.kubernetes.io/managed-by": "Ansible"}
		sec := credentials(secret, "Opaque", map[string]any{"client-secret": required(r, azureClientSecret, "acme/"+s)})
		sec["metadata"].(map[string]any)["labels"] = labels
		own = append(own, sec)
		solver = map[string]any{"dns01": map[string]any{"azureDNS": map[string]any{
			"clientID":              required(r, azureClientID, "acme/"+s),
			"clientSecretSecretRef": ref(secret, "client-secret"),
			"subscriptionID":        required(r, azureSubscription, "acme/"+s),
			"tenantID":              required(r, azureTenant, "acme/"+s),
			"resourceGroupName":     required(r, azureResourceGroup, "acme/"+s),
			"hostedZoneName":        required(r, azureHostedZone, "acme/"+s),
			"environment":           azureEnvironment.get(r),
		}}}
		issuerLabels = labels
	case IssuerWebhookGoDaddy:
		var objs []map[string]any
		objs, solver = r.godaddyObjects()
		own = append(own, objs...)
	case IssuerWebhookInfoblox:
		var objs []map[string]any
		objs, solver = r.infobloxObjects()
		own = append(own, objs...)
	}
	issuer := map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"acme": map[string]any{
			"email":               required(r, acmeEmail, "acme"),
			"server":              acmeServer.get(r),
			"privateKeySecretRef": map[string]any{"name": acmeAccountKey.get(r)},
			"solvers":             []any{solver},
		}}}
	if issuerLabels != nil {
		issuer["metadata"].(map[string]any)["labels"] = issuerLabels
	}
	return append(own, issuer)
}

// required is a knob the issuer's type or solver (what, a key of
// issuerRequired) requires: its value, and r's error when it is not set
// (CheckKnobs refuses that before the run).
func required(r *Render, k knob[string], what string) string {
	v := k.get(r)
	if v == "" {
		r.fail(r.knobError(k.name, fmt.Sprintf("required with the cluster issuer %s, and not set", what)))
	}
	return v
}

// credentials is a Secret of cert-manager's namespace holding data (as
// stringData) of the type typ (none when "").
func credentials(name, typ string, data map[string]any) map[string]any {
	sec := map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": name, "namespace": "cert-manager"},
		"stringData": data}
	if typ != "" {
		sec["type"] = typ
	}
	return sec
}

// caClusterIssuer is a ClusterIssuer named name that signs with the CA of
// the Secret secret.
func caClusterIssuer(name, secret string) map[string]any {
	return map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"ca": map[string]any{"secretName": secret}}}
}

// route53TokenRequest is the ServiceAccount sa of cert-manager's namespace
// and the Role and RoleBinding that let cert-manager request its tokens
// (route53's kubernetes authentication).
func route53TokenRequest(sa string) []map[string]any {
	meta := func(name string) map[string]any { return map[string]any{"name": name, "namespace": "cert-manager"} }
	return []map[string]any{
		{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(sa)},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(sa + "-tokenrequest"),
			"rules": []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"serviceaccounts/token"},
				"resourceNames": []any{sa}, "verbs": []any{"create"}}}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(sa + "-tokenrequest"),
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa + "-tokenrequest"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "cert-manager", "namespace": "cert-manager"}}},
	}
}
