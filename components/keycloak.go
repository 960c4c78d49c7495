package components

import (
	"fmt"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/charts"
)

// keycloak declares keycloak, with what it renders: its database and
// user, made in Percona XtraDB Cluster
// before its chart, with strict mode loosened for its migrations
// and put back after.
func keycloak() *Component {
	c := timeout(then(&Component{
		Name: "keycloak", Kinds: []Kind{Database, Helm}, Release: "keycloak", Namespace: "auth-system",
		Chart: &charts.Ref{Name: "keycloak", Version: "21.4.1"},
		Phases: []Phase{
			{Name: "database", Kind: Database, Needs: needs("percona-xtradb-cluster"), Estimate: s(2)},
			{Name: "install", Kind: Helm, Needs: needs("ingress-nginx"), Resources: kubeAPI, Estimate: s(169)},
		},
	}, Phase{Name: "strict-mode", Kind: Database, Estimate: s(1)}), 10*time.Minute)
	c.valuesYAML = keycloakValues
	c.objects = keycloakObjects
	c.databases = keycloakDatabases
	return c
}

// keycloakValues are keycloak's own values for its chart.
func keycloakValues(r *Render) string {
	database, _ := r.knob("keycloak_database_name", "keycloak").(string)
	user, _ := r.knob("keycloak_database_username", "keycloak").(string)
	return `
# The Bitnami chart runs the upstream Keycloak image with these.
enableDefaultInitContainers: false
containerSecurityContext:
  readOnlyRootFilesystem: false
  runAsUser: 1000
# The chart has no MySQL vendor: the JDBC URL is given as well as
# externalDatabase.
extraEnvVars:
  - name: KC_FEATURES
    value: token-exchange,admin-fine-grained-authz
  - name: KC_PROXY
    value: edge
  - name: KC_DB
    value: mysql
  - name: KC_DB_URL
    value: ` + inline("jdbc:mysql://percona-xtradb-haproxy.openstack:3306/"+database) + `
  - name: KC_DB_USERNAME
    value: ` + inline(user) + `
  - name: KC_DB_PASSWORD
    valueFrom:
      secretKeyRef:
        key: db-password
        name: keycloak-externaldb
command:
  - /opt/keycloak/bin/kc.sh
  - --verbose
  - start
  - --health-enabled=true
  - --http-enabled=true
  - --http-port=8080
  - --hostname-strict=false
  - --spi-events-listener-jboss-logging-success-level=info
  - --spi-events-listener-jboss-logging-error-level=warn
  - --transaction-xa-enabled=false
  - --metrics-enabled=true
auth:
  adminPassword: ` + inline(r.secret("keycloak_admin_password")) + `
  adminUser: ` + inline(r.knob("keycloak_admin_username", "admin")) + `
externalDatabase:
  host: percona-xtradb-haproxy.openstack
  port: 3306
  database: ` + inline(database) + `
  user: ` + inline(user) + `
  password: ` + inline(r.secret("keycloak_database_password")) + `
image:` + r.bitnami("keycloak", 2) + `
postgresql:
  enabled: false
production: true
proxy: edge
startupProbe:
  enabled: true
  initialDelaySeconds: 5
  failureThreshold: 120
nodeSelector:
  openstack-control-plane: enabled
metrics:
  enabled: true
`
}

// keycloak's Ingress, made after its release as the role's ingress role
// makes it: its host (keycloak_host, else keycloak.<the cloud's
// domain>), TLS from the cluster issuer.
func keycloakObjects(s Settings) (string, error) {
	host := (&Render{Settings: s}).keycloakHost()
	if host == "" {
		return "", fmt.Errorf("keycloak_host is not set, and no domain to derive it from (openstack_helm_endpoints_keystone_api_host)")
	}
	secret := host + "-tls"
	if v, ok := s.Vars["keycloak_host_tls_secret_name"].(string); ok && v != "" {
		secret = v
	}
	class, issuer := s.IngressClass, s.ClusterIssuer
	if v, ok := s.Vars["keycloak_ingress_class_name"].(string); ok && v != "" {
		class = v
	}
	if v, ok := s.Vars["keycloak_ingress_cluster_issuer"].(string); ok && v != "" {
		issuer = v
	}
	// The ingress role's template names the host as the certificate's
	// common name.
	annotations := map[string]any{"cert-manager.io/cluster-issuer": issuer, "cert-manager.io/common-name": host}
	for _, key := range []string{"atmosphere_ingress_annotations", "keycloak_ingress_annotations"} {
		if m, ok := s.Vars[key].(map[string]any); ok {
			for k, v := range m {
				annotations[k] = v
			}
		}
	}
	raw, err := yaml.Marshal(annotations)
	if err != nil {
		return "", err
	}
	return `#after-release
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: keycloak
  annotations:
` + indentLines(string(raw), 4) + `spec:
  ingressClassName: ` + class + `
  rules:
    - host: ` + host + `
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: keycloak
                port:
                  number: 80
  tls:
    - secretName: ` + secret + `
      hosts:
        - ` + host + `
`, nil
}

// keycloakDatabases are keycloak's database and user in the cloud's MySQL,
// as its values name them (keycloak_database_name,
// keycloak_database_username, keycloak_database_password).
func keycloakDatabases(s Settings) ([]DatabaseGrant, error) {
	r := &Render{Settings: s}
	name, _ := r.knob("keycloak_database_name", "keycloak").(string)
	user, _ := r.knob("keycloak_database_username", "keycloak").(string)
	g := DatabaseGrant{Database: name, User: user, Password: r.secret("keycloak_database_password")}
	if r.err != nil {
		return nil, r.err
	}
	return []DatabaseGrant{g}, nil
}
