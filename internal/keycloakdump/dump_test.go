package keycloakdump

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// admin is a few direct calls of Keycloak's admin API, to make a realm by
// hand.
type admin struct {
	t     *testing.T
	base  string
	token string
}

func newAdmin(t *testing.T, kc testenv.KeycloakServer) *admin {
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
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("admin token: HTTP %d, %v", resp.StatusCode, err)
	}
	return &admin{t: t, base: kc.URL + "/admin/realms", token: tok.AccessToken}
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (a *admin) do(method, path string, body, out any) {
	a.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		a.t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// A realm made by hand (a confidential client with a secret, a protocol
// mapper, a role, a service account holding realm-management's view-users,
// a required action turned on) reads back normalized: no id anywhere, the
// secret named by its client, the lists sorted, the built-in clients left
// out, the service account's roles by client.
func TestDumpOfAHandMadeRealm(t *testing.T) {
	kc := testenv.Keycloak(t)
	a := newAdmin(t, kc)
	realm := fmt.Sprintf("dumptest-%d", time.Now().UnixNano())
	a.do(http.MethodPost, "", map[string]any{"realm": realm, "displayName": "Dump Test", "enabled": true, "bruteForceProtected": true}, nil)
	t.Cleanup(func() { a.do(http.MethodDelete, "/"+realm, nil, nil) })
	a.do(http.MethodPost, "/"+realm+"/clients", map[string]any{
		"clientId": "svc", "secret": "s3cr3t-of-the-test", "publicClient": false, "serviceAccountsEnabled": true,
		"redirectUris": []string{"https://b.example/cb", "https://a.example/cb"},
		"protocolMappers": []map[string]any{{"name": "aud-svc", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
			"config": map[string]string{"included.client.audience": "svc", "access.token.claim": "true"}}},
	}, nil)
	var clients []map[string]any
	a.do(http.MethodGet, "/"+realm+"/clients?clientId=svc", nil, &clients)
	var rm []map[string]any
	a.do(http.MethodGet, "/"+realm+"/clients?clientId=realm-management", nil, &rm)
	if len(clients) != 1 || len(rm) != 1 {
		t.Fatalf("clients svc %d, realm-management %d: want one each", len(clients), len(rm))
	}
	svc := clients[0]["id"].(string)
	a.do(http.MethodPost, "/"+realm+"/clients/"+svc+"/roles", map[string]any{"name": "viewer"}, nil)
	var user map[string]any
	a.do(http.MethodGet, "/"+realm+"/clients/"+svc+"/service-account-user", nil, &user)
	var viewUsers map[string]any
	a.do(http.MethodGet, "/"+realm+"/clients/"+rm[0]["id"].(string)+"/roles/view-users", nil, &viewUsers)
	a.do(http.MethodPost, "/"+realm+"/users/"+user["id"].(string)+"/role-mappings/clients/"+rm[0]["id"].(string), []any{viewUsers}, nil)
	var totp map[string]any
	a.do(http.MethodGet, "/"+realm+"/authentication/required-actions/CONFIGURE_TOTP", nil, &totp)
	totp["defaultAction"] = true
	a.do(http.MethodPut, "/"+realm+"/authentication/required-actions/CONFIGURE_TOTP", totp, nil)

	dump, err := Dump(context.Background(), kc.URL, kc.AdminUser, kc.AdminPassword, []string{realm})
	if err != nil {
		t.Fatal(err)
	}
	doc := dump[realm].(map[string]any)
	raw, _ := json.Marshal(doc)
	if bytes.Contains(raw, []byte(`"id":`)) || bytes.Contains(raw, []byte("s3cr3t-of-the-test")) || bytes.Contains(raw, []byte(svc)) {
		t.Errorf("the dump holds an id, the client's UUID or its secret: %s", raw)
	}
	settings := doc["realm"].(map[string]any)
	if settings["realm"] != realm || settings["displayName"] != "Dump Test" || settings["bruteForceProtected"] != true || settings["idKind"] != "generated" {
		t.Errorf("realm settings: realm %v, displayName %v, bruteForceProtected %v, id %v", settings["realm"], settings["displayName"], settings["bruteForceProtected"], settings["idKind"])
	}
	cls := doc["clients"].([]any)
	if len(cls) != 1 {
		t.Fatalf("clients: %d, want only svc (the built-in ones left out)", len(cls))
	}
	c := cls[0].(map[string]any)
	want := map[string]any{
		"clientId":            "svc",
		"secret":              "<client secret of svc>",
		"redirectUris":        []any{"https://a.example/cb", "https://b.example/cb"},
		"roles":               []any{map[string]any{"name": "viewer", "composite": false, "clientRole": true, "attributes": map[string]any{}}},
		"serviceAccountRoles": map[string]any{"realm": []any{"default-roles-" + realm}, "clients": map[string]any{"realm-management": []any{"view-users"}}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("client svc %s: got %#v, want %#v", k, c[k], v)
		}
	}
	mappers := c["protocolMappers"].([]any)
	if len(mappers) != 1 || mappers[0].(map[string]any)["name"] != "aud-svc" {
		t.Errorf("protocol mappers: %v, want aud-svc", mappers)
	}
	var names []string
	for _, x := range doc["requiredActions"].([]any) {
		ra := x.(map[string]any)
		names = append(names, ra["alias"].(string))
		if ra["alias"] == "CONFIGURE_TOTP" && ra["defaultAction"] != true {
			t.Errorf("CONFIGURE_TOTP: %v, want defaultAction true", ra)
		}
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "CONFIGURE_TOTP") {
		t.Errorf("required actions %v: want them sorted, CONFIGURE_TOTP among them", names)
	}
	var scopes []string
	for _, x := range doc["clientScopes"].([]any) {
		scopes = append(scopes, x.(map[string]any)["name"].(string))
	}
	if !slices.IsSorted(scopes) || !slices.Contains(scopes, "roles") {
		t.Errorf("client scopes %v: want them sorted, roles among them", scopes)
	}

	if _, err := Dump(context.Background(), kc.URL, kc.AdminUser, kc.AdminPassword, []string{realm + "-missing"}); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("a missing realm: got %v, want HTTP 404", err)
	}
}

