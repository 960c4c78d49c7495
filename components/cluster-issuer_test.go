package components

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// issuerRole is atmosphere's cluster_issuer role.
const issuerRole = "../../shared/atmosphere/roles/cluster_issuer"

// TestClusterIssuerMatchesTheRole renders cluster-issuer's objects for
// each issuer type and ACME solver and compares them, as data, with the
// objects of the role's own task files (tasks/main.yml, then
// tasks/type/<type>/main.yml and, for acme, solver/<solver>.yml), their
// {{ variable }} substitutions done with the role's defaults and the same
// inventory. Route53, whose issuer the role builds with Jinja filters, is
// TestClusterIssuerRoute53.
func TestClusterIssuerMatchesTheRole(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]any
		// files are the role's task files applied, after tasks/main.yml.
		files []string
	}{
		{"self-signed", map[string]any{"cluster_issuer_type": "self-signed"}, []string{"type/self-signed/main.yml"}},
		{"none", map[string]any{"cluster_issuer_type": "none"}, []string{"type/none/main.yml"}},
		{"ca", map[string]any{"cluster_issuer_type": "ca", "cluster_issuer_ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			"cluster_issuer_ca_private_key": "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"}, []string{"type/ca/main.yml"}},
		{"acme http01 (the role's default)", map[string]any{"cluster_issuer_acme_email": "ops@example.com"},
			[]string{"type/acme/main.yml", "type/acme/solver/http01.yml"}},
		{"acme http01, own class and server", map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_email": "ops@example.com",
			"cluster_issuer_acme_http01_ingress_class": "nginx", "cluster_issuer_acme_server": "https://acme.example.com/dir",
			"cluster_issuer_name": "letsencrypt"},
			[]string{"type/acme/main.yml", "type/acme/solver/http01.yml"}},
		{"acme rfc2136", map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_email": "ops@example.com",
			"cluster_issuer_acme_solver": "rfc2136", "cluster_issuer_acme_rfc2136_nameserver": "10.0.0.53:53",
			"cluster_issuer_acme_rfc2136_tsig_algorithm": "HMACSHA512", "cluster_issuer_acme_rfc2136_tsig_key_name": "atmosphere",
			"cluster_issuer_acme_rfc2136_tsig_secret_key": "tsig-s3cr3t-value"},
			[]string{"type/acme/main.yml", "type/acme/solver/rfc2136.yml"}},
		{"acme cloudflare", map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_email": "ops@example.com",
			"cluster_issuer_acme_solver": "cloudflare", "cluster_issuer_acme_cloudflare_api_token": "cf-t0ken-value"},
			[]string{"type/acme/main.yml", "type/acme/solver/cloudflare.yml"}},
		{"acme azuredns", map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_email": "ops@example.com",
			"cluster_issuer_acme_solver": "azuredns", "cluster_issuer_acme_azuredns_client_id": "client",
			"cluster_issuer_acme_azuredns_client_secret": "azure-s3cr3t-value", "cluster_issuer_acme_azuredns_subscription_id": "sub",
			"cluster_issuer_acme_azuredns_tenant_id": "tenant", "cluster_issuer_acme_azuredns_resourcegroup_name": "rg",
			"cluster_issuer_acme_azuredns_hostedzone_name": "cloud.example.com"},
			[]string{"type/acme/main.yml", "type/acme/solver/azuredns.yml"}},
		{"acme godaddy", webhookVars(IssuerWebhookGoDaddy), []string{"type/acme/main.yml", "type/acme/solver/godaddy.yml"}},
		{"acme godaddy, own names, staging", merged(webhookVars(IssuerWebhookGoDaddy), map[string]any{
			"cluster_issuer_acme_godaddy_group_name": "acme.example.com", "cluster_issuer_acme_godaddy_secret_name": "gd",
			"cluster_issuer_acme_godaddy_role_name": "gd-reader", "cluster_issuer_acme_godaddy_is_production": false,
			"cluster_issuer_acme_godaddy_ttl": 300.0}),
			[]string{"type/acme/main.yml", "type/acme/solver/godaddy.yml"}},
		{"acme infoblox", webhookVars(IssuerWebhookInfoblox), []string{"type/acme/main.yml", "type/acme/solver/infoblox.yml"}},
		{"acme infoblox, own binding and service account", merged(webhookVars(IssuerWebhookInfoblox), map[string]any{
			"cluster_issuer_acme_infoblox_role_binding_name": "ib-binding", "cluster_issuer_acme_infoblox_service_account_name": "ib"}),
			[]string{"type/acme/main.yml", "type/acme/solver/infoblox.yml"}},
		{"venafi, username and password", map[string]any{"cluster_issuer_type": "venafi", "cluster_issuer_venafi_zone": "Certificates\\Atmosphere",
			"cluster_issuer_venafi_tpp_url": "https://tpp.example.com/vedsdk", "cluster_issuer_venafi_tpp_ca_bundle": "Q0E=",
			"cluster_issuer_venafi_username": "admin", "cluster_issuer_venafi_password": "venafi-passw0rd"},
			[]string{"type/venafi/main.yml"}},
		{"venafi, access token", map[string]any{"cluster_issuer_type": "venafi", "cluster_issuer_venafi_zone": "Certificates\\Atmosphere",
			"cluster_issuer_venafi_tpp_url": "https://tpp.example.com/vedsdk", "cluster_issuer_venafi_tpp_ca_bundle": "Q0E=",
			"cluster_issuer_venafi_access_token": "venafi-t0ken-value"},
			[]string{"type/venafi/main.yml"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if problems := Default().CheckKnobs(issuerConfig(c.vars), merged(c.vars, workspaceKeepalived)); len(problems) > 0 {
				t.Fatalf("refused: %v", problems)
			}
			want := roleObjects(t, c.vars, append([]string{"main.yml"}, c.files...))
			s := DefaultSettings()
			s.Vars = c.vars
			comp, _ := Default().Get("cluster-issuer")
			objs, err := comp.Objects(s)
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			for _, o := range objs {
				got = append(got, o.Object)
			}
			if len(want) < 1 {
				t.Fatal("the role applies no object: the reading of its tasks is broken")
			}
			if !reflect.DeepEqual(asJSON(t, got), asJSON(t, want)) {
				t.Errorf("objects differ from the role's:\n got %s\nwant %s", asJSON(t, got), asJSON(t, want))
			}
		})
	}
}

