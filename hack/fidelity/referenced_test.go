package main

import (
	"slices"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestReferencedByCSIDriver: the default run (the inventory's driver, rbd)
// renders csi and none of another driver's components; a run with
// --csi-driver local-path-provisioner, storpool, ibm-block or portworx
// renders that driver's alone (storpool-csi; ibm-block-csi-driver, whose
// role applies its operator's objects too; portworx's objects only: it has
// no chart); no run
// renders the cluster issuer's webhooks by a role of their own (their
// values are rendered with the issuer's references).
func TestReferencedByCSIDriver(t *testing.T) {
	for _, driver := range []string{"", components.CSIDriverRBD} {
		names := referenced(driver)
		if !slices.Contains(names, "csi") || slices.Contains(names, "local-path-provisioner") {
			t.Errorf("--csi-driver %q renders %v: want csi, not local-path-provisioner", driver, names)
		}
	}
	for _, driver := range append([]string{""}, components.CSIDrivers...) {
		for _, webhook := range issuerWebhooks {
			if c, ok := components.Default().Get(webhook); !ok || !c.HasOwnValues() {
				t.Errorf("%s: no component with values of its own", webhook)
			}
			if slices.Contains(referenced(driver), webhook) {
				t.Errorf("--csi-driver %q renders %s, whose values cluster-issuer's references (--issuers) render", driver, webhook)
			}
		}
	}
	if names := referenced(components.CSIDriverLocalPath); !slices.Equal(names, []string{"local-path-provisioner"}) {
		t.Errorf("--csi-driver local-path-provisioner renders %v, want local-path-provisioner alone", names)
	}
	// The manifest components of storpool and ibm-block: rendered for
	// their objects, by their driver's run alone (ibm-block's operator
	// with its driver, the one role).
	for driver, want := range map[string]string{components.CSIDriverStorPool: "storpool-csi", components.CSIDriverIBMBlock: "ibm-block-csi-driver"} {
		if names := referenced(driver); !slices.Equal(names, []string{want}) {
			t.Errorf("--csi-driver %s renders %v, want %s alone", driver, names, want)
		}
		if slices.Contains(referenced(""), want) {
			t.Errorf("the default run renders %s", want)
		}
	}
	// portworx, a manifest component, for its objects alone.
	if names := referenced(components.CSIDriverPortworx); !slices.Equal(names, []string{"portworx"}) || !objectsOnly("portworx") {
		t.Errorf("--csi-driver portworx renders %v (objects only: %v), want portworx alone, its objects only", names, objectsOnly("portworx"))
	}
	if slices.Contains(referenced(""), "portworx") || objectsOnly("csi") {
		t.Errorf("the default run renders portworx, or csi's values are left out")
	}
}
