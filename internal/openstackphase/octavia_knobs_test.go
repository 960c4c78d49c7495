package openstackphase

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/vexxhost/atmosphere-go/components"
)

// factMap records the facts a set-up writes.
type factMap struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *factMap) Set(key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[key] = value
}

// TestOctaviaSetupFollowsItsKnobs runs octavia's set-up against the test
// bed's keystone, nova, neutron and glance with the role's knobs set to
// other values than its defaults (flavor name, sizes and extra specs,
// management network, subnet and CIDR, amphora security group, image name,
// formats and tags): the objects are made with those names and values,
// the facts octavia's values read (amp_flavor_id, amp_boot_network_list,
// amp_secgroup_list) are their IDs, and a second run changes nothing. The
// names are this run's own, and removed at the end.
func TestOctaviaSetupFollowsItsKnobs(t *testing.T) {
	ctx := context.Background()
	rc := newRealCloud(t)
	apis, sc, source, clients := rc.apis, rc.sc, rc.source, rc.clients
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the test bed's API logs:\n%s", apis.Logs(10))
		}
	})

	sfx := fmt.Sprint(os.Getpid())
	names := map[string]string{
		"flavor": "lb.knobs-" + sfx, "network": "lb-knobs-net-" + sfx, "subnet": "lb-knobs-subnet-" + sfx,
		"sg": "lb-knobs-sg-" + sfx, "image": "amphora-knobs-" + sfx, "host": "knobs-" + sfx,
	}
	const cidr = "10.224.8.0/22"
	specs := map[string]string{"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}
	t.Cleanup(func() { removeOctaviaKnobObjects(sc, names) })
	settings := components.DefaultSettings()
	settings.Vars = map[string]any{
		"octavia_amphora_flavor_name":            names["flavor"],
		"octavia_amphora_flavor_vcpus":           1,
		"octavia_amphora_flavor_ram":             1024,
		"octavia_amphora_flavor_disk":            5,
		"octavia_amphora_flavor_extra_specs":     map[string]any{"hw:cpu_policy": "dedicated", "hw:numa_nodes": 1},
		"octavia_management_network_name":        names["network"],
		"octavia_management_subnet_name":         names["subnet"],
		"octavia_management_subnet_cidr":         cidr,
		"octavia_amphora_security_group_name":    names["sg"],
		"octavia_amphora_image_name":             names["image"],
		"octavia_amphora_image_url":              source.URL + "/amphora.qcow2",
		"octavia_amphora_image_container_format": "bare",
		"octavia_amphora_image_disk_format":      "qcow2",
		"octavia_amphora_image_tags":             []any{"amphora-knobs"},
		"cluster_issuer_type":                    "self-signed",
		// As atmosphere's generate_workspace writes them: keepalived,
		// enabled by default, needs them.
		"keepalived_interface": "br-ex",
		"keepalived_vip":       "10.96.250.10",
	}
	if problems := components.Default().CheckKnobs(components.DefaultConfig(), settings.Vars); len(problems) > 0 {
		t.Fatalf("refused: %v", problems)
	}
	// The inventory names a Secret of its own for the amphorae's key: no
	// keypair (its name is fixed, shared with the other set-up tests).
	settings.Facts = func(component string) map[string]string {
		if component == "octavia" {
			return map[string]string{"ssh_key_secret": "octavia-knobs-key"}
		}
		return nil
	}
	settings.Setup.OctaviaControllers = []string{names["host"]}
	octavia, ok := components.Default().Get("octavia")
	if !ok {
		t.Fatal("no octavia")
	}
	facts := &factMap{}
	s := &components.Setup{Clients: clients, Settings: settings, Facts: facts}

	if changed, err := octavia.Setup(ctx, s); err != nil || !changed {
		t.Fatalf("first run: changed %v, %v; want changed", changed, err)
	}

	flavor := named(t, "flavor", names["flavor"], func() ([]flavors.Flavor, error) {
		p, err := flavors.ListDetail(sc["compute"], flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return flavors.ExtractFlavors(p)
	}, func(f flavors.Flavor) string { return f.Name })
	if flavor.VCPUs != 1 || flavor.RAM != 1024 || flavor.Disk != 5 || flavor.IsPublic || facts.m["amp_flavor_id"] != flavor.ID {
		t.Errorf("flavor %+v (amp_flavor_id %s), want 1 vCPU, 1024 MiB, 5 GiB, private", flavor, facts.m["amp_flavor_id"])
	}
	if got, err := flavors.ListExtraSpecs(ctx, sc["compute"], flavor.ID).Extract(); err != nil || !maps.Equal(got, specs) {
		t.Errorf("flavor's extra specs %v err %v, want %v", got, err, specs)
	}
	network := named(t, "network", names["network"], func() ([]networks.Network, error) {
		p, err := networks.List(sc["network"], networks.ListOpts{Name: names["network"]}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return networks.ExtractNetworks(p)
	}, func(n networks.Network) string { return n.Name })
	if facts.m["amp_boot_network_list"] != network.ID {
		t.Errorf("amp_boot_network_list %s, want the network %s", facts.m["amp_boot_network_list"], network.ID)
	}
	subnet := named(t, "subnet", names["subnet"], func() ([]subnets.Subnet, error) {
		p, err := subnets.List(sc["network"], subnets.ListOpts{NetworkID: network.ID}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return subnets.ExtractSubnets(p)
	}, func(s subnets.Subnet) string { return s.Name })
	if subnet.CIDR != cidr || subnet.GatewayIP != "" {
		t.Errorf("subnet %s: CIDR %s gateway %q, want %s without a gateway", subnet.Name, subnet.CIDR, subnet.GatewayIP, cidr)
	}
	sg := named(t, "security group", names["sg"], func() ([]groups.SecGroup, error) {
		p, err := groups.List(sc["network"], groups.ListOpts{Name: names["sg"]}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return groups.ExtractGroups(p)
	}, func(g groups.SecGroup) string { return g.Name })
	if facts.m["amp_secgroup_list"] != sg.ID {
		t.Errorf("amp_secgroup_list %s, want the security group %s", facts.m["amp_secgroup_list"], sg.ID)
	}
	image := named(t, "image", names["image"], func() ([]images.Image, error) {
		p, err := images.List(sc["image"], images.ListOpts{Name: names["image"]}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		return images.ExtractImages(p)
	}, func(i images.Image) string { return i.Name })
	if image.DiskFormat != "qcow2" || image.ContainerFormat != "bare" || strings.Join(image.Tags, ",") != "amphora-knobs" {
		t.Errorf("image %s: %s/%s tags %v, want qcow2/bare tagged amphora-knobs", image.Name, image.DiskFormat, image.ContainerFormat, image.Tags)
	}

	if changed, err := octavia.Setup(ctx, s); err != nil || changed {
		t.Errorf("second run: changed %v, %v; want nothing changed", changed, err)
	}
}

// named is the one object of a kind list returns whose name is name; the
// test fails when there is none or more than one.
func named[T any](t *testing.T, kind, name string, list func() ([]T, error), nameOf func(T) string) T {
	t.Helper()
	all, err := list()
	if err != nil {
		t.Fatalf("list %s: %v", kind, err)
	}
	var found []T
	for _, o := range all {
		if nameOf(o) == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s named %s, want one", len(found), kind, name)
	}
	return found[0]
}

// removeOctaviaKnobObjects deletes what TestOctaviaSetupFollowsItsKnobs
// made under its own names: the health-manager port, the network, the
// security group, the flavor and the image.
func removeOctaviaKnobObjects(sc map[string]*gophercloud.ServiceClient, names map[string]string) {
	ctx := context.Background()
	if p, err := networks.List(sc["network"], networks.ListOpts{Name: names["network"]}).AllPages(ctx); err == nil {
		nets, _ := networks.ExtractNetworks(p)
		for _, n := range nets {
			if pp, err := ports.List(sc["network"], ports.ListOpts{NetworkID: n.ID}).AllPages(ctx); err == nil {
				ps, _ := ports.ExtractPorts(pp)
				for _, port := range ps {
					_ = ports.Delete(ctx, sc["network"], port.ID).ExtractErr()
				}
			}
			_ = networks.Delete(ctx, sc["network"], n.ID).ExtractErr()
		}
	}
	if p, err := groups.List(sc["network"], groups.ListOpts{Name: names["sg"]}).AllPages(ctx); err == nil {
		gs, _ := groups.ExtractGroups(p)
		for _, g := range gs {
			_ = groups.Delete(ctx, sc["network"], g.ID).ExtractErr()
		}
	}
	if p, err := flavors.ListDetail(sc["compute"], flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx); err == nil {
		fs, _ := flavors.ExtractFlavors(p)
		for _, f := range fs {
			if f.Name == names["flavor"] {
				_ = flavors.Delete(ctx, sc["compute"], f.ID).ExtractErr()
			}
		}
	}
	if p, err := images.List(sc["image"], images.ListOpts{Name: names["image"]}).AllPages(ctx); err == nil {
		is, _ := images.ExtractImages(p)
		for _, i := range is {
			_ = images.Delete(ctx, sc["image"], i.ID).ExtractErr()
		}
	}
}
