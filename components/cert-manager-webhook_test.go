package components

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// webhookVars are the variables of an ACME issuer with the webhook solver
// solver (godaddy or infoblox) and every knob it requires, of test values.
func webhookVars(solver string) map[string]any {
	vars := map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_email": "ops@example.com",
		"cluster_issuer_acme_solver": solver}
	switch solver {
	case IssuerWebhookGoDaddy:
		vars["cluster_issuer_acme_godaddy_api_key"] = "godaddy-k3y-value"
		vars["cluster_issuer_acme_godaddy_secret_key"] = "godaddy-s3cr3t-value"
	case IssuerWebhookInfoblox:
		vars["cluster_issuer_acme_infoblox_host"] = "wapi.example.com"
		vars["cluster_issuer_acme_infoblox_view"] = "default"
		vars["cluster_issuer_acme_infoblox_username"] = "admin"
		vars["cluster_issuer_acme_infoblox_password"] = "infoblox-passw0rd"
	}
	return vars
}

// issuerConfig is the default configuration with the webhook solver the
// variables pick, as the inventory's settings make it.
func issuerConfig(vars map[string]any) Config {
	cfg := DefaultConfig()
	cfg.IssuerWebhook = IssuerWebhookOf(vars)
	return cfg
}

// webhookOf are the webhook components, by the solver they serve.
var webhookOf = map[string]string{
	IssuerWebhookGoDaddy:  "cert-manager-webhook-godaddy",
	IssuerWebhookInfoblox: "cert-manager-webhook-infoblox-wapi",
}

// TestIssuerWebhookEnabledForItsSolver: the webhook of a solver is enabled
// only when the cluster issuer is acme with that solver (IssuerWebhookOf
// the variables, as the settings read them), with its release in
// cert-manager after cert-manager; cluster-issuer:install then needs it,
// and needs no webhook otherwise (a need of a disabled component is
// dropped).
func TestIssuerWebhookEnabledForItsSolver(t *testing.T) {
	cases := []struct {
		name    string
		vars    map[string]any
		webhook string // the solver whose webhook is enabled, "" for none
	}{
		{"the role's default (acme http01)", map[string]any{}, ""},
		{"acme cloudflare", map[string]any{"cluster_issuer_acme_solver": "cloudflare"}, ""},
		{"acme godaddy", map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_solver": "godaddy"}, IssuerWebhookGoDaddy},
		{"godaddy, acme by default", map[string]any{"cluster_issuer_acme_solver": "godaddy"}, IssuerWebhookGoDaddy},
		{"acme infoblox", map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_solver": "infoblox"}, IssuerWebhookInfoblox},
		{"ca with a stale godaddy solver", map[string]any{"cluster_issuer_type": "ca", "cluster_issuer_acme_solver": "godaddy"}, ""},
		{"the solver not a string", map[string]any{"cluster_issuer_acme_solver": []any{"godaddy"}}, ""},
	}
	reg := Default()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := issuerConfig(c.vars)
			if cfg.IssuerWebhook != c.webhook {
				t.Fatalf("IssuerWebhook %q, want %q", cfg.IssuerWebhook, c.webhook)
			}
			g, err := reg.Graph(cfg, GraphOptions{})
			if err != nil {
				t.Fatal(err)
			}
			issuer, _ := g.Node("cluster-issuer:install")
			for solver, name := range webhookOf {
				comp, ok := reg.Get(name)
				if !ok {
					t.Fatalf("no component %s", name)
				}
				want := solver == c.webhook
				if comp.IsEnabled(cfg) != want || (len(Units(g, []string{name})) != 0) != want {
					t.Errorf("%s enabled: %v, want %v", name, comp.IsEnabled(cfg), want)
				}
				if slices.Contains(issuer.Needs, name+":install") != want {
					t.Errorf("cluster-issuer:install needs %v: %s:install among them is %v, want %v", issuer.Needs, name, !want, want)
				}
				if comp.Release != name || comp.Namespace != "cert-manager" {
					t.Errorf("%s: release %s in %s, want the role's %s in cert-manager", name, comp.Release, comp.Namespace, name)
				}
				if want {
					own, _ := g.Node(name + ":install")
					if !slices.Contains(own.Needs, "cert-manager:install") {
						t.Errorf("%s:install needs %v, want cert-manager:install among them", name, own.Needs)
					}
				}
			}
		})
	}
}

