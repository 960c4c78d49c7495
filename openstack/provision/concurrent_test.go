package provision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// TestStepsConcurrently runs each step twice at once against the test
// bed's APIs, then once more: from two goroutines sharing one step set (as
// a deploy's units do), and from two step sets of their own (as two
// processes would, sharing nothing but the services). Each time the object
// exists once, and the run after changes nothing.
//
// Across processes only the objects whose service refuses a second of the
// name (nova's flavors and keypairs: 409) are checked. Neutron and glance
// take a second network, security group, port or image of a name, and
// two processes that list, see none and create at once make two (seen
// here: 2 networks with 2 subnets, 2 security groups, 2 ports); the steps
// serialise on a name within a process only, and the deploy Lease keeps
// a second deploy of the cloud out.
func TestStepsConcurrently(t *testing.T) {
	for _, mode := range []string{"one step set", "two step sets"} {
		t.Run(mode, func(t *testing.T) {
			a := newReal(t)
			b := a
			if mode == "two step sets" {
				b = newReal(t)
			}
			ctx := context.Background()
			project := runName(t, "project")
			t.Cleanup(func() { deleteProjectNetworking(a.clients["network"], project) })
			imageFile := filepath.Join(t.TempDir(), "cirros.img")
			if err := os.WriteFile(imageFile, []byte("cirros image data"), 0o600); err != nil {
				t.Fatal(err)
			}
			net, _, err := a.network.EnsureNetwork(ctx, NetworkSpec{Name: runName(t, "port-net"), ProjectID: project,
				Subnets: []SubnetSpec{{Name: runName(t, "port-subnet"), CIDR: "172.24.0.0/22"}}})
			if err != nil {
				t.Fatal(err)
			}
			flavor, key, image := runName(t, "m1.amphora"), runName(t, "octavia-ssh-key"), runName(t, "amphora")
			publicKey := newPublicKey(t)
			netName, subName, groupName, portName := runName(t, "lb-mgmt-net"), runName(t, "lb-mgmt-subnet"), runName(t, "lb-mgmt-sec-grp"), runName(t, "hm-port")
			t.Cleanup(func() {
				deleteFlavors(a.clients["compute"], flavor)
				_ = keypairs.Delete(context.Background(), a.clients["compute"], key, nil).ExtractErr()
				deleteImages(a.clients["image"], image)
			})
			steps := []struct {
				name string
				// unique: the service refuses a second of the name.
				unique bool
				step   func(context.Context, *real) (bool, error)
				count  func() int
			}{
				{"flavor", true, func(ctx context.Context, r *real) (bool, error) {
					_, ch, err := r.compute.EnsureFlavor(ctx, Flavor{Name: flavor, VCPUs: 1, RAM: 1024, Disk: 2})
					return ch, err
				}, func() int { return len(flavorsNamed(t, a.clients["compute"], flavor)[flavor]) }},
				{"keypair", true, func(ctx context.Context, r *real) (bool, error) {
					_, ch, err := r.compute.EnsureKeypair(ctx, Keypair{Name: key, PublicKey: publicKey})
					return ch, err
				}, func() int {
					_, err := keypairs.Get(ctx, a.clients["compute"], key, nil).Extract()
					return map[bool]int{true: 1}[err == nil]
				}},
				{"network and subnet", false, func(ctx context.Context, r *real) (bool, error) {
					_, ch, err := r.network.EnsureNetwork(ctx, NetworkSpec{Name: netName, ProjectID: project,
						Subnets: []SubnetSpec{{Name: subName, CIDR: "172.24.0.0/22"}}})
					return ch, err
				}, func() int {
					return len(listNetworks(t, a.clients["network"], networks.ListOpts{Name: netName, ProjectID: project})) *
						len(listSubnets(t, a.clients["network"], subnets.ListOpts{Name: subName}))
				}},
				{"security group", false, func(ctx context.Context, r *real) (bool, error) {
					_, ch, err := r.network.EnsureSecurityGroup(ctx, groupName, project, "octavia", LBManagementRules)
					return ch, err
				}, func() int {
					sgs := listGroups(t, a.clients["network"], groups.ListOpts{Name: groupName, ProjectID: project})
					if len(sgs) != 1 {
						return len(sgs)
					}
					// Each rule once (neutron refuses a second, 409).
					for _, w := range LBManagementRules {
						if !hasRule(listRules(t, a.clients["network"], sgs[0].ID), w) {
							return 0
						}
					}
					return 1
				}},
				{"port", false, func(ctx context.Context, r *real) (bool, error) {
					_, ch, err := r.network.EnsurePort(ctx, Port{Name: portName, NetworkID: net.ID, ProjectID: project, HostID: "ctl1",
						DeviceOwner: "Octavia:health-mgr"})
					return ch, err
				}, func() int {
					got, err := all(ctx, ports.List(a.clients["network"], ports.ListOpts{Name: portName, NetworkID: net.ID}), ports.ExtractPorts)
					if err != nil {
						t.Fatal(err)
					}
					return len(got)
				}},
				{"image", false, func(ctx context.Context, r *real) (bool, error) {
					_, ch, err := r.images.EnsureImage(ctx, Image{Name: image, Source: imageFile, DiskFormat: "raw"})
					return ch, err
				}, func() int { return len(imagesNamed(t, a.clients["image"], image)) }},
			}
			for _, s := range steps {
				if a != b && !s.unique {
					continue
				}
				t.Run(s.name, func(t *testing.T) {
					var wg sync.WaitGroup
					errs := make([]error, 2)
					changed := make([]bool, 2)
					for i, r := range []*real{a, b} {
						wg.Go(func() { changed[i], errs[i] = s.step(ctx, r) })
					}
					wg.Wait()
					if err := errors.Join(errs...); err != nil {
						t.Fatal(err)
					}
					if !changed[0] && !changed[1] {
						t.Errorf("neither run made it")
					}
					if n := s.count(); n != 1 {
						t.Errorf("%d made, want 1", n)
					}
					if ch, err := s.step(ctx, a); err != nil || ch {
						t.Errorf("the run after: changed %v err %v", ch, err)
					}
				})
			}
		})
	}
}
