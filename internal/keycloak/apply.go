package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
)

// Apply brings a realm to what it declares: it reads what is there and
// writes only what is missing or differs (the keys a declaration names;
// what it does not name is left as it is), in order: the realm, its
// required actions, client scopes and their mappers, clients with their
// secrets, mappers, roles and service-account roles. It returns what it
// changed, one line each ("client grafana: created"), none when all was
// as declared. Another run making the same at the same time is met (a
// conflict on create is read back, a step whose write lost a race to it is
// tried again: retryRace), not failed on. It stops at the first error,
// naming what it was doing.
func Apply(ctx context.Context, c *Client, realm components.KeycloakRealm) ([]string, error) {
	a := &applier{c: c, realm: realm.Name, base: "/admin/realms/" + url.PathEscape(realm.Name)}
	steps := []func() error{func() error { return a.ensureRealm(ctx, realm.Attributes) }}
	for _, ra := range realm.RequiredActions {
		steps = append(steps, func() error { return a.ensureRequiredAction(ctx, ra) })
	}
	for _, cs := range realm.ClientScopes {
		steps = append(steps, func() error { return a.ensureClientScope(ctx, cs) })
	}
	for _, cl := range realm.Clients {
		steps = append(steps, func() error { return a.ensureClient(ctx, cl) })
	}
	for _, step := range steps {
		if err := retryRace(ctx, step); err != nil {
			return a.did, fmt.Errorf("realm %s: %w", realm.Name, err)
		}
	}
	return a.did, nil
}

// raceAttempts is how many times a step is tried when another run's
// writes met its own.
const raceAttempts = 4