// TestClusterIssuerRoute53: route53's objects for each authentication, as
// the role's tasks/type/acme/solver/route53.yml builds them (its Jinja:
// the common part, the role when an ARN is given, then the static keys or
// the kubernetes ServiceAccount).
func TestClusterIssuerRoute53(t *testing.T) {
	base := map[string]any{"cluster_issuer_type": "acme", "cluster_issuer_acme_email": "ops@example.com",
		"cluster_issuer_acme_solver": "route53", "cluster_issuer_acme_route53_region": "us-east-1",
		"cluster_issuer_acme_route53_hosted_zone_id": "Z123"}
	common := map[string]any{"region": "us-east-1", "hostedZoneID": "Z123"}
	secretRef := map[string]any{"name": "cert-manager-issuer-route53-credentials", "key": "secret-access-key"}
	cases := []struct {
		name    string
		vars    map[string]any
		route53 map[string]any
		kinds   []string
	}{
		{"static", map[string]any{"cluster_issuer_acme_route53_access_key_id": "AKIA", "cluster_issuer_acme_route53_secret_access_key": "aws-s3cr3t-value"},
			merged(common, map[string]any{"accessKeyID": "AKIA", "secretAccessKeySecretRef": secretRef}),
			[]string{"ClusterIssuer/self-signed", "Secret/cert-manager-issuer-route53-credentials", "ClusterIssuer/atmosphere"}},
		{"static with a role", map[string]any{"cluster_issuer_acme_route53_role_arn": "arn:aws:iam::1:role/dns",
			"cluster_issuer_acme_route53_secret_access_key": "aws-s3cr3t-value"},
			merged(common, map[string]any{"role": "arn:aws:iam::1:role/dns", "accessKeyID": "", "secretAccessKeySecretRef": secretRef}),
			[]string{"ClusterIssuer/self-signed", "Secret/cert-manager-issuer-route53-credentials", "ClusterIssuer/atmosphere"}},
		{"ambient", map[string]any{"cluster_issuer_acme_route53_auth": "ambient"}, common,
			[]string{"ClusterIssuer/self-signed", "ClusterIssuer/atmosphere"}},
		{"kubernetes", map[string]any{"cluster_issuer_acme_route53_auth": "kubernetes", "cluster_issuer_acme_route53_role_arn": "arn:aws:iam::1:role/dns"},
			merged(common, map[string]any{"role": "arn:aws:iam::1:role/dns", "auth": map[string]any{"kubernetes": map[string]any{
				"serviceAccountRef": map[string]any{"name": "cert-manager-route53"}}}}),
			[]string{"ClusterIssuer/self-signed", "ServiceAccount/cert-manager-route53", "Role/cert-manager-route53-tokenrequest",
				"RoleBinding/cert-manager-route53-tokenrequest", "ClusterIssuer/atmosphere"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars := merged(base, c.vars)
			if problems := Default().CheckKnobs(DefaultConfig(), merged(vars, workspaceKeepalived)); len(problems) > 0 {
				t.Fatalf("refused: %v", problems)
			}
			s := DefaultSettings()
			s.Vars = vars
			comp, _ := Default().Get("cluster-issuer")
			objs, err := comp.Objects(s)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind()+"/"+o.GetName())
			}
			if !reflect.DeepEqual(kinds, c.kinds) {
				t.Fatalf("objects %v, want %v", kinds, c.kinds)
			}
			issuer := objs[len(objs)-1].Object
			solver := issuer["spec"].(map[string]any)["acme"].(map[string]any)["solvers"].([]any)[0]
			if got, want := asJSON(t, solver), asJSON(t, map[string]any{"dns01": map[string]any{"route53": c.route53}}); got != want {
				t.Errorf("solver %s, want %s", got, want)
			}
			if c.name == "static" {
				if data := objs[1].Object["stringData"]; !reflect.DeepEqual(data, map[string]any{"secret-access-key": "aws-s3cr3t-value"}) {
					t.Errorf("Secret's data %v", data)
				}
			}
		})
	}
}

