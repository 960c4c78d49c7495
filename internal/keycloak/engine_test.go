package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// fresh is a realm name of this run of this test: the test Keycloak keeps
// what earlier runs made.
func fresh(t *testing.T, prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1e12)
}

// settings are a deployment's settings whose keystone domains (two, with
// the role's realm settings) and monitoring realm are made in the test
// Keycloak, with the secrets of a store: the admin's password is
// keycloak_admin_password's, the clients' secrets fixed per name.
func settings(t *testing.T, kc testenv.KeycloakServer, realm string) components.Settings {
	s := components.DefaultSettings()
	s.Vars = map[string]any{
		"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com",
		"openstack_helm_endpoints_horizon_api_host":  "dashboard.cloud.example.com",
		"keystone_domains": []any{
			map[string]any{"name": realm + "-a", "label": "Domain A", "keycloak_server_url": kc.URL,
				"keycloak_realm": realm + "-a", "keycloak_client_id": "keystone", "keycloak_client_secret": "keystone-a-secret-" + realm,
				"keycloak_scopes": "openid email profile", "keycloak_admin_user": kc.AdminUser,
				"keycloak_password_policy": "length(12)", "keycloak_brute_force_protected": true,
				"keycloak_brute_force_failure_factor": 5, "keycloak_totp_default_action": true},
			map[string]any{"name": realm + "-b", "label": "Domain B", "keycloak_server_url": kc.URL,
				"keycloak_realm": realm + "-b", "keycloak_client_id": "keystone", "keycloak_client_secret": "keystone-b-secret-" + realm,
				"keycloak_scopes": "openid", "keycloak_admin_user": kc.AdminUser},
		},
		"kube_prometheus_stack_keycloak_server_url": kc.URL,
		"kube_prometheus_stack_keycloak_realm":      realm + "-monitoring",
		"kube_prometheus_stack_keycloak_admin_user": kc.AdminUser,
	}
	s.Secret = func(name string) (string, error) {
		if name == "keycloak_admin_password" {
			return kc.AdminPassword, nil
		}
		return "store-" + name + "-" + realm, nil
	}
	return s
}

func ssoPhase(t *testing.T, name string) (*components.Component, components.Phase) {
	t.Helper()
	c, ok := components.Default().Get(name)
	if !ok {
		t.Fatalf("no component %s", name)
	}
	p, ok := c.Phase("sso")
	if !ok || p.Kind != components.Keycloak {
		t.Fatalf("%s has no Keycloak phase sso", name)
	}
	return c, p
}

// read GETs an admin API path as the test Keycloak's admin.
func read(t *testing.T, c *Client, path string, out any) {
	t.Helper()
	if _, err := c.do(context.Background(), http.MethodGet, path, nil, out); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
}

func adminClient(kc testenv.KeycloakServer) *Client {
	return NewClient(components.KeycloakServer{URL: kc.URL, AdminRealm: "master", AdminClientID: "admin-cli",
		User: kc.AdminUser, Password: kc.AdminPassword}, nil)
}

