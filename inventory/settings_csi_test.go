package inventory

import (
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestCSIDriver: csi_driver picks the component that provides the
// StorageClass general. rbd (the default), local-path-provisioner,
// hpe-nimble (with its credentials), storpool, ibm-block and portworx (with
// its two required knobs) are taken into
// Config.CSIDriver, with nothing refused (storpool's template refused when
// missing, as its role has no default for it); the role's other
// drivers, an unknown value and a value not a string leave the default,
// and are refused before the run by the csi_driver knob (CheckKnobs, the
// check plan and deploy make with the settings' Config): one problem,
// naming the knob, the value and what is supported.
func TestCSIDriver(t *testing.T) {
	const f = "group_vars/all/main.yml"
	supported := `want one of "rbd", "local-path-provisioner", "hpe-nimble", "storpool", "ibm-block", "portworx" (atmosphere's role also takes "powerstore", which atmosphere-go does not implement)`
	tests := []struct {
		name, doc, driver string
		refused           string // a substring of the one problem; "" for none
	}{
		{"unset: rbd", "", components.CSIDriverRBD, ""},
		{"rbd", "csi_driver: rbd\n", components.CSIDriverRBD, ""},
		{"local-path-provisioner", "csi_driver: local-path-provisioner\n", components.CSIDriverLocalPath, ""},
		{"powerstore", "csi_driver: powerstore\n", components.CSIDriverRBD, supported + `, got the string "powerstore"`},
		{"portworx", "csi_driver: portworx\nportworx_pure_json: {FlashArrays: []}\nportworx_pure_flasharray_san_type: FC\n", components.CSIDriverPortworx, ""},
		{"storpool", "csi_driver: storpool\nstorpool_csi_template: hybrid\n", components.CSIDriverStorPool, ""},
		{"storpool without its template", "csi_driver: storpool\n", components.CSIDriverStorPool, "storpool_csi_template: required with csi_driver storpool"},
		{"ibm-block", "csi_driver: ibm-block\nibm_block_csi_driver_management_address: flash\nibm_block_csi_driver_username: u\n" +
			"ibm_block_csi_driver_password: p\nibm_block_csi_driver_pool: p0\nibm_block_csi_driver_io_group: \"0\"\n", components.CSIDriverIBMBlock, ""},
		{"hpe-nimble", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials, components.CSIDriverHPENimble, ""},
		{"unknown", "csi_driver: nfs\n", components.CSIDriverRBD, supported + `, got the string "nfs"`},
		{"not a string", "csi_driver: [rbd]\n", components.CSIDriverRBD, supported + `, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(write(t, map[string]string{f: "keepalived_enabled: false\ncluster_issuer_type: none\n" + tt.doc}), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			s, err := inv.Settings()
			if err != nil {
				t.Fatalf("settings refused: %v (csi_driver is the knob's to refuse, once)", err)
			}
			if s.Config.CSIDriver != tt.driver {
				t.Errorf("CSIDriver %q, want %q", s.Config.CSIDriver, tt.driver)
			}
			var problems []string
			for _, p := range components.Default().CheckKnobs(s.Config, inv.Vars) {
				problems = append(problems, inv.ProblemWith(p.Key, p.Message).String())
			}
			switch {
			case tt.refused == "" && len(problems) > 0:
				t.Errorf("refused: %v", problems)
			case tt.refused != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.refused) ||
				!strings.HasPrefix(problems[0], f+": csi_driver: ") && !strings.HasPrefix(tt.refused, "storpool_csi_template: ")):
				t.Errorf("problems %q, want one: %s: csi_driver: …%s", problems, f, tt.refused)
			}
		})
	}
}
