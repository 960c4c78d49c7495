package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadState: a recorded server is read back as written; a missing
// file is os.ErrNotExist; a file that is not JSON, or names no server,
// is an error naming the file.
func TestReadState(t *testing.T) {
	type server struct {
		PID  int
		Addr string
	}
	recorded := func(s *server) bool { return s.PID > 0 && s.Addr != "" }
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if _, err := readState(path, recorded); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	if err := writeState(path, server{PID: 42, Addr: "127.0.0.1:3306"}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v (%v), want 0600: it may hold a password", st.Mode().Perm(), err)
	}
	got, err := readState(path, recorded)
	if err != nil || *got != (server{PID: 42, Addr: "127.0.0.1:3306"}) {
		t.Errorf("read back %+v, %v", got, err)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"not JSON", "pid: 42", "invalid character"},
		{"no server", `{"PID":0,"Addr":""}`, "no server recorded"},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readState(path, recorded); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", tc.name, err, path, tc.want)
		}
	}
}
