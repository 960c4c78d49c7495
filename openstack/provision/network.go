package provision

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/mtu"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/provider"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// Network ensures neutron objects. It is safe for concurrent use. Neutron
// allows networks, subnets and security groups of the same name, so each
// step lists by name (and project) before it creates.
type Network struct {
	client *gophercloud.ServiceClient
	locks  keyedMutex
}

// NewNetwork returns the network steps over a network v2 client.
func NewNetwork(client *gophercloud.ServiceClient) *Network {
	return &Network{client: client}
}

// NetworkSpec is a network to ensure: neutron_networks entries and
// octavia's management network. Nil and zero fields are left to neutron.
type NetworkSpec struct {
	Name, ProjectID  string
	Shared, External *bool
	PortSecurity     *bool
	MTU              int
	// ProviderType ("flat", "vlan", "vxlan"), PhysicalNetwork and
	// SegmentationID are fixed when the network is made.
	ProviderType    string
	PhysicalNetwork string
	SegmentationID  int
	Subnets         []SubnetSpec
}

// NetworkInfo is a network with the extension attributes atmosphere sets.
type NetworkInfo struct {
	networks.Network
	external.NetworkExternalExt
	provider.NetworkProviderExt
	mtu.NetworkMTUExt
	portsecurity.PortSecurityExt
}

// rawNetwork is a network request body sent as is, for attributes spread
// over several extensions. (A struct: gophercloud reads update headers
// from struct tags.)
type rawNetwork struct{ attrs map[string]any }

func (b rawNetwork) ToNetworkCreateMap() (map[string]any, error) {
	return map[string]any{"network": b.attrs}, nil
}
func (b rawNetwork) ToNetworkUpdateMap() (map[string]any, error) {
	return map[string]any{"network": b.attrs}, nil
}

// EnsureNetwork ensures a network of this name in a project with these
// attributes, and its subnets. Shared, external, MTU and port security are
// updated in place; the provider attributes cannot be, so a difference
// there is an error naming them.
func (n *Network) EnsureNetwork(ctx context.Context, want NetworkSpec) (*NetworkInfo, bool, error) {
	net, changed, err := n.ensureNetwork(ctx, want)
	if err != nil {
		return nil, false, err
	}
	for _, sub := range want.Subnets {
		_, c, err := n.EnsureSubnet(ctx, net.ID, sub)
		if err != nil {
			return net, changed, fmt.Errorf("network %s: %w", want.Name, err)
		}
		changed = changed || c
	}
	return net, changed, nil
}

func (n *Network) ensureNetwork(ctx context.Context, want NetworkSpec) (*NetworkInfo, bool, error) {
	defer n.locks.lock("network:" + want.ProjectID + "/" + want.Name)()
	var found []NetworkInfo
	pages, err := networks.List(n.client, networks.ListOpts{Name: want.Name, ProjectID: want.ProjectID}).AllPages(ctx)
	if err == nil {
		err = networks.ExtractNetworksInto(pages, &found)
	}
	if err != nil {
		return nil, false, fmt.Errorf("list network %s: %w", want.Name, err)
	}
	settable := map[string]any{}
	set := func(key string, v *bool) {
		if v != nil {
			settable[key] = *v
		}
	}
	set("shared", want.Shared)
	set("router:external", want.External)
	set("port_security_enabled", want.PortSecurity)
	if want.MTU != 0 {
		settable["mtu"] = want.MTU
	}
	var got NetworkInfo
	if len(found) == 0 {
		create := map[string]any{"name": want.Name, "admin_state_up": true}
		if want.ProjectID != "" {
			create["project_id"] = want.ProjectID
		}
		for k, v := range settable {
			create[k] = v
		}
		if want.ProviderType != "" {
			create["provider:network_type"] = want.ProviderType
		}
		if want.PhysicalNetwork != "" {
			create["provider:physical_network"] = want.PhysicalNetwork
		}
		if want.SegmentationID != 0 {
			create["provider:segmentation_id"] = want.SegmentationID
		}
		if err := networks.Create(ctx, n.client, rawNetwork{create}).ExtractInto(&got); err != nil {
			return nil, false, fmt.Errorf("create network %s: %w", want.Name, err)
		}
		return &got, true, nil
	}
	have := found[0]
	if (want.ProviderType != "" && want.ProviderType != have.NetworkType) ||
		(want.PhysicalNetwork != "" && want.PhysicalNetwork != have.PhysicalNetwork) ||
		(want.SegmentationID != 0 && strconv.Itoa(want.SegmentationID) != have.SegmentationID) {
		return nil, false, fmt.Errorf("network %s is %s/%s/%s, want %s/%s/%d: neutron cannot change provider attributes; delete the network to let it be made again",
			want.Name, have.NetworkType, have.PhysicalNetwork, have.SegmentationID, want.ProviderType, want.PhysicalNetwork, want.SegmentationID)
	}
	current := map[string]any{"shared": have.Shared, "router:external": have.External, "port_security_enabled": have.PortSecurityEnabled, "mtu": have.MTU}
	update := map[string]any{}
	for k, v := range settable {
		if current[k] != v {
			update[k] = v
		}
	}
	if len(update) == 0 {
		return &have, false, nil
	}
	if err := networks.Update(ctx, n.client, have.ID, rawNetwork{update}).ExtractInto(&got); err != nil {
		return nil, false, fmt.Errorf("update network %s: %w", want.Name, err)
	}
	return &got, true, nil
}

