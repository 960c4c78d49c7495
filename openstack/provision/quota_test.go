package provision

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"golang.org/x/crypto/ssh"
)

// newProject makes a keystone project of the run's own in the default
// domain and returns its ID.
func newProject(t *testing.T) string {
	t.Helper()
	id, _ := newIdentity(t)
	p, _, err := id.EnsureProject(context.Background(), runName(t, "project"), "default")
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// TestEnsureQuota sets octavia's unlimited quotas in the test bed's nova,
// cinder and neutron, for a keystone project of the run's own, twice: the
// first run changes each, the second nothing, and each service then
// answers the limits asked for; a limit the service does not know is an
// error naming the service and project.
func TestEnsureQuota(t *testing.T) {
	r := newReal(t)
	ctx := context.Background()
	project := newProject(t)
	read := func(typ, path, envelope string) func() map[string]any {
		return func() map[string]any {
			var got map[string]map[string]any
			c := r.clients[typ]
			if _, err := c.Get(ctx, c.ServiceURL(path, project), &got, nil); err != nil {
				t.Fatal(err)
			}
			return got[envelope]
		}
	}
	steps := []struct {
		name   string
		ensure func(context.Context, string, Quota) (bool, error)
		want   Quota
		stored func() map[string]any
	}{
		{"compute", r.compute.EnsureQuota, Quota{"instances": -1, "cores": -1, "ram": -1}, read("compute", "os-quota-sets", "quota_set")},
		{"volume", r.volume.EnsureQuota, Quota{"volumes": -1, "gigabytes": -1}, read("volumev3", "os-quota-sets", "quota_set")},
		{"network", r.network.EnsureQuota, Quota{"security_group": -1, "security_group_rule": -1}, read("network", "quotas", "quota")},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for run, want := range []bool{true, false} {
				changed, err := s.ensure(ctx, project, s.want)
				if err != nil || changed != want {
					t.Fatalf("run %d: changed %v (want %v) err %v", run+1, changed, want, err)
				}
			}
			stored := s.stored()
			for k, v := range s.want {
				if fmt.Sprint(stored[k]) != fmt.Sprint(v) { // json.Number or float64
					t.Errorf("%s = %v, want %d", k, stored[k], v)
				}
			}
		})
	}
	if _, err := r.compute.EnsureQuota(ctx, project, Quota{"volumes": -1}); err == nil || !strings.Contains(err.Error(), "compute quotas of project "+project) {
		t.Errorf("a volume limit sent to nova: %v", err)
	}
}

// TestEnsureKeypair ensures a keypair in the test bed's nova: made, kept
// for the same key (a trailing newline aside), replaced for another key.
func TestEnsureKeypair(t *testing.T) {
	r := newReal(t)
	ctx := context.Background()
	name := runName(t, "octavia-ssh-key")
	client := r.clients["compute"]
	t.Cleanup(func() { _ = keypairs.Delete(context.Background(), client, name, nil).ExtractErr() })
	first, second := newPublicKey(t), newPublicKey(t)
	tests := []struct {
		name    string
		key     string
		changed bool
	}{
		{"create", first, true},
		{"again", first + "\n", false},
		{"another key replaces it", second, true},
		{"another key again", second, false},
	}
	for _, tt := range tests {
		k, changed, err := r.compute.EnsureKeypair(ctx, Keypair{Name: name, PublicKey: tt.key})
		if err != nil || changed != tt.changed || k.Name != name {
			t.Errorf("%s: %+v changed %v (want %v) err %v", tt.name, k, changed, tt.changed, err)
		}
	}
	got, err := keypairs.Get(ctx, client, name, nil).Extract()
	if err != nil || strings.TrimSpace(got.PublicKey) != second {
		t.Errorf("keypair %+v err %v, want the key %q", got, err, second)
	}
}

// newPublicKey is a fresh ed25519 public key in authorized_keys form.
func newPublicKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// TestEnsurePortBinding makes octavia's health-manager port for a
// controller in the test bed's neutron, keeps it on a second run, and
// rebinds it when the host changes: binding:host_id is what neutron
// stores (no agent binds it, so its vif_type is binding_failed), the
// security group and device owner are as asked, and it has an address.
func TestEnsurePortBinding(t *testing.T) {
	r := newReal(t)
	ctx := context.Background()
	project := runName(t, "project")
	t.Cleanup(func() { deleteProjectNetworking(r.clients["network"], project) })
	net, _, err := r.network.EnsureNetwork(ctx, NetworkSpec{Name: runName(t, "lb-mgmt-net"), ProjectID: project,
		Subnets: []SubnetSpec{{Name: runName(t, "lb-mgmt-subnet"), CIDR: "172.24.0.0/22"}}})
	if err != nil {
		t.Fatal(err)
	}
	sg, _, err := r.network.EnsureSecurityGroup(ctx, runName(t, "lb-health-mgr-sec-grp"), project, "octavia", LBHealthManagerRules)
	if err != nil {
		t.Fatal(err)
	}
	want := Port{Name: runName(t, "octavia-health-manager-port"), NetworkID: net.ID, ProjectID: project,
		DeviceOwner: "Octavia:health-mgr", SecurityGroups: []string{sg.ID}}
	tests := []struct {
		name    string
		host    string
		changed bool
	}{{"create", "ctl1", true}, {"again", "ctl1", false}, {"moved", "ctl2", true}, {"moved again", "ctl2", false}}
	for _, tt := range tests {
		want.HostID = tt.host
		p, changed, err := r.network.EnsurePort(ctx, want)
		if err != nil || changed != tt.changed || p.HostID != tt.host || len(p.FixedIPs) == 0 {
			t.Errorf("%s: %+v changed %v (want %v) err %v", tt.name, p, changed, tt.changed, err)
		}
	}
	var got []BoundPort
	pages, err := ports.List(r.clients["network"], ports.ListOpts{Name: want.Name, NetworkID: net.ID}).AllPages(ctx)
	if err == nil {
		err = ports.ExtractPortsInto(pages, &got)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].DeviceOwner != "Octavia:health-mgr" || got[0].HostID != "ctl2" || !slices.Equal(got[0].SecurityGroups, []string{sg.ID}) {
		t.Errorf("ports %+v, want one owned by Octavia:health-mgr on ctl2 in %s", got, sg.ID)
	}
}

// deleteProjectNetworking removes what a test made in neutron for its
// project: ports, subnets, networks, security groups.
func deleteProjectNetworking(client *gophercloud.ServiceClient, project string) {
	ctx := context.Background()
	if ps, err := all(ctx, ports.List(client, ports.ListOpts{ProjectID: project}), ports.ExtractPorts); err == nil {
		for _, p := range ps {
			_ = ports.Delete(ctx, client, p.ID).ExtractErr()
		}
	}
	for _, n := range listNetworksQuiet(client, project) {
		_ = networksDelete(ctx, client, n)
	}
	for _, g := range listGroupsQuiet(client, project) {
		_ = groupsDelete(ctx, client, g)
	}
}
