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
	keystoneKeycloakUserRealmName     = sharedKnobs.str("keystone_keycloak_user_realm_name", "master")
	keystoneKeycloakAdminClientID     = sharedKnobs.str("keystone_keycloak_admin_client_id", "admin-cli")
	keystoneKeycloakAdminUser         = sharedKnobs.str("keystone_keycloak_admin_user", "admin")
	keystoneKeycloakAdminPassword     = sharedKnobs.str("keystone_keycloak_admin_password", "") // keycloak_admin_password
)

// keystoneRealmDefaults are the realm settings every domain's realm gets
// unless its entry of keystone_domains says otherwise
// (keystone_keycloak_realm_default_<setting>, commented out in the role's
// defaults: unset, Keycloak's own), by the entry's key and the realm
// attribute the role's keycloak_realm module sets.
var keystoneRealmDefaults = []struct {
	entry, attribute string
	knob             func(r *Render) (any, bool)
}{
	{"keycloak_password_policy", "passwordPolicy", lookupAny(sharedKnobs.str("keystone_keycloak_realm_default_password_policy", ""))},
	{"keycloak_brute_force_protected", "bruteForceProtected", lookupAny(sharedKnobs.boolean("keystone_keycloak_realm_default_brute_force_protected", false))},
	{"keycloak_brute_force_failure_factor", "failureFactor", lookupAny(sharedKnobs.integer("keystone_keycloak_realm_default_brute_force_failure_factor", 0))},
	{"keycloak_brute_force_wait_increment_seconds", "waitIncrementSeconds", lookupAny(sharedKnobs.integer("keystone_keycloak_realm_default_brute_force_wait_increment_seconds", 0))},
	{"keycloak_brute_force_max_failure_wait_seconds", "maxFailureWaitSeconds", lookupAny(sharedKnobs.integer("keystone_keycloak_realm_default_brute_force_max_failure_wait_seconds", 0))},
	{"keycloak_brute_force_max_delta_time_seconds", "maxDeltaTimeSeconds", lookupAny(sharedKnobs.integer("keystone_keycloak_realm_default_brute_force_max_delta_time_seconds", 0))},
	{"keycloak_minimum_quick_login_wait_seconds", "minimumQuickLoginWaitSeconds", lookupAny(sharedKnobs.integer("keystone_keycloak_realm_default_minimum_quick_login_wait_seconds", 0))},
	{"keycloak_quick_login_check_milli_seconds", "quickLoginCheckMilliSeconds", lookupAny(sharedKnobs.integer("keystone_keycloak_realm_default_quick_login_check_milli_seconds", 0))},
}

// keystoneTOTPDefaultAction is whether new users of every domain's realm
// must configure OTP, unless its entry says (keycloak_totp_default_action).
var keystoneTOTPDefaultAction = sharedKnobs.boolean("keystone_keycloak_realm_default_totp_default_action", false)

// lookupAny is a knob's lookup with its value untyped.
func lookupAny[T any](k knob[T]) func(r *Render) (any, bool) {
	return func(r *Render) (any, bool) { return k.lookup(r) }
}

// keystoneDomain is a keystone domain federated with a Keycloak realm
// (keystone_domains; by default the one realm of the keystone_keycloak_*
// variables).
type keystoneDomain struct {
	name, label, serverURL, internalURL, realm string
	// clientID, clientSecret and scopes are keystone's own client in the
	// realm.
	clientID, clientSecret, scopes string
	// admin is the Keycloak admin that makes the realm and its client.
	admin KeycloakServer
	// realmSettings are the realm's settings (the role's password policy,
	// brute-force protection), by the admin API's attribute names; totp,
	// when set, is whether new users must configure OTP.
	realmSettings map[string]any
	totp          *bool
}

