package components

import (
	"fmt"
	"time"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs keycloak reads (roles/keycloak/defaults/main.yml), besides the
// shared keycloak_host and atmosphere_ingress_annotations.
var (
	keycloakKnobs                = knobsOf("keycloak")
	keycloakAdminUsername        = keycloakKnobs.str("keycloak_admin_username", "admin")
	keycloakDatabaseName         = keycloakKnobs.str("keycloak_database_name", "keycloak")
	keycloakDatabaseUsername     = keycloakKnobs.str("keycloak_database_username", "keycloak")
	keycloakHostTLSSecretName    = keycloakKnobs.str("keycloak_host_tls_secret_name", "")   // <keycloak's host>-tls
	keycloakIngressClassName     = keycloakKnobs.str("keycloak_ingress_class_name", "")     // atmosphere's
	keycloakIngressClusterIssuer = keycloakKnobs.str("keycloak_ingress_cluster_issuer", "") // atmosphere's
	keycloakIngressAnnotations   = keycloakKnobs.mapping("keycloak_ingress_annotations", nil)
)

// keycloak declares keycloak, with what it renders: its database and
// user, made in Percona XtraDB Cluster
// before its chart, with strict mode loosened for its migrations
// and put back after.
func keycloak() *Component {
	c := timeout(then(&Component{
		Name: "keycloak", Kinds: []Kind{Database, Helm}, Release: "keycloak", Namespace: "auth-system",
		Chart: pinned("keycloak"),
		Phases: []Phase{
			{Name: "database", Kind: Database, Needs: needs("percona-xtradb-cluster"), Estimate: s(2)},
			{Name: "install", Kind: Helm, Needs: needs("ingress-nginx",
				"cluster-issuer", // Ingress keycloak's cert-manager.io/cluster-issuer names ClusterIssuer atmosphere
			), Resources: kubeAPI, Estimate: s(169)},
		},
	}, Phase{Name: "strict-mode", Kind: Database, Estimate: s(1)}), 10*time.Minute)
	c.roleTimeout = true // keycloak_helm_timeout
	c.values = keycloakValues
	c.objects = keycloakObjects
	c.databases = keycloakDatabases
	return c
}

// keycloakValues are keycloak's own values for its chart: its static
// values with its environment, its admin, its database and its image.
func keycloakValues(r *Render) values.Values {
	database := keycloakDatabaseName.get(r)
	user := keycloakDatabaseUsername.get(r)
	return merge(r.static("keycloak"), values.Values{
		// The chart has no MySQL vendor: the JDBC URL is given as well as
		// externalDatabase.
		"extraEnvVars": []any{
			map[string]any{"name": "KC_FEATURES", "value": "token-exchange,admin-fine-grained-authz"},
			map[string]any{"name": "KC_PROXY", "value": "edge"},
			map[string]any{"name": "KC_DB", "value": "mysql"},
			map[string]any{"name": "KC_DB_URL", "value": "jdbc:mysql://percona-xtradb-haproxy.openstack:3306/" + database},
			map[string]any{"name": "KC_DB_USERNAME", "value": user},
			map[string]any{"name": "KC_DB_PASSWORD", "valueFrom": map[string]any{
				"secretKeyRef": map[string]any{"key": "db-password", "name": "keycloak-externaldb"}}},
		},
		"auth": map[string]any{
			"adminPassword": r.secret("keycloak_admin_password"),
			"adminUser":     keycloakAdminUsername.get(r),
		},
		"externalDatabase": map[string]any{
			"database": database,
			"user":     user,
			"password": r.secret("keycloak_database_password"),
		},
		"image": r.bitnamiImage("keycloak"),
	})
}

// keycloak's Ingress, made after its release as the role's ingress role
// makes it: its host (keycloak_host, else keycloak.<the cloud's
// domain>), TLS from the cluster issuer.
func keycloakObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	host := r.keycloakHost()
	if host == "" {
		return nil, fmt.Errorf("keycloak_host is not set, and no domain to derive it from (openstack_helm_endpoints_keystone_api_host)")
	}
	if r.err != nil {
		return nil, r.err
	}
	secret := host + "-tls"
	if v := keycloakHostTLSSecretName.get(r); v != "" {
		secret = v
	}
	class, issuer := s.IngressClass, s.ClusterIssuer
	if v := keycloakIngressClassName.get(r); v != "" {
		class = v
	}
	if v := keycloakIngressClusterIssuer.get(r); v != "" {
		issuer = v
	}
	// The ingress role's template names the host as the certificate's
	// common name.
	annotations := map[string]any{"cert-manager.io/cluster-issuer": issuer, "cert-manager.io/common-name": host}
	for _, m := range []map[string]any{atmosphereIngressAnnotations.get(r), keycloakIngressAnnotations.get(r)} {
		for k, v := range m {
			annotations[k] = v
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	backend := map[string]any{"service": map[string]any{"name": "keycloak", "port": map[string]any{"number": 80}}}
	return afterRelease(objectList(map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": "keycloak", "annotations": annotations},
		"spec": map[string]any{
			"ingressClassName": class,
			"rules": []any{map[string]any{"host": host, "http": map[string]any{"paths": []any{
				map[string]any{"path": "/", "pathType": "Prefix", "backend": backend}}}}},
			"tls": []any{map[string]any{"secretName": secret, "hosts": []any{host}}},
		}})), nil
}

// keycloakDatabases are keycloak's database and user in the cloud's MySQL,
// as its values name them (keycloak_database_name,
// keycloak_database_username, keycloak_database_password).
func keycloakDatabases(s Settings) ([]DatabaseGrant, error) {
	r := &Render{Settings: s}
	name := keycloakDatabaseName.get(r)
	user := keycloakDatabaseUsername.get(r)
	g := DatabaseGrant{Database: name, User: user, Password: r.secret("keycloak_database_password")}
	if r.err != nil {
		return nil, r.err
	}
	return []DatabaseGrant{g}, nil
}
