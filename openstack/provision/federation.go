package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/federation"
)

// IdentityProvider is a keystone federation identity provider: one per
// keycloak-backed domain, named after the domain, trusting the realm's
// issuer.
type IdentityProvider struct {
	ID        string   `json:"id,omitempty"`
	DomainID  string   `json:"domain_id"`
	Enabled   bool     `json:"enabled"`
	RemoteIDs []string `json:"remote_ids"`
}

// Federation is what a keycloak-backed keystone domain needs: the domain,
// an identity provider trusting the realm's issuer, a mapping of the OIDC
// claims onto local users of the domain, and the openid protocol tying the
// two.
type Federation struct {
	// Domain names the keystone domain and the identity provider.
	Domain string
	// Issuer is the realm's OIDC issuer ("https://keycloak.example.com/realms/atmosphere").
	Issuer string
}

// MappingID is the name of the domain's mapping ("atmosphere-openid").
func (f Federation) MappingID() string { return f.Domain + "-openid" }

// Protocol is the federation protocol keystone's OIDC module serves.
const Protocol = "openid"

// Rules maps the OIDC subject and preferred username onto a local user of
// the domain, as atmosphere does.
func (f Federation) Rules() []federation.MappingRule {
	local := federation.UserTypeLocal
	return []federation.MappingRule{{
		Local: []federation.RuleLocal{{User: &federation.RuleUser{
			Type: &local, ID: "{0}", Name: "{1}", Domain: &federation.Domain{Name: f.Domain},
		}}},
		Remote: []federation.RuleRemote{{Type: "OIDC-sub"}, {Type: "OIDC-preferred_username"}},
	}}
}

// EnsureFederation ensures the domain, identity provider, mapping and
// protocol of f, in that order, and reports whether any changed.
func (i *Identity) EnsureFederation(ctx context.Context, f Federation) (bool, error) {
	d, changed, err := i.EnsureDomain(ctx, f.Domain)
	if err != nil {
		return false, err
	}
	steps := []func() (bool, error){
		func() (bool, error) {
			return i.EnsureIdentityProvider(ctx, IdentityProvider{ID: f.Domain, DomainID: d.ID, Enabled: true, RemoteIDs: []string{f.Issuer}})
		},
		func() (bool, error) { return i.EnsureMapping(ctx, f.MappingID(), f.Rules()) },
		func() (bool, error) { return i.EnsureProtocol(ctx, f.Domain, Protocol, f.MappingID()) },
	}
	for _, step := range steps {
		c, err := step()
		if err != nil {
			return changed, fmt.Errorf("federation of domain %s: %w", f.Domain, err)
		}
		changed = changed || c
	}
	return changed, nil
}

func (i *Identity) idpURL(id string, parts ...string) string {
	return i.client.ServiceURL(append([]string{"OS-FEDERATION", "identity_providers", id}, parts...)...)
}

// EnsureIdentityProvider ensures an identity provider with want's domain,
// enabled flag and remote IDs. Keystone cannot move a provider to another
// domain; that is reported as an error naming both.
func (i *Identity) EnsureIdentityProvider(ctx context.Context, want IdentityProvider) (bool, error) {
	defer i.locks.lock("idp:" + want.ID)()
	var have struct {
		IdentityProvider IdentityProvider `json:"identity_provider"`
	}
	_, err := i.client.Get(ctx, i.idpURL(want.ID), &have, nil)
	switch {
	case gophercloud.ResponseCodeIs(err, 404):
		body := want
		body.ID = ""
		_, err := i.client.Put(ctx, i.idpURL(want.ID), map[string]any{"identity_provider": body}, nil,
			&gophercloud.RequestOpts{OkCodes: []int{201}})
		if err != nil {
			return false, fmt.Errorf("create identity provider %s: %w", want.ID, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read identity provider %s: %w", want.ID, err)
	}
	got := have.IdentityProvider
	if got.DomainID != want.DomainID {
		return false, fmt.Errorf("identity provider %s belongs to domain %s, not %s; keystone cannot move it", want.ID, got.DomainID, want.DomainID)
	}
	if got.Enabled == want.Enabled && sameSet(got.RemoteIDs, want.RemoteIDs) {
		return false, nil
	}
	patch := map[string]any{"identity_provider": map[string]any{"enabled": want.Enabled, "remote_ids": want.RemoteIDs}}
	if _, err := i.client.Patch(ctx, i.idpURL(want.ID), patch, nil, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		return false, fmt.Errorf("update identity provider %s: %w", want.ID, err)
	}
	return true, nil
}

// EnsureMapping ensures a federation mapping with exactly these rules.
func (i *Identity) EnsureMapping(ctx context.Context, id string, rules []federation.MappingRule) (bool, error) {
	defer i.locks.lock("mapping:" + id)()
	have, err := federation.GetMapping(ctx, i.client, id).Extract()
	switch {
	case gophercloud.ResponseCodeIs(err, 404):
		if _, err := federation.CreateMapping(ctx, i.client, id, federation.CreateMappingOpts{Rules: rules}).Extract(); err != nil {
			return false, fmt.Errorf("create mapping %s: %w", id, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read mapping %s: %w", id, err)
	}
	same, err := sameJSON(have.Rules, rules)
	if err != nil || same {
		return false, err
	}
	if _, err := federation.UpdateMapping(ctx, i.client, id, federation.UpdateMappingOpts{Rules: rules}).Extract(); err != nil {
		return false, fmt.Errorf("update mapping %s: %w", id, err)
	}
	return true, nil
}

// EnsureProtocol ensures an identity provider serves protocol through
// mappingID.
func (i *Identity) EnsureProtocol(ctx context.Context, idp, protocol, mappingID string) (bool, error) {
	defer i.locks.lock("protocol:" + idp + "/" + protocol)()
	url := i.idpURL(idp, "protocols", protocol)
	var have struct {
		Protocol struct {
			MappingID string `json:"mapping_id"`
		} `json:"protocol"`
	}
	_, err := i.client.Get(ctx, url, &have, nil)
	body := map[string]any{"protocol": map[string]any{"mapping_id": mappingID}}
	switch {
	case gophercloud.ResponseCodeIs(err, 404):
		if _, err := i.client.Put(ctx, url, body, nil, &gophercloud.RequestOpts{OkCodes: []int{201}}); err != nil {
			return false, fmt.Errorf("create protocol %s of %s: %w", protocol, idp, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read protocol %s of %s: %w", protocol, idp, err)
	case have.Protocol.MappingID == mappingID:
		return false, nil
	}
	if _, err := i.client.Patch(ctx, url, body, nil, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		return false, fmt.Errorf("update protocol %s of %s: %w", protocol, idp, err)
	}
	return true, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// sameJSON compares two values as the JSON data they encode to, so that a
// rule keystone echoes with extra or reordered keys still compares equal.
func sameJSON(a, b any) (bool, error) {
	var x, y any
	for _, p := range []struct {
		in  any
		out *any
	}{{a, &x}, {b, &y}} {
		raw, err := json.Marshal(p.in)
		if err != nil {
			return false, fmt.Errorf("compare mapping rules: %w", err)
		}
		if err := json.Unmarshal(raw, p.out); err != nil {
			return false, fmt.Errorf("compare mapping rules: %w", err)
		}
	}
	return reflect.DeepEqual(x, y), nil
}