// TestClusterIssuerRefusals: what atmosphere-go does not implement (a CSI
// driver other than rbd, local-path-provisioner and portworx), a value the role does
// not take, a knob of the wrong type and what a type or solver requires
// and the inventory lacks (the webhook solvers' credentials, host and
// view among them) are refused by CheckKnobs (before the run, with the
// configuration the settings make of the same variables), each naming the
// knob, the value and what is supported; a credential's value is never
// shown.
func TestClusterIssuerRefusals(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]any
		key  string
		want []string
	}{
		{"an unknown solver", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "digitalocean"},
			"cluster_issuer_acme_solver", []string{`"digitalocean"`, `"http01", "rfc2136", "route53", "cloudflare", "azuredns", "godaddy", "infoblox"`}},
		{"godaddy without its secret key", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "godaddy",
			"cluster_issuer_acme_godaddy_api_key": "godaddy-k3y-value"},
			"cluster_issuer_acme_godaddy_secret_key", []string{"required with cluster_issuer_type acme with the solver godaddy"}},
		{"godaddy without its API key", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "godaddy",
			"cluster_issuer_acme_godaddy_secret_key": "godaddy-s3cr3t-value"},
			"cluster_issuer_acme_godaddy_api_key", []string{"required with cluster_issuer_type acme with the solver godaddy"}},
		{"godaddy's ttl not a number", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "godaddy",
			"cluster_issuer_acme_godaddy_api_key": "godaddy-k3y-value", "cluster_issuer_acme_godaddy_secret_key": "godaddy-s3cr3t-value",
			"cluster_issuer_acme_godaddy_ttl": "ten minutes"},
			"cluster_issuer_acme_godaddy_ttl", []string{"a whole number", `"ten minutes"`}},
		{"godaddy's API key of the wrong type", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "godaddy",
			"cluster_issuer_acme_godaddy_api_key": 987654321.0, "cluster_issuer_acme_godaddy_secret_key": "godaddy-s3cr3t-value"},
			"cluster_issuer_acme_godaddy_api_key", []string{"a number"}},
		{"infoblox without its password", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "infoblox",
			"cluster_issuer_acme_infoblox_host": "wapi.example.com", "cluster_issuer_acme_infoblox_view": "default",
			"cluster_issuer_acme_infoblox_username": "admin"},
			"cluster_issuer_acme_infoblox_password", []string{"required with cluster_issuer_type acme with the solver infoblox"}},
		{"infoblox without its host", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "infoblox",
			"cluster_issuer_acme_infoblox_view": "default", "cluster_issuer_acme_infoblox_username": "admin",
			"cluster_issuer_acme_infoblox_password": "infoblox-passw0rd"},
			"cluster_issuer_acme_infoblox_host", []string{"required with cluster_issuer_type acme with the solver infoblox"}},
		{"infoblox without its view", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "infoblox",
			"cluster_issuer_acme_infoblox_host": "wapi.example.com", "cluster_issuer_acme_infoblox_username": "admin",
			"cluster_issuer_acme_infoblox_password": "infoblox-passw0rd"},
			"cluster_issuer_acme_infoblox_view", []string{"required with cluster_issuer_type acme with the solver infoblox"}},
		{"infoblox without its username", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "infoblox",
			"cluster_issuer_acme_infoblox_host": "wapi.example.com", "cluster_issuer_acme_infoblox_view": "default",
			"cluster_issuer_acme_infoblox_password": "infoblox-passw0rd"},
			"cluster_issuer_acme_infoblox_username", []string{"required with cluster_issuer_type acme with the solver infoblox"}},
		{"an unknown type", map[string]any{"cluster_issuer_type": "letsencrypt"},
			"cluster_issuer_type", []string{`"letsencrypt"`, `"acme", "ca", "venafi", "none", "self-signed"`}},
		{"route53's auth", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "route53",
			"cluster_issuer_acme_route53_auth": "irsa", "cluster_issuer_acme_route53_region": "r", "cluster_issuer_acme_route53_hosted_zone_id": "z"},
			"cluster_issuer_acme_route53_auth", []string{`"irsa"`, `"static", "ambient", "kubernetes"`}},
		{"acme without an e-mail", map[string]any{}, "cluster_issuer_acme_email", []string{"required with cluster_issuer_type acme"}},
		{"ca without its key", map[string]any{"cluster_issuer_type": "ca", "cluster_issuer_ca_certificate": "x"},
			"cluster_issuer_ca_private_key", []string{"required with cluster_issuer_type ca"}},
		{"cloudflare without its token", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "cloudflare"},
			"cluster_issuer_acme_cloudflare_api_token", []string{"solver cloudflare"}},
		{"venafi with both credentials", map[string]any{"cluster_issuer_type": "venafi", "cluster_issuer_venafi_zone": "z",
			"cluster_issuer_venafi_tpp_url": "u", "cluster_issuer_venafi_tpp_ca_bundle": "b", "cluster_issuer_venafi_username": "u",
			"cluster_issuer_venafi_password": "venafi-passw0rd", "cluster_issuer_venafi_access_token": "venafi-t0ken-value"},
			"cluster_issuer_venafi_access_token", []string{"either"}},
		{"a token of the wrong type", map[string]any{"cluster_issuer_acme_email": "a@b.c", "cluster_issuer_acme_solver": "cloudflare",
			"cluster_issuer_acme_cloudflare_api_token": 123456789.0}, "cluster_issuer_acme_cloudflare_api_token", []string{"a number"}},
		{"csi_driver", map[string]any{"cluster_issuer_type": "none", "csi_driver": "powerstore"},
			"csi_driver", []string{`got the string "powerstore"`, `one of "rbd", "local-path-provisioner", `, `(atmosphere's role also takes "powerstore"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var msg string
			for _, p := range Default().CheckKnobs(issuerConfig(c.vars), merged(c.vars, workspaceKeepalived)) {
				if p.Key == c.key {
					msg = p.Message
				}
			}
			if msg == "" {
				t.Fatalf("%s not refused", c.key)
			}
			if c.key == "cluster_issuer_type" && len(Default().CheckKnobs(DefaultConfig(), merged(c.vars, workspaceKeepalived))) != 1 {
				t.Errorf("an unknown type is refused with more than its own problem: %v", Default().CheckKnobs(DefaultConfig(), merged(c.vars, workspaceKeepalived)))
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: %q lacks %q", c.key, msg, w)
				}
			}
			for k, v := range c.vars {
				if s, ok := v.(string); ok && IsSecretKnob(k) && strings.Contains(msg, s) {
					t.Errorf("the message shows %s's value: %s", k, msg)
				}
				if f, ok := v.(float64); ok && strings.Contains(msg, fmt.Sprint(f)) {
					t.Errorf("the message shows %s's value: %s", k, msg)
				}
			}
		})
	}
}

// roleObjects are the objects the role's task files apply for vars (laid
// over the role's defaults and atmosphere's ingress class and issuer): the
// definitions of their kubernetes.core.k8s tasks whose conditions hold,
// with {{ variable }} substituted.
func roleObjects(t *testing.T, vars map[string]any, files []string) []any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(issuerRole, "defaults", "main.yml"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]any{}
	if err := yaml.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	all["atmosphere_ingress_cluster_issuer"] = "atmosphere"
	all["atmosphere_ingress_class_name"] = "atmosphere"
	for k, v := range vars {
		all[k] = v
	}
	var out []any
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(issuerRole, "tasks", f))
		if err != nil {
			t.Fatal(err)
		}
		var tasks []map[string]any
		if err := yaml.Unmarshal(raw, &tasks); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, task := range tasks {
			k8s, ok := task["kubernetes.core.k8s"].(map[string]any)
			if !ok || !holds(t, task["when"], all) {
				continue
			}
			def := substitute(t, k8s["definition"], all)
			if list, ok := def.([]any); ok {
				out = append(out, list...)
			} else {
				out = append(out, def)
			}
		}
	}
	for _, o := range out {
		metadataLabels(o.(map[string]any))
	}
	return out
}

// metadataLabels moves the labels azuredns's role puts in an object's
// metadata itself (where the API server drops them) into its labels, as
// atmosphere-go applies them.
func metadataLabels(o map[string]any) {
	meta := o["metadata"].(map[string]any)
	for k, v := range meta {
		if strings.HasPrefix(k, "app.kubernetes.io/") {
			labels, _ := meta["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
				meta["labels"] = labels
			}
			labels[k] = v
			delete(meta, k)
		}
	}
}

// issuerReferences are the references of cluster-issuer rendered from the
// role by the real ansible (go run ./hack/fidelity --issuers).
const issuerReferences = "../testdata/fidelity/issuers"

// TestClusterIssuerMatchesTheReferences: for each case of
// testdata/fidelity/issuers/cases.yaml, cluster-issuer's objects are, as
// data and in order, those atmosphere's cluster_issuer role applies for
// the same variables, as ansible recorded them (<case>.jsonl), and so are
// the webhook releases it installs for a webhook solver
// (<case>.releases.jsonl: checkWebhookReleases); the case's variables pass
// CheckKnobs. Every case has its reference.
func TestClusterIssuerMatchesTheReferences(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(issuerReferences, "cases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]map[string]any
	if err := yaml.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("%d cases", len(cases))
	}
	comp, _ := Default().Get("cluster-issuer")
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(issuerReferences, name+".jsonl"))
			if err != nil {
				t.Fatalf("no reference (go run ./hack/fidelity --issuers %s): %v", issuerReferences, err)
			}
			var want []any
			for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				var o map[string]any
				if err := json.Unmarshal([]byte(line), &o); err != nil {
					t.Fatal(err)
				}
				metadataLabels(o)
				want = append(want, o)
			}
			if problems := Default().CheckKnobs(issuerConfig(vars), merged(vars, workspaceKeepalived)); len(problems) > 0 {
				t.Fatalf("refused: %v", problems)
			}
			s := DefaultSettings()
			s.Vars = vars
			objs, err := comp.Objects(s)
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			for _, o := range objs {
				got = append(got, o.Object)
			}
			if g, w := asJSON(t, got), asJSON(t, want); g != w {
				t.Errorf("objects differ from the role's:\n got %s\nwant %s", g, w)
			}
			checkWebhookReleases(t, name, vars)
		})
	}
}

// checkWebhookReleases compares the webhook releases of a case's variables
// (the webhook component IssuerWebhookOf enables: its release, namespace
// and own values with the operator's cluster_issuer_acme_<solver>_helm_values
// laid over them, as the inventory's overrides are) with those the role
// installs for them (<case>.releases.jsonl, absent when it installs none).
func checkWebhookReleases(t *testing.T, name string, vars map[string]any) {
	t.Helper()
	var want []any
	raw, err := os.ReadFile(filepath.Join(issuerReferences, name+".releases.jsonl"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	var got []any
	cfg := issuerConfig(vars)
	for _, c := range Default().Components() {
		// The releases of the cluster_issuer role: its variables name them.
		if !strings.HasPrefix(c.roleVarPrefix(), "cluster_issuer_") || !c.IsEnabled(cfg) {
			continue
		}
		s := DefaultSettings()
		s.Config, s.Vars = cfg, vars
		own, err := c.OwnValues(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		operator, _ := vars[c.roleVarPrefix()+"_helm_values"].(map[string]any)
		got = append(got, map[string]any{"name": c.Release, "namespace": c.Namespace, "values": values.Merge(own, operator)})
	}
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Errorf("webhook releases differ from the role's:\n got %s\nwant %s", g, w)
	}
}

var (
	jinjaVar  = regexp.MustCompile(`\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}`)
	condition = regexp.MustCompile(`^([a-z_][a-z0-9_]*) is (not )?defined$`)
)

// holds evaluates a task's when: conditions "x is defined" and "x is not
// defined", all of them; any other form fails the test.
func holds(t *testing.T, when any, vars map[string]any) bool {
	t.Helper()
	var conds []any
	switch w := when.(type) {
	case nil:
		return true
	case string:
		conds = []any{w}
	case []any:
		conds = w
	}
	for _, c := range conds {
		m := condition.FindStringSubmatch(fmt.Sprint(c))
		if m == nil {
			t.Fatalf("condition %q: not a form this test reads", c)
		}
		_, defined := vars[m[1]]
		if defined == (m[2] != "") {
			return false
		}
	}
	return true
}

// substitute replaces every {{ variable }} in v's strings with the
// variable's value (itself substituted); a string that is one expression
// takes the value's type, as Ansible's templating does. An undefined
// variable fails the test, as it fails the role.
func substitute(t *testing.T, v any, vars map[string]any) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = substitute(t, x, vars)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = substitute(t, x, vars)
		}
		return out
	case string:
		lookup := func(name string) any {
			x, ok := vars[name]
			if !ok {
				t.Fatalf("%s is undefined (the role fails)", name)
			}
			return substitute(t, x, vars)
		}
		if m := jinjaVar.FindStringSubmatch(v); m != nil && m[0] == v {
			return lookup(m[1])
		}
		if strings.Contains(v, "{{") && !jinjaVar.MatchString(v) {
			t.Fatalf("%q: not a form this test reads", v)
		}
		return jinjaVar.ReplaceAllStringFunc(v, func(s string) string {
			return fmt.Sprint(lookup(jinjaVar.FindStringSubmatch(s)[1]))
		})
	}
	return v
}

// asJSON is v as JSON, for comparing objects as data.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
