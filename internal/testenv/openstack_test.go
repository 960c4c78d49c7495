package testenv

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"
	"github.com/gophercloud/gophercloud/v2/pagination"

	gopenstack "github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/vexxhost/atmosphere-go/openstack"
)

// TestOpenStackAPIsAnswer starts the test bed's APIs (or reuses them) and
// lists through each, as the admin of its clouds.yaml, with the endpoints
// found in keystone's catalog in OpenStackRegion: every API checks the
// token with keystone and reads its database.
func TestOpenStackAPIsAnswer(t *testing.T) {
	o := OpenStackAPIs(t)
	ctx := context.Background()
	cloud, err := openstack.FromClouds(ctx, CloudName, o.Clouds)
	if err != nil {
		t.Fatal(err)
	}
	placement, err := gopenstack.NewPlacementV1(cloud.Provider, cloud.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ  string
		list func() (pagination.Page, error)
	}{
		{"compute", func() (pagination.Page, error) {
			c, err := cloud.Compute(ctx)
			if err != nil {
				return nil, err
			}
			return flavors.ListDetail(c, nil).AllPages(ctx)
		}},
		{"network", func() (pagination.Page, error) {
			c, err := cloud.Network(ctx)
			if err != nil {
				return nil, err
			}
			return networks.List(c, nil).AllPages(ctx)
		}},
		{"image", func() (pagination.Page, error) {
			c, err := cloud.Image(ctx)
			if err != nil {
				return nil, err
			}
			return images.List(c, nil).AllPages(ctx)
		}},
		{"volumev3", func() (pagination.Page, error) {
			c, err := cloud.BlockStorage(ctx)
			if err != nil {
				return nil, err
			}
			return volumetypes.List(c, nil).AllPages(ctx)
		}},
		{"placement", func() (pagination.Page, error) {
			return resourceproviders.List(placement, nil).AllPages(ctx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if _, err := tt.list(); err != nil {
				t.Errorf("list through %s at %s: %v\n%s", tt.typ, o.Endpoints[tt.typ], err, o.Logs(10))
			}
		})
	}
}
