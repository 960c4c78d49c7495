// Package golden compares what a test produced with a golden file under
// the test package's testdata/, and rewrites that file instead when the
// test binary runs with -update (check the change, then commit it).
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files (under testdata/, and generated documents)")

// Check compares got with testdata/name, after writing got there when
// -update is set. A missing file or a difference fails t, showing got and
// how to rewrite the file.
func Check(t testing.TB, name, got string) {
	t.Helper()
	CheckFile(t, filepath.Join("testdata", name), got)
}

// CheckFile is Check for a file at path, relative to the test package's
// directory (a generated document elsewhere in the repository).
func CheckFile(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run '%s' -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (check, then go test -run '%s' -update):\n%s", t.Name(), path, t.Name(), got)
	}
}
