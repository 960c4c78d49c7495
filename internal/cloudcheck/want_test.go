package cloudcheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// TestWantOf reads what the demo's inventory asks of the cloud: its
// region's catalog with atmosphere's URLs, octavia's and manila's flavors
// and its nova_flavors, its neutron_networks,
// every image the set-up uploads, octavia's network, subnet, security
// groups and the controllers' health-manager ports.
func TestWantOf(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "ATMOSPHERE_DEMO_IMAGE_RAW" || k == "ATMOSPHERE_DEMO_IMAGE_QCOW2" {
			return "http://127.0.0.1:1/disk", true
		}
		return "", false
	}
	w, err := WantOf("../../testdata/inventories/demo", env)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		got, want any
	}{
		{"region", w.Region, "RegionKwok"},
		{"flavors", w.Flavors, []string{"m1.amphora", "m1.manila", "m1.small", "m1.tiny"}},
		{"images", w.Images, []string{"amphora-x64-haproxy", "cirros", "manila-service-image",
			"ubuntu-2204-kube-v1.32.10", "ubuntu-2204-kube-v1.33.7", "ubuntu-2204-kube-v1.34.3"}},
		{"networks", w.Networks, []string{"lb-mgmt-net", "public"}},
		{"subnet", w.ManagementSubnet, [2]string{"lb-mgmt-subnet", "172.24.0.0/22"}},
		{"controllers", w.Controllers, []string{"ctl1", "ctl2", "ctl3"}},
		{"compute", w.Catalog["compute nova"], map[gophercloud.Availability]string{
			gophercloud.AvailabilityPublic:   "https://compute.cloud.atmosphere.test/v2.1",
			gophercloud.AvailabilityInternal: "http://nova-api.openstack.svc.cluster.local:8774/v2.1",
			gophercloud.AvailabilityAdmin:    "http://nova-api.openstack.svc.cluster.local:8774/v2.1"}},
		{"health managers' rules", w.SecurityGroups["lb-health-mgr-sec-grp"], []string{"tcp 10514:10514", "udp 10514:10514", "udp 20514:20514", "udp 5555:5555"}},
		{"amphorae's rules", w.SecurityGroups["lb-mgmt-sec-grp"], []string{"icmp", "tcp 22:22", "tcp 9443:9443"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !equal(tc.got, tc.want) {
				t.Errorf("%v, want %v", tc.got, tc.want)
			}
		})
	}
	for _, key := range []string{"identity keystone", "image glance", "network neutron", "load-balancer octavia", "sharev2 manilav2", "container-infra magnum"} {
		if _, ok := w.Catalog[key]; !ok {
			t.Errorf("no %s in the catalog wanted", key)
		}
	}
}

// equal compares the values of TestWantOf's cases.
func equal(a, b any) bool {
	switch a := a.(type) {
	case []string:
		return slices.Equal(a, b.([]string))
	case [2]string:
		return a == b.([2]string)
	case map[gophercloud.Availability]string:
		b := b.(map[gophercloud.Availability]string)
		if len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if b[k] != v {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestSameURL checks a catalog URL against atmosphere's, whose project
// placeholder keystone fills with the token's project ID.
func TestSameURL(t *testing.T) {
	id := "9fbac78495db467ea095f83e49e42559"
	cases := []struct {
		got, want string
		same      bool
	}{
		{"http://nova:8774/v2.1", "http://nova:8774/v2.1", true},
		{"http://cinder:8776/v3/" + id, "http://cinder:8776/v3/%(tenant_id)s", true},
		{"http://heat:8004/v1/" + id, "http://heat:8004/v1/%(project_id)s", true},
		{"http://heat:8004/v1/" + id + "/x", "http://heat:8004/v1/%(project_id)s", false},
		{"http://heat:8004/v2/" + id, "http://heat:8004/v1/%(project_id)s", false},
		{"http://nova.x:8774/v2.1", "http://nova:8774/v2.1", false},
	}
	for _, tc := range cases {
		if got := sameURL(tc.got, tc.want); got != tc.same {
			t.Errorf("sameURL(%s, %s) = %v, want %v", tc.got, tc.want, got, tc.same)
		}
	}
}

// TestWantOfFollowsTheSetupKnobs: with octavia's and manila's set-up knobs
// set in the inventory, what a check of the cloud looks for is what the
// set-up makes under them: octavia's management network, subnet and CIDR
// and amphora security group, the amphora and share-server flavors and
// the amphora image.
func TestWantOfFollowsTheSetupKnobs(t *testing.T) {
	// The demo's inventory, its files linked from a directory of the
	// test's own (some are links to other inventories' files).
	dir := t.TempDir()
	demo := "../../testdata/inventories/demo"
	for _, f := range []string{"hosts.ini", "group_vars/all/kwok.yml", "group_vars/all/molecule.yml", "group_vars/all/zz-demo.yml"} {
		src, err := filepath.EvalSymlinks(filepath.Join(demo, f))
		if err == nil {
			src, err = filepath.Abs(src)
		}
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		}
		if err == nil {
			err = os.Symlink(src, filepath.Join(dir, f))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	knobs := "octavia_management_network_name: mgmt\noctavia_management_subnet_name: mgmt-v4\n" +
		"octavia_management_subnet_cidr: 10.10.0.0/16\noctavia_amphora_security_group_name: amphorae\n" +
		"octavia_amphora_flavor_name: lb.big\nmanila_flavor_name: share.small\noctavia_amphora_image_name: amphora-jammy\n"
	if err := os.WriteFile(filepath.Join(dir, "group_vars", "all", "zz-setup-knobs.yml"), []byte(knobs), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := WantOf(dir, func(k string) (string, bool) {
		if strings.HasPrefix(k, "ATMOSPHERE_DEMO_IMAGE_") {
			return "http://127.0.0.1:1/disk", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		got, want any
	}{
		{"networks", w.Networks, []string{"mgmt", "public"}},
		{"subnet", w.ManagementSubnet, [2]string{"mgmt-v4", "10.10.0.0/16"}},
		{"amphorae's rules", w.SecurityGroups["amphorae"], []string{"icmp", "tcp 22:22", "tcp 9443:9443"}},
		{"no default amphorae's group", w.SecurityGroups["lb-mgmt-sec-grp"], []string(nil)},
		{"flavors", w.Flavors, []string{"lb.big", "m1.small", "m1.tiny", "share.small"}},
		{"images", w.Images, []string{"amphora-jammy", "cirros", "manila-service-image",
			"ubuntu-2204-kube-v1.32.10", "ubuntu-2204-kube-v1.33.7", "ubuntu-2204-kube-v1.34.3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !equal(tc.got, tc.want) {
				t.Errorf("%v, want %v", tc.got, tc.want)
			}
		})
	}
}
