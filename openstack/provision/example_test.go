package provision_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// Run one bootstrap step: make sure a flavor exists as wanted. A step
// changes only what differs, so the second call changes nothing. Here the
// compute API is the test fake of nova; in a deploy it is the client
// openstack.Cloud.Compute gives.
func ExampleCompute_EnsureFlavor() {
	nova := httptest.NewServer(&openstackfake.Nova{})
	defer nova.Close()
	client := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{}, Endpoint: nova.URL + "/"}
	compute := provision.NewCompute(client)
	ctx := context.Background()
	want := provision.Flavor{Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20, Public: true}

	f, changed, err := compute.EnsureFlavor(ctx, want)
	fmt.Println(f.Name, f.VCPUs, f.RAM, f.Disk, "changed:", changed, err)
	_, changed, err = compute.EnsureFlavor(ctx, want)
	fmt.Println("again, changed:", changed, err)
	// Output:
	// m1.small 1 2048 20 changed: true <nil>
	// again, changed: false <nil>
}
