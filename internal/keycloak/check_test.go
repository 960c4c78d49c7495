package keycloak

import (
	"context"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestEveryKeycloakPhaseHasWork: each phase of kind Keycloak of the
// registry belongs to a component that declares Keycloak work, and a
// component that declares some has exactly one such phase.
func TestEveryKeycloakPhaseHasWork(t *testing.T) {
	for _, c := range components.Default().Components() {
		var phases []string
		for _, p := range c.Phases {
			if p.Kind == components.Keycloak {
				phases = append(phases, p.Name)
			}
		}
		if len(phases) > 1 || (len(phases) == 1) != c.HasKeycloak() {
			t.Errorf("%s: Keycloak phases %v, declares Keycloak work: %v", c.Name, phases, c.HasKeycloak())
		}
	}
}

// TestCheck finds, touching nothing, what would stop the work: no work
// declared, a server URL that is not one, no admin password.
func TestCheck(t *testing.T) {
	s := components.DefaultSettings()
	s.Secret = func(name string) (string, error) { return "s3cret-" + name, nil }
	kps, _ := components.Default().Get("kube-prometheus-stack")
	none := &components.Component{Name: "no-such-component", Phases: []components.Phase{{Name: "sso", Kind: components.Keycloak}}}
	ks, _ := components.Default().Get("keystone")
	domain := map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"}
	tests := []struct {
		name  string
		vars  map[string]any
		c     *components.Component
		want  string // in the one problem; "" for none
		store bool   // the engine has a fact store
	}{
		{"keystone's discovery document, stored", domain, ks, "", true},
		{"keystone's discovery document, nowhere to store", domain, ks, "keystone:sso: realm atmosphere asks for its discovery document", false},
		{"no work declared", nil, none, "no Keycloak work is declared for no-such-component:sso", false},
		{"as the roles default", map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"}, kps, "", false},
		{"no URL", map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com",
			"kube_prometheus_stack_keycloak_server_url": "keycloak"}, kps, `Keycloak's URL "keycloak" is not an http(s) URL`, false},
		{"no domain to derive the hosts from", nil, kps, "openstack_helm_endpoints_keystone_api_host", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Vars = tt.vars
			p, _ := tt.c.Phase("sso")
			e := &Engine{Settings: s}
			if tt.store {
				e.Store = (&facts{}).set
			}
			problems := e.Check(context.Background(), tt.c, p)
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems %v", problems)
			case tt.want != "" && (len(problems) != 1 || !strings.Contains(problems[0].Err.Error(), tt.want)):
				t.Errorf("problems %v, want one with %q", problems, tt.want)
			}
			for _, p := range problems {
				if strings.Contains(p.Err.Error(), "s3cret") {
					t.Errorf("a problem prints a secret: %v", p.Err)
				}
			}
		})
	}
}
