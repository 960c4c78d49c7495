package database_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/database"
	"github.com/vexxhost/atmosphere-go/internal/mysqlconn"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestEnsureOnARealServer: the database and its user are made, the user
// can use the database and nothing else, a second run changes nothing, a
// changed password is put right (quotes and all), and a server without Percona's strict
// mode is left alone.
func TestEnsureOnARealServer(t *testing.T) {
	m := testenv.StartMariaDB(t)
	ctx := context.Background()
	root, err := mysqlconn.Open(ctx, m.Addr, "root", m.RootPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	g := database.Grant{Database: "keycloak", User: "keycloak", Password: "first-password"}
	for range 2 {
		if err := database.Ensure(ctx, root, g); err != nil {
			t.Fatal(err)
		}
	}
	user := m.As(t, "keycloak", "first-password", "keycloak")
	if _, err := user.ExecContext(ctx, "CREATE TABLE realm (id INT PRIMARY KEY)"); err != nil {
		t.Errorf("the user cannot use its database: %v", err)
	}
	if _, err := user.ExecContext(ctx, "CREATE DATABASE other"); err == nil {
		t.Error("the user may create other databases")
	}
	g.Password = `it's "second" \ password`
	if err := database.Ensure(ctx, root, g); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Open("keycloak", "first-password", "keycloak"); err == nil {
		t.Error("the old password still works")
	}
	after := m.As(t, "keycloak", g.Password, "keycloak")
	var tables int
	if err := after.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'keycloak'").Scan(&tables); err != nil || tables != 1 {
		t.Errorf("the database's tables after a second run: %d, %v; want the 1 made before", tables, err)
	}
	if has, changed, err := database.SetStrictMode(ctx, root, database.Permissive); has || changed || err != nil {
		t.Errorf("MariaDB has no pxc_strict_mode: got %v, %v, %v", has, changed, err)
	}
	if ok, err := database.Exists(ctx, root, g); !ok || err != nil {
		t.Errorf("Exists after Ensure: %v, %v", ok, err)
	}
	if ok, err := database.Exists(ctx, root, database.Grant{Database: "keycloak", User: "nobody", Password: "x"}); ok || err != nil {
		t.Errorf("Exists of a user never made: %v, %v", ok, err)
	}
	if _, err := mysqlconn.Open(ctx, m.Addr, "keycloak", "wrong", "keycloak"); !mysqlconn.IsAccessDenied(err) {
		t.Errorf("a wrong password: %v, want access denied", err)
	}
}

func TestGrantValidate(t *testing.T) {
	tests := []struct {
		grant database.Grant
		want  string
	}{
		{database.Grant{"keycloak", "keycloak", "p"}, ""},
		{database.Grant{"key-cloak", "keycloak", "p"}, "database name"},
		{database.Grant{"keycloak", "a`; DROP", "p"}, "user name"},
		{database.Grant{"keycloak", strings.Repeat("u", 33), "p"}, "user name"},
		{database.Grant{"keycloak", "keycloak", ""}, "empty password"},
	}
	for _, tt := range tests {
		err := tt.grant.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.grant, err, tt.want)
		}
	}
}
