// Package cloudcheck checks a deployed cloud as an operator would: with
// Debian's openstack command (python3-openstackclient) and the
// clouds.yaml the deploy used, it lists the catalog, the flavors, octavia's
// management network, subnet, security groups and their rules, the
// health-manager ports and their hosts, the images and the admin
// project's quotas, and checks each listing against what the inventory
// asks for (Want). make demo runs it after its deploy (hack/democheck),
// which writes the listings to docs/demo/openstack-*.txt.
package cloudcheck

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/inventory"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// Want is what a deploy of an inventory asks of the cloud.
type Want struct {
	// Region is the catalog's region of atmosphere's services
	// (openstack_helm_endpoints_region_name, RegionOne when unset).
	Region string
	// Catalog is each service atmosphere registers, by "type name", with
	// its public, internal and admin URLs.
	Catalog map[string]map[gophercloud.Availability]string
	// Flavors are the names of the flavors the set-up makes (m1.amphora,
	// m1.manila and nova_flavors).
	Flavors []string
	// Images are the names of the images the set-up uploads.
	Images []string
	// Networks are octavia's management network and neutron_networks.
	Networks []string
	// ManagementSubnet is octavia's management subnet: name and CIDR.
	ManagementSubnet [2]string
	// SecurityGroups are the ingress rules ("tcp 22:22", "icmp") of each
	// security group the set-up makes, by name.
	SecurityGroups map[string][]string
	// Controllers are the hosts whose health-manager ports must be bound
	// to them (binding:host_id).
	Controllers []string
	// UnlimitedQuotas are the admin project's quotas the set-up lifts to -1.
	UnlimitedQuotas []string
}

// WantOf is what the inventory in dir asks of the cloud; env looks up the
// variables of its lookup('env') values (os.LookupEnv when nil).
func WantOf(dir string, env func(string) (string, bool)) (Want, error) {
	inv, err := inventory.Load(dir, env)
	if err != nil {
		return Want{}, err
	}
	s, err := inv.Settings()
	if err != nil {
		return Want{}, err
	}
	settings := components.DefaultSettings()
	settings.Config = s.Config
	settings.Vars = inv.Vars
	settings.Setup = components.SetupSettings{Flavors: s.Flavors, Networks: s.Networks, Images: s.Images,
		OctaviaControllers: inv.Groups["controllers"]}
	region := s.Region
	if region == "" {
		region = "RegionOne"
	}
	e := provision.Endpoints{Region: region, Domain: s.Domain(), PublicHosts: s.PublicHosts,
		Namespace: "openstack", ClusterDomain: "cluster.local"}
	mgmtNet, mgmtSubnet, mgmtCIDR, amphoraSG := components.OctaviaManagement(settings)
	w := Want{Region: region, Catalog: map[string]map[gophercloud.Availability]string{},
		ManagementSubnet: [2]string{mgmtSubnet, mgmtCIDR}, Networks: []string{mgmtNet},
		SecurityGroups: map[string][]string{
			amphoraSG:               ruleStrings(provision.LBManagementRules),
			"lb-health-mgr-sec-grp": ruleStrings(provision.LBHealthManagerRules),
			"manila-service":        ruleStrings(provision.ManilaServiceRules),
		},
		Controllers:     settings.Setup.OctaviaControllers,
		UnlimitedQuotas: []string{"instances", "cores", "ram", "volumes", "gigabytes"},
	}
	enabled := map[string]bool{}
	for _, c := range components.Default().Components() {
		if !c.IsEnabled(s.Config) {
			continue
		}
		enabled[c.Name] = true
		for _, svc := range c.Services() {
			if svc.Optional {
				continue // made only when the deployment enables it
			}
			w.Catalog[svc.Type+" "+svc.Name] = e.URLs(svc)
		}
	}
	images, flavors := components.SetupImages(settings), components.SetupFlavors(settings)
	for _, name := range slices.Sorted(maps.Keys(images)) {
		if enabled[name] {
			for _, img := range images[name] {
				w.Images = append(w.Images, img.Name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(flavors)) {
		if enabled[name] {
			for _, f := range flavors[name] {
				w.Flavors = append(w.Flavors, f.Name)
			}
		}
	}
	for _, n := range s.Networks {
		w.Networks = append(w.Networks, n.Name)
	}
	if !enabled["octavia"] {
		w.Networks, w.ManagementSubnet, w.Controllers = nil, [2]string{}, nil
		delete(w.SecurityGroups, amphoraSG)
		delete(w.SecurityGroups, "lb-health-mgr-sec-grp")
	}
	if !enabled["manila"] {
		delete(w.SecurityGroups, "manila-service")
	}
	sort.Strings(w.Images)
	sort.Strings(w.Flavors)
	return w, nil
}

// ruleStrings are rules as the openstack command shows an ingress rule:
// its protocol, then its port range when it has one ("tcp 22:22").
func ruleStrings(rules []provision.Rule) []string {
	var out []string
	for _, r := range rules {
		s := string(r.Protocol)
		if r.PortMin > 0 {
			s += fmt.Sprintf(" %d:%d", r.PortMin, r.PortMax)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
