package components

import (
	"net/url"
	"strings"
)

// The knobs of keystone's domains and their sign-in through Keycloak
// (roles/keystone/defaults/main.yml), which keystone's, horizon's,
// keycloak's and the monitoring's rendering read.
var (
	keystoneDomainsList               = sharedKnobs.list("keystone_domains")
	keystoneKeycloakRealm             = sharedKnobs.str("keystone_keycloak_realm", "atmosphere")
	keystoneKeycloakRealmName         = sharedKnobs.str("keystone_keycloak_realm_name", "Atmosphere")
	keystoneKeycloakServerURL         = sharedKnobs.str("keystone_keycloak_server_url", "") // https://<keycloak's host>
	keystoneKeycloakServerInternalURL = sharedKnobs.str("keystone_keycloak_server_internal_url", "http://keycloak.auth-system.svc")
	keystoneKeycloakClientID          = sharedKnobs.str("keystone_keycloak_client_id", "keystone")
	keystoneKeycloakScopes            = sharedKnobs.str("keystone_keycloak_scopes", "openid email profile")
	keycloakHostName                  = sharedKnobs.str("keycloak_host", "")                     // keycloak.<the cloud's domain>
	clusterIssuerType                 = sharedKnobs.str("cluster_issuer_type", "acme")           // the cluster_issuer role's default
	keystoneOIDCSSLValidateServer     = sharedKnobs.str("keystone_oidc_ssl_validate_server", "") // Off with self-signed certificates, else On
	keystoneOIDCRedirectURI           = sharedKnobs.str("keystone_oidc_redirect_uri", "")        // keystone's redirect endpoint
	keystoneOIDCRedirectURLsAllowed   = sharedKnobs.list("keystone_oidc_redirect_urls_allowed")
)

// keystoneDomain is a keystone domain federated with a Keycloak realm
// (keystone_domains; by default the one realm of the keystone_keycloak_*
// variables).
type keystoneDomain struct {
	name, label, serverURL, internalURL, realm string
	// clientID, clientSecret and scopes are keystone's own client in the
	// realm.
	clientID, clientSecret, scopes string
}

// keystoneDomains are the inventory's keystone_domains, or atmosphere's
// default: one domain for the realm atmosphere makes in its Keycloak.
func (r *Render) keystoneDomains() []keystoneDomain {
	if list := keystoneDomainsList.get(r); len(list) > 0 {
		var out []keystoneDomain
		for _, x := range list {
			m, _ := x.(map[string]any)
			get := func(k string) string { s, _ := m[k].(string); return s }
			out = append(out, keystoneDomain{
				name: get("name"), label: get("label"), serverURL: get("keycloak_server_url"),
				internalURL: get("keycloak_server_internal_url"), realm: get("keycloak_realm"),
				clientID: get("keycloak_client_id"), clientSecret: get("keycloak_client_secret"), scopes: get("keycloak_scopes"),
			})
		}
		return out
	}
	realm := keystoneKeycloakRealm.get(r)
	return []keystoneDomain{{
		name: realm, label: keystoneKeycloakRealmName.get(r),
		serverURL:   orDefault(r, keystoneKeycloakServerURL, "https://"+r.keycloakHost()),
		internalURL: keystoneKeycloakServerInternalURL.get(r),
		realm:       realm,
		clientID:    keystoneKeycloakClientID.get(r), clientSecret: r.secret("keystone_keycloak_client_secret"),
		scopes: keystoneKeycloakScopes.get(r),
	}}
}

// keycloakHost is keycloak's public host (keycloak_host, else keycloak.<the
// cloud's domain>).
func (r *Render) keycloakHost() string {
	if h := keycloakHostName.get(r); h != "" {
		return h
	}
	return (&endpointRender{Render: r}).derivedHost("keycloak")
}

func (d keystoneDomain) issuer() string { return d.serverURL + "/realms/" + d.realm }

// keystoneMounts are the OIDC metadata files of each domain, mounted where
// mod_auth_openidc looks for them, and the host's CA bundle.
func (r *Render) keystoneMounts(domains []keystoneDomain, caBundle string) []any {
	var out []any
	for _, d := range domains {
		u, _ := url.Parse(d.issuer())
		remote := url.QueryEscape(u.Host + u.Path)
		for _, f := range []string{"client", "conf", "provider"} {
			out = append(out, map[string]any{"name": "keystone-openid-metadata",
				"mountPath": "/var/lib/apache2/oidc/" + remote + "." + f, "subPath": d.name + "-oidc-" + f})
		}
	}
	return append(out, map[string]any{"name": "ca-certificates", "mountPath": caBundle, "readOnly": true})
}

