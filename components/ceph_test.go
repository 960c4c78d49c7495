package components

import (
	"maps"
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

// TestRookCephClusterMonFromFacts: rook-ceph-cluster's rook-ceph-mon
// Secret and rook-ceph-mon-endpoints ConfigMap carry the fsid and the
// client.admin key as the Ceph charts take them (the inventory's, else
// what ceph's facts phase read), and the monitors' key and quorum leader
// the phase read; with neither the fsid nor the key known there are none.
func TestRookCephClusterMonFromFacts(t *testing.T) {
	read := map[string]string{"fsid": "read-fsid", "monitors": `["10.0.0.9"]`, "keyring": "AQBread==", "admin_key": "AQBreadadmin==",
		"mon_key": "AQBreadmon==", "mon_endpoints": "ctl1=10.0.0.9:6789"}
	given := map[string]any{"ceph_csi_rbd_ceph_fsid": "given-fsid", "ceph_csi_rbd_monitors": []any{"10.0.0.1"},
		"ceph_csi_rbd_keyring": "AQBgiven==", "_ceph_provisioners_keyring": map[string]any{"key": "AQBgivenadmin=="}}
	tests := []struct {
		name      string
		vars      map[string]any
		facts     map[string]string
		secret    map[string]any // nil: no Secret
		endpoints any            // nil: no ConfigMap
	}{
		{"what the phase read", map[string]any{}, read,
			map[string]any{"cluster-name": "ceph", "fsid": "read-fsid", "admin-secret": "AQBreadadmin==", "mon-secret": "AQBreadmon=="},
			"ctl1=10.0.0.9:6789"},
		{"the inventory's fsid and admin key win", given, read,
			map[string]any{"cluster-name": "ceph", "fsid": "given-fsid", "admin-secret": "AQBgivenadmin==", "mon-secret": "AQBreadmon=="},
			"ctl1=10.0.0.9:6789"},
		{"the inventory's alone (the phase did not run)", given, nil,
			map[string]any{"cluster-name": "ceph", "fsid": "given-fsid", "admin-secret": "AQBgivenadmin==", "mon-secret": rookExternalMonSecret},
			"a=10.0.0.1:6789"},
		{"neither", map[string]any{}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			// The gateway's keystone user needs the region and a password.
			s.Vars = maps.Clone(tt.vars)
			s.Vars["openstack_helm_endpoints_region_name"] = "RegionOne"
			s.Secret = func(name string) (string, error) { return "secret-of-" + name, nil }
			s.Facts = func(component string) map[string]string {
				if component != "ceph" {
					return nil
				}
				return tt.facts
			}
			objs, err := rookCephClusterObjects(s)
			if err != nil {
				t.Fatal(err)
			}
			var secret map[string]any
			var endpoints any
			for _, o := range objs {
				switch o.GetKind() + "/" + o.GetName() {
				case "Secret/rook-ceph-mon":
					secret = o.Object["stringData"].(map[string]any)
				case "ConfigMap/rook-ceph-mon-endpoints":
					data := o.Object["data"].(map[string]any)
					endpoints = data["data"]
					if data["maxMonId"] != "0" || data["mapping"] != "{}" {
						t.Errorf("rook-ceph-mon-endpoints data %v", data)
					}
				}
			}
			if !reflect.DeepEqual(secret, tt.secret) {
				t.Errorf("rook-ceph-mon %v, want %v", secret, tt.secret)
			}
			if endpoints != tt.endpoints {
				t.Errorf("rook-ceph-mon-endpoints data %v, want %v", endpoints, tt.endpoints)
			}
		})
	}
}
