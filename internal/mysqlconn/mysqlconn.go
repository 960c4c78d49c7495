// Package mysqlconn connects to a MySQL server (the cloud's Percona XtraDB
// Cluster, or the test bed's MariaDB) the way atmosphere's database work
// needs, and tells a refused login from other errors. It imports nothing
// of atmosphere's, so that the test bed and the database phases share it.
package mysqlconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// Open connects to a MySQL server at addr (host:port) as user, to
// database unless it is empty, checking that it answers.
func Open(ctx context.Context, addr, user, password, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "tcp", addr, user, password, database
	// Passwords go into CREATE USER and ALTER USER, which take no
	// placeholders: the driver quotes them itself.
	cfg.InterpolateParams = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to MySQL at %s as %s: %w", addr, user, err)
	}
	return db, nil
}

// IsAccessDenied reports whether err is the server refusing a login
// (MySQL error 1045) or a database to the user (1044).
func IsAccessDenied(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1045 || me.Number == 1044)
}
