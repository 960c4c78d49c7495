package ssologin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/keycloak"
	"github.com/vexxhost/atmosphere-go/internal/openstackphase"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// dashboard is the dashboard whose websso page keystone trusts
// (horizon's host): keystone's answer posts the token there, and nothing
// needs to listen at it.
const dashboard = "dashboard.test"

// federation is one keystone domain federated with its realm in the test
// Keycloak, as a deploy makes it, on the test bed's federated keystone.
type federation struct {
	kc       testenv.KeycloakServer
	keystone *testenv.OIDCKeystone
	cloud    *openstack.Cloud
	domain   string
	settings components.Settings
}

// settings are a deployment's whose one keystone domain is federated with
// a realm of the test Keycloak, keystone's public URL the federated
// keystone's (its redirect URI and the websso URLs allowed after login the
// knobs' own, as an operator sets them for a keystone not on https).
func settings(kc testenv.KeycloakServer, ks *testenv.OIDCKeystone, domain string) components.Settings {
	s := components.DefaultSettings()
	s.Vars = map[string]any{
		"openstack_helm_endpoints_keystone_api_host": strings.TrimPrefix(ks.Base, "http://"),
		"openstack_helm_endpoints_horizon_api_host":  dashboard,
		"keystone_oidc_redirect_uri":                 ks.Base + "/v3/auth/OS-FEDERATION/identity_providers/redirect",
		"keystone_oidc_redirect_urls_allowed": []any{
			"^" + ks.Base + "/v3/auth/OS-FEDERATION/identity_providers/(" + domain + ")/protocols/openid/websso",
			"^https://" + dashboard + "/auth/logout/$",
		},
		"keystone_oidc_ssl_validate_server": "Off",
		"keystone_domains": []any{map[string]any{
			"name": domain, "label": "Domain " + domain, "keycloak_realm": domain,
			"keycloak_server_url": kc.URL, "keycloak_server_internal_url": kc.URL,
			"keycloak_client_id": "keystone", "keycloak_client_secret": "keystone-secret-" + domain,
			"keycloak_scopes": "openid email profile", "keycloak_admin_user": kc.AdminUser,
		}},
	}
	s.Secret = func(name string) (string, error) {
		if name == "keycloak_admin_password" {
			return kc.AdminPassword, nil
		}
		return "store-" + name + "-" + domain, nil
	}
	return s
}

// federate runs what a deploy runs for the domain: keystone:sso (the
// realm, its required actions, keystone's client and its service
// account's roles, and the realm's discovery document as keystone's
// fact), keystone:setup (the domain, identity provider, <domain>-openid
// mapping and openid protocol in keystone), then serves the federated
// keystone with what keystone's release renders with those facts: its
// Apache configuration, its OIDC metadata ConfigMap at the volume mounts'
// paths and keystone.conf's federation settings. tweak, when set, changes
// the settings before anything runs.
func federate(t *testing.T, tweak func(*components.Settings)) *federation {
	t.Helper()
	ctx := context.Background()
	kc := testenv.Keycloak(t)
	ks := testenv.FederatedKeystone(t)
	domain := fmt.Sprintf("sso-%d", time.Now().UnixNano()%1e12)
	s := settings(kc, ks, domain)
	if tweak != nil {
		tweak(&s)
	}
	facts := &openstackphase.Facts{}
	s.Facts = facts.Of
	c, _ := components.Default().Get("keystone")
	sso, ok := c.Phase("sso")
	if !ok {
		t.Fatal("keystone has no sso phase")
	}
	start := time.Now()
	if err := (&keycloak.Engine{Settings: s, Store: facts.Set}).Deploy(ctx, c, sso); err != nil {
		t.Fatalf("keystone:sso: %v", err)
	}
	t.Logf("keystone:sso in %s", time.Since(start).Round(time.Millisecond))
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(testenv.CloudName), clouds.WithLocations(ks.Clouds))
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := openstack.Authenticate(ctx, ao, eo)
	if err != nil {
		t.Fatalf("authenticate to the federated keystone: %v", err)
	}
	start = time.Now()
	if _, err := c.Setup(ctx, &components.Setup{Clients: &openstackphase.CloudClients{Cloud: cloud}, Settings: s}); err != nil {
		t.Fatalf("keystone:setup: %v", err)
	}
	t.Logf("keystone:setup in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	cfg := rendered(t, c, s)
	if err := ks.Configure(ctx, cfg); err != nil {
		t.Fatalf("serve keystone's single sign-on: %v", err)
	}
	t.Logf("keystone served with single sign-on in %s", time.Since(start).Round(time.Millisecond))
	return &federation{kc: kc, keystone: ks, cloud: cloud, domain: domain, settings: s}
}

