package main

import (
	"slices"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestReferencedByCSIDriver: the default run (the inventory's driver, rbd)
// renders csi and none of another driver's components; a run with
// --csi-driver local-path-provisioner renders that driver's alone.
func TestReferencedByCSIDriver(t *testing.T) {
	for _, driver := range []string{"", components.CSIDriverRBD} {
		names := referenced(driver)
		if !slices.Contains(names, "csi") || slices.Contains(names, "local-path-provisioner") {
			t.Errorf("--csi-driver %q renders %v: want csi, not local-path-provisioner", driver, names)
		}
	}
	if names := referenced(components.CSIDriverLocalPath); !slices.Equal(names, []string{"local-path-provisioner"}) {
		t.Errorf("--csi-driver local-path-provisioner renders %v, want local-path-provisioner alone", names)
	}
}
