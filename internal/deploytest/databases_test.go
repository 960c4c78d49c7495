package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestWriteServicesPasswords: with a salt, every service's database users'
// and RabbitMQ users' passwords (the tests' MariaDB is shared by the
// process's clusters); without one (make demo's MariaDB is its deploy's
// alone) only the RabbitMQ users', which every user of the test
// environment's RabbitMQ shares.
func TestWriteServicesPasswords(t *testing.T) {
	for _, tc := range []struct {
		name, salt string
		// want are some keys with their values; absent keys must not be
		// there.
		want   map[string]string
		absent []string
	}{
		{"salted", "s3", map[string]string{
			"openstack_helm_endpoints_nova_mariadb_password":     "nova-s3",
			"openstack_helm_endpoints_keystone_mariadb_password": "keystone-s3",
			"openstack_helm_endpoints_nova_rabbitmq_password":    "nova-" + rabbitMQSalt,
		}, []string{"keycloak_database_password",
			// No role declares them: their users get the charts' default.
			"openstack_helm_endpoints_barbican_rabbitmq_password", "openstack_helm_endpoints_manila_rabbitmq_password"}},
		{"without a salt: the RabbitMQ users' only", "", map[string]string{
			"openstack_helm_endpoints_nova_rabbitmq_password":    "nova-" + rabbitMQSalt,
			"openstack_helm_endpoints_octavia_rabbitmq_password": "octavia-" + rabbitMQSalt,
		}, []string{"openstack_helm_endpoints_nova_mariadb_password", "openstack_helm_endpoints_keystone_mariadb_password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "group_vars", "all"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := WriteServicesPasswords(dir, tc.salt); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "group_vars", "all", "zz-test-database-passwords.yml"))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := yaml.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s is there, want it left out", k)
				}
			}
			for k := range got {
				if tc.salt == "" && !strings.HasSuffix(k, "_rabbitmq_password") {
					t.Errorf("%s written without a salt, want only RabbitMQ users' passwords", k)
				}
			}
		})
	}
}
