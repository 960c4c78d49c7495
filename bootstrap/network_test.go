package bootstrap

import (
	"context"
	"net/http"
	"strings"
	"testing"

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
		net, ch, err := n.EnsureNetwork(ctx, "lb-mgmt-net", "service")
		if err != nil {
			t.Fatal(err)
		}
		changes += b2i(ch)
		_, ch, err = n.EnsureSubnet(ctx, net.ID, "lb-mgmt-subnet", "172.24.0.0/22")
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
	if first := run(); first != 4 {
		t.Errorf("first run: %d changes, want 4", first)
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
	if _, _, err := n.EnsureSubnet(ctx, neutron.Objects("networks")[0]["id"].(string), "lb-mgmt-subnet", "10.0.0.0/24"); err == nil ||
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