// rendered is what keystone's release and objects give keystone's Apache
// and keystone.conf: conf.wsgi_keystone, the federation's sections of
// conf.keystone, and each file the keystone-openid-metadata volume
// mounts, with the ConfigMap's data of its key.
func rendered(t *testing.T, c *components.Component, s components.Settings) testenv.OIDCConfig {
	t.Helper()
	v, err := c.OwnValues(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	conf, _ := v["conf"].(map[string]any)
	apache, _ := conf["wsgi_keystone"].(string)
	if apache == "" {
		t.Fatal("keystone's values have no conf.wsgi_keystone")
	}
	ksConf, _ := conf["keystone"].(map[string]any)
	sections := map[string]map[string]any{}
	for _, name := range []string{"auth", "openid", "federation"} {
		section, ok := ksConf[name].(map[string]any)
		if !ok {
			t.Fatalf("keystone's values have no conf.keystone.%s", name)
		}
		sections[name] = section
	}
	objs, err := c.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "keystone-openid-metadata" {
			data, _ = o.Object["data"].(map[string]any)
		}
	}
	if data == nil {
		t.Fatal("keystone renders no ConfigMap keystone-openid-metadata")
	}
	pod, _ := v["pod"].(map[string]any)
	mounts, _ := pod["mounts"].(map[string]any)
	api, _ := mounts["keystone_api"].(map[string]any)
	container, _ := api["keystone_api"].(map[string]any)
	volumeMounts, _ := container["volumeMounts"].([]any)
	files := map[string]string{}
	for _, x := range volumeMounts {
		m, _ := x.(map[string]any)
		if m["name"] != "keystone-openid-metadata" {
			continue
		}
		mountPath, _ := m["mountPath"].(string)
		subPath, _ := m["subPath"].(string)
		content, ok := data[subPath].(string)
		if !ok {
			t.Fatalf("volume mount %s: the ConfigMap has no key %s", mountPath, subPath)
		}
		files[mountPath] = content
	}
	if len(files) != 3 {
		t.Fatalf("%d OIDC metadata files mounted, want a domain's three (client, conf, provider): %v", len(files), files)
	}
	ksDomains, _ := conf["ks_domains"].(map[string]any)
	domains := map[string]map[string]map[string]any{}
	for name, x := range ksDomains {
		m, _ := x.(map[string]any)
		domains[name] = map[string]map[string]any{}
		for section, y := range m {
			domains[name][section], _ = y.(map[string]any)
		}
	}
	if len(domains) != 1 {
		t.Fatalf("conf.ks_domains: %d domains, want the one of the settings", len(domains))
	}
	return testenv.OIDCConfig{Apache: apache, Metadata: files, Keystone: sections, CallbackTemplate: chartCallbackTemplate(t), Domains: domains}
}

// keystoneChartValues is the keystone chart's values.yaml atmosphere
// deploys (../shared beside the clone).
const keystoneChartValues = "../../../shared/atmosphere/charts/keystone/values.yaml"

// chartCallbackTemplate is the chart's conf.sso_callback_template: the page
// keystone's pod serves as the answer of a web single sign-on (atmosphere's
// values leave it as the chart has it).
func chartCallbackTemplate(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(keystoneChartValues)
	if err != nil {
		t.Fatalf("the keystone chart's values: %v", err)
	}
	var v struct {
		Conf struct {
			SSOCallbackTemplate string `json:"sso_callback_template"`
		} `json:"conf"`
	}
	if err := yaml.Unmarshal(raw, &v); err != nil || v.Conf.SSOCallbackTemplate == "" {
		t.Fatalf("%s: no conf.sso_callback_template (%v)", keystoneChartValues, err)
	}
	return v.Conf.SSOCallbackTemplate
}