// SubnetSpec is a subnet to ensure. Nil and zero fields are left to
// neutron.
type SubnetSpec struct {
	Name, CIDR      string
	GatewayIP       string
	NoGateway       bool
	AllocationPools []subnets.AllocationPool
	DNSNameservers  []string
	EnableDHCP      *bool
}

// EnsureSubnet ensures a subnet of this name and CIDR on a network; its DNS
// servers and DHCP flag are updated in place, a different CIDR is an
// error (neutron cannot change it).
func (n *Network) EnsureSubnet(ctx context.Context, networkID string, want SubnetSpec) (*subnets.Subnet, bool, error) {
	defer n.locks.lock("subnet:" + networkID + "/" + want.Name)()
	found, err := all(ctx, subnets.List(n.client, subnets.ListOpts{Name: want.Name, NetworkID: networkID}), subnets.ExtractSubnets)
	if err != nil {
		return nil, false, fmt.Errorf("list subnet %s: %w", want.Name, err)
	}
	if len(found) == 0 {
		opts := subnets.CreateOpts{NetworkID: networkID, Name: want.Name, CIDR: want.CIDR, IPVersion: gophercloud.IPv4,
			AllocationPools: want.AllocationPools, DNSNameservers: want.DNSNameservers, EnableDHCP: want.EnableDHCP}
		if strings.Contains(want.CIDR, ":") {
			opts.IPVersion = gophercloud.IPv6
		}
		if want.GatewayIP != "" || want.NoGateway {
			gw := want.GatewayIP
			opts.GatewayIP = &gw
		}
		s, err := subnets.Create(ctx, n.client, opts).Extract()
		if err != nil {
			return nil, false, fmt.Errorf("create subnet %s: %w", want.Name, err)
		}
		return s, true, nil
	}
	have := found[0]
	if have.CIDR != want.CIDR {
		return nil, false, fmt.Errorf("subnet %s has CIDR %s, want %s: neutron cannot change it; delete it to let it be made again", want.Name, have.CIDR, want.CIDR)
	}
	var update subnets.UpdateOpts
	if want.DNSNameservers != nil && !slices.Equal(have.DNSNameservers, want.DNSNameservers) {
		update.DNSNameservers = &want.DNSNameservers
	}
	if want.EnableDHCP != nil && have.EnableDHCP != *want.EnableDHCP {
		update.EnableDHCP = want.EnableDHCP
	}
	if update.DNSNameservers == nil && update.EnableDHCP == nil {
		return &have, false, nil
	}
	s, err := subnets.Update(ctx, n.client, have.ID, update).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("update subnet %s: %w", want.Name, err)
	}
	return s, true, nil
}

// Rule is a security group rule.
type Rule struct {
	Direction      rules.RuleDirection
	Protocol       rules.RuleProtocol
	PortMin        int
	PortMax        int
	RemoteIPPrefix string
}

// Security group rules of octavia's health managers and amphorae, and of
// manila's share servers.
var (
	LBHealthManagerRules = []Rule{
		{Direction: rules.DirIngress, Protocol: rules.ProtocolUDP, PortMin: 5555, PortMax: 5555},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolUDP, PortMin: 10514, PortMax: 10514},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolUDP, PortMin: 20514, PortMax: 20514},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 10514, PortMax: 10514},
	}
	LBManagementRules = []Rule{
		{Direction: rules.DirIngress, Protocol: rules.ProtocolICMP},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 22, PortMax: 22},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 9443, PortMax: 9443},
	}
	// ManilaServiceRules let manila reach its share servers (SSH) and
	// clients mount their shares (NFS, CIFS), as manila's own default
	// service security group does.
	ManilaServiceRules = []Rule{
		{Direction: rules.DirIngress, Protocol: rules.ProtocolICMP},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 22, PortMax: 22},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 111, PortMax: 111},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolUDP, PortMin: 111, PortMax: 111},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 2049, PortMax: 2049},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolUDP, PortMin: 2049, PortMax: 2049},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 445, PortMax: 445},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolTCP, PortMin: 139, PortMax: 139},
		{Direction: rules.DirIngress, Protocol: rules.ProtocolUDP, PortMin: 137, PortMax: 138},
	}
)

