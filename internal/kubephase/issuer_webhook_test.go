package kubephase

import (
	"context"
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
)

// TestIssuerWebhookCharts: for an ACME issuer with a webhook solver, the
// solver's webhook chart (atmosphere's, of the pinned version) renders
// with its component's values: its APIService serves the API group the
// ClusterIssuer's solver names, it makes cert-manager's Issuer and
// Certificate for its serving certificate (so that it needs cert-manager),
// and its ServiceAccount may read the Secret of the credentials — bound
// to it by cluster-issuer's RoleBinding (the role's service account
// default, the release's name, is the chart's: infoblox), or by the
// chart's own ClusterRole (godaddy's chart names its ServiceAccount
// <release>-godaddy-webhook, which the role's RoleBinding does not name:
// docs/differences.md).
func TestIssuerWebhookCharts(t *testing.T) {
	cases := []struct {
		component string
		vars      map[string]any
		group     string
		// boundByRole: cluster-issuer's RoleBinding names the chart's
		// ServiceAccount.
		boundByRole bool
	}{
		{"cert-manager-webhook-godaddy", map[string]any{"cluster_issuer_acme_solver": "godaddy",
			"cluster_issuer_acme_godaddy_api_key": "godaddy-k3y-value", "cluster_issuer_acme_godaddy_secret_key": "godaddy-s3cr3t-value"},
			"godaddy.cert-manager.atmosphere.dev", false},
		{"cert-manager-webhook-infoblox-wapi", map[string]any{"cluster_issuer_acme_solver": "infoblox",
			"cluster_issuer_acme_infoblox_host": "wapi.example.com", "cluster_issuer_acme_infoblox_view": "default",
			"cluster_issuer_acme_infoblox_username": "admin", "cluster_issuer_acme_infoblox_password": "infoblox-passw0rd"},
			"infoblox.cert-manager.atmosphere.dev", true},
	}
	reg := components.Default()
	for _, c := range cases {
		t.Run(c.component, func(t *testing.T) {
			s := testSettings()
			s.Vars["cluster_issuer_type"] = "acme"
			s.Vars["cluster_issuer_acme_email"] = "ops@example.com"
			for k, v := range c.vars {
				s.Vars[k] = v
			}
			s.Config.IssuerWebhook = components.IssuerWebhookOf(s.Vars)
			comp, ok := reg.Get(c.component)
			if !ok || !comp.IsEnabled(s.Config) {
				t.Fatalf("%s not enabled for %v", c.component, c.vars)
			}
			ch, err := chartLoader().Load(context.Background(), *comp.Chart)
			if err != nil {
				t.Fatal(err)
			}
			st := &Stack{Config: s}
			v, err := st.Values(comp, ch.Values)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := template(helmrelease.Release{Name: comp.Release, Namespace: comp.Namespace, Chart: ch, Values: v},
				chartutil.VersionSet{"cert-manager.io/v1"})
			if err != nil {
				t.Fatal(err)
			}
			issuerObjs, err := objectsOf("cluster-issuer", s)
			if err != nil {
				t.Fatal(err)
			}
			var bound []string
			for _, o := range issuerObjs {
				if o.GetKind() == "RoleBinding" {
					for _, sub := range o.Object["subjects"].([]any) {
						bound = append(bound, sub.(map[string]any)["name"].(string))
					}
				}
			}
			var kinds, accounts []string
			readsSecrets := false
			for _, o := range rendered {
				kind, _ := o["kind"].(string)
				kinds = append(kinds, kind)
				meta, _ := o["metadata"].(map[string]any)
				switch kind {
				case "ServiceAccount":
					accounts = append(accounts, meta["name"].(string))
				case "APIService":
					if group := o["spec"].(map[string]any)["group"]; group != c.group {
						t.Errorf("APIService serves %v, want %s", group, c.group)
					}
				case "ClusterRole":
					for _, r := range o["rules"].([]any) {
						rule := r.(map[string]any)
						if slices.Contains(rule["resources"].([]any), any("secrets")) && slices.Contains(rule["verbs"].([]any), any("get")) {
							readsSecrets = true
						}
					}
				}
			}
			for _, k := range []string{"Issuer", "Certificate", "APIService", "Deployment"} {
				if !slices.Contains(kinds, k) {
					t.Errorf("the chart renders %v, no %s", kinds, k)
				}
			}
			if len(accounts) != 1 {
				t.Fatalf("ServiceAccounts %v, want one", accounts)
			}
			if got := slices.Contains(bound, accounts[0]); got != c.boundByRole {
				t.Errorf("cluster-issuer's RoleBinding binds %v; the chart's ServiceAccount %s among them: %v, want %v",
					bound, accounts[0], got, c.boundByRole)
			}
			if !c.boundByRole && !readsSecrets {
				t.Errorf("the chart's ServiceAccount %s is not bound by the role and the chart grants it no get on secrets", accounts[0])
			}
		})
	}
}