// keycloakUser makes a user in the realm through the admin API, with what
// the realm's default user profile requires (email, first and last name)
// so that no required action stands between it and its first login, and a
// password that is not temporary; it fails unless the user has no required
// action (the realm's "Configure OTP" is enabled but not a default one).
func keycloakUser(t *testing.T, kc testenv.KeycloakServer, realm, username, password string) {
	t.Helper()
	token := adminToken(t, kc)
	rep := map[string]any{
		"username": username, "enabled": true, "email": username + "@example.com", "emailVerified": true,
		"firstName": "Test", "lastName": "User",
		"credentials": []any{map[string]any{"type": "password", "value": password, "temporary": false}},
	}
	adminCall(t, kc, token, http.MethodPost, "/admin/realms/"+realm+"/users", rep, nil)
	var found []struct {
		ID              string   `json:"id"`
		RequiredActions []string `json:"requiredActions"`
	}
	adminCall(t, kc, token, http.MethodGet, "/admin/realms/"+realm+"/users?exact=true&username="+url.QueryEscape(username), nil, &found)
	if len(found) != 1 {
		t.Fatalf("user %s in realm %s: found %d", username, realm, len(found))
	}
	if len(found[0].RequiredActions) != 0 {
		t.Fatalf("user %s must first %v", username, found[0].RequiredActions)
	}
}

func adminToken(t *testing.T, kc testenv.KeycloakServer) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {kc.AdminUser}, "password": {kc.AdminPassword}}
	resp, err := http.PostForm(kc.URL+"/realms/master/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Keycloak's admin token: HTTP %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

func adminCall(t *testing.T, kc testenv.KeycloakServer, token, method, p string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, kc.URL+p, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d: %.300s", method, path.Clean(p), resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, p, err)
		}
	}
}

