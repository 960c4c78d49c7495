package components

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// TestSetupKnobsReachTheSetup: the roles' knobs of octavia's, manila's and
// magnum's set-up (flavors, images' names, formats and tags, octavia's
// management network, subnet, CIDR and amphora security group) reach what
// the set-up makes; left out, each is the role's default.
func TestSetupKnobsReachTheSetup(t *testing.T) {
	const amphoraURL = "https://tarballs.opendev.org/openstack/octavia/test-images/test-only-amphora-x64-haproxy-ubuntu-focal.qcow2"
	const manilaURL = "https://github.com/vexxhost/manila-service-images/releases/download/2026.05-3/manila-service-image.qcow2"
	cases := []struct {
		name string
		vars map[string]any
		// got is what the set-up makes of the settings.
		got  func(Settings) any
		want any
	}{
		{"octavia's defaults are the role's", nil, func(s Settings) any { return octaviaSetupOf(s) }, octaviaSetupConfig{
			ManagementNetwork: provision.NetworkSpec{Name: "lb-mgmt-net",
				Subnets: []provision.SubnetSpec{{Name: "lb-mgmt-subnet", CIDR: "172.24.0.0/22", NoGateway: true}}},
			AmphoraSecurityGroup: "lb-mgmt-sec-grp",
			Flavor:               provision.Flavor{Name: "m1.amphora", VCPUs: 2, RAM: 2048, Disk: 0, ExtraSpecs: map[string]string{}},
			Image: provision.Image{Name: "amphora-x64-haproxy", ContainerFormat: "bare", DiskFormat: "raw",
				Tags: []string{"amphora"}, Source: amphoraURL},
			KeypairName: "octavia-ssh-key", AdminProject: "admin",
		}},
		{"octavia's knobs", map[string]any{
			"octavia_management_network_name":        "mgmt",
			"octavia_management_subnet_name":         "mgmt-v4",
			"octavia_management_subnet_cidr":         "10.10.0.0/16",
			"octavia_amphora_security_group_name":    "amphorae",
			"octavia_amphora_flavor_name":            "lb.big",
			"octavia_amphora_flavor_vcpus":           4,
			"octavia_amphora_flavor_ram":             4096.0,
			"octavia_amphora_flavor_disk":            10,
			"octavia_amphora_flavor_extra_specs":     map[string]any{"hw:cpu_policy": "dedicated", "hw:numa_nodes": 1.0, "trait:CUSTOM_LB": true},
			"octavia_amphora_image_name":             "amphora-jammy",
			"octavia_amphora_image_container_format": "ovf",
			"octavia_amphora_image_disk_format":      "qcow2",
			"octavia_amphora_image_tags":             []any{"amphora", "jammy"},
		}, func(s Settings) any { return octaviaSetupOf(s) }, octaviaSetupConfig{
			ManagementNetwork: provision.NetworkSpec{Name: "mgmt",
				Subnets: []provision.SubnetSpec{{Name: "mgmt-v4", CIDR: "10.10.0.0/16", NoGateway: true}}},
			AmphoraSecurityGroup: "amphorae",
			Flavor: provision.Flavor{Name: "lb.big", VCPUs: 4, RAM: 4096, Disk: 10,
				ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1", "trait:CUSTOM_LB": "True"}},
			Image: provision.Image{Name: "amphora-jammy", ContainerFormat: "ovf", DiskFormat: "qcow2",
				Tags: []string{"amphora", "jammy"}, Source: amphoraURL},
			KeypairName: "octavia-ssh-key", AdminProject: "admin",
		}},
		{"octavia's management names for a check of the cloud", map[string]any{
			"octavia_management_network_name": "mgmt", "octavia_management_subnet_cidr": "10.10.0.0/16",
		}, func(s Settings) any {
			network, subnet, cidr, sg := OctaviaManagement(s)
			return []string{network, subnet, cidr, sg}
		}, []string{"mgmt", "lb-mgmt-subnet", "10.10.0.0/16", "lb-mgmt-sec-grp"}},
		{"manila's defaults are the role's", nil, func(s Settings) any { return manilaSetupOf(s) }, manilaSetupConfig{
			Flavor: provision.Flavor{Name: "m1.manila", VCPUs: 2, RAM: 2048, Disk: 20, ExtraSpecs: map[string]string{}},
			Image:  provision.Image{Name: "manila-service-image", ContainerFormat: "bare", DiskFormat: "qcow2", Source: manilaURL},
		}},
		{"manila's knobs", map[string]any{
			"manila_flavor_name":            "share.small",
			"manila_flavor_vcpus":           1,
			"manila_flavor_ram":             1024,
			"manila_flavor_disk":            40,
			"manila_flavor_extra_specs":     map[string]any{"quota:disk_read_iops_sec": 500, "hw:mem_page_size": "large"},
			"manila_image_name":             "share-image",
			"manila_image_container_format": "ova",
			"manila_image_disk_format":      "raw",
		}, func(s Settings) any { return manilaSetupOf(s) }, manilaSetupConfig{
			Flavor: provision.Flavor{Name: "share.small", VCPUs: 1, RAM: 1024, Disk: 40,
				ExtraSpecs: map[string]string{"quota:disk_read_iops_sec": "500", "hw:mem_page_size": "large"}},
			Image: provision.Image{Name: "share-image", ContainerFormat: "ova", DiskFormat: "raw", Source: manilaURL},
		}},
		{"magnum's formats, default", nil, magnumFormats, []string{"bare raw", "bare raw", "bare raw"}},
		{"magnum's formats", map[string]any{"magnum_image_container_format": "docker", "magnum_image_disk_format": "qcow2",
			"magnum_images": []any{map[string]any{"name": "k8s", "url": "http://127.0.0.1:1/k.qcow2", "distro": "ubuntu"}}},
			magnumFormats, []string{"docker qcow2"}},
		{"the flavors a check of the cloud asks for follow", map[string]any{"octavia_amphora_flavor_name": "lb.big",
			"manila_flavor_name": "share.small"}, func(s Settings) any {
			f := SetupFlavors(s)
			return []string{f["octavia"][0].Name, f["manila"][0].Name}
		}, []string{"lb.big", "share.small"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = tc.vars
			if problems := Default().CheckKnobs(DefaultConfig(), merged(merged(selfSigned, workspaceKeepalived), tc.vars)); len(problems) > 0 {
				t.Fatalf("refused: %v", problems)
			}
			if got := tc.got(s); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// selfSigned is what an inventory needs besides the knobs under test to
// be taken (a cluster issuer without an ACME e-mail).
var selfSigned = map[string]any{"cluster_issuer_type": "self-signed"}

// magnumFormats are the container and disk formats of each image magnum's
// set-up uploads.
func magnumFormats(s Settings) any {
	var out []string
	for _, img := range magnumSetupImages(s) {
		out = append(out, img.ContainerFormat+" "+img.DiskFormat)
	}
	return out
}

// TestSetupKnobsRefused: a set-up knob of the wrong type, or of a value
// the role's step would fail on (a format glance does not take, a flavor
// nova refuses, a CIDR that is none), is refused before the run, naming
// the knob and its value.
func TestSetupKnobsRefused(t *testing.T) {
	cases := []struct {
		key   string
		value any
		want  string
	}{
		{"octavia_amphora_flavor_ram", "lots", `want a whole number, got the string "lots"`},
		{"octavia_amphora_flavor_vcpus", 0, "want a whole number of at least 1, got 0"},
		{"octavia_amphora_flavor_name", "", "want a flavor name, got the empty string"},
		{"octavia_amphora_flavor_extra_specs", map[string]any{"hw:cpu_policy": []any{"dedicated"}}, "hw:cpu_policy: want a string, a number or a boolean, got a list"},
		{"octavia_amphora_flavor_extra_specs", []any{"hw:cpu_policy"}, "want a mapping, got a list"},
		{"octavia_management_subnet_cidr", "172.24.0.0", `want a network in CIDR notation (172.24.0.0/22), got "172.24.0.0"`},
		{"octavia_management_network_name", 5, "want a string, got the number 5"},
		{"octavia_amphora_security_group_name", true, "want a string, got the boolean true"},
		{"octavia_amphora_image_disk_format", "qcow3", `want one of "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop", got the string "qcow3"`},
		{"octavia_amphora_image_tags", []any{"amphora", 1.0}, "want a list of strings, got a list"},
		{"octavia_amphora_image_tags", "amphora", `want a list of strings, got the string "amphora"`},
		{"manila_flavor_disk", -1, "want a whole number of at least 0 (GiB; 0 boots from the image's size), got -1"},
		{"manila_flavor_ram", 1.5, "want a whole number, got the number 1.5"},
		{"manila_image_container_format", "zip", `want one of "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed", got the string "zip"`},
		{"magnum_image_disk_format", 5, "got the number 5"},
		{"magnum_image_container_format", "tar", `got the string "tar"`},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			vars := merged(merged(selfSigned, workspaceKeepalived), map[string]any{tc.key: tc.value})
			problems := Default().CheckKnobs(DefaultConfig(), vars)
			if len(problems) != 1 || problems[0].Key != tc.key || !strings.Contains(problems[0].Message, tc.want) {
				t.Errorf("problems %v, want one with %s: %s", problems, tc.key, tc.want)
			}
		})
	}
}
