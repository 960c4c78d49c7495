package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

// TestEnsureQuota sets octavia's unlimited admin quotas in nova, cinder
// and neutron twice: the first run changes each, the second nothing; a
// limit the service does not know is an error naming it.
func TestEnsureQuota(t *testing.T) {
	ctx := context.Background()
	nova, cinder, neutron := &openstackfake.Nova{}, &openstackfake.Cinder{}, &openstackfake.Neutron{}
	compute := newCompute(t, nova)
	volume := NewVolume(openstackfake.Client(t, cinder, ""))
	network := newNetwork(t, neutron)
	steps := []struct {
		name   string
		ensure func(context.Context, string, Quota) (bool, error)
		want   Quota
		stored func() map[string]any
	}{
		{"compute", compute.EnsureQuota, Quota{"instances": -1, "cores": -1, "ram": -1},
			func() map[string]any { return nova.Quota("admin-id") }},
		{"volume", volume.EnsureQuota, Quota{"volumes": -1, "gigabytes": -1},
			func() map[string]any { return cinder.Quota("admin-id") }},
		{"network", network.EnsureQuota, Quota{"security_group": -1, "security_group_rule": -1},
			func() map[string]any { return neutron.Objects("quotas")[0] }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for run, want := range []bool{true, false} {
				changed, err := s.ensure(ctx, "admin-id", s.want)
				if err != nil || changed != want {
					t.Fatalf("run %d: changed %v (want %v) err %v", run+1, changed, want, err)
				}
			}
			stored := s.stored()
			for k, v := range s.want {
				if stored[k] != float64(v) {
					t.Errorf("%s = %v, want %d", k, stored[k], v)
				}
			}
		})
	}
	if _, err := compute.EnsureQuota(ctx, "admin-id", Quota{"volumes": -1}); err == nil || !strings.Contains(err.Error(), "compute quotas of project admin-id") {
		t.Errorf("a volume limit sent to nova: %v", err)
	}
}

func TestEnsureKeypair(t *testing.T) {
	nova := &openstackfake.Nova{}
	nova.FailFirst.Store(1) // the first read answers 500 and is retried
	c := newCompute(t, nova)
	tests := []struct {
		name    string
		key     string
		changed bool
	}{
		{"create", "ssh-ed25519 AAAA first octavia", true},
		{"again", "ssh-ed25519 AAAA first octavia\n", false},
		{"another key replaces it", "ssh-ed25519 BBBB second octavia", true},
	}
	for _, tt := range tests {
		k, changed, err := c.EnsureKeypair(context.Background(), Keypair{Name: "octavia-ssh-key", PublicKey: tt.key})
		if err != nil || changed != tt.changed || k.Name != "octavia-ssh-key" {
			t.Errorf("%s: %+v changed %v err %v", tt.name, k, changed, err)
		}
	}
	if got := nova.Objects("keypairs"); len(got) != 1 || !strings.Contains(got[0]["public_key"].(string), "BBBB") {
		t.Errorf("keypairs %v", got)
	}
}

// TestEnsurePortBinding makes octavia's health-manager port for a
// controller, keeps it on a second run, and rebinds it when the host
// changes.
func TestEnsurePortBinding(t *testing.T) {
	neutron := &openstackfake.Neutron{}
	n := newNetwork(t, neutron)
	want := Port{Name: "octavia-health-manager-port-ctl1", NetworkID: "net-1", HostID: "ctl1",
		DeviceOwner: "Octavia:health-mgr", SecurityGroups: []string{"sg-hm"}}
	tests := []struct {
		name    string
		host    string
		changed bool
	}{{"create", "ctl1", true}, {"again", "ctl1", false}, {"moved", "ctl2", true}, {"moved again", "ctl2", false}}
	for _, tt := range tests {
		want.HostID = tt.host
		p, changed, err := n.EnsurePort(context.Background(), want)
		if err != nil || changed != tt.changed || p.HostID != tt.host || len(p.FixedIPs) == 0 {
			t.Errorf("%s: %+v changed %v err %v", tt.name, p, changed, err)
		}
	}
	got := neutron.Objects("ports")
	if len(got) != 1 || got[0]["device_owner"] != "Octavia:health-mgr" || got[0]["binding:host_id"] != "ctl2" {
		t.Errorf("ports %v", got)
	}
}
