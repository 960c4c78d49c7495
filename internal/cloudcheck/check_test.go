package cloudcheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

// TestRunAgainstTheTestBed runs the checks with the openstack command
// against the test bed's keystone and APIs: the catalog entries the test
// bed registers in its region are found with their URLs, and a cloud
// lacking what a Want asks for (a flavor, an image, a network, a security
// group, a health-manager port, a catalog entry) fails naming each, while
// every listing is still returned for the record.
func TestRunAgainstTheTestBed(t *testing.T) {
	apis := testenv.OpenStackAPIs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := Client{Clouds: apis.Clouds, Cloud: testenv.CloudName}
	url := func(typ string) map[gophercloud.Availability]string {
		u := apis.Endpoints[typ]
		return map[gophercloud.Availability]string{gophercloud.AvailabilityPublic: u, gophercloud.AvailabilityInternal: u, gophercloud.AvailabilityAdmin: u}
	}
	cases := []struct {
		name string
		want Want
		// errs are what the joined error must name; none: it must pass.
		errs []string
	}{
		{name: "the test bed's catalog", want: Want{Region: testenv.OpenStackRegion,
			Catalog: map[string]map[gophercloud.Availability]string{"compute nova": url("compute"), "network neutron": url("network")}}},
		{name: "what is missing", want: Want{Region: testenv.OpenStackRegion,
			Catalog:          map[string]map[gophercloud.Availability]string{"compute nova": {gophercloud.AvailabilityPublic: "https://compute.nowhere.test/v2.1"}},
			Flavors:          []string{"m1.cloudcheck-missing"},
			Images:           []string{"cloudcheck-missing-image"},
			Networks:         []string{"cloudcheck-missing-net"},
			ManagementSubnet: [2]string{"cloudcheck-missing-subnet", "10.0.0.0/24"},
			SecurityGroups:   map[string][]string{"cloudcheck-missing-sg": {"tcp 22:22"}},
			Controllers:      []string{"cloudcheck-missing-host"},
			UnlimitedQuotas:  []string{"instances"}},
			errs: []string{"compute nova has public URLs", "no flavor m1.cloudcheck-missing", "no active image cloudcheck-missing-image",
				"no network cloudcheck-missing-net", "subnet list --network cloudcheck-missing-net", "no security group cloudcheck-missing-sg",
				"security group rule list cloudcheck-missing-sg", "port show octavia-health-manager-port-cloudcheck-missing-host"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			listings, err := Run(ctx, c, tc.want)
			if len(tc.errs) == 0 && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(tc.errs) > 0 && err == nil {
				t.Fatalf("Run passed; want it to name %v", tc.errs)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not name %q:\n%v", want, err)
				}
			}
			if len(listings) != len(checksOf(tc.want)) {
				t.Errorf("%d listings, want %d", len(listings), len(checksOf(tc.want)))
			}
			for _, l := range listings {
				if l.Args[0] == "catalog" && !strings.Contains(l.Table, apis.Endpoints["compute"]) {
					t.Errorf("the catalog listing lacks the test bed's compute URL:\n%s", l.Table)
				}
			}
		})
	}
}
