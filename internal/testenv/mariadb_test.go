package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBootstrapErrors(t *testing.T) {
	advice := strings.Repeat("advice line\n", 20)
	for _, tc := range []struct {
		name, out, want string
	}{
		{"the error lines", "Installing ...\n2026-12-02 [ERROR] InnoDB: cannot open ibdata1\n" + advice, "2026-12-02 [ERROR] InnoDB: cannot open ibdata1"},
		{"the last lines without one", advice + "last", strings.Repeat("advice line\n", 9) + "last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bootstrapErrors(tc.out); got != tc.want {
				t.Errorf("bootstrapErrors = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestInitMariaDBData runs the real mariadb-install-db: over a directory
// left half-made by an earlier try it starts afresh, and where no data
// directory can be made it fails naming it, with each try's reason.
func TestInitMariaDBData(t *testing.T) {
	if _, err := exec.LookPath("mariadb-install-db"); err != nil {
		if err := EnsurePackages(context.Background(), mariadbServer, "mariadb-server"); err != nil {
			t.Fatalf("installing mariadb-server: %v", err)
		}
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(data, "mysql"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "mysql", "db.frm"), []byte("half made"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := initMariaDBData(context.Background(), data); err != nil {
		t.Fatalf("over a half-made directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "mysql", "user.frm")); err != nil {
		t.Errorf("no system tables after the bootstrap: %v", err)
	}

	// A bootstrap that fails every time (a stand-in on PATH: the real one
	// does not fail on demand): both tries are made, and the error names
	// the directory and each try's [ERROR] line, not the advice after it.
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'Installing MariaDB/MySQL system tables'\necho '[ERROR] mariadbd: bootstrap aborted'\necho 'Try mariadbd --help'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "mariadb-install-db"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	bad := filepath.Join(t.TempDir(), "data")
	err := initMariaDBData(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "try 2: exit status 1\n[ERROR] mariadbd: bootstrap aborted") ||
		strings.Contains(err.Error(), "Try mariadbd") {
		t.Errorf("failing bootstrap: got %v, want an error naming %s and both tries' [ERROR] lines", err, bad)
	}
}

// TestMariaDBStateDir: the test bed's MariaDB (testenv up, make demo's
// provide) outlives the process that starts it: a second start from the
// same state directory reuses the first's server (same address and root
// password), which answers its root; ReuseMariaDBAt finds it; once
// StopMariaDBAt stopped it its process is gone and nothing is reused.
func TestMariaDBStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mariadb")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = StopMariaDBAt(dir) })
	a, err := StartMariaDBAt(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := readMariaDBState(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := StartMariaDBAt(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if *a != *b {
		t.Errorf("second start: %s, want the first's server %s", b.Addr, a.Addr)
	}
	if after, err := readMariaDBState(dir); err != nil || after.PID != st.PID {
		t.Errorf("second start recorded %+v (%v), want the first's pid %d", after, err, st.PID)
	}
	db, err := a.Open("root", a.RootPassword, "")
	if err != nil {
		t.Fatalf("root with the recorded password: %v", err)
	}
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("SELECT 1: %d %v", one, err)
	}
	db.Close()
	if _, err := a.Open("root", "wrong", ""); err == nil {
		t.Error("root logged in with a wrong password")
	}
	if m, err := ReuseMariaDBAt(ctx, dir); err != nil || m.Addr != a.Addr {
		t.Errorf("ReuseMariaDBAt: %v %v, want %s", m, err, a.Addr)
	}
	if err := StopMariaDBAt(dir); err != nil {
		t.Fatal(err)
	}
	if Alive(st.PID) {
		t.Errorf("the server (pid %d) is left after StopMariaDBAt", st.PID)
	}
	if _, err := ReuseMariaDBAt(ctx, dir); err == nil {
		t.Error("ReuseMariaDBAt found a stopped server")
	}
}
