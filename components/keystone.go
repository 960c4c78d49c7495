package components

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The knobs keystone reads (roles/keystone/defaults/main.yml; keystone's
// domains' in keystonedomains.go).
var (
	keystoneKnobs          = knobsOf("keystone")
	keystoneCACertificates = keystoneKnobs.str("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt")
)

// keystone declares keystone, with what it renders.
func keystone() *Component {
	// In the role's order: the realms and their client (sso) are made
	// first, so that the OIDC metadata ConfigMap the release mounts
	// carries each realm's discovery document; the federation in
	// keystone (setup) comes after the release.
	c := withKinds(before(split(release("keystone", "keystone", openstack, chart("keystone"), 229,
		needs("ingress-nginx", "rabbitmq-cluster-operator", "percona-xtradb-cluster", "memcached",
			"cluster-issuer", // Ingress identity names ClusterIssuer atmosphere (so do the Ingresses of the services after keystone:setup)
		), kubeAPI),
		Phase{Name: "setup", Kind: OpenStack, Estimate: s(20)}),
		Phase{Name: "sso", Kind: Keycloak, Needs: needs("keycloak"), Resources: []string{ResourceKeycloakAdmin}, Estimate: s(9)}), Manifest)
	c = withDatabases(c, "keystone", "keystone")
	c.services, c.endpoints = []provision.Service{keystoneIdentity}, keystoneEndpoints
	c.values = keystoneValues
	c.objects = keystoneOpenIDMetadata
	c.ingresses = []publicIngress{publicIngressOf("identity", "keystone-api", 5000, map[string]any{
		"nginx.ingress.kubernetes.io/proxy-body-size": "2m", "nginx.ingress.kubernetes.io/proxy-read-timeout": "120"}, "keystone")}
	c = withRabbitMQ(c, "keystone")
	c.setup = keystoneSetup
	c.keycloak = keystoneKeycloak
	return c
}

// keystoneKeycloak is keystone's Keycloak work, as the keystone role makes
// it for each domain of keystone_domains: the realm (its display name the
// domain's label, the role's password policy and brute-force settings),
// the "Configure OTP" required action, keystone's confidential client
// with its secret, service account and redirect URIs (keystone's OIDC
// redirect endpoint and horizon's logout page), and realm-management's
// view-users role for that service account (keystone's keycloak identity
// driver lists the realm's users with it). Each realm's discovery document
// is asked for as keystone's fact <domain>-oidc-provider
// (keystoneProviderFact), which the OIDC metadata ConfigMap carries, read
// verifying Keycloak's certificate unless keystone_oidc_ssl_validate_server
// is not On (the role's validate_certs for it).
func keystoneKeycloak(s Settings) ([]KeycloakWork, error) {
	r := &Render{Settings: s}
	e := &endpointRender{Render: r}
	redirect := r.keystoneRedirectURI(e.host("keystone_api_host"))
	logout := "https://" + e.host("horizon_api_host") + "/auth/logout/"
	// Ansible's false values, as validate_certs reads the knob.
	insecure := slices.Contains([]string{"off", "false", "no", "0"}, strings.ToLower(r.keystoneOIDCValidateServer()))
	var out []KeycloakWork
	for _, d := range r.keystoneDomains() {
		attributes := map[string]any{"id": d.realm, "displayName": d.label, "enabled": true}
		for k, v := range d.realmSettings {
			attributes[k] = v
		}
		out = append(out, KeycloakWork{Server: d.admin, Realms: []KeycloakRealm{{
			Name:              d.realm,
			DiscoveryFact:     keystoneProviderFact(d),
			DiscoveryInsecure: insecure,
			Attributes:        attributes,
			RequiredActions: []KeycloakRequiredAction{{Alias: "CONFIGURE_TOTP", Name: "Configure OTP", ProviderID: "CONFIGURE_TOTP",
				Enabled: true, DefaultAction: d.totp}},
			Clients: []KeycloakClient{{
				ClientID: d.clientID, Secret: d.clientSecret,
				Attributes: map[string]any{"protocol": oidc, "clientAuthenticatorType": "client-secret", "publicClient": false,
					"serviceAccountsEnabled": true, "directAccessGrantsEnabled": false,
					"redirectUris": []any{redirect, logout}},
				ServiceAccountRoles: map[string][]string{"realm-management": {"view-users"}},
			}},
		}}})
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// keystoneFederations are the federations keystone's set-up makes: those
// of Settings.Setup.Federations when given, else one per domain of
// keystone_domains, trusting its realm's issuer.
func keystoneFederations(s Settings) ([]provision.Federation, error) {
	if len(s.Setup.Federations) > 0 {
		return s.Setup.Federations, nil
	}
	r := &Render{Settings: s}
	var out []provision.Federation
	for _, d := range r.keystoneDomains() {
		out = append(out, provision.Federation{Domain: d.name, Issuer: d.issuer()})
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// keystoneValues are keystone's own values for its chart: its static
// values with the endpoints and images' tags, the mounts of each domain's
// OIDC metadata and of the host's CA bundle, the dashboard trusted for web
// single sign-on, the Apache configuration, the domains' configurations and
// the RabbitMQ policies.
func keystoneValues(r *Render) values.Values {
	e := &endpointRender{Render: r}
	identity, dashboard := e.host("keystone_api_host"), e.host("horizon_api_host")
	domains := r.keystoneDomains()
	caBundle := keystoneCACertificates.get(r)
	return merge(r.static("keystone"), r.openstackHelmValues("keystone"), values.Values{
		"pod": map[string]any{"mounts": map[string]any{"keystone_api": map[string]any{"keystone_api": map[string]any{
			"volumeMounts": r.keystoneMounts(domains, caBundle),
			"volumes": []any{
				map[string]any{"name": "keystone-openid-metadata", "configMap": map[string]any{"name": "keystone-openid-metadata"}},
				map[string]any{"name": "ca-certificates", "hostPath": map[string]any{"path": caBundle}},
			},
		}}}},
		"conf": map[string]any{
			"keystone": map[string]any{"federation": map[string]any{"trusted_dashboard": map[string]any{
				"type":   "multistring",
				"values": []any{"http://localhost:9990/auth/websso/", "https://" + dashboard + "/auth/websso/"},
			}}},
			"wsgi_keystone": r.keystoneWSGI(domains, identity, dashboard),
			"ks_domains":    ksDomains(domains),
			"rabbitmq":      map[string]any{"policies": rabbitPolicies("keystone")},
		},
	})
}

// keystoneOpenIDMetadata is the ConfigMap keystone's pods mount
// mod_auth_openidc's metadata from, one set of files per domain, as the
// role's configmap-openid-metadata.yml.j2 writes them: <domain>-oidc-client
// (keystone's client, with its secret), <domain>-oidc-conf (its scopes) and
// <domain>-oidc-provider, the realm's discovery document as keystone's sso
// phase read it (keystoneProviderFact), byte for byte. It is applied, and
// updated when it differs, by keystone's install phase, after sso.
//
// When a domain's document was not read in this run (its sso phase
// skipped: --skip-tags keystone:sso, or a dry run that could not reach
// the realm), its provider is "{}" and the ConfigMap is only created when
// missing, so that pods can start and a document an earlier run wrote is
// not overwritten.
func keystoneOpenIDMetadata(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	data := map[string]any{}
	complete := true
	for _, d := range r.keystoneDomains() {
		client, err := json.Marshal(map[string]string{"client_id": d.clientID, "client_secret": d.clientSecret, "response_type": "id_token"})
		if err != nil {
			return nil, fmt.Errorf("keystone-openid-metadata: domain %s's client: %w", d.name, err)
		}
		conf, err := json.Marshal(map[string]string{"scope": d.scopes})
		if err != nil {
			return nil, fmt.Errorf("keystone-openid-metadata: domain %s's scopes: %w", d.name, err)
		}
		data[d.name+"-oidc-client"] = string(client)
		data[d.name+"-oidc-conf"] = string(conf)
		provider := ""
		if s.Facts != nil {
			provider = s.Facts(keystoneName)[keystoneProviderFact(d)]
		}
		if provider == "" {
			provider, complete = "{}", false
		}
		data[d.name+"-oidc-provider"] = provider
	}
	if r.err != nil {
		return nil, r.err
	}
	metadata := object(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "keystone-openid-metadata", "labels": map[string]any{"application": "keystone"}},
		"data":     data,
	})
	metadata.CreateOnly = !complete
	return []Object{metadata}, nil
}

// keystoneName is keystone's component name, which its facts are kept
// under.
const keystoneName = "keystone"

// keystoneProviderFact is the key of keystone's fact holding a domain's
// realm's discovery document: the ConfigMap's key for it.
func keystoneProviderFact(d keystoneDomain) string { return d.name + "-oidc-provider" }

// keystoneIdentity is keystone's entry in the catalog: its admin endpoint
// at the chart's keystone Service, its internal one at the API's, which is
// also the chart's identity endpoint (atmosphere overrides the chart's
// path, "/").
var keystoneIdentity = provision.Service{Type: "identity", Name: "keystone", Description: "OpenStack Identity",
	Host: "keystone", Port: 80, InternalHost: "keystone-api", InternalPort: 5000, Path: "/"}

// keystoneEndpoints are the chart endpoints keystone owns: identity, with
// the admin user, at the host, port and path of its catalog entry's
// internal endpoint.
var keystoneEndpoints = map[string]endpointFragment{
	"identity": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(user{"admin", "keystone", "admin", "keystone_admin_password"}), m{"identity": m{
			"hosts":              m{"default": keystoneIdentity.InternalHost},
			"scheme":             m{"public": "https"},
			"host_fqdn_override": m{"public": m{"host": e.endpointHost("identity")}},
			"path":               m{"default": keystoneIdentity.Path},
			"port":               m{"api": m{"default": keystoneIdentity.InternalPort, "public": 443}},
		}}, e.db("keystone"), e.mq("keystone"))
	},
}

// keystoneSetup sets up the federation of every keycloak domain
// (keystoneFederations), in order: the domain, its identity provider, the
// <domain>-openid mapping and the openid protocol, as the keystone role
// does; keystone's own catalog entry is made before it, by the engine, as
// keystone has no catalog phase.
func keystoneSetup(ctx context.Context, s *Setup) (bool, error) {
	federations, err := keystoneFederations(s.Settings)
	if err != nil {
		return false, fmt.Errorf("keystone's federations: %w", err)
	}
	id, err := s.Clients.Identity(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	for _, f := range federations {
		if err := t.add(id.EnsureFederation(ctx, f)); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}