// The reference files of atmosphere's roles (make fidelity-keycloak) are
// there and hold what the roles make: keystone's client with its service
// account's view-users, the monitoring clients with their audience mapper
// and roles, the "roles" scope's client roles in the ID token, the MFA
// required action.
func TestReferenceFilesParse(t *testing.T) {
	files, err := filepath.Glob("../../testdata/fidelity/keycloak/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference under testdata/fidelity/keycloak (make fidelity-keycloak): %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(Normalize(doc), doc) {
			t.Errorf("%s is not normalized (make fidelity-keycloak)", f)
		}
		for _, k := range []string{"realm", "requiredActions", "clientScopes", "roles", "clients"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("%s: no %s", f, k)
			}
		}
		if bytes.Contains(raw, []byte(`"id":`)) {
			t.Errorf("%s holds an id", f)
		}
	}
	raw, err := os.ReadFile("../../testdata/fidelity/keycloak/atmosphere.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Clients []struct {
			ClientID            string           `json:"clientId"`
			Secret              string           `json:"secret"`
			ProtocolMappers     []map[string]any `json:"protocolMappers"`
			Roles               []map[string]any `json:"roles"`
			ServiceAccountRoles struct {
				Clients map[string][]string `json:"clients"`
			} `json:"serviceAccountRoles"`
		} `json:"clients"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range doc.Clients {
		ids = append(ids, c.ClientID)
		// The monitoring clients are made public (the role sets no
		// public_client): Keycloak keeps no secret of theirs.
		if c.Secret != "" && c.Secret != "<client secret of "+c.ClientID+">" {
			t.Errorf("client %s: secret %q, want it named by role", c.ClientID, c.Secret)
		}
		if c.ClientID == "keystone" && !slices.Contains(c.ServiceAccountRoles.Clients["realm-management"], "view-users") {
			t.Errorf("keystone's service account: %v, want realm-management's view-users", c.ServiceAccountRoles.Clients)
		}
		if c.ClientID != "keystone" && (len(c.ProtocolMappers) != 1 || len(c.Roles) == 0) {
			t.Errorf("client %s: %d mappers, %d roles: want its audience mapper and roles", c.ClientID, len(c.ProtocolMappers), len(c.Roles))
		}
	}
	if !reflect.DeepEqual(ids, []string{"alertmanager", "grafana", "keystone", "prometheus"}) {
		t.Errorf("clients %v, want alertmanager, grafana, keystone, prometheus", ids)
	}
}
