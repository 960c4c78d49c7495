package provision

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"
)

// real are the step sets over the test bed's nova, neutron, glance and
// cinder (testenv.OpenStackAPIs), each from its own authentication: two
// values of real are what two processes running the same steps have.
type real struct {
	cloud   *openstack.Cloud
	compute *Compute
	network *Network
	images  *Images
	volume  *Volume
	// clients by service type, to read back what the steps did.
	clients map[string]*gophercloud.ServiceClient
	// apis are the test bed's APIs, for their logs.
	apis *testenv.OpenStack
}

// newReal authenticates to the test bed's APIs and makes each step set.
func newReal(t *testing.T) *real {
	t.Helper()
	apis := testenv.OpenStackAPIs(t)
	ctx := context.Background()
	cloud, err := openstack.FromClouds(ctx, testenv.CloudName, apis.Clouds)
	if err != nil {
		t.Fatal(err)
	}
	r := &real{cloud: cloud, clients: map[string]*gophercloud.ServiceClient{}, apis: apis}
	for typ, make := range map[string]func(context.Context) (*gophercloud.ServiceClient, error){
		"compute": cloud.Compute, "network": cloud.Network, "image": cloud.Image, "volumev3": cloud.BlockStorage,
	} {
		c, err := make(ctx)
		if err != nil {
			t.Fatalf("%s client: %v", typ, err)
		}
		r.clients[typ] = c
	}
	r.compute, r.network = NewCompute(r.clients["compute"]), NewNetwork(r.clients["network"])
	r.images, r.volume = NewImages(r.clients["image"], nil), NewVolume(r.clients["volumev3"])
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the test bed's API logs:\n%s", apis.Logs(8))
		}
	})
	return r
}

// runCount numbers the names runName makes in this process.
var runCount atomic.Int64

// runName is a name no other run of any test has used: the objects of the
// test bed's APIs outlive a test run.
func runName(t *testing.T, s string) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return fmt.Sprintf("%s-%s-%d-%x-%d", s, name, os.Getpid(), time.Now().UnixNano()&0xffffff, runCount.Add(1))
}

func listNetworksQuiet(client *gophercloud.ServiceClient, project string) []string {
	got, _ := all(context.Background(), networks.List(client, networks.ListOpts{ProjectID: project}), networks.ExtractNetworks)
	var ids []string
	for _, n := range got {
		ids = append(ids, n.ID)
	}
	return ids
}

func listGroupsQuiet(client *gophercloud.ServiceClient, project string) []string {
	got, _ := all(context.Background(), groups.List(client, groups.ListOpts{ProjectID: project}), groups.ExtractGroups)
	var ids []string
	for _, g := range got {
		ids = append(ids, g.ID)
	}
	return ids
}

// networksDelete deletes a network with its subnets (neutron removes them).
func networksDelete(ctx context.Context, client *gophercloud.ServiceClient, id string) error {
	return networks.Delete(ctx, client, id).ExtractErr()
}

func groupsDelete(ctx context.Context, client *gophercloud.ServiceClient, id string) error {
	return groups.Delete(ctx, client, id).ExtractErr()
}
