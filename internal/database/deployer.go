package database

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

// The phases a Deployer does.
const (
	// PhaseDatabase makes the component's databases and users and loosens
	// Percona's strict mode for its chart's migrations.
	PhaseDatabase = "database"
	// PhaseStrictMode puts Percona's strict mode back once the chart is
	// installed.
	PhaseStrictMode = "strict-mode"
)

// Deployer does the database phases of components.
type Deployer struct {
	// Connect opens a connection to the cloud's MySQL: the administrator's
	// when user is empty, else user's to database.
	Connect func(ctx context.Context, user, password, database string) (*sql.DB, error)
	// Grants are the databases and users a component needs.
	Grants func(component string) ([]Grant, error)
	// CheckGrants, when set, finds what is wrong with a component's
	// databases and users changing nothing (secrets only peeked at), for
	// Check.
	CheckGrants func(component string) error
}

// Deploy does one database phase of c: the databases and users made when
// missing or not usable with their passwords, then, for a component with a
// strict-mode phase (PhaseStrictMode), Percona's strict mode set as the
// phase wants it: loosened by its database phase, put back by its
// strict-mode phase. Any other component's strict mode is left as it is.
func (d *Deployer) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	if p.Name != PhaseDatabase && p.Name != PhaseStrictMode {
		return fmt.Errorf("%s: phase %s is not a database phase", c.Name, p.Name)
	}
	var grants []Grant
	if p.Name == PhaseDatabase {
		var err error
		if grants, err = d.Grants(c.Name); err != nil {
			return fmt.Errorf("%s: databases: %w", c.Name, err)
		}
	}
	db, err := d.Connect(ctx, "", "", "")
	if err != nil {
		return err
	}
	defer db.Close()
	var did []string
	changed := false
	for _, g := range grants {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if d.inPlace(ctx, db, g) {
			did = append(did, fmt.Sprintf("database %s and user %s in place", g.Database, g.User))
			continue
		}
		if err := Ensure(ctx, db, g); err != nil {
			return fmt.Errorf("%s: database %s: %w", c.Name, g.Database, err)
		}
		changed = true
		did = append(did, fmt.Sprintf("database %s and user %s made", g.Database, g.User))
	}
	// Strict mode is loosened only for a component that puts it back
	// after its chart (a strict-mode phase: keycloak's migrations); the
	// databases of the others are made with it as it is.
	if _, loosens := c.Phase(PhaseStrictMode); loosens {
		mode := Permissive
		if p.Name == PhaseStrictMode {
			mode = Master
		}
		has, set, err := SetStrictMode(ctx, db, mode)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		switch {
		case !has:
			did = append(did, "no pxc_strict_mode on this server")
		case set:
			changed = true
			did = append(did, "pxc_strict_mode set to "+string(mode))
		default:
			did = append(did, "pxc_strict_mode already "+string(mode))
		}
	}
	dag.ReporterFrom(ctx).Note(dag.Note{Did: strings.Join(did, "; "), Unchanged: !changed})
	return nil
}

// inPlace reports whether the grant's database and user are there and the
// user logs in to its database with the grant's password.
func (d *Deployer) inPlace(ctx context.Context, admin *sql.DB, g Grant) bool {
	if ok, err := Exists(ctx, admin, g); err != nil || !ok {
		return false
	}
	conn, err := d.Connect(ctx, g.User, g.Password, g.Database)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