// EnsureSecurityGroup ensures a security group of this name in a project
// holding at least these rules (rules added by hand are left alone).
func (n *Network) EnsureSecurityGroup(ctx context.Context, name, projectID, description string, want []Rule) (*groups.SecGroup, bool, error) {
	defer n.locks.lock("secgroup:" + projectID + "/" + name)()
	found, err := all(ctx, groups.List(n.client, groups.ListOpts{Name: name, ProjectID: projectID}), groups.ExtractGroups)
	if err != nil {
		return nil, false, fmt.Errorf("list security group %s: %w", name, err)
	}
	changed := false
	var sg *groups.SecGroup
	if len(found) > 0 {
		sg = &found[0]
	} else {
		sg, err = groups.Create(ctx, n.client, groups.CreateOpts{Name: name, ProjectID: projectID, Description: description}).Extract()
		if err != nil {
			return nil, false, fmt.Errorf("create security group %s: %w", name, err)
		}
		changed = true
	}
	have, err := all(ctx, rules.List(n.client, rules.ListOpts{SecGroupID: sg.ID}), rules.ExtractRules)
	if err != nil {
		return nil, false, fmt.Errorf("list rules of %s: %w", name, err)
	}
	for _, r := range want {
		if hasRule(have, r) {
			continue
		}
		_, err := rules.Create(ctx, n.client, rules.CreateOpts{SecGroupID: sg.ID, Direction: r.Direction, EtherType: rules.EtherType4,
			Protocol: r.Protocol, PortRangeMin: r.PortMin, PortRangeMax: r.PortMax, RemoteIPPrefix: r.RemoteIPPrefix, ProjectID: projectID}).Extract()
		if gophercloud.ResponseCodeIs(err, 409) {
			continue // the same rule, made by another run meanwhile
		}
		if err != nil {
			return nil, false, fmt.Errorf("add rule %s %s %d-%d to %s: %w", r.Direction, r.Protocol, r.PortMin, r.PortMax, name, err)
		}
		changed = true
	}
	return sg, changed, nil
}

func hasRule(have []rules.SecGroupRule, r Rule) bool {
	for _, h := range have {
		if h.Direction == string(r.Direction) && h.Protocol == string(r.Protocol) && h.PortRangeMin == r.PortMin &&
			h.PortRangeMax == r.PortMax && h.RemoteIPPrefix == r.RemoteIPPrefix && h.EtherType == string(rules.EtherType4) {
			return true
		}
	}
	return false
}

// Port is a neutron port to ensure, bound to a host: the health-manager
// ports octavia's controllers listen on.
type Port struct {
	Name           string
	NetworkID      string
	ProjectID      string
	HostID         string
	DeviceOwner    string
	DeviceID       string
	SecurityGroups []string
}

// BoundPort is a port with its binding.
type BoundPort struct {
	ports.Port
	portsbinding.PortsBindingExt
}

// EnsurePort ensures a port of this name on a network, bound to the host,
// with these security groups; a port bound elsewhere or with other groups
// is updated in place.
func (n *Network) EnsurePort(ctx context.Context, want Port) (*BoundPort, bool, error) {
	defer n.locks.lock("port:" + want.NetworkID + "/" + want.Name)()
	var found []BoundPort
	pages, err := ports.List(n.client, ports.ListOpts{Name: want.Name, NetworkID: want.NetworkID}).AllPages(ctx)
	if err == nil {
		err = ports.ExtractPortsInto(pages, &found)
	}
	if err != nil {
		return nil, false, fmt.Errorf("list port %s: %w", want.Name, err)
	}
	var got BoundPort
	if len(found) > 0 {
		have := found[0]
		if have.HostID == want.HostID && sameSet(have.SecurityGroups, want.SecurityGroups) {
			return &have, false, nil
		}
		groups, host := want.SecurityGroups, want.HostID
		err := ports.Update(ctx, n.client, have.ID, portsbinding.UpdateOptsExt{
			UpdateOptsBuilder: ports.UpdateOpts{SecurityGroups: &groups}, HostID: &host}).ExtractInto(&got)
		if err != nil {
			return nil, false, fmt.Errorf("update port %s: %w", want.Name, err)
		}
		return &got, true, nil
	}
	up := true
	groups := want.SecurityGroups
	err = ports.Create(ctx, n.client, portsbinding.CreateOptsExt{HostID: want.HostID, CreateOptsBuilder: ports.CreateOpts{
		Name: want.Name, NetworkID: want.NetworkID, ProjectID: want.ProjectID, AdminStateUp: &up,
		DeviceOwner: want.DeviceOwner, DeviceID: want.DeviceID, SecurityGroups: &groups,
	}}).ExtractInto(&got)
	if err != nil {
		return nil, false, fmt.Errorf("create port %s: %w", want.Name, err)
	}
	return &got, true, nil
}
