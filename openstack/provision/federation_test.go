package provision

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/federation"
)

// TestFederationTwice sets up a keycloak domain's federation on the real
// keystone twice (the second run changes nothing), then moves the realm to
// a new issuer and a changed mapping, which are updated in place.
func TestFederationTwice(t *testing.T) {
	id, client := newIdentity(t)
	ctx := context.Background()
	// Keystone takes a remote ID for one identity provider only, and the
	// test keystone keeps what earlier runs made: the issuers are this
	// run's own.
	domain := unique(t, "realm")
	f := Federation{Domain: domain, Issuer: "https://keycloak.cloud.example/realms/" + domain}
	for run, want := range []bool{true, false} {
		changed, err := id.EnsureFederation(ctx, f)
		if err != nil || changed != want {
			t.Fatalf("run %d: changed %v (want %v), err %v", run+1, changed, want, err)
		}
	}
	mapping, err := federation.GetMapping(ctx, client, f.MappingID()).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(mapping.Rules) != 1 || mapping.Rules[0].Local[0].User.Domain.Name != f.Domain || mapping.Rules[0].Remote[1].Type != "OIDC-preferred_username" {
		t.Errorf("mapping rules %+v", mapping.Rules)
	}

	f.Issuer = "https://sso.cloud.example/realms/" + domain
	if changed, err := id.EnsureFederation(ctx, f); err != nil || !changed {
		t.Fatalf("new issuer: changed %v err %v", changed, err)
	}
	var idp struct {
		IdentityProvider IdentityProvider `json:"identity_provider"`
	}
	if _, err := client.Get(ctx, id.idpURL(f.Domain), &idp, nil); err != nil {
		t.Fatal(err)
	}
	if got := idp.IdentityProvider.RemoteIDs; len(got) != 1 || got[0] != f.Issuer || !idp.IdentityProvider.Enabled {
		t.Errorf("identity provider %+v", idp.IdentityProvider)
	}

	rules := f.Rules()
	rules[0].Remote = rules[0].Remote[:1]
	if changed, err := id.EnsureMapping(ctx, f.MappingID(), rules); err != nil || !changed {
		t.Fatalf("changed mapping: changed %v err %v", changed, err)
	}
	if changed, err := id.EnsureMapping(ctx, f.MappingID(), rules); err != nil || changed {
		t.Fatalf("same mapping again: changed %v err %v", changed, err)
	}

	other, _, err := id.EnsureDomain(ctx, unique(t, "other"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = id.EnsureIdentityProvider(ctx, IdentityProvider{ID: f.Domain, DomainID: other.ID, Enabled: true, RemoteIDs: []string{f.Issuer}})
	if err == nil {
		t.Error("moving an identity provider to another domain was not refused")
	}
}
