package keycloak

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// facts is a fact store, as a run's (openstackphase.Facts).
type facts struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func (f *facts) set(component, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]map[string]string{}
	}
	if f.m[component] == nil {
		f.m[component] = map[string]string{}
	}
	f.m[component][key] = value
}

func (f *facts) of(component string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.m[component])
}

// newEngine is an engine of the settings storing its facts in a store of
// its own.
func newEngine(s components.Settings) *Engine {
	return &Engine{Settings: s, Store: (&facts{}).set}
}

// openIDMetadata renders keystone's objects with the facts and returns
// the data of its OIDC metadata ConfigMap and whether it is create-only.
func openIDMetadata(t *testing.T, s components.Settings) (map[string]any, bool) {
	t.Helper()
	c, _ := components.Default().Get("keystone")
	objs, err := c.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "keystone-openid-metadata" {
			data, _ := o.Object["data"].(map[string]any)
			return data, o.CreateOnly
		}
	}
	t.Fatal("keystone renders no ConfigMap keystone-openid-metadata")
	return nil, false
}

// TestDiscoveryDocumentInTheConfigMap runs keystone's sso phase against
// the real Keycloak: each domain's provider file in the OIDC metadata
// ConfigMap is the discovery document its realm serves (issuer
// <url>/realms/<realm>, with jwks_uri), the ConfigMap is no longer
// create-only; a second run writes nothing to Keycloak and renders the
// same ConfigMap.
func TestDiscoveryDocumentInTheConfigMap(t *testing.T) {
	kc := testenv.Keycloak(t)
	realm := fresh(t, "discovery")
	c, p := ssoPhase(t, "keystone")
	ctx := context.Background()
	run := func() (map[string]any, bool, int64) {
		s := settings(t, kc, realm)
		f := &facts{}
		s.Facts = f.of
		e := &Engine{Settings: s, Store: f.set}
		if err := e.Deploy(ctx, c, p); err != nil {
			t.Fatal(err)
		}
		data, createOnly := openIDMetadata(t, s)
		return data, createOnly, e.Writes()
	}
	first, createOnly, _ := run()
	if createOnly {
		t.Error("the ConfigMap is create-only with every discovery document read")
	}
	for _, d := range []string{realm + "-a", realm + "-b"} {
		resp, err := http.Get(kc.URL + "/realms/" + d + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		served, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("realm %s's discovery document: %d %v", d, resp.StatusCode, err)
		}
		got, _ := first[d+"-oidc-provider"].(string)
		if got != strings.TrimSpace(string(served)) {
			t.Errorf("%s-oidc-provider is not what the realm serves:\n got %.200s\nwant %.200s", d, got, served)
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal([]byte(got), &doc); err != nil {
			t.Fatalf("%s-oidc-provider is not JSON: %v", d, err)
		}
		if doc.Issuer != kc.URL+"/realms/"+d || doc.JWKSURI == "" {
			t.Errorf("%s-oidc-provider: issuer %q, jwks_uri %q; want issuer %s/realms/%s and a jwks_uri", d, doc.Issuer, doc.JWKSURI, kc.URL, d)
		}
	}
	second, createOnly, writes := run()
	if writes != 0 {
		t.Errorf("the second run made %d writes, want none", writes)
	}
	if createOnly {
		t.Error("the second run renders a create-only ConfigMap")
	}
	for k := range first {
		if first[k] != second[k] {
			t.Errorf("the second run renders another %s", k) // the values hold the client's secret
		}
	}
}

// TestPlanReadsDiscovery: a dry run reads a realm's discovery document
// when the realm is there and stores it as a run would; when it is not
// (404) or Keycloak does not answer, the plan says the document is read
// once the realm is made, and why not now, without failing or waiting
// longer than PlanDiscoveryTimeout.
func TestPlanReadsDiscovery(t *testing.T) {
	const doc = `{"issuer":"x","jwks_uri":"y"}`
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			_, _ = io.WriteString(w, doc)
			return
		}
		http.Error(w, "no", http.StatusForbidden)
	})
	served := httptest.NewServer(serve)
	defer served.Close()
	selfSigned := httptest.NewUnstartedServer(serve)
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	selfSigned.StartTLS()
	defer selfSigned.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	defer func(d time.Duration) { PlanDiscoveryTimeout = d }(PlanDiscoveryTimeout)
	PlanDiscoveryTimeout = time.Second
	tests := []struct {
		name     string
		url      string
		validate string // keystone_oidc_ssl_validate_server; "" unset
		stored   string
		why      string
	}{
		{"realm there", served.URL, "", doc, "its discovery document read"},
		{"realm not made yet", missing.URL, "", "", "its discovery document is read once the realm is made (not now: read the discovery document of realm plan-a: GET /realms/plan-a/.well-known/openid-configuration: 404"},
		{"Keycloak not reachable", gone.URL, "", "", "its discovery document is read once the realm is made (not now: read the discovery document of realm plan-a:"},
		{"self-signed, not validated", selfSigned.URL, "Off", doc, "its discovery document read"},
		{"self-signed, validated", selfSigned.URL, "On", "", "tls: failed to verify certificate"},
	}
	c, p := ssoPhase(t, "keystone")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings(t, testenv.KeycloakServer{URL: tt.url, AdminUser: "admin", AdminPassword: "pw"}, "plan")
			if tt.validate != "" {
				s.Vars["keystone_oidc_ssl_validate_server"] = tt.validate
			}
			f := &facts{}
			e := &Engine{Settings: s, Store: f.set}
			start := time.Now()
			change, err := e.Plan(context.Background(), c, p)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 3*PlanDiscoveryTimeout {
				t.Errorf("the plan took %v", took)
			}
			if why := strings.Join(change.Why, "\n"); change.Action != "converge" || !strings.Contains(why, tt.why) {
				t.Errorf("plan %s %q, want %q in it", change.Action, why, tt.why)
			}
			if got := f.of("keystone")["plan-a-oidc-provider"]; got != tt.stored {
				t.Errorf("stored %q, want %q", got, tt.stored)
			}
			if e.Writes() != 0 {
				t.Errorf("the plan wrote %d times", e.Writes())
			}
		})
	}
}

// TestDiscoveryNeedsAStore: work that asks for a discovery document from
// an engine with no fact store fails, naming the unit and the realm,
// before it reads anything after the realm.
func TestDiscoveryNeedsAStore(t *testing.T) {
	kc := testenv.Keycloak(t)
	realm := fresh(t, "nostore")
	c, p := ssoPhase(t, "keystone")
	err := (&Engine{Settings: settings(t, kc, realm)}).Deploy(context.Background(), c, p)
	if err == nil || !strings.Contains(err.Error(), "keystone:sso: realm "+realm+"-a asks for its discovery document") {
		t.Errorf("err %v, want one naming keystone:sso and realm %s-a", err, realm)
	}
}
