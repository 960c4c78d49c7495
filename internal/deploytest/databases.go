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
	named := components.Settings{Config: components.DefaultConfig(), Secret: func(name string) (string, error) { return name, nil }}
	keys := map[string]bool{}
	for _, c := range components.Default().Components() {
		if c.Name == "keycloak" { // a database of each cluster's own
			continue
		}
		gs, err := c.DatabaseGrants(named) // the secret's name as its password
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			keys[g.Password] = true
		}
		if _, ok := c.Phase(components.PhaseQueue); ok {
			keys["openstack_helm_endpoints_"+c.Chart.Name+"_rabbitmq_password"] = true
		}
	}
	var out strings.Builder
	out.WriteString("# One password per service for every cluster sharing the test MariaDB and RabbitMQ.\n")
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		user, isQueue := strings.CutSuffix(strings.TrimPrefix(k, "openstack_helm_endpoints_"), "_rabbitmq_password")
		if isQueue {
			fmt.Fprintf(&out, "%s: %s-%s\n", k, user, rabbitMQSalt)
			continue
		}
		user = strings.TrimSuffix(user, "_mariadb_password")
		fmt.Fprintf(&out, "%s: %s-%s\n", k, user, salt)
	}
	if err := os.WriteFile(filepath.Join(inventoryDir, "group_vars", "all", "zz-test-database-passwords.yml"), []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rabbitMQSalt salts the test RabbitMQ users' passwords: one server may
// serve every test process of a shared test environment.
const rabbitMQSalt = "atmosphere-test-rabbitmq"