// retryRace runs step, and again (up to raceAttempts times in all, after
// a short pause) while it fails as a write does that another run made
// the same change at the same instant: a 409 (a create or update met
// another's object of that name) or a 400 (Keycloak answers "Could not
// add user role or group mappings!" to a mapping another run has just
// added). Each step reads before it writes, so the next try sees what the
// other run made and writes only what is still missing.
func retryRace(ctx context.Context, step func() error) error {
	for attempt := 1; ; attempt++ {
		err := step()
		if err == nil || attempt == raceAttempts || !(codeIs(err, http.StatusConflict) || codeIs(err, http.StatusBadRequest)) {
			return err
		}
		t := time.NewTimer(time.Duration(attempt) * 150 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

type applier struct {
	c     *Client
	realm string
	base  string
	did   []string
}

func (a *applier) note(format string, args ...any) {
	a.did = append(a.did, fmt.Sprintf(format, args...))
}

// create POSTs rep at path and returns the ID of what was made; a
// conflict (another run made it first) gives "" and no error.
func (a *applier) create(ctx context.Context, path string, rep any) (string, error) {
	loc, err := a.c.do(ctx, http.MethodPost, path, rep, nil)
	if codeIs(err, http.StatusConflict) {
		return "", nil
	}
	return idFromLocation(loc), err
}

func (a *applier) ensureRealm(ctx context.Context, want map[string]any) error {
	var have map[string]any
	_, err := a.c.do(ctx, http.MethodGet, a.base, nil, &have)
	if codeIs(err, http.StatusNotFound) {
		rep := clone(want)
		rep["realm"] = a.realm
		var id string
		if id, err = a.create(ctx, "/admin/realms", rep); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		if id != "" {
			a.note("realm %s: created", a.realm)
			return nil
		}
		// Another run is making it: read it once it is there.
		err = a.awaitRealm(ctx, &have)
	}
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if diff := differing(have, want); len(diff) > 0 {
		rep := clone(want)
		rep["realm"] = a.realm
		if _, err := a.c.do(ctx, http.MethodPut, a.base, rep, nil); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		a.note("realm %s: updated %v", a.realm, diff)
	}
	return nil
}

// awaitRealm reads the realm another run is making: Keycloak answers a
// second create with a conflict before the first is readable.
func (a *applier) awaitRealm(ctx context.Context, have *map[string]any) error {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		_, err := a.c.do(ctx, http.MethodGet, a.base, nil, have)
		if !codeIs(err, http.StatusNotFound) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for the realm another run makes: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (a *applier) ensureRequiredAction(ctx context.Context, ra components.KeycloakRequiredAction) error {
	path := a.base + "/authentication/required-actions/" + url.PathEscape(ra.Alias)
	var have map[string]any
	_, err := a.c.do(ctx, http.MethodGet, path, nil, &have)
	if codeIs(err, http.StatusNotFound) {
		if _, err := a.create(ctx, a.base+"/authentication/register-required-action",
			map[string]any{"providerId": ra.ProviderID, "name": ra.Name}); err != nil {
			return fmt.Errorf("register required action %s: %w", ra.Alias, err)
		}
		a.note("required action %s: registered", ra.Alias)
		_, err = a.c.do(ctx, http.MethodGet, path, nil, &have)
	}
	if err != nil {
		return fmt.Errorf("read required action %s: %w", ra.Alias, err)
	}
	want := map[string]any{"name": ra.Name, "enabled": ra.Enabled}
	if ra.DefaultAction != nil {
		want["defaultAction"] = *ra.DefaultAction
	}
	if diff := differing(have, want); len(diff) > 0 {
		if _, err := a.c.do(ctx, http.MethodPut, path, overlay(have, want), nil); err != nil {
			return fmt.Errorf("update required action %s: %w", ra.Alias, err)
		}
		a.note("required action %s: updated %v", ra.Alias, diff)
	}
	return nil
}

func (a *applier) ensureClientScope(ctx context.Context, cs components.KeycloakClientScope) error {
	find := func() (string, error) {
		var list []map[string]any
		if _, err := a.c.do(ctx, http.MethodGet, a.base+"/client-scopes", nil, &list); err != nil {
			return "", fmt.Errorf("list client scopes: %w", err)
		}
		for _, s := range list {
			if s["name"] == cs.Name {
				return str(s["id"]), nil
			}
		}
		return "", nil
	}
	id, err := find()
	if err != nil {
		return err
	}
	if id == "" {
		rep := map[string]any{"name": cs.Name}
		if cs.Protocol != "" {
			rep["protocol"] = cs.Protocol
		}
		if id, err = a.create(ctx, a.base+"/client-scopes", rep); err != nil {
			return fmt.Errorf("create client scope %s: %w", cs.Name, err)
		}
		if id == "" {
			if id, err = find(); err != nil {
				return err
			}
		} else {
			a.note("client scope %s: created", cs.Name)
		}
	}
	return a.ensureMappers(ctx, "client scope "+cs.Name, a.base+"/client-scopes/"+url.PathEscape(id), cs.Mappers)
}

// ensureMappers ensures the protocol mappers of a client or client scope
// (owner, at base) by name, each with exactly its declared configuration
// (keys it does not declare are removed, as the roles' modules write it).
func (a *applier) ensureMappers(ctx context.Context, owner, base string, mappers []components.KeycloakMapper) error {
	if len(mappers) == 0 {
		return nil
	}
	// The owner's representation holds its mappers' configurations as
	// stored; the protocol-mappers endpoint adds keys Keycloak defaults on
	// read (introspection.token.claim), which are not the mapper's.
	var rep struct {
		ProtocolMappers []map[string]any `json:"protocolMappers"`
	}
	if _, err := a.c.do(ctx, http.MethodGet, base, nil, &rep); err != nil {
		return fmt.Errorf("%s: list protocol mappers: %w", owner, err)
	}
	have := rep.ProtocolMappers
	for _, m := range mappers {
		i := slices.IndexFunc(have, func(h map[string]any) bool { return h["name"] == m.Name })
		config := map[string]any{}
		for k, v := range m.Config {
			config[k] = v
		}
		if i < 0 {
			rep := map[string]any{"name": m.Name, "protocol": m.Protocol, "protocolMapper": m.Mapper, "config": config}
			if _, err := a.create(ctx, base+"/protocol-mappers/models", rep); err != nil {
				return fmt.Errorf("%s: create protocol mapper %s: %w", owner, m.Name, err)
			}
			a.note("%s: mapper %s created", owner, m.Name)
			continue
		}
		h := have[i]
		haveConfig, _ := h["config"].(map[string]any)
		diff := differing(haveConfig, config)
		for k := range haveConfig {
			if _, ok := config[k]; !ok {
				diff = append(diff, k)
			}
		}
		slices.Sort(diff)
		if h["protocolMapper"] != m.Mapper {
			diff = append(diff, "protocolMapper")
		}
		if len(diff) == 0 {
			continue
		}
		rep := overlay(h, map[string]any{"protocolMapper": m.Mapper, "config": config})
		if _, err := a.c.do(ctx, http.MethodPut, base+"/protocol-mappers/models/"+url.PathEscape(str(h["id"])), rep, nil); err != nil {
			return fmt.Errorf("%s: update protocol mapper %s: %w", owner, m.Name, err)
		}
		a.note("%s: mapper %s updated %v", owner, m.Name, diff)
	}
	return nil
}

// clientRep finds a client by client ID: its representation, or nil.
func (a *applier) clientRep(ctx context.Context, clientID string) (map[string]any, error) {
	var list []map[string]any
	if _, err := a.c.do(ctx, http.MethodGet, a.base+"/clients?clientId="+url.QueryEscape(clientID), nil, &list); err != nil {
		return nil, fmt.Errorf("find client %s: %w", clientID, err)
	}
	for _, c := range list {
		if c["clientId"] == clientID {
			return c, nil
		}
	}
	return nil, nil
}

func (a *applier) ensureClient(ctx context.Context, cl components.KeycloakClient) error {
	want := clone(cl.Attributes)
	have, err := a.clientRep(ctx, cl.ClientID)
	if err != nil {
		return err
	}
	if have == nil {
		rep := clone(want)
		rep["clientId"] = cl.ClientID
		if cl.Secret != "" {
			rep["secret"] = cl.Secret
		}
		id, err := a.create(ctx, a.base+"/clients", rep)
		if err != nil {
			return fmt.Errorf("create client %s: %w", cl.ClientID, err)
		}
		if id != "" {
			a.note("client %s: created", cl.ClientID)
		}
		if have, err = a.clientRep(ctx, cl.ClientID); err != nil {
			return err
		}
		if have == nil {
			return fmt.Errorf("client %s: not found after it was made", cl.ClientID)
		}
	}
	id := str(have["id"])
	path := a.base + "/clients/" + url.PathEscape(id)
	diff := differing(have, want)
	if cl.Secret != "" {
		var secret struct {
			Value string `json:"value"`
		}
		if _, err := a.c.do(ctx, http.MethodGet, path+"/client-secret", nil, &secret); err != nil {
			return fmt.Errorf("read the secret of client %s: %w", cl.ClientID, err)
		}
		if secret.Value != cl.Secret {
			diff = append(diff, "secret")
			want["secret"] = cl.Secret
		}
	}
	if len(diff) > 0 {
		rep := overlay(have, want)
		delete(rep, "protocolMappers")
		if _, err := a.c.do(ctx, http.MethodPut, path, rep, nil); err != nil {
			return fmt.Errorf("update client %s: %w", cl.ClientID, err)
		}
		a.note("client %s: updated %v", cl.ClientID, diff)
	}
	if err := a.ensureMappers(ctx, "client "+cl.ClientID, path, cl.Mappers); err != nil {
		return err
	}
	if err := a.ensureRoles(ctx, cl.ClientID, path, cl.Roles); err != nil {
		return err
	}
	return a.ensureServiceAccountRoles(ctx, cl.ClientID, path, cl.ServiceAccountRoles)
}

func (a *applier) ensureRoles(ctx context.Context, clientID, path string, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	var have []map[string]any
	if _, err := a.c.do(ctx, http.MethodGet, path+"/roles", nil, &have); err != nil {
		return fmt.Errorf("client %s: list roles: %w", clientID, err)
	}
	for _, r := range roles {
		if slices.ContainsFunc(have, func(h map[string]any) bool { return h["name"] == r }) {
			continue
		}
		made, err := a.create(ctx, path+"/roles", map[string]any{"name": r})
		if err != nil {
			return fmt.Errorf("client %s: create role %s: %w", clientID, r, err)
		}
		if made != "" {
			a.note("client %s: role %s created", clientID, r)
		}
	}
	return nil
}

func (a *applier) ensureServiceAccountRoles(ctx context.Context, clientID, path string, roles map[string][]string) error {
	if len(roles) == 0 {
		return nil
	}
	var user struct {
		ID string `json:"id"`
	}
	if _, err := a.c.do(ctx, http.MethodGet, path+"/service-account-user", nil, &user); err != nil {
		return fmt.Errorf("client %s: read its service account: %w", clientID, err)
	}
	owners := make([]string, 0, len(roles))
	for k := range roles {
		owners = append(owners, k)
	}
	sort.Strings(owners)
	for _, owner := range owners {
		target, err := a.clientRep(ctx, owner)
		if err != nil {
			return err
		}
		if target == nil {
			return fmt.Errorf("client %s: service account roles: no client %s", clientID, owner)
		}
		tid := url.PathEscape(str(target["id"]))
		mappings := a.base + "/users/" + url.PathEscape(user.ID) + "/role-mappings/clients/" + tid
		var have []map[string]any
		if _, err := a.c.do(ctx, http.MethodGet, mappings, nil, &have); err != nil {
			return fmt.Errorf("client %s: read its service account's roles of %s: %w", clientID, owner, err)
		}
		var add []any
		var names []string
		for _, r := range roles[owner] {
			if slices.ContainsFunc(have, func(h map[string]any) bool { return h["name"] == r }) {
				continue
			}
			var rep map[string]any
			if _, err := a.c.do(ctx, http.MethodGet, a.base+"/clients/"+tid+"/roles/"+url.PathEscape(r), nil, &rep); err != nil {
				return fmt.Errorf("client %s: read role %s of %s: %w", clientID, r, owner, err)
			}
			add, names = append(add, rep), append(names, r)
		}
		if len(add) == 0 {
			continue
		}
		if _, err := a.c.do(ctx, http.MethodPost, mappings, add, nil); err != nil {
			return fmt.Errorf("client %s: give its service account %v of %s: %w", clientID, names, owner, err)
		}
		a.note("client %s: service account given %s %v", clientID, owner, names)
	}
	return nil
}

// differing returns the keys of want whose values have does not hold, in
// order; a list of strings is compared as a set (Keycloak keeps redirect
// URIs as one), numbers as numbers.
func differing(have, want map[string]any) []string {
	var out []string
	for k, w := range want {
		if !same(have[k], w) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func same(a, b any) bool {
	x, y := normal(a), normal(b)
	if xs, ok := x.([]any); ok {
		if ys, ok := y.([]any); ok && len(xs) == len(ys) {
			return reflect.DeepEqual(sortedStrings(xs), sortedStrings(ys))
		}
	}
	return reflect.DeepEqual(x, y)
}

// normal is v as JSON decodes it (numbers float64, lists []any).
func normal(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		return v
	}
	return out
}

func sortedStrings(list []any) []any {
	out := slices.Clone(list)
	sort.SliceStable(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// overlay is have with want's keys laid over it.
func overlay(have, want map[string]any) map[string]any {
	out := clone(have)
	for k, v := range want {
		out[k] = v
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }
