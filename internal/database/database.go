// Package database does the work components need in the cloud's MySQL
// server (Percona XtraDB Cluster) outside their charts: a database and a
// user of their own (keycloak's), and Percona's strict mode around a
// chart whose migrations it refuses, as atmosphere's keycloak role does.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Grant is a database and the user that owns it.
type Grant struct {
	// Database and User are names; Password is the user's.
	Database, User, Password string
}

// names are what Ensure accepts as a database or user name: it quotes
// them, but a name this simple needs no escaping to be safe.
var names = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Validate says which field of the grant is unusable.
func (g Grant) Validate() error {
	switch {
	case !names.MatchString(g.Database):
		return fmt.Errorf("database name %q: want 1 to 64 letters, digits or _", g.Database)
	case !names.MatchString(g.User) || len(g.User) > 32:
		return fmt.Errorf("user name %q: want 1 to 32 letters, digits or _", g.User)
	case g.Password == "":
		return fmt.Errorf("user %s: empty password", g.User)
	}
	return nil
}

// Ensure creates the database and its user (from any host) when missing,
// sets the user's password to the grant's, and grants it everything on
// the database. Run again it changes nothing but a changed password.
func Ensure(ctx context.Context, db *sql.DB, g Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	user := "`" + g.User + "`@'%'"
	for _, q := range []struct {
		what, query string
		args        []any
	}{
		{"create database " + g.Database, "CREATE DATABASE IF NOT EXISTS `" + g.Database + "`", nil},
		{"create user " + g.User, "CREATE USER IF NOT EXISTS " + user + " IDENTIFIED BY ?", []any{g.Password}},
		{"set the password of " + g.User, "ALTER USER " + user + " IDENTIFIED BY ?", []any{g.Password}},
		{"grant " + g.User + " all on " + g.Database, "GRANT ALL PRIVILEGES ON `" + g.Database + "`.* TO " + user, nil},
	} {
		if _, err := db.ExecContext(ctx, q.query, q.args...); err != nil {
			return fmt.Errorf("%s: %w", q.what, err)
		}
	}
	return nil
}

// StrictMode is a value of Percona XtraDB Cluster's pxc_strict_mode.
type StrictMode string

// The modes the keycloak role switches between.
const (
	Permissive StrictMode = "PERMISSIVE"
	Master     StrictMode = "MASTER"
)

// SetStrictMode sets pxc_strict_mode when the server has it (a Percona
// XtraDB Cluster; a plain MySQL or MariaDB has no such mode), and reports
// whether it had and whether it changed it.
func SetStrictMode(ctx context.Context, db *sql.DB, mode StrictMode) (has, changed bool, err error) {
	var name, value string
	err = db.QueryRowContext(ctx, "SHOW GLOBAL VARIABLES LIKE 'pxc_strict_mode'").Scan(&name, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read pxc_strict_mode: %w", err)
	}
	if strings.EqualFold(value, string(mode)) {
		return true, false, nil
	}
	if _, err := db.ExecContext(ctx, "SET GLOBAL pxc_strict_mode = ?", string(mode)); err != nil {
		return true, false, fmt.Errorf("set pxc_strict_mode to %s: %w", mode, err)
	}
	return true, true, nil
}

// Exists reports whether the grant's database and user (from any host)
// are there.
func Exists(ctx context.Context, db *sql.DB, g Grant) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?) + "+
		"(SELECT COUNT(*) FROM mysql.user WHERE user = ? AND host = '%')", g.Database, g.User).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for database %s and user %s: %w", g.Database, g.User, err)
	}
	return n == 2, nil
}
