package cmd

import (
	"go/build"
	"strings"
	"testing"
)

// TestCommandOnlyBindsFlags keeps the engine out of the command: cmd binds
// flags to package action's options and picks a view; the deployers, the
// Helm and manifest clients and the OpenStack set-up are action's.
func TestCommandOnlyBindsFlags(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/vexxhost/atmosphere-go/"
	allowed := map[string]bool{"action": true, "components": true, "dag": true, "deploy": true, "deploy/view": true,
		"inventory": true, "internal/suggest": true}
	for _, imp := range pkg.Imports {
		if rest, ok := strings.CutPrefix(imp, module); ok && !allowed[rest] {
			t.Errorf("cmd imports %s: its work belongs in package action", imp)
		}
	}
}
