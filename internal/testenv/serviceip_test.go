package testenv

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// TestKwokInventoryFixedIPsAreInTheStaticBand: the fixed cluster IPs of
// the kwok inventory lie in the static band of the test cluster's Service
// range, where no Service made before them can have taken them.
func TestKwokInventoryFixedIPsAreInTheStaticBand(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "inventories", "kwok", "group_vars", "all", "kwok.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	if err := yaml.Unmarshal(data, &vars); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	first, last, ok := kubeutil.StaticServiceBand(ServiceRange(t, Kube(t)))
	if !ok {
		t.Fatal("the test cluster's Service range has no static band")
	}
	for _, key := range []string{"neutron_coredns_cluster_ip"} {
		s, _ := vars[key].(string)
		ip, err := netip.ParseAddr(s)
		if err != nil {
			t.Errorf("%s: %s: %v", path, key, err)
			continue
		}
		if ip.Compare(first) < 0 || ip.Compare(last) > 0 {
			t.Errorf("%s: %s %s is outside the static band %s-%s", path, key, ip, first, last)
		}
	}
}
