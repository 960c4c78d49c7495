package keycloak

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/keycloakdump"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
)

const (
	// fidelityInventory is the inventory the reference was made for
	// (hack/keycloakref).
	fidelityInventory = "../../testdata/inventories/kwok"
	// fidelityReference is what atmosphere's roles made in Keycloak for
	// it: realm "atmosphere", normalized (make fidelity-keycloak).
	fidelityReference = "../../testdata/fidelity/keycloak/atmosphere.json"
	// fidelityRealm is the realm both roles write by default.
	fidelityRealm = "atmosphere"
	// keycloakDifferencesDoc holds, in its section "## Keycloak", the
	// documented differences from the reference.
	keycloakDifferencesDoc = "../../docs/differences.md"
)

// TestKeycloakMatchesTheRoles renders the kwok inventory's Keycloak work
// (keystone's and kube-prometheus-stack's sso phases) as a deploy does —
// the inventory read as `atmosphere deploy` reads it, its Keycloak URL and
// admin replaced by the test Keycloak's — applies it with the engine to
// realm "atmosphere" of the real test Keycloak (deleted first: the
// reference's name), reads it back with keycloakdump and compares it with
// what atmosphere's roles made (testdata/fidelity/keycloak/atmosphere.json)
// as data. Every difference must be a row of docs/differences.md's
// "Keycloak" section; a row that matches no difference is stale and fails.
func TestKeycloakMatchesTheRoles(t *testing.T) {
	docs := readKeycloakDifferences(t)
	kc := testenv.Keycloak(t)
	s := kwokSettings(t, kc)
	admin := adminClient(kc)
	ctx := context.Background()
	if _, err := admin.do(ctx, http.MethodDelete, "/admin/realms/"+fidelityRealm, nil, nil); err != nil && !codeIs(err, http.StatusNotFound) {
		t.Fatalf("delete realm %s: %v", fidelityRealm, err)
	}
	e := newEngine(s)
	for _, name := range []string{"keystone", "kube-prometheus-stack"} {
		c, p := ssoPhase(t, name)
		if err := e.Deploy(ctx, c, p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	dump, err := keycloakdump.Dump(ctx, kc.URL, kc.AdminUser, kc.AdminPassword, []string{fidelityRealm})
	if err != nil {
		t.Fatal(err)
	}
	ours := keycloakdump.Normalize(dump[fidelityRealm])
	raw, err := os.ReadFile(fidelityReference)
	if err != nil {
		t.Fatal(err)
	}
	var ref any
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("%s: %v", fidelityReference, err)
	}
	ref = keycloakdump.Normalize(ref)

	found := map[string]string{}
	diffKeycloak("", ref, ours, found)
	var undocumented []string
	for _, path := range slices.Sorted(maps.Keys(found)) {
		if d, ok := docs[path]; ok {
			d.used = true
			continue
		}
		undocumented = append(undocumented, "`"+path+"`: "+found[path])
	}
	if len(undocumented) > 0 {
		t.Errorf("%d differences from the roles' Keycloak (%s), not in %s's Keycloak section:\n  %s",
			len(undocumented), fidelityReference, keycloakDifferencesDoc, strings.Join(undocumented, "\n  "))
	}
	for _, path := range slices.Sorted(maps.Keys(docs)) {
		if d := docs[path]; !d.used {
			t.Errorf("%s:%d: `%s` matches no difference from the roles' Keycloak: a stale entry", keycloakDifferencesDoc, d.line, path)
		}
	}
	t.Logf("roles: %s", keycloakCounts(ref))
	t.Logf("ours:  %s", keycloakCounts(ours))
	t.Logf("%d differences, each documented in %s", len(found), keycloakDifferencesDoc)
}

// kwokSettings are the settings a deploy of the kwok inventory gives the
// Keycloak engine (action's connectTo): the inventory's variables, with
// keystone's and the monitoring's Keycloak URL and admin set to the test
// Keycloak's, and secrets from the inventory or else fixed per name (the
// comparison names client secrets by client, not by value).
func kwokSettings(t *testing.T, kc testenv.KeycloakServer) components.Settings {
	t.Helper()
	dir := testenv.CopyDir(t, fidelityInventory)
	vars := fmt.Sprintf("keystone_keycloak_server_url: %q\nkube_prometheus_stack_keycloak_server_url: %q\n"+
		"keystone_keycloak_admin_user: %q\nkube_prometheus_stack_keycloak_admin_user: %q\nkeycloak_admin_password: %q\n",
		kc.URL, kc.URL, kc.AdminUser, kc.AdminUser, kc.AdminPassword)
	if err := os.WriteFile(filepath.Join(dir, "group_vars", "all", "keycloak.yml"), []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(dir, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	is, err := inv.Settings()
	if err != nil {
		t.Fatal(err)
	}
	s := components.DefaultSettings()
	s.Config = is.Config
	s.Vars = inv.Vars
	s.Sources = inv.Sources
	s.Secret = func(name string) (string, error) {
		if v, ok := inv.Vars[name].(string); ok && v != "" {
			return v, nil
		}
		return "fidelity-" + name, nil
	}
	s.PeekSecret = s.Secret
	return s
}

// keycloakDifference is one row of the Keycloak section of
// docs/differences.md.
type keycloakDifference struct {
	line int
	used bool
}

// readKeycloakDifferences reads the rows "| `path` | reason |" of
// docs/differences.md's section "## Keycloak", by path. A row without a
// reason, or given twice, fails the test.
func readKeycloakDifferences(t *testing.T) map[string]*keycloakDifference {
	t.Helper()
	f, err := os.Open(keycloakDifferencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*keycloakDifference{}
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line) == "## Keycloak"
			continue
		}
		cells := strings.Split(line, "|")
		if !in || len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		path := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if reason := strings.TrimSpace(strings.Join(cells[2:len(cells)-1], "|")); reason == "" {
			t.Errorf("%s:%d: `%s`: a difference needs its reason", keycloakDifferencesDoc, n, path)
		}
		if d, ok := out[path]; ok {
			t.Errorf("%s:%d: `%s` is already at line %d", keycloakDifferencesDoc, n, path, d.line)
		}
		out[path] = &keycloakDifference{line: n}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// listKeys name an object of a list in a difference's path, in order of
// preference (keycloakdump's sort keys).
var listKeys = []string{"clientId", "alias", "name"}

// diffKeycloak records into found, by path, each place where ours differs
// from ref: a value not the same, or a key only one side has. Lists of
// named objects are compared by name (path `clients[keystone]`), other
// lists as a whole.
func diffKeycloak(path string, ref, ours any, found map[string]string) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch r := ref.(type) {
	case map[string]any:
		o, ok := ours.(map[string]any)
		if !ok {
			break
		}
		for k, rv := range r {
			ov, ok := o[k]
			if !ok {
				found[join(k)] = "only the roles': " + short(rv)
				continue
			}
			diffKeycloak(join(k), rv, ov, found)
		}
		for k, ov := range o {
			if _, ok := r[k]; !ok {
				found[join(k)] = "only ours: " + short(ov)
			}
		}
		return
	case []any:
		rn, rok := named(r)
		on, ook := named(asList(ours))
		if !rok || !ook || ours == nil {
			break
		}
		for k, rv := range rn {
			p := path + "[" + k + "]"
			if ov, ok := on[k]; ok {
				diffKeycloak(p, rv, ov, found)
			} else {
				found[p] = "only the roles'"
			}
		}
		for k := range on {
			if _, ok := rn[k]; !ok {
				found[path+"["+k+"]"] = "only ours"
			}
		}
		return
	}
	if !reflect.DeepEqual(ref, ours) {
		found[path] = "roles " + short(ref) + ", ours " + short(ours)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// named is a list of objects by their name (the first of listKeys each
// holds), when every element is such an object with a distinct name.
func named(l []any) (map[string]any, bool) {
	out := map[string]any{}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		name := ""
		for _, k := range listKeys {
			if s, ok := m[k].(string); ok {
				name = s
				break
			}
		}
		if _, dup := out[name]; name == "" || dup {
			return nil, false
		}
		out[name] = m
	}
	return out, true
}

func short(v any) string {
	raw, _ := json.Marshal(v)
	if len(raw) > 160 {
		return string(raw[:157]) + "..."
	}
	return string(raw)
}

// keycloakCounts counts what a normalized realm document holds, per kind.
func keycloakCounts(doc any) string {
	d, _ := doc.(map[string]any)
	counts := map[string]int{"realms": 1}
	if d == nil {
		counts["realms"] = 0
	}
	counts["required actions"] = len(asList(d["requiredActions"]))
	counts["roles"] = len(asList(d["roles"]))
	for _, sc := range asList(d["clientScopes"]) {
		counts["client scopes"]++
		m, _ := sc.(map[string]any)
		counts["mappers"] += len(asList(m["protocolMappers"]))
	}
	for _, c := range asList(d["clients"]) {
		counts["clients"]++
		m, _ := c.(map[string]any)
		counts["mappers"] += len(asList(m["protocolMappers"]))
		counts["roles"] += len(asList(m["roles"]))
		sa, _ := m["serviceAccountRoles"].(map[string]any)
		counts["service-account role mappings"] += len(asList(sa["realm"]))
		byClient, _ := sa["clients"].(map[string]any)
		for _, roles := range byClient {
			counts["service-account role mappings"] += len(asList(roles))
		}
	}
	var parts []string
	for _, k := range []string{"realms", "clients", "client scopes", "mappers", "roles", "required actions", "service-account role mappings"} {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}