// TestIssuerWebhookValues: a webhook's own values are the role's
// (_cluster_issuer_acme_<solver>_helm_values: its API group, the role's
// default or the inventory's), and the operator's
// cluster_issuer_acme_<solver>_helm_values name its component; its release
// name and namespace knobs take only the role's defaults.
func TestIssuerWebhookValues(t *testing.T) {
	reg := Default()
	prefixes := reg.ValuesPrefixes()
	for solver, name := range webhookOf {
		comp, _ := reg.Get(name)
		group := solver + ".cert-manager.atmosphere.dev"
		s := DefaultSettings()
		s.Vars = webhookVars(solver)
		v, err := comp.OwnValues(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(map[string]any(v), map[string]any{"groupName": group}) {
			t.Errorf("%s: values %v, want groupName %s alone", name, v, group)
		}
		s.Vars = merged(webhookVars(solver), map[string]any{"cluster_issuer_acme_" + solver + "_group_name": "acme.example.com"})
		if v, err = comp.OwnValues(s, nil); err != nil || v["groupName"] != "acme.example.com" {
			t.Errorf("%s: values %v (%v), want the inventory's groupName acme.example.com", name, v, err)
		}
		prefix := "cluster_issuer_acme_" + solver
		if prefixes[prefix] != name {
			t.Errorf("%s_helm_values names %q, want %s", prefix, prefixes[prefix], name)
		}
		vars := merged(merged(webhookVars(solver), workspaceKeepalived), map[string]any{
			prefix + "_helm_release_name": "webhook", prefix + "_helm_release_namespace": "dns"})
		var keys []string
		for _, p := range reg.CheckKnobs(issuerConfig(vars), vars) {
			keys = append(keys, p.Key)
		}
		if want := []string{prefix + "_helm_release_name", prefix + "_helm_release_namespace"}; !reflect.DeepEqual(keys, want) {
			t.Errorf("%s: problems with %v, want %v", name, keys, want)
		}
	}
}

// TestIssuerWebhookObjects: with a webhook solver, cluster-issuer applies
// after the self-signed issuer the Secret of the solver's credentials
// (godaddy's token, the API key and its secret joined by a colon;
// infoblox's username and password), the Role that lets get and watch
// that Secret alone and the RoleBinding granting it to the webhook's
// ServiceAccount (its release's name), then the ClusterIssuer whose one
// solver is the webhook's: its group, solver name and config as the role
// writes them.
func TestIssuerWebhookObjects(t *testing.T) {
	ref := func(secret, key string) map[string]any { return map[string]any{"name": secret, "key": key} }
	cases := []struct {
		solver, secret, role string
		data, webhook        map[string]any
	}{
		{IssuerWebhookGoDaddy, "godaddy-api-key", "webhook-godaddy:secret-reader",
			map[string]any{"token": "godaddy-k3y-value:godaddy-s3cr3t-value"},
			map[string]any{"groupName": "godaddy.cert-manager.atmosphere.dev", "solverName": "godaddy",
				"config": map[string]any{"apiKeySecretRef": ref("godaddy-api-key", "token"), "production": true, "ttl": 600}}},
		{IssuerWebhookInfoblox, "cert-manager-issuer-infoblox-credentials", "webhook-infoblox-wapi:secret-reader",
			map[string]any{"username": "admin", "password": "infoblox-passw0rd"},
			map[string]any{"groupName": "infoblox.cert-manager.atmosphere.dev", "solverName": "infoblox-wapi",
				"config": map[string]any{"host": "wapi.example.com", "view": "default",
					"usernameSecretRef": ref("cert-manager-issuer-infoblox-credentials", "username"),
					"passwordSecretRef": ref("cert-manager-issuer-infoblox-credentials", "password")}}},
	}
	comp, _ := Default().Get("cluster-issuer")
	for _, c := range cases {
		t.Run(c.solver, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = webhookVars(c.solver)
			objs, err := comp.Objects(s)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
			}
			want := []string{"ClusterIssuer//self-signed", "Secret/cert-manager/" + c.secret, "Role/cert-manager/" + c.role,
				"RoleBinding/cert-manager/" + c.role, "ClusterIssuer//atmosphere"}
			if !reflect.DeepEqual(kinds, want) {
				t.Fatalf("objects %v, want %v", kinds, want)
			}
			if got := asJSON(t, objs[1].Object["stringData"]); got != asJSON(t, c.data) || objs[1].Object["type"] != "Opaque" {
				t.Errorf("Secret's data %s, type %v; want %s, Opaque", got, objs[1].Object["type"], asJSON(t, c.data))
			}
			rule := map[string]any{"apiGroups": []any{""}, "resources": []any{"secrets"}, "verbs": []any{"get", "watch"},
				"resourceNames": []any{c.secret}}
			if got := asJSON(t, objs[2].Object["rules"]); got != asJSON(t, []any{rule}) {
				t.Errorf("Role's rules %s", got)
			}
			subject := map[string]any{"kind": "ServiceAccount", "name": webhookOf[c.solver], "namespace": "cert-manager"}
			if got := asJSON(t, objs[3].Object["subjects"]); got != asJSON(t, []any{subject}) {
				t.Errorf("RoleBinding's subjects %s, want the webhook's ServiceAccount %s", got, webhookOf[c.solver])
			}
			if got := asJSON(t, objs[3].Object["roleRef"]); got != asJSON(t, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": c.role}) {
				t.Errorf("RoleBinding's roleRef %s", got)
			}
			solver := objs[4].Object["spec"].(map[string]any)["acme"].(map[string]any)["solvers"]
			if got := asJSON(t, solver); got != asJSON(t, []any{map[string]any{"dns01": map[string]any{"webhook": c.webhook}}}) {
				t.Errorf("solvers %s, want the webhook's %s", got, asJSON(t, c.webhook))
			}
		})
	}
}