// TestDeployTwice makes keystone's and the monitoring's realms in the real
// Keycloak: the first run writes, the second writes nothing, and what is
// there is what the roles make.
func TestDeployTwice(t *testing.T) {
	kc := testenv.Keycloak(t)
	realm := fresh(t, "twice")
	s := settings(t, kc, realm)
	admin := adminClient(kc)
	tests := []struct {
		component string
		check     func(t *testing.T)
	}{
		{"keystone", func(t *testing.T) {
			var r map[string]any
			read(t, admin, "/admin/realms/"+realm+"-a", &r)
			if r["displayName"] != "Domain A" || r["passwordPolicy"] != "length(12)" || r["bruteForceProtected"] != true || r["failureFactor"] != float64(5) {
				t.Errorf("realm a: %v %v %v %v", r["displayName"], r["passwordPolicy"], r["bruteForceProtected"], r["failureFactor"])
			}
			var totp map[string]any
			read(t, admin, "/admin/realms/"+realm+"-a/authentication/required-actions/CONFIGURE_TOTP", &totp)
			if totp["enabled"] != true || totp["defaultAction"] != true {
				t.Errorf("realm a's CONFIGURE_TOTP: %v", totp)
			}
			for _, d := range []string{"a", "b"} {
				base := "/admin/realms/" + realm + "-" + d
				var clients []map[string]any
				read(t, admin, base+"/clients?clientId=keystone", &clients)
				if len(clients) != 1 {
					t.Fatalf("realm %s: %d keystone clients", d, len(clients))
				}
				cl := clients[0]
				uris := fmt.Sprint(cl["redirectUris"])
				if cl["serviceAccountsEnabled"] != true || cl["publicClient"] != false || cl["directAccessGrantsEnabled"] != false ||
					!strings.Contains(uris, "https://identity.cloud.example.com/v3/auth/OS-FEDERATION/identity_providers/redirect") ||
					!strings.Contains(uris, "https://dashboard.cloud.example.com/auth/logout/") {
					t.Errorf("realm %s: keystone client %v", d, cl)
				}
				var secret struct{ Value string }
				read(t, admin, base+"/clients/"+cl["id"].(string)+"/client-secret", &secret)
				if secret.Value != "keystone-"+d+"-secret-"+realm {
					t.Errorf("realm %s: keystone's secret is not the inventory's", d)
				}
				var user struct{ ID string }
				read(t, admin, base+"/clients/"+cl["id"].(string)+"/service-account-user", &user)
				var rm []map[string]any
				read(t, admin, base+"/clients?clientId=realm-management", &rm)
				var roles []map[string]any
				read(t, admin, base+"/users/"+user.ID+"/role-mappings/clients/"+rm[0]["id"].(string), &roles)
				if !slices.ContainsFunc(roles, func(r map[string]any) bool { return r["name"] == "view-users" }) {
					t.Errorf("realm %s: keystone's service account has %v, not view-users", d, roles)
				}
			}
		}},
		{"kube-prometheus-stack", func(t *testing.T) {
			base := "/admin/realms/" + realm + "-monitoring"
			var r map[string]any
			read(t, admin, base, &r)
			if r["displayName"] != "Atmosphere" || r["enabled"] != true {
				t.Errorf("monitoring realm: %v %v", r["displayName"], r["enabled"])
			}
			var scopes []map[string]any
			read(t, admin, base+"/client-scopes", &scopes)
			i := slices.IndexFunc(scopes, func(s map[string]any) bool { return s["name"] == "roles" })
			var mappers []map[string]any
			read(t, admin, base+"/client-scopes/"+scopes[i]["id"].(string)+"/protocol-mappers/models", &mappers)
			j := slices.IndexFunc(mappers, func(m map[string]any) bool { return m["name"] == "client roles" })
			if j < 0 || mappers[j]["config"].(map[string]any)["id.token.claim"] != "true" {
				t.Errorf("roles scope's client roles mapper: %v", mappers)
			}
			for ui, roles := range map[string][]string{"grafana": {"admin", "editor", "viewer"}, "prometheus": {"member"}, "alertmanager": {"member"}} {
				var clients []map[string]any
				read(t, admin, base+"/clients?clientId="+ui, &clients)
				if len(clients) != 1 {
					t.Fatalf("%d %s clients", len(clients), ui)
				}
				id := clients[0]["id"].(string)
				if clients[0]["publicClient"] != true {
					t.Errorf("%s is not a public client, as the role makes it", ui)
				}
				var have []map[string]any
				read(t, admin, base+"/clients/"+id+"/roles", &have)
				for _, role := range roles {
					if !slices.ContainsFunc(have, func(r map[string]any) bool { return r["name"] == role }) {
						t.Errorf("%s has no role %s", ui, role)
					}
				}
				var ms []map[string]any
				read(t, admin, base+"/clients/"+id+"/protocol-mappers/models", &ms)
				if !slices.ContainsFunc(ms, func(m map[string]any) bool {
					return m["name"] == "aud-mapper-"+ui && m["config"].(map[string]any)["included.client.audience"] == ui
				}) {
					t.Errorf("%s has no audience mapper: %v", ui, ms)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			c, p := ssoPhase(t, tt.component)
			e := newEngine(s)
			ctx := context.Background()
			if err := e.Deploy(ctx, c, p); err != nil {
				t.Fatal(err)
			}
			first := e.Writes()
			if first == 0 {
				t.Fatal("the first run wrote nothing")
			}
			if err := e.Deploy(ctx, c, p); err != nil {
				t.Fatal(err)
			}
			if again := e.Writes() - first; again != 0 {
				t.Errorf("the second run made %d writes, want none", again)
			}
			tt.check(t)
		})
	}
}

// TestDriftIsRepaired changes what the declaration names behind the
// engine's back (a client's redirect URIs, a realm's display name): the
// next run puts each back, the one after writes nothing.
func TestDriftIsRepaired(t *testing.T) {
	kc := testenv.Keycloak(t)
	realm := fresh(t, "drift")
	s := settings(t, kc, realm)
	c, p := ssoPhase(t, "kube-prometheus-stack")
	ctx := context.Background()
	if err := newEngine(s).Deploy(ctx, c, p); err != nil {
		t.Fatal(err)
	}
	admin := adminClient(kc)
	base := "/admin/realms/" + realm + "-monitoring"
	var clients []map[string]any
	read(t, admin, base+"/clients?clientId=grafana", &clients)
	g := clients[0]
	g["redirectUris"] = []any{"https://elsewhere.example.com/"}
	delete(g, "protocolMappers")
	if _, err := admin.do(ctx, http.MethodPut, base+"/clients/"+g["id"].(string), g, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.do(ctx, http.MethodPut, base, map[string]any{"realm": realm + "-monitoring", "displayName": "Other"}, nil); err != nil {
		t.Fatal(err)
	}

	e := newEngine(s)
	did, err := runUnit(ctx, e, c, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"realm " + realm + "-monitoring: updated [displayName]", "client grafana: updated [redirectUris]"} {
		if !strings.Contains(did, want) {
			t.Errorf("the run did %q, want %q in it", did, want)
		}
	}
	before := e.Writes()
	if err := e.Deploy(ctx, c, p); err != nil {
		t.Fatal(err)
	}
	if n := e.Writes() - before; n != 0 {
		t.Errorf("the run after the repair made %d writes", n)
	}
}

// TestConcurrentRunsConverge runs the same work from two engines at once
// on a fresh realm: both succeed (the one that loses a create reads what
// the other made), and a third run writes nothing.
func TestConcurrentRunsConverge(t *testing.T) {
	kc := testenv.Keycloak(t)
	s := settings(t, kc, fresh(t, "concurrent"))
	ctx := context.Background()
	for _, name := range []string{"kube-prometheus-stack", "keystone"} {
		c, p := ssoPhase(t, name)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = newEngine(s).Deploy(ctx, c, p) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := newEngine(s)
		if err := e.Deploy(ctx, c, p); err != nil {
			t.Fatal(err)
		}
		if n := e.Writes(); n != 0 {
			t.Errorf("%s: the run after the two made %d writes", name, n)
		}
	}
}

// TestCancelReturnsPromptly: a Keycloak that never answers, and a context
// cancelled before the run, end the run at once with the context's error.
func TestCancelReturnsPromptly(t *testing.T) {
	// The handler does not read the body, so the server may not see the
	// client go: stop ends it at the end of the test.
	stop := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hung.Close()
	defer close(stop)
	kc := testenv.Keycloak(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		url  string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"hung server", hung.URL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}},
		{"cancelled before", kc.URL, func() (context.Context, context.CancelFunc) { return cancelled, func() {} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings(t, kc, fresh(t, "cancel"))
			s.Vars["kube_prometheus_stack_keycloak_server_url"] = tt.url
			c, p := ssoPhase(t, "kube-prometheus-stack")
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			err := newEngine(s).Deploy(ctx, c, p)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v after the context ended", took)
			}
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err %v, want the context's", err)
			}
		})
	}
}

