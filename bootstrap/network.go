package bootstrap

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
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

// EnsureNetwork ensures a network of this name in a project.
func (n *Network) EnsureNetwork(ctx context.Context, name, projectID string) (*networks.Network, bool, error) {
	defer n.locks.lock("network:" + projectID + "/" + name)()
	found, err := all(ctx, networks.List(n.client, networks.ListOpts{Name: name, ProjectID: projectID}), networks.ExtractNetworks)
	if err != nil {
		return nil, false, fmt.Errorf("list network %s: %w", name, err)
	}
	if len(found) > 0 {
		return &found[0], false, nil
	}
	up := true
	net, err := networks.Create(ctx, n.client, networks.CreateOpts{Name: name, ProjectID: projectID, AdminStateUp: &up}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create network %s: %w", name, err)
	}
	return net, true, nil
}

// EnsureSubnet ensures a subnet of this name and CIDR on a network.
func (n *Network) EnsureSubnet(ctx context.Context, networkID, name, cidr string) (*subnets.Subnet, bool, error) {
	defer n.locks.lock("subnet:" + networkID + "/" + name)()
	found, err := all(ctx, subnets.List(n.client, subnets.ListOpts{Name: name, NetworkID: networkID}), subnets.ExtractSubnets)
	if err != nil {
		return nil, false, fmt.Errorf("list subnet %s: %w", name, err)
	}
	if len(found) > 0 {
		if found[0].CIDR != cidr {
			return nil, false, fmt.Errorf("subnet %s has CIDR %s, want %s: neutron cannot change it; delete it to let it be made again", name, found[0].CIDR, cidr)
		}
		return &found[0], false, nil
	}
	s, err := subnets.Create(ctx, n.client, subnets.CreateOpts{NetworkID: networkID, Name: name, CIDR: cidr, IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create subnet %s: %w", name, err)
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

// Security groups of octavia's amphorae and health managers.
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

// EnsureQuota ensures a project's network limits (security_group,
// security_group_rule, port, ...).
func (n *Network) EnsureQuota(ctx context.Context, projectID string, want Quota) (bool, error) {
	defer n.locks.lock("quota:" + projectID)()
	var have struct {
		Quota map[string]any `json:"quota"`
	}
	if err := quotas.Get(ctx, n.client, projectID).ExtractInto(&have); err != nil {
		return false, fmt.Errorf("read network quotas of project %s: %w", projectID, err)
	}
	if !want.differs(have.Quota) {
		return false, nil
	}
	if err := quotas.Update(ctx, n.client, projectID, want).Err; err != nil {
		return false, fmt.Errorf("set network quotas of project %s: %w", projectID, err)
	}
	return true, nil
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