// TestIssuerWebhookCredentialsNotShown: rendering a webhook solver's
// objects without a required knob fails naming the knob, and neither that
// error nor CheckKnobs' problems show the credential the inventory does
// set.
func TestIssuerWebhookCredentialsNotShown(t *testing.T) {
	comp, _ := Default().Get("cluster-issuer")
	for solver, missing := range map[string]string{
		IssuerWebhookGoDaddy:  "cluster_issuer_acme_godaddy_secret_key",
		IssuerWebhookInfoblox: "cluster_issuer_acme_infoblox_host",
	} {
		vars := webhookVars(solver)
		delete(vars, missing)
		s := DefaultSettings()
		s.Vars = vars
		_, err := comp.Objects(s)
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("%s: objects without %s: error %v, want one naming it", solver, missing, err)
		}
		var text []string
		if err != nil {
			text = append(text, err.Error())
		}
		for _, p := range Default().CheckKnobs(issuerConfig(vars), merged(vars, workspaceKeepalived)) {
			text = append(text, p.Key+": "+p.Message)
		}
		if len(text) < 2 {
			t.Errorf("%s: %v: want the error and CheckKnobs' problem", solver, text)
		}
		for k, v := range vars {
			if IsSecretKnob(k) && strings.Contains(strings.Join(text, "\n"), v.(string)) {
				t.Errorf("%s: %q shows %s's value", solver, text, k)
			}
		}
	}
}
