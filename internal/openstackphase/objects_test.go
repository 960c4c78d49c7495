package openstackphase

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// The names TestSetupThroughTheScheduler's set-up gives its objects:
// atmosphere's own (octavia's, manila's, magnum's) and the test's settings.
var setupNames = map[string][]string{
	"flavors":         {"m1.amphora", "m1.manila", "m1.small"},
	"networks":        {"lb-mgmt-net", "public"},
	"ports":           {"octavia-health-manager-port-ctl1", "octavia-health-manager-port-ctl2", "octavia-health-manager-port-ctl3"},
	"security-groups": {"lb-mgmt-sec-grp", "lb-health-mgr-sec-grp", "manila-service"},
	"images": {"amphora-x64-haproxy", "manila-service-image", "cirros",
		"ubuntu-2204-kube-v1.32.10", "ubuntu-2204-kube-v1.33.7", "ubuntu-2204-kube-v1.34.3"},
}

// object is what setupObjects needs of a listed object.
type object struct{ id, name string }

// listAll lists every object of a kind the admin sees.
func listAll(t *testing.T, sc map[string]*gophercloud.ServiceClient, kind string) []object {
	t.Helper()
	ctx := context.Background()
	var pager pagination.Pager
	var extract func(pagination.Page) ([]object, error)
	switch kind {
	case "flavors":
		pager = flavors.ListDetail(sc["compute"], flavors.ListOpts{AccessType: flavors.AllAccess})
		extract = func(p pagination.Page) ([]object, error) {
			got, err := flavors.ExtractFlavors(p)
			return mapObjects(got, func(f flavors.Flavor) object { return object{f.ID, f.Name} }), err
		}
	case "networks":
		pager = networks.List(sc["network"], nil)
		extract = func(p pagination.Page) ([]object, error) {
			got, err := networks.ExtractNetworks(p)
			return mapObjects(got, func(n networks.Network) object { return object{n.ID, n.Name} }), err
		}
	case "ports":
		pager = ports.List(sc["network"], nil)
		extract = func(p pagination.Page) ([]object, error) {
			got, err := ports.ExtractPorts(p)
			return mapObjects(got, func(n ports.Port) object { return object{n.ID, n.Name} }), err
		}
	case "security-groups":
		pager = groups.List(sc["network"], groups.ListOpts{})
		extract = func(p pagination.Page) ([]object, error) {
			got, err := groups.ExtractGroups(p)
			return mapObjects(got, func(n groups.SecGroup) object { return object{n.ID, n.Name} }), err
		}
	case "images":
		pager = images.List(sc["image"], nil)
		extract = func(p pagination.Page) ([]object, error) {
			got, err := images.ExtractImages(p)
			return mapObjects(got, func(n images.Image) object { return object{n.ID, n.Name} }), err
		}
	default:
		t.Fatalf("no kind %s", kind)
	}
	var out []object
	err := pager.EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		got, err := extract(p)
		out = append(out, got...)
		return true, err
	})
	if err != nil {
		t.Fatalf("list %s: %v", kind, err)
	}
	return out
}

func mapObjects[T any](in []T, f func(T) object) []object {
	out := make([]object, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

// setupObjects returns, by kind, the names of the set-up's objects in the
// test bed's APIs, once per object (a duplicate shows twice).
func setupObjects(t *testing.T, sc map[string]*gophercloud.ServiceClient) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for kind, names := range setupNames {
		for _, o := range listAll(t, sc, kind) {
			if slices.Contains(names, o.name) {
				out[kind] = append(out[kind], o.name)
			}
		}
		slices.Sort(out[kind])
	}
	return out
}

// removeSetupObjects deletes what an earlier run left of the set-up's
// objects in the test bed's APIs (ports and networks, then security
// groups, flavors, images and the admin's keypair), so that the first run
// makes them.
func removeSetupObjects(t *testing.T, sc map[string]*gophercloud.ServiceClient) {
	t.Helper()
	ctx := context.Background()
	nets := listAll(t, sc, "networks")
	var netIDs []string
	for _, n := range nets {
		if slices.Contains(setupNames["networks"], n.name) {
			netIDs = append(netIDs, n.id)
		}
	}
	for _, id := range netIDs {
		got, err := ports.List(sc["network"], ports.ListOpts{NetworkID: id}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := ports.ExtractPorts(got)
		for _, p := range ps {
			if err := ports.Delete(ctx, sc["network"], p.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
				t.Fatalf("delete port %s: %v", p.Name, err)
			}
		}
	}
	del := map[string]func(string) error{
		"networks":        func(id string) error { return networks.Delete(ctx, sc["network"], id).ExtractErr() },
		"security-groups": func(id string) error { return groups.Delete(ctx, sc["network"], id).ExtractErr() },
		"flavors":         func(id string) error { return flavors.Delete(ctx, sc["compute"], id).ExtractErr() },
		"images":          func(id string) error { return images.Delete(ctx, sc["image"], id).ExtractErr() },
	}
	for _, kind := range []string{"networks", "security-groups", "flavors", "images"} {
		for _, o := range listAll(t, sc, kind) {
			if !slices.Contains(setupNames[kind], o.name) {
				continue
			}
			if err := del[kind](o.id); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
				t.Fatalf("remove %s %s left by an earlier run: %v", kind, o.name, err)
			}
		}
	}
	if err := keypairs.Delete(ctx, sc["compute"], "octavia-ssh-key", nil).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) &&
		!strings.Contains(err.Error(), "404") {
		t.Fatalf("remove keypair octavia-ssh-key: %v", err)
	}
}
