package provision

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

// newNetwork is the network steps over a fake neutron, for the fault
// tests (faults_test.go): a real neutron answers no 500 on demand.
func newNetwork(t *testing.T, neutron http.Handler) *Network {
	t.Helper()
	return NewNetwork(openstackfake.Client(t, neutron, "v2.0/"))
}

// TestOctaviaNetworkTwice makes octavia's management network, subnet and
// security groups in the test bed's neutron, in a project of the run's
// own: the first run makes each, the second changes nothing, each exists
// once with every rule asked for; a subnet of the name with another CIDR
// is an error naming the CIDR it has.
func TestOctaviaNetworkTwice(t *testing.T) {
	r := newReal(t)
	ctx := context.Background()
	project := runName(t, "project")
	netName, subName := runName(t, "lb-mgmt-net"), runName(t, "lb-mgmt-subnet")
	groupRules := map[string][]Rule{runName(t, "lb-health-mgr-sec-grp"): LBHealthManagerRules, runName(t, "lb-mgmt-sec-grp"): LBManagementRules}
	t.Cleanup(func() { deleteProjectNetworking(r.clients["network"], project) })
	run := func() (changes int) {
		_, ch, err := r.network.EnsureNetwork(ctx, NetworkSpec{Name: netName, ProjectID: project,
			Subnets: []SubnetSpec{{Name: subName, CIDR: "172.24.0.0/22"}}})
		if err != nil {
			t.Fatal(err)
		}
		changes += b2i(ch)
		for name, rs := range groupRules {
			_, ch, err := r.network.EnsureSecurityGroup(ctx, name, project, "octavia", rs)
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
	client := r.clients["network"]
	nets := listNetworks(t, client, networks.ListOpts{Name: netName, ProjectID: project})
	if len(nets) != 1 {
		t.Fatalf("%d networks %s, want 1", len(nets), netName)
	}
	if subs := listSubnets(t, client, subnets.ListOpts{Name: subName, NetworkID: nets[0].ID}); len(subs) != 1 || subs[0].CIDR != "172.24.0.0/22" {
		t.Errorf("subnets %+v, want one 172.24.0.0/22", subs)
	}
	for name, want := range groupRules {
		sgs := listGroups(t, client, groups.ListOpts{Name: name, ProjectID: project})
		if len(sgs) != 1 {
			t.Errorf("%d security groups %s, want 1", len(sgs), name)
			continue
		}
		have := listRules(t, client, sgs[0].ID)
		for _, w := range want {
			if !hasRule(have, w) {
				t.Errorf("%s has no rule %+v: %+v", name, w, have)
			}
		}
	}
	if _, _, err := r.network.EnsureSubnet(ctx, nets[0].ID, SubnetSpec{Name: subName, CIDR: "10.0.0.0/24"}); err == nil ||
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

// TestProviderNetwork ensures a neutron_networks entry in the test bed's
// neutron: an external flat network (on a physical network of the run's
// own: neutron allows one flat network per physical network) with a
// subnet; sharing it later is an update in place, and another provider
// type is refused with the attributes named.
func TestProviderNetwork(t *testing.T) {
	r := newReal(t)
	ctx := context.Background()
	yes, no := true, false
	name, physnet := runName(t, "public"), runName(t, "ext")
	if len(physnet) > 64 {
		physnet = physnet[len(physnet)-64:]
	}
	project := runName(t, "project")
	t.Cleanup(func() { deleteProjectNetworking(r.clients["network"], project) })
	spec := NetworkSpec{Name: name, ProjectID: project, External: &yes, Shared: &no, ProviderType: "flat", PhysicalNetwork: physnet,
		Subnets: []SubnetSpec{{Name: name + "-subnet", CIDR: "10.96.250.0/24", GatewayIP: "10.96.250.10", EnableDHCP: &no,
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
		net, changed, err := r.network.EnsureNetwork(ctx, spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: err %v, want one naming the network and %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || changed != tt.changed || !net.External || net.NetworkType != "flat" || net.PhysicalNetwork != physnet {
			t.Errorf("%s: %+v changed %v (want %v) err %v", tt.name, net, changed, tt.changed, err)
		}
	}
	client := r.clients["network"]
	nets := listNetworks(t, client, networks.ListOpts{Name: name, ProjectID: project})
	if len(nets) != 1 || !nets[0].Shared {
		t.Fatalf("networks %+v, want one, shared", nets)
	}
	subs := listSubnets(t, client, subnets.ListOpts{NetworkID: nets[0].ID})
	if len(subs) != 1 || subs[0].GatewayIP != "10.96.250.10" || subs[0].EnableDHCP || len(subs[0].DNSNameservers) != 1 {
		t.Errorf("subnets %+v, want one with gateway 10.96.250.10, no DHCP, one DNS server", subs)
	}
}

func listNetworks(t *testing.T, client *gophercloud.ServiceClient, opts networks.ListOpts) []networks.Network {
	t.Helper()
	got, err := all(context.Background(), networks.List(client, opts), networks.ExtractNetworks)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func listSubnets(t *testing.T, client *gophercloud.ServiceClient, opts subnets.ListOpts) []subnets.Subnet {
	t.Helper()
	got, err := all(context.Background(), subnets.List(client, opts), subnets.ExtractSubnets)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func listGroups(t *testing.T, client *gophercloud.ServiceClient, opts groups.ListOpts) []groups.SecGroup {
	t.Helper()
	got, err := all(context.Background(), groups.List(client, opts), groups.ExtractGroups)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func listRules(t *testing.T, client *gophercloud.ServiceClient, group string) []rules.SecGroupRule {
	t.Helper()
	got, err := all(context.Background(), rules.List(client, rules.ListOpts{SecGroupID: group}), rules.ExtractRules)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