// TestNoSecretInErrorsOrNotes: a refused admin password is named as a
// refusal, not printed; a run's notes name what changed, never a secret.
func TestNoSecretInErrorsOrNotes(t *testing.T) {
	kc := testenv.Keycloak(t)
	realm := fresh(t, "secrets")
	s := settings(t, kc, realm)
	c, p := ssoPhase(t, "kube-prometheus-stack")
	ctx := context.Background()

	wrong := s
	wrong.Secret = func(name string) (string, error) {
		if name == "keycloak_admin_password" {
			return "not-the-password-" + realm, nil
		}
		return s.Secret(name)
	}
	err := (&Engine{Settings: wrong}).Deploy(ctx, c, p)
	if err == nil || !strings.Contains(err.Error(), "authenticate to Keycloak") {
		t.Fatalf("a wrong password: err %v", err)
	}
	if strings.Contains(err.Error(), "not-the-password-") {
		t.Errorf("the error prints the admin password: %v", err)
	}

	did, err := runUnit(ctx, newEngine(s), c, p)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{kc.AdminPassword}
	for _, ui := range []string{"grafana", "prometheus", "alertmanager"} {
		v, _ := s.Secret("kube_prometheus_stack_" + ui + "_client_secret")
		secrets = append(secrets, v)
	}
	if !strings.Contains(did, "client grafana: created") {
		t.Errorf("notes %q do not say what was made", did)
	}
	for _, secret := range secrets {
		if strings.Contains(did, secret) {
			t.Errorf("a note prints a secret: %q", did)
		}
	}
}

// runUnit runs the engine's unit of c's phase p through the scheduler and
// returns what its notes say it waited on and did, one per line.
func runUnit(ctx context.Context, e *Engine, c *components.Component, p components.Phase) (string, error) {
	notes, err := deploytest.RunUnit(ctx, components.UnitKey(c.Name, p.Name), func(ctx context.Context) error { return e.Deploy(ctx, c, p) })
	var out []string
	for _, n := range notes {
		out = append(out, n.Waiting, n.Did)
	}
	return strings.Join(out, "\n"), err
}
