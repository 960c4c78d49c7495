package main

import (
	"slices"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestReferencedHPENimble: hpe-csi-driver is rendered only by a run with
// --csi-driver hpe-nimble, alone, from the role that deploys it
// (hpe_nimble_csi, not one named after the component); the default run
// leaves it out.
func TestReferencedHPENimble(t *testing.T) {
	for _, driver := range []string{"", components.CSIDriverRBD, components.CSIDriverLocalPath} {
		if slices.Contains(referenced(driver), "hpe-csi-driver") {
			t.Errorf("--csi-driver %q renders hpe-csi-driver", driver)
		}
	}
	if names := referenced(components.CSIDriverHPENimble); !slices.Equal(names, []string{"hpe-csi-driver"}) {
		t.Errorf("--csi-driver hpe-nimble renders %v, want hpe-csi-driver alone", names)
	}
	if r := role("hpe-csi-driver"); r != "hpe_nimble_csi" {
		t.Errorf("hpe-csi-driver is rendered from the role %s, want hpe_nimble_csi", r)
	}
}
