package engine_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestEnginesNameNoComponent: what a component deploys — its values,
// objects, catalog entries, set-up, Ansible work — is declared with it in
// package components; no engine names one (as a quoted name in its
// non-test files).
func TestEnginesNameNoComponent(t *testing.T) {
	engines := []string{"engine", "kubephase", "helmrelease", "manifest", "openstackphase", "database", "ansible"}
	for _, dir := range engines {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("the files of %s: %v, %v", dir, files, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range components.Default().Components() {
				if strings.Contains(string(raw), strconv.Quote(c.Name)) {
					t.Errorf("%s names component %s", f, c.Name)
				}
			}
		}
	}
}
