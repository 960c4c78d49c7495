package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/database"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/mysqlconn"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestServicesDatabasePhases runs the database phase of every component
// of the default registry that has one but keycloak (the OpenStack
// services, whose charts' db-init Jobs it replaces) against a real
// MariaDB, as the deploy does: from two processes' worth of concurrent
// runs (each phase twice at once), then again. Each database is made with
// its user, who logs in to it with the password the chart's values carry;
// the run after reports every database in place and changes nothing; no
// phase touches Percona's strict mode (only keycloak's loosens it).
func TestServicesDatabasePhases(t *testing.T) {
	m := testenv.StartMariaDB(t)
	ctx := context.Background()
	settings := components.Settings{Config: components.DefaultConfig(),
		Secret: func(name string) (string, error) { return "pw-" + name, nil }}
	var phases []*components.Component
	for _, c := range components.Default().Components() {
		if _, ok := c.Phase(database.PhaseDatabase); ok && c.Name != "keycloak" {
			phases = append(phases, c)
		}
	}
	if len(phases) < 10 {
		t.Fatalf("%d components with a database phase, want the ten and more OpenStack services", len(phases))
	}
	d := &database.Deployer{
		Connect: func(ctx context.Context, user, password, db string) (*sql.DB, error) {
			return mysqlconn.Open(ctx, m.Addr, "root", m.RootPassword, "")
		},
		Grants: func(name string) ([]database.Grant, error) {
			c, _ := components.Default().Get(name)
			gs, err := c.DatabaseGrants(settings)
			var out []database.Grant
			for _, g := range gs {
				out = append(out, database.Grant{Database: g.Database, User: g.User, Password: g.Password})
			}
			return out, err
		},
	}
	run := func(c *components.Component) (string, error) {
		p, _ := c.Phase(database.PhaseDatabase)
		notes, err := deploytest.RunUnit(ctx, c.Name+":database", func(ctx context.Context) error { return d.Deploy(ctx, c, p) })
		var did []string
		for _, n := range notes {
			did = append(did, n.Did)
		}
		return strings.Join(did, "; "), err
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*len(phases))
	for _, c := range phases {
		for range 2 {
			wg.Go(func() {
				if _, err := run(c); err != nil {
					errs <- fmt.Errorf("%s: %w", c.Name, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	made := 0
	for _, c := range phases {
		gs, err := c.DatabaseGrants(settings)
		if err != nil || len(gs) == 0 {
			t.Fatalf("%s's databases: %v, %v", c.Name, gs, err)
		}
		for _, g := range gs {
			if _, err := m.As(t, g.User, g.Password, g.Database).ExecContext(ctx, "CREATE TABLE t (id INT)"); err != nil {
				t.Errorf("%s: user %s cannot use database %s: %v", c.Name, g.User, g.Database, err)
			}
			made++
		}
		did, err := run(c)
		if err != nil {
			t.Errorf("%s, again: %v", c.Name, err)
		}
		if strings.Contains(did, " made") || strings.Contains(did, "strict_mode") || strings.Count(did, " in place") != len(gs) {
			t.Errorf("%s, again, did %q: want its %d databases in place, nothing made, strict mode untouched", c.Name, did, len(gs))
		}
	}
	t.Logf("%d components, %d databases", len(phases), made)
}