// tokenInfo is keystone's view of a token (GET /v3/auth/tokens).
type tokenInfo struct {
	Token struct {
		Methods []string `json:"methods"`
		User    struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"domain"`
		} `json:"user"`
		Project *struct{} `json:"project"`
	} `json:"token"`
}

// keystoneGet GETs a keystone path with the token, as its own subject;
// it returns the status and decodes a 200's body into out.
func keystoneGet(t *testing.T, base, p, token string, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
	}
	return resp.StatusCode
}

// TestWebSSOLogin signs a Keycloak user in to keystone end to end, through
// the browser's way (the one atmosphere's Horizon uses): keystone's websso
// URL for the domain, mod_auth_openidc's discovery of the realm from the
// metadata directory, Keycloak's login form, the code sent back to
// mod_auth_openidc's redirect URI, and keystone's answer with an unscoped
// token for the dashboard. Keystone accepts the token, and it is the
// domain's user the <domain>-openid mapping names: the local user of the
// Keycloak user's preferred_username in the domain, which keystone reads
// from the realm with atmosphere's keycloak identity driver (the chart's
// ks_domains, with keystone's client and its service account's roles).
func TestWebSSOLogin(t *testing.T) {
	ctx := context.Background()
	f := federate(t, nil)
	username, password := "alice-"+f.domain, "pw-"+f.domain
	keycloakUser(t, f.kc, f.domain, username, password)
	// The domain's users are the realm's, read by atmosphere's keycloak
	// identity driver with keystone's client (its service account's
	// view-users): the user the mapping's local user names.
	identity, err := f.cloud.Identity()
	if err != nil {
		t.Fatal(err)
	}
	domainID := domainOf(t, f)
	pages, err := users.List(identity, users.ListOpts{DomainID: domainID, Name: username}).AllPages(ctx)
	if err != nil {
		t.Fatalf("the users of domain %s (its realm's, through the keycloak driver): %v\n%s", f.domain, err, f.keystone.Logs(20))
	}
	listed, err := users.ExtractUsers(pages)
	if err != nil || len(listed) != 1 {
		t.Fatalf("keystone lists %d users %s in domain %s (%v), want the realm's one", len(listed), username, f.domain, err)
	}
	local := listed[0]
	sso := WebSSO{Keystone: f.keystone.Base, IdentityProvider: f.domain, Protocol: "openid",
		Origin: "https://" + dashboard + "/auth/websso/"}
	start := time.Now()
	token, err := sso.Login(ctx, username, password)
	if err != nil {
		t.Fatalf("web single sign-on: %v\n%s", err, f.keystone.Logs(20))
	}
	t.Logf("signed in through Keycloak in %s", time.Since(start).Round(time.Millisecond))
	var info tokenInfo
	if code := keystoneGet(t, f.keystone.URL, "/auth/tokens", token, &info); code != http.StatusOK {
		t.Fatalf("GET /v3/auth/tokens with the token: HTTP %d\n%s", code, f.keystone.Logs(20))
	}
	u := info.Token.User
	if u.Name != username || u.ID != local.ID || u.Domain.Name != f.domain || u.Domain.ID != domainID {
		t.Errorf("the token's user is %s (%s) of domain %s (%s); want %s (%s) of domain %s (%s)",
			u.Name, u.ID, u.Domain.Name, u.Domain.ID, username, local.ID, f.domain, domainID)
	}
	if len(info.Token.Methods) != 1 || info.Token.Methods[0] != "openid" || info.Token.Project != nil {
		t.Errorf("the token's methods %v, project %v; want an unscoped token of the openid method", info.Token.Methods, info.Token.Project)
	}
	var projects struct {
		Projects []any `json:"projects"`
	}
	if code := keystoneGet(t, f.keystone.URL, "/auth/projects", token, &projects); code != http.StatusOK {
		t.Errorf("GET /v3/auth/projects with the token: HTTP %d", code)
	}
	t.Run("command line", func(t *testing.T) { commandLine(t, f, username, password) })
	t.Run("wrong password", func(t *testing.T) {
		_, err := sso.Login(ctx, username, "not-"+password)
		if err == nil || !strings.Contains(err.Error(), "Keycloak's login form back to keystone") || strings.Contains(err.Error(), password) {
			t.Errorf("err %v, want the hop back from Keycloak's form named, and no password", err)
		}
	})
}

// domainOf is the ID of the federation's domain.
func domainOf(t *testing.T, f *federation) string {
	t.Helper()
	identity, err := f.cloud.Identity()
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Domains []struct {
			ID string `json:"id"`
		} `json:"domains"`
	}
	if _, err := identity.Get(context.Background(), identity.ServiceURL("domains")+"?name="+url.QueryEscape(f.domain), &out, nil); err != nil || len(out.Domains) != 1 {
		t.Fatalf("domain %s: %v, %+v", f.domain, err, out)
	}
	return out.Domains[0].ID
}

// commandLine checks the command line's ways in as atmosphere configures
// them, which do not work: the openstack command's v3oidcpassword asks the
// realm for a token with the user's password, which keystone's client
// refuses (atmosphere makes it with directAccessGrantsEnabled false, as the
// role does); and a token of the realm (the client's service account's:
// valid, signed by the realm) sent as a bearer token to keystone's
// federation auth endpoint is refused by mod_auth_openidc, whose
// "AuthType oauth20" the role's Apache configuration gives no key or
// introspection endpoint to check a token with (no OIDCOAuthVerifyJwksUri,
// OIDCOAuthIntrospectionEndpoint …): "JWT token could not be validated".
// Should atmosphere make either work, this fails and says which.
func commandLine(t *testing.T, f *federation, username, password string) {
	secret := "keystone-secret-" + f.domain
	grant := func(form url.Values) (int, map[string]any) {
		form.Set("client_id", "keystone")
		form.Set("client_secret", secret)
		resp, err := http.PostForm(f.kc.URL+"/realms/"+f.domain+"/protocol/openid-connect/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := grant(url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}})
	if code != http.StatusBadRequest || out["error"] != "unauthorized_client" {
		t.Errorf("the realm's password grant to keystone's client: HTTP %d, error %v; want 400 unauthorized_client (no direct access grants)", code, out["error"])
	}
	code, out = grant(url.Values{"grant_type": {"client_credentials"}})
	access, _ := out["access_token"].(string)
	if code != http.StatusOK || access == "" {
		t.Fatalf("the service account's token: HTTP %d, error %v", code, out["error"])
	}
	req, err := http.NewRequest(http.MethodPost, f.keystone.URL+"/OS-FEDERATION/identity_providers/"+f.domain+"/protocols/openid/auth", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if challenge := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, "invalid_token") {
		t.Errorf("a bearer token of the realm at keystone's federation auth endpoint: HTTP %d, %q; want 401 invalid_token (oauth20 with nothing to verify it)\n%s",
			resp.StatusCode, challenge, f.keystone.Logs(5))
	}
}
