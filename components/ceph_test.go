package components

import (
	"reflect"
	"testing"
)

// TestCephFactsInventoryWins: the Ceph charts' values take each fact from
// the inventory when it gives it, else from what ceph's facts phase read,
// else null (which the phase's check refuses before a run).
func TestCephFactsInventoryWins(t *testing.T) {
	read := map[string]string{"fsid": "read-fsid", "monitors": `["10.0.0.9"]`, "keyring": "AQBread==", "admin_key": "AQBreadadmin=="}
	given := map[string]any{"ceph_csi_rbd_ceph_fsid": "given-fsid", "ceph_csi_rbd_monitors": []any{"10.0.0.1"},
		"ceph_csi_rbd_keyring": "AQBgiven==", "_ceph_provisioners_keyring": map[string]any{"key": "AQBgivenadmin=="}}
	tests := []struct {
		name                    string
		vars                    map[string]any
		facts                   map[string]string
		fsid, keyring, adminKey any
		monitors                []any
	}{
		{"the inventory's", given, read, "given-fsid", "AQBgiven==", "AQBgivenadmin==", []any{"10.0.0.1"}},
		{"what the phase read", map[string]any{}, read, "read-fsid", "AQBread==", "AQBreadadmin==", []any{"10.0.0.9"}},
		{"one of each", map[string]any{"ceph_csi_rbd_ceph_fsid": "given-fsid"}, read, "given-fsid", "AQBread==", "AQBreadadmin==", []any{"10.0.0.9"}},
		{"neither", map[string]any{}, nil, nil, nil, nil, []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = tt.vars
			s.Facts = func(component string) map[string]string {
				if component != "ceph" {
					return nil
				}
				return tt.facts
			}
			r := &Render{Settings: s}
			c := r.ceph()
			if r.err != nil {
				t.Fatal(r.err)
			}
			if c.fsid != tt.fsid || c.keyring != tt.keyring || !reflect.DeepEqual(c.monitors, tt.monitors) {
				t.Errorf("fsid %v keyring set %v monitors %v; want %v, %v, %v", c.fsid, c.keyring != nil, c.monitors, tt.fsid, tt.keyring != nil, tt.monitors)
			}
			objs, err := cephProvisionersObjects(s)
			if err != nil {
				t.Fatal(err)
			}
			var key any
			for _, o := range objs {
				if o.GetKind() == "Secret" {
					key = o.Object["stringData"].(map[string]any)["key"]
				}
			}
			if key != tt.adminKey {
				t.Errorf("pvc-ceph-client-key holds the wanted key: %v", key == tt.adminKey)
			}
		})
	}
}
