// Package keycloakdump reads realms back from a running Keycloak through its
// admin REST API and normalizes them into plain data that two Keycloaks (or
// two realm sets of one) can be compared by: what atmosphere's Ansible roles
// made (the reference, testdata/fidelity/keycloak) and what atmosphere-go
// makes.
//
// Normalized means: every generated id and timestamp dropped (of a realm's
// id only its kind is kept, idKind: "realm name" when it is the realm's
// name, as atmosphere's roles make it, else "generated"), every client
// secret replaced by
// "<client secret of CLIENT-ID>", every list sorted, Keycloak's built-in
// clients (BuiltinClients) left out.
package keycloakdump

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// BuiltinClients are the clients Keycloak makes in every realm; Dump leaves
// them out (they are the same in every fresh realm of one version).
var BuiltinClients = []string{"account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"}

// droppedKeys are the keys dropped at any depth: generated ids and
// timestamps, and the admin console's view of the caller's rights.
var droppedKeys = map[string]bool{
	"id": true, "containerId": true, "notBefore": true, "access": true, "createdTimestamp": true,
	"client.secret.creation.time": true, "registeredNodes": true,
}

// Dump reads each realm of realms from the Keycloak at baseURL, as the
// admin user of its master realm (the admin-cli password grant), and
// returns, by realm name, its normalized document:
//
//	realm           the realm's settings: every scalar of its representation,
//	                its attributes and default client scopes, idKind
//	requiredActions every required action (alias, name, providerId, enabled,
//	                defaultAction, config), by alias
//	clientScopes    every client scope with its protocol mappers, by name
//	roles           the realm roles, by name
//	clients         the realm's own clients (not BuiltinClients), by
//	                clientId: their representation with protocolMappers,
//	                default and optional client scopes, their roles, and,
//	                with a service account, its role mappings
//	                (serviceAccountRoles: realm role names and client role
//	                names by clientId)
//
// It writes nothing. A realm that does not exist is an error.
func Dump(ctx context.Context, baseURL, user, password string, realms []string) (map[string]any, error) {
	c := &client{base: strings.TrimRight(baseURL, "/"), http: http.DefaultClient}
	if err := c.login(ctx, user, password); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, realm := range realms {
		doc, err := c.realm(ctx, realm)
		if err != nil {
			return nil, fmt.Errorf("keycloak realm %s: %w", realm, err)
		}
		out[realm] = doc
	}
	return out, nil
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) login(ctx context.Context, user, password string) error {
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {user}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("keycloak admin login at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("keycloak admin login at %s as %s: HTTP %d", c.base, user, resp.StatusCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return fmt.Errorf("keycloak admin login at %s: %w", c.base, err)
	}
	c.token = tok.AccessToken
	return nil
}

// get reads an admin API path (under /admin/realms) into v.
func (c *client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/admin/realms"+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

func (c *client) realm(ctx context.Context, name string) (map[string]any, error) {
	r := "/" + url.PathEscape(name)
	var rep map[string]any
	if err := c.get(ctx, r, &rep); err != nil {
		return nil, err
	}
	settings := map[string]any{}
	for k, v := range rep {
		switch v.(type) {
		case string, bool, float64:
			settings[k] = v
		}
	}
	for _, k := range []string{"attributes", "defaultDefaultClientScopes", "defaultOptionalClientScopes"} {
		if v, ok := rep[k]; ok {
			settings[k] = v
		}
	}
	// The id itself is dropped with every other id; what it is kept.
	if id, _ := rep["id"].(string); id == name {
		settings["idKind"] = "realm name"
	} else {
		settings["idKind"] = "generated"
	}
	if dr, ok := rep["defaultRole"].(map[string]any); ok {
		settings["defaultRole"] = dr["name"]
	}

	var actions []map[string]any
	if err := c.get(ctx, r+"/authentication/required-actions", &actions); err != nil {
		return nil, err
	}
	for _, a := range actions {
		delete(a, "priority") // the order of registration, not a setting
	}

	var scopes []map[string]any
	if err := c.get(ctx, r+"/client-scopes", &scopes); err != nil {
		return nil, err
	}
	var roles []map[string]any
	if err := c.get(ctx, r+"/roles?briefRepresentation=false", &roles); err != nil {
		return nil, err
	}

	var all []map[string]any
	if err := c.get(ctx, r+"/clients", &all); err != nil {
		return nil, err
	}
	byUUID := map[string]string{} // client UUID → clientId, for role mappings
	for _, cl := range all {
		id, _ := cl["id"].(string)
		byUUID[id], _ = cl["clientId"].(string)
	}
	var clients []map[string]any
	for _, cl := range all {
		clientID, _ := cl["clientId"].(string)
		if slices.Contains(BuiltinClients, clientID) {
			continue
		}
		uuid, _ := cl["id"].(string)
		cr := "/clients/" + url.PathEscape(uuid)
		if s, ok := cl["secret"].(string); ok && s != "" {
			cl["secret"] = "<client secret of " + clientID + ">"
		}
		delete(cl, "authorizationSettings")
		var croles []map[string]any
		if err := c.get(ctx, r+cr+"/roles?briefRepresentation=false", &croles); err != nil {
			return nil, err
		}
		cl["roles"] = toAny(croles)
		if sa, _ := cl["serviceAccountsEnabled"].(bool); sa {
			var user map[string]any
			if err := c.get(ctx, r+cr+"/service-account-user", &user); err != nil {
				return nil, err
			}
			uid, _ := user["id"].(string)
			var mappings struct {
				RealmMappings  []map[string]any `json:"realmMappings"`
				ClientMappings map[string]struct {
					Client   string           `json:"client"`
					Mappings []map[string]any `json:"mappings"`
				} `json:"clientMappings"`
			}
			if err := c.get(ctx, r+"/users/"+url.PathEscape(uid)+"/role-mappings", &mappings); err != nil {
				return nil, err
			}
			realmRoles := []any{}
			for _, m := range mappings.RealmMappings {
				realmRoles = append(realmRoles, m["name"])
			}
			clientRoles := map[string]any{}
			for key, cm := range mappings.ClientMappings {
				name := cm.Client
				if name == "" {
					name = key
				}
				var names []any
				for _, m := range cm.Mappings {
					names = append(names, m["name"])
				}
				clientRoles[name] = names
			}
			cl["serviceAccountRoles"] = map[string]any{"realm": realmRoles, "clients": clientRoles}
		}
		clients = append(clients, cl)
	}

	doc := map[string]any{
		"realm":           settings,
		"requiredActions": toAny(actions),
		"clientScopes":    toAny(scopes),
		"roles":           toAny(roles),
		"clients":         toAny(clients),
	}
	return Normalize(doc).(map[string]any), nil
}

func toAny(list []map[string]any) []any {
	out := make([]any, 0, len(list))
	for _, m := range list {
		out = append(out, m)
	}
	return out
}

// Normalize returns v (decoded JSON) with droppedKeys removed at every
// depth and every list sorted: objects by their first key of sortKeys
// they hold (clientId, alias, name), scalars by their JSON text. It is
// what Dump applies; a comparison applies it to hand-made data too.
func Normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if droppedKeys[k] {
				continue
			}
			out[k] = Normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		slices.SortStableFunc(out, func(a, b any) int { return strings.Compare(sortKey(a), sortKey(b)) })
		return out
	}
	return v
}

// sortKeys name an object in a list, in order of preference.
var sortKeys = []string{"clientId", "alias", "name"}

func sortKey(v any) string {
	if m, ok := v.(map[string]any); ok {
		for _, k := range sortKeys {
			if s, ok := m[k].(string); ok {
				return s
			}
		}
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}
