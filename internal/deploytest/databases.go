package deploytest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// GiveServicesPasswords writes into the inventory copy inventoryDir
// (group_vars/all/zz-test-database-passwords.yml) the passwords of the
// users of the OpenStack services' databases (their components' database
// phases) and of their RabbitMQ users (their queue phases). Clusters of a
// test process share one MariaDB (testenv.ProvideDatabase), the test
// processes of a shared test environment one RabbitMQ
// (testenv.ProvideRabbitMQ), and the databases', users' and vhosts' names
// are the charts': were each cluster to generate its own passwords, their
// deploys would set each other's users' passwords, and a deploy run again
// would find them changed. A database user's password is its name and
// salt, the same for every cluster of the process; a RabbitMQ user's its
// name and rabbitMQSalt, the same for every process.
func GiveServicesPasswords(t testing.TB, inventoryDir, salt string) {
	t.Helper()
	if err := WriteServicesPasswords(inventoryDir, salt); err != nil {
		t.Fatal(err)
	}
}

// WriteServicesPasswords is GiveServicesPasswords for a caller that is no
// test (make demo's inventory copy, `testenv provide`): with salt empty
// it writes only the RabbitMQ users' passwords, which every user of the
// test environment's RabbitMQ shares, and leaves the database users' to
// the deploy (generated into its secrets store), for a MySQL server that
// is the deploy's alone.
func WriteServicesPasswords(inventoryDir, salt string) error {
	named := components.Settings{Config: components.DefaultConfig(), Secret: func(name string) (string, error) { return name, nil }}
	keys := map[string]bool{}
	for _, c := range components.Default().Components() {
		if c.Name == "keycloak" { // a database of each cluster's own
			continue
		}
		if salt != "" {
			gs, err := c.DatabaseGrants(named) // the secret's name as its password
			if err != nil {
				return fmt.Errorf("the database users of %s: %w", c.Name, err)
			}
			for _, g := range gs {
				keys[g.Password] = true
			}
		}
		// Only where a role declares it: barbican's and manila's users
		// get their charts' default password, as the roles give them.
		if _, ok := c.Phase(components.PhaseQueue); ok {
			if k := "openstack_helm_endpoints_" + c.Chart.Name + "_rabbitmq_password"; inventory.Declared(k) {
				keys[k] = true
			}
		}
	}
	var out strings.Builder
	if salt != "" {
		out.WriteString("# One password per service for every cluster sharing the test MariaDB and RabbitMQ.\n")
	} else {
		out.WriteString("# One password per service for every cluster sharing the test RabbitMQ.\n")
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		user, isQueue := strings.CutSuffix(strings.TrimPrefix(k, "openstack_helm_endpoints_"), "_rabbitmq_password")
		if isQueue {
			fmt.Fprintf(&out, "%s: %s-%s\n", k, user, rabbitMQSalt)
			continue
		}
		user = strings.TrimSuffix(user, "_mariadb_password")
		fmt.Fprintf(&out, "%s: %s-%s\n", k, user, salt)
	}
	path := filepath.Join(inventoryDir, "group_vars", "all", "zz-test-database-passwords.yml")
	if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
		return fmt.Errorf("write the services' test passwords: %w", err)
	}
	return nil
}

// rabbitMQSalt salts the test RabbitMQ users' passwords: one server may
// serve every test process of a shared test environment.
const rabbitMQSalt = "atmosphere-test-rabbitmq"