// keystoneWSGI is keystone's Apache configuration with OpenID Connect for
// each domain. Its whitespace is what atmosphere's template renders, so
// that a cloud the role deployed keeps its ConfigMap unchanged.
func (r *Render) keystoneWSGI(domains []keystoneDomain, identity, dashboard string) string {
	issuer := clusterIssuerType.get(r)
	validate := "On"
	if issuer == "self-signed" {
		validate = "Off"
	}
	if v, ok := keystoneOIDCSSLValidateServer.lookup(r); ok {
		validate = v
	}
	redirect := "https://" + identity + "/v3/auth/OS-FEDERATION/identity_providers/redirect"
	if v, ok := keystoneOIDCRedirectURI.lookup(r); ok {
		redirect = v
	}
	var names []string
	for _, d := range domains {
		names = append(names, d.name)
	}
	allowed := "^https://" + identity + "/v3/auth/OS-FEDERATION/identity_providers/(" + strings.Join(names, "|") + ")/protocols/openid/websso" +
		" ^https://" + dashboard + "/auth/logout/$"
	if list, ok := keystoneOIDCRedirectURLsAllowed.lookup(r); ok {
		var parts []string
		for _, x := range list {
			s, _ := x.(string)
			parts = append(parts, s)
		}
		allowed = strings.Join(parts, " ")
	}
	var b strings.Builder
	b.WriteString(`LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
Listen 0.0.0.0:5000
TransferLog /dev/stdout
ErrorLog /dev/stderr
<VirtualHost *:5000>
  # WSGI
  WSGIDaemonProcess keystone-public processes=4 threads=1 user=keystone group=keystone display-name=%{GROUP}
  WSGIProcessGroup keystone-public
  WSGIScriptAlias / /var/www/cgi-bin/keystone/keystone-wsgi-public
  WSGIApplicationGroup %{GLOBAL}
  WSGIPassAuthorization On
  # NOTE(mnaser): This is to by-pass large header limits for large tokens
  LimitRequestFieldSize 16384
  # OIDC
  OIDCClaimPrefix "OIDC-"
  OIDCMetadataDir /var/lib/apache2/oidc
  OIDCSSLValidateServer "` + validate + `"
  OIDCCryptoPassphrase ` + r.secret("keystone_oidc_crypto_passphrase") + `
  OIDCRedirectURI ` + redirect + `
  OIDCRedirectURLsAllowed ` + allowed + `
  # NOTE(mnaser): These are Atmosphere specific settings.
  OIDCSessionType client-cookie:store_id_token
  OIDCXForwardedHeaders X-Forwarded-Host X-Forwarded-Proto
  <Location /v3/auth/OS-FEDERATION/identity_providers/redirect>
    AuthType openid-connect
    Require valid-user
  </Location>
  <Location /v3/auth/OS-FEDERATION/websso/openid>
    Require valid-user
    AuthType openid-connect
  </Location>
  `)
	for _, d := range domains {
		b.WriteString(`  <Location /v3/OS-FEDERATION/identity_providers/` + d.name + `/protocols/openid/auth>
    Require valid-user
    AuthType oauth20
  </Location>
  <Location /v3/auth/OS-FEDERATION/identity_providers/` + d.name + `/protocols/openid/websso>
    Require valid-user
    AuthType openid-connect
    OIDCDiscoverURL ` + redirect + `?iss=` + url.QueryEscape(d.issuer()) + `
  </Location>
  `)
	}
	b.WriteString("</VirtualHost>\n")
	return b.String()
}

// ksDomains are keystone's domain-specific configurations: each domain's
// users come from its Keycloak realm, read with keystone's own client of the
// realm (as the collection's to_ks_domains filter has it).
func ksDomains(domains []keystoneDomain) map[string]any {
	out := map[string]any{}
	for _, d := range domains {
		out[d.name] = map[string]any{
			"identity": map[string]any{"driver": "keycloak"},
			"keycloak": map[string]any{"server_url": d.internalURL, "realm_name": d.realm, "client_id": d.clientID,
				"client_secret_key": d.clientSecret},
		}
	}
	return out
}
