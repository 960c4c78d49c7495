package components

import (
	"testing"
)

// TestKeystoneOpenIDMetadata: the OIDC metadata ConfigMap carries, per
// domain, keystone's client, its scopes and the realm's discovery document
// as keystone's sso phase handed it back (a fact), and is updated when it
// differs; a domain whose document was not read gets "{}" and the
// ConfigMap is only created when missing.
func TestKeystoneOpenIDMetadata(t *testing.T) {
	const docA = `{"issuer":"https://keycloak.example.com/realms/a","jwks_uri":"https://keycloak.example.com/realms/a/protocol/openid-connect/certs"}`
	const docB = `{"issuer":"https://keycloak.example.com/realms/b"}`
	domains := []any{
		map[string]any{"name": "a", "label": "A", "keycloak_server_url": "https://keycloak.example.com", "keycloak_realm": "a",
			"keycloak_client_id": "keystone", "keycloak_client_secret": "secret-a", "keycloak_scopes": "openid email"},
		map[string]any{"name": "b", "label": "B", "keycloak_server_url": "https://keycloak.example.com", "keycloak_realm": "b",
			"keycloak_client_id": "ks", "keycloak_client_secret": "secret-b", "keycloak_scopes": "openid"},
	}
	tests := []struct {
		name       string
		facts      map[string]string // keystone's; nil: no fact store
		createOnly bool
		want       map[string]string
	}{
		{"no fact store (a dry run without Keycloak)", nil, true, map[string]string{
			"a-oidc-provider": "{}", "b-oidc-provider": "{}"}},
		{"both documents read", map[string]string{"a-oidc-provider": docA, "b-oidc-provider": docB}, false, map[string]string{
			"a-oidc-client":   `{"client_id":"keystone","client_secret":"secret-a","response_type":"id_token"}`,
			"a-oidc-conf":     `{"scope":"openid email"}`,
			"a-oidc-provider": docA,
			"b-oidc-client":   `{"client_id":"ks","client_secret":"secret-b","response_type":"id_token"}`,
			"b-oidc-conf":     `{"scope":"openid"}`,
			"b-oidc-provider": docB,
		}},
		{"one document missing", map[string]string{"a-oidc-provider": docA}, true, map[string]string{
			"a-oidc-provider": docA, "b-oidc-provider": "{}"}},
		{"a fact of another key", map[string]string{"a-provider": docA, "b-oidc-provider": docB}, true, map[string]string{
			"a-oidc-provider": "{}", "b-oidc-provider": docB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = map[string]any{"keystone_domains": domains}
			s.Secret = func(name string) (string, error) { return "secret-" + name, nil }
			if tt.facts != nil {
				s.Facts = func(component string) map[string]string {
					if component != "keystone" {
						return nil
					}
					return tt.facts
				}
			}
			objs, err := keystoneOpenIDMetadata(s)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != 1 || objs[0].GetKind() != "ConfigMap" || objs[0].GetName() != "keystone-openid-metadata" {
				t.Fatalf("objects %v, want the ConfigMap keystone-openid-metadata", objs)
			}
			if objs[0].CreateOnly != tt.createOnly {
				t.Errorf("CreateOnly %v, want %v", objs[0].CreateOnly, tt.createOnly)
			}
			data, _ := objs[0].Object["data"].(map[string]any)
			if len(data) != 6 {
				t.Errorf("data has %d keys, want 6 (client, conf, provider per domain): %v", len(data), data)
			}
			for k, want := range tt.want {
				if got, _ := data[k].(string); got != want {
					t.Errorf("data[%s] = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestKeystoneKeycloakAsksForDiscovery: every domain's realm asks for its
// discovery document under the key the ConfigMap reads, verifying
// Keycloak's certificate as keystone_oidc_ssl_validate_server says (else
// not with a self-signed cluster issuer), as the role's lookup does.
func TestKeystoneKeycloakAsksForDiscovery(t *testing.T) {
	domains := []any{
		map[string]any{"name": "a", "keycloak_server_url": "https://k", "keycloak_realm": "realm-a", "keycloak_admin_password": "x"},
		map[string]any{"name": "b", "keycloak_server_url": "https://k", "keycloak_realm": "realm-b", "keycloak_admin_password": "x"},
	}
	tests := []struct {
		name     string
		vars     map[string]any
		want     map[string]string // realm: fact key
		insecure bool              // the document is read without verifying the certificate
	}{
		{"default domain", map[string]any{"keycloak_host": "keycloak.example.com"},
			map[string]string{"atmosphere": "atmosphere-oidc-provider"}, false},
		{"keystone_domains", map[string]any{"keystone_domains": domains},
			map[string]string{"realm-a": "a-oidc-provider", "realm-b": "b-oidc-provider"}, false},
		{"self-signed issuer", map[string]any{"keycloak_host": "keycloak.example.com", "cluster_issuer_type": "self-signed"},
			map[string]string{"atmosphere": "atmosphere-oidc-provider"}, true},
		{"self-signed, validation On", map[string]any{"keycloak_host": "keycloak.example.com", "cluster_issuer_type": "self-signed",
			"keystone_oidc_ssl_validate_server": "On"}, map[string]string{"atmosphere": "atmosphere-oidc-provider"}, false},
		{"validation Off", map[string]any{"keystone_domains": domains, "keystone_oidc_ssl_validate_server": "Off"},
			map[string]string{"realm-a": "a-oidc-provider", "realm-b": "b-oidc-provider"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = merged(tt.vars, map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.example.com"})
			s.Secret = func(name string) (string, error) { return "secret-" + name, nil }
			works, err := keystoneKeycloak(s)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, w := range works {
				for _, r := range w.Realms {
					got[r.Name] = r.DiscoveryFact
					if r.DiscoveryInsecure != tt.insecure {
						t.Errorf("realm %s: DiscoveryInsecure %v, want %v", r.Name, r.DiscoveryInsecure, tt.insecure)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("realms %v, want %v", got, tt.want)
			}
			for realm, key := range tt.want {
				if got[realm] != key {
					t.Errorf("realm %s asks for fact %q, want %q", realm, got[realm], key)
				}
			}
		})
	}
}