// keystoneDomains are the inventory's keystone_domains, or atmosphere's
// default: one domain for the realm atmosphere makes in its Keycloak.
func (r *Render) keystoneDomains() []keystoneDomain {
	if list := keystoneDomainsList.get(r); len(list) > 0 {
		var out []keystoneDomain
		for _, x := range list {
			m, _ := x.(map[string]any)
			get := func(k string) string { s, _ := m[k].(string); return s }
			d := keystoneDomain{
				name: get("name"), label: get("label"), serverURL: get("keycloak_server_url"),
				internalURL: get("keycloak_server_internal_url"), realm: get("keycloak_realm"),
				clientID: get("keycloak_client_id"), clientSecret: get("keycloak_client_secret"), scopes: get("keycloak_scopes"),
			}
			d.admin = r.keystoneKeycloakAdmin(d.serverURL, m)
			d.realmSettings, d.totp = r.keystoneRealmSettings(m)
			out = append(out, d)
		}
		return out
	}
	realm := keystoneKeycloakRealm.get(r)
	d := keystoneDomain{
		name: realm, label: keystoneKeycloakRealmName.get(r),
		serverURL:   orDefault(r, keystoneKeycloakServerURL, "https://"+r.keycloakHost()),
		internalURL: keystoneKeycloakServerInternalURL.get(r),
		realm:       realm,
		clientID:    keystoneKeycloakClientID.get(r), clientSecret: r.secret("keystone_keycloak_client_secret"),
		scopes: keystoneKeycloakScopes.get(r),
	}
	d.admin = r.keystoneKeycloakAdmin(d.serverURL, nil)
	d.realmSettings, d.totp = r.keystoneRealmSettings(nil)
	return []keystoneDomain{d}
}

// keystoneKeycloakAdmin is the admin that makes a domain's realm: the
// entry's keycloak_user_realm_name, keycloak_admin_client_id,
// keycloak_admin_user and keycloak_admin_password, else the
// keystone_keycloak_* knobs, the password else keycloak's admin password
// (keycloak_admin_password, in the secrets store).
func (r *Render) keystoneKeycloakAdmin(url string, entry map[string]any) KeycloakServer {
	get := func(key string, k knob[string]) string {
		if s, ok := entry[key].(string); ok && s != "" {
			return s
		}
		return k.get(r)
	}
	password := get("keycloak_admin_password", keystoneKeycloakAdminPassword)
	if password == "" {
		password = r.secret("keycloak_admin_password")
	}
	return KeycloakServer{URL: url,
		AdminRealm:    get("keycloak_user_realm_name", keystoneKeycloakUserRealmName),
		AdminClientID: get("keycloak_admin_client_id", keystoneKeycloakAdminClientID),
		User:          get("keycloak_admin_user", keystoneKeycloakAdminUser),
		Password:      password,
		Insecure:      clusterIssuerType.get(r) == "self-signed",
	}
}

// keystoneRealmSettings are the settings of a domain's realm: each of the
// entry's keycloak_<setting>, else keystone_keycloak_realm_default_<setting>
// when set, else none (Keycloak's own); and the entry's
// keycloak_totp_default_action, else the default's when set.
func (r *Render) keystoneRealmSettings(entry map[string]any) (map[string]any, *bool) {
	out := map[string]any{}
	for _, d := range keystoneRealmDefaults {
		if v, ok := entry[d.entry]; ok && v != nil {
			out[d.attribute] = v
		} else if v, ok := d.knob(r); ok {
			out[d.attribute] = v
		}
	}
	if v, ok := entry["keycloak_totp_default_action"].(bool); ok {
		return out, &v
	}
	if v, ok := keystoneTOTPDefaultAction.lookup(r); ok {
		return out, &v
	}
	return out, nil
}

// keycloakHost is keycloak's public host (keycloak_host, else keycloak.<the
// cloud's domain>).
func (r *Render) keycloakHost() string {
	if h := keycloakHostName.get(r); h != "" {
		return h
	}
	return (&endpointRender{Render: r}).derivedHost("keycloak")
}

// keystoneRedirectURI is mod_auth_openidc's redirect URI
// (keystone_oidc_redirect_uri, else keystone's redirect endpoint at its
// public host).
func (r *Render) keystoneRedirectURI(identity string) string {
	return orDefault(r, keystoneOIDCRedirectURI, "https://"+identity+"/v3/auth/OS-FEDERATION/identity_providers/redirect")
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

// keystoneOIDCValidateServer is whether keystone verifies Keycloak's
// certificate, "On" or "Off" (keystone_oidc_ssl_validate_server, else
// Off with a self-signed cluster issuer, On otherwise): mod_auth_openidc's
// OIDCSSLValidateServer, and the validate_certs of the role's read of
// each realm's discovery document.
func (r *Render) keystoneOIDCValidateServer() string {
	if v, ok := keystoneOIDCSSLValidateServer.lookup(r); ok {
		return v
	}
	if clusterIssuerType.get(r) == "self-signed" {
		return "Off"
	}
	return "On"
}

// keystoneWSGI is keystone's Apache configuration with OpenID Connect for
// each domain. Its whitespace is what atmosphere's template renders, so
// that a cloud the role deployed keeps its ConfigMap unchanged.
func (r *Render) keystoneWSGI(domains []keystoneDomain, identity, dashboard string) string {
	validate := r.keystoneOIDCValidateServer()
	redirect := r.keystoneRedirectURI(identity)
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
