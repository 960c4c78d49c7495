package components

// A component's Keycloak work (its Component.keycloak, declared in its own
// file) is what its phase of kind Keycloak makes in a Keycloak through the
// admin API, as atmosphere's roles make it with community.general's
// keycloak_* modules: realms, their required actions, client scopes and
// clients with their mappers, roles and service-account role mappings. The
// engine that runs those phases (internal/keycloak) names no component: it
// makes what the declaration says and only that.

// KeycloakWork is the Keycloak work of one component against one Keycloak
// server.
type KeycloakWork struct {
	// Server is where the realms are made, and the admin who makes them.
	Server KeycloakServer
	// Realms are made or brought to what they declare, in order.
	Realms []KeycloakRealm
}

// KeycloakServer is a Keycloak's admin API and the admin of the roles'
// auth_* parameters: a token is asked of AdminRealm for AdminClientID with
// the user's password.
type KeycloakServer struct {
	// URL is the server's base URL ("https://keycloak.example.com").
	URL string
	// AdminRealm and AdminClientID are where the token is asked ("master",
	// "admin-cli").
	AdminRealm, AdminClientID string
	// User and Password are the admin's; Password is a secret, never
	// printed.
	User, Password string
	// Insecure skips the verification of the server's certificate
	// (validate_certs false: a self-signed cluster issuer).
	Insecure bool
}

// KeycloakRealm is one realm and what is made in it.
type KeycloakRealm struct {
	// Name is the realm's name and id.
	Name string
	// Attributes are the realm's settings as the admin API names them
	// (displayName, enabled, passwordPolicy, bruteForceProtected, ...):
	// these keys are set, the others left as Keycloak has them.
	Attributes map[string]any
	// RequiredActions are made or updated by alias.
	RequiredActions []KeycloakRequiredAction
	// ClientScopes are made or updated by name.
	ClientScopes []KeycloakClientScope
	// Clients are made or updated by client ID.
	Clients []KeycloakClient
	// DiscoveryFact, when set, asks for the realm's OpenID discovery
	// document (<server>/realms/<realm>/.well-known/openid-configuration,
	// read without a token once the realm is made, as Keycloak serves
	// it): the engine hands it back as the component's fact of that key
	// (Settings.Facts), which its objects read. A dry run reads it when
	// the realm is already there, and says so when it cannot.
	DiscoveryFact string
	// DiscoveryInsecure reads the discovery document without verifying
	// the server's certificate, whatever Server.Insecure says.
	DiscoveryInsecure bool
}

// KeycloakRequiredAction is a required action of a realm ("CONFIGURE_TOTP").
type KeycloakRequiredAction struct {
	Alias, Name, ProviderID string
	Enabled                 bool
	// DefaultAction, when set, is whether new users get the action.
	DefaultAction *bool
}

// KeycloakClientScope is a client scope and its protocol mappers.
type KeycloakClientScope struct {
	Name, Protocol string
	Mappers        []KeycloakMapper
}

// KeycloakMapper is a protocol mapper, found by name. Config is its whole
// configuration, as community.general's keycloak_* modules write a
// mapper: keys Keycloak has besides (the defaults of a built-in mapper)
// are removed.
type KeycloakMapper struct {
	Name, Protocol, Mapper string
	Config                 map[string]string
}

// KeycloakClient is a client of a realm.
type KeycloakClient struct {
	// ClientID names the client.
	ClientID string
	// Attributes are the client's settings as the admin API names them
	// (redirectUris, publicClient, serviceAccountsEnabled, ...): these keys
	// are set, the others left as Keycloak has them.
	Attributes map[string]any
	// Secret, when set, is the client's secret; never printed.
	Secret string
	// Mappers are the client's own protocol mappers.
	Mappers []KeycloakMapper
	// Roles are the client's roles, made when missing.
	Roles []string
	// ServiceAccountRoles are the client roles, by client ID
	// ("realm-management": ["view-users"]), given to the client's service
	// account; roles it has besides are kept.
	ServiceAccountRoles map[string][]string
}

// HasKeycloak reports whether the component declares Keycloak work.
func (c *Component) HasKeycloak() bool { return c.keycloak != nil }

// Keycloak returns the component's Keycloak work under the settings (none
// for most), or the error of rendering it (a secret that cannot be read).
func (c *Component) Keycloak(s Settings) ([]KeycloakWork, error) {
	if c.keycloak == nil {
		return nil, nil
	}
	return c.keycloak(s)
}

// oidc is the protocol of the roles' protocol mappers.
const oidc = "openid-connect"
