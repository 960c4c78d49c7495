package provision

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

func newNetwork(t *testing.T, neutron http.Handler) *Network {
	t.Helper()
	return NewNetwork(openstackfake.Client(t, neutron, "v2.0/"))
}

func TestOctaviaNetworkTwice(t *testing.T) {
	neutron := &openstackfake.Neutron{}
	n := newNetwork(t, neutron)
	ctx := context.Background()
	run := func() (changes int) {
		_, ch, err := n.EnsureNetwork(ctx, NetworkSpec{Name: "lb-mgmt-net", ProjectID: "service",
			Subnets: []SubnetSpec{{Name: "lb-mgmt-subnet", CIDR: "172.24.0.0/22"}}})
		if err != nil {
			t.Fatal(err)
		}
		changes += b2i(ch)
		for name, rs := range map[string][]Rule{"lb-health-mgr-sec-grp": LBHealthManagerRules, "lb-mgmt-sec-grp": LBManagementRules} {
			_, ch, err := n.EnsureSecurityGroup(ctx, name, "service", "octavia", rs)
			if err != nil {
				t.Fatal(err)
			}
			changes += b2i(ch)
		}
		return changes
	}
	if first := run(); first != 3 {
		t.Errorf("first run: %d changes, want 3", first)
	}
	if second := run(); second != 0 {
		t.Errorf("second run: %d changes", second)
	}
	want := map[string]int{"networks": 1, "subnets": 1, "security-groups": 2, "security-group-rules": 7}
	for k, v := range want {
		if got := len(neutron.Objects(k)); got != v {
			t.Errorf("%s: %d, want %d", k, got, v)
		}
	}
	if _, _, err := n.EnsureSubnet(ctx, neutron.Objects("networks")[0]["id"].(string), SubnetSpec{Name: "lb-mgmt-subnet", CIDR: "10.0.0.0/24"}); err == nil ||
		!strings.Contains(err.Error(), "172.24.0.0/22") {
		t.Errorf("a subnet with another CIDR: %v", err)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestProviderNetwork ensures a neutron_networks entry: an external flat
// network with a subnet; sharing it later is an update in place, and
// another provider type is refused with the attributes named.
func TestProviderNetwork(t *testing.T) {
	neutron := &openstackfake.Neutron{}
	n := newNetwork(t, neutron)
	ctx := context.Background()
	yes, no := true, false
	spec := NetworkSpec{Name: "public", External: &yes, Shared: &no, ProviderType: "flat", PhysicalNetwork: "external",
		Subnets: []SubnetSpec{{Name: "public-subnet", CIDR: "10.96.250.0/24", GatewayIP: "10.96.250.10", EnableDHCP: &no,
			AllocationPools: []subnets.AllocationPool{{Start: "10.96.250.200", End: "10.96.250.220"}}}}}
	tests := []struct {
		name    string
		edit    func(*NetworkSpec)
		changed bool
		err     string
	}{
		{"create", func(*NetworkSpec) {}, true, ""},
		{"again", func(*NetworkSpec) {}, false, ""},
		{"shared", func(s *NetworkSpec) { s.Shared = &yes }, true, ""},
		{"dns servers", func(s *NetworkSpec) { s.Subnets[0].DNSNameservers = []string{"1.1.1.1"} }, true, ""},
		{"again after edits", func(*NetworkSpec) {}, false, ""},
		{"provider type", func(s *NetworkSpec) { s.ProviderType = "vlan" }, false, "provider attributes"},
	}
	for _, tt := range tests {
		tt.edit(&spec)
		net, changed, err := n.EnsureNetwork(ctx, spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "public") {
				t.Errorf("%s: err %v, want one naming the network and %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || changed != tt.changed || !net.External || net.NetworkType != "flat" {
			t.Errorf("%s: %+v changed %v err %v", tt.name, net, changed, err)
		}
	}
	nets, subs := neutron.Objects("networks"), neutron.Objects("subnets")
	if len(nets) != 1 || nets[0]["shared"] != true || len(subs) != 1 || subs[0]["gateway_ip"] != "10.96.250.10" {
		t.Errorf("networks %v subnets %v", nets, subs)
	}
}
