package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
)

// Flavor is a nova flavor to ensure.
type Flavor struct {
	Name   string
	VCPUs  int
	RAM    int // MiB
	Disk   int // GiB
	Public bool
	// ExtraSpecs, when not nil, are exactly the flavor's extra specs:
	// others are unset, as Ansible's compute_flavor module does; nil
	// leaves the flavor's extra specs as they are.
	ExtraSpecs map[string]string
}

// Flavors atmosphere creates for its own services (octavia's amphorae,
// manila's share servers).
var (
	FlavorAmphora = Flavor{Name: "m1.amphora", VCPUs: 2, RAM: 2048, Disk: 0}
	FlavorManila  = Flavor{Name: "m1.manila", VCPUs: 2, RAM: 2048, Disk: 20}
)

// Compute ensures nova objects. It is safe for concurrent use.
type Compute struct {
	client *gophercloud.ServiceClient
	locks  keyedMutex
}

// NewCompute returns the compute steps over a compute v2 client.
func NewCompute(client *gophercloud.ServiceClient) *Compute {
	return &Compute{client: client}
}

func (c *Compute) findFlavor(ctx context.Context, name string) (*flavors.Flavor, error) {
	found, err := all(ctx, flavors.ListDetail(c.client, flavors.ListOpts{AccessType: flavors.AllAccess}), flavors.ExtractFlavors)
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	for _, f := range found {
		if f.Name == name {
			return &f, nil
		}
	}
	return nil, nil
}

// EnsureFlavor ensures a flavor with these sizes and, when want.ExtraSpecs
// is not nil, these extra specs. Nova flavors' sizes cannot be changed:
// one with other sizes is deleted and created again (as Ansible's
// compute_flavor module does); extra specs are set and unset in place. A
// flavor another process created first (409) is taken as found.
func (c *Compute) EnsureFlavor(ctx context.Context, want Flavor) (*flavors.Flavor, bool, error) {
	defer c.locks.lock("flavor:" + want.Name)()
	f, changed, err := c.ensureFlavor(ctx, want)
	if err != nil || want.ExtraSpecs == nil {
		return f, changed, err
	}
	specsChanged, err := c.ensureExtraSpecs(ctx, f.ID, want)
	return f, changed || specsChanged, err
}

// ensureExtraSpecs makes the extra specs of the flavor id want's: those
// missing or of another value are set, those want lacks unset.
func (c *Compute) ensureExtraSpecs(ctx context.Context, id string, want Flavor) (bool, error) {
	have, err := flavors.ListExtraSpecs(ctx, c.client, id).Extract()
	if err != nil {
		return false, fmt.Errorf("read the extra specs of flavor %s: %w", want.Name, err)
	}
	set := flavors.ExtraSpecsOpts{}
	for k, v := range want.ExtraSpecs {
		if got, ok := have[k]; !ok || got != v {
			set[k] = v
		}
	}
	changed := false
	if len(set) > 0 {
		if _, err := flavors.CreateExtraSpecs(ctx, c.client, id, set).Extract(); err != nil {
			return false, fmt.Errorf("set the extra specs of flavor %s: %w", want.Name, err)
		}
		changed = true
	}
	for k := range have {
		if _, ok := want.ExtraSpecs[k]; ok {
			continue
		}
		if err := flavors.DeleteExtraSpec(ctx, c.client, id, k).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return changed, fmt.Errorf("unset the extra spec %s of flavor %s: %w", k, want.Name, err)
		}
		changed = true
	}
	return changed, nil
}

// ensureFlavor is EnsureFlavor but for the extra specs.
func (c *Compute) ensureFlavor(ctx context.Context, want Flavor) (*flavors.Flavor, bool, error) {
	f, err := c.findFlavor(ctx, want.Name)
	if err != nil {
		return nil, false, err
	}
	if f != nil {
		if f.VCPUs == want.VCPUs && f.RAM == want.RAM && f.Disk == want.Disk && f.IsPublic == want.Public {
			return f, false, nil
		}
		if err := flavors.Delete(ctx, c.client, f.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return nil, false, fmt.Errorf("replace flavor %s: delete: %w", want.Name, err)
		}
	}
	disk, public := want.Disk, want.Public
	created, err := flavors.Create(ctx, c.client, flavors.CreateOpts{Name: want.Name, VCPUs: want.VCPUs, RAM: want.RAM,
		Disk: &disk, IsPublic: &public}).Extract()
	if gophercloud.ResponseCodeIs(err, 409) {
		f, ferr := c.findFlavor(ctx, want.Name)
		if ferr == nil && f != nil {
			return f, false, nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("create flavor %s: %w", want.Name, err)
	}
	return created, true, nil
}

// Keypair is a nova keypair to ensure. UserID, when set, owns it (an admin
// may create keypairs for service users such as octavia's).
type Keypair struct {
	Name      string
	PublicKey string
	UserID    string
}

// EnsureKeypair ensures a keypair with this public key. A keypair cannot be
// changed: one with another key is deleted and created again. A keypair
// with this key another process created first (409) is taken as found.
func (c *Compute) EnsureKeypair(ctx context.Context, want Keypair) (*keypairs.KeyPair, bool, error) {
	defer c.locks.lock("keypair:" + want.UserID + "/" + want.Name)()
	client := c.client
	if want.UserID != "" {
		// Another user's keypairs need compute API 2.10.
		v := *c.client
		v.Microversion = "2.10"
		client = &v
	}
	have, err := keypairs.Get(ctx, client, want.Name, keypairs.GetOpts{UserID: want.UserID}).Extract()
	switch {
	case err == nil && strings.TrimSpace(have.PublicKey) == strings.TrimSpace(want.PublicKey):
		return have, false, nil
	case err == nil:
		if err := keypairs.Delete(ctx, client, want.Name, keypairs.DeleteOpts{UserID: want.UserID}).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return nil, false, fmt.Errorf("replace keypair %s: delete: %w", want.Name, err)
		}
	case !gophercloud.ResponseCodeIs(err, 404):
		return nil, false, fmt.Errorf("read keypair %s: %w", want.Name, err)
	}
	created, err := keypairs.Create(ctx, client, keypairs.CreateOpts{Name: want.Name, PublicKey: want.PublicKey, UserID: want.UserID}).Extract()
	if gophercloud.ResponseCodeIs(err, 409) {
		// Another process made it meanwhile: the same key is found.
		have, gerr := keypairs.Get(ctx, client, want.Name, keypairs.GetOpts{UserID: want.UserID}).Extract()
		if gerr == nil && strings.TrimSpace(have.PublicKey) == strings.TrimSpace(want.PublicKey) {
			return have, false, nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("create keypair %s: %w", want.Name, err)
	}
	return created, true, nil
}

// Volume ensures cinder objects. It is safe for concurrent use.
type Volume struct {
	client *gophercloud.ServiceClient
	locks  keyedMutex
}

// NewVolume returns the volume steps over a block storage v3 client.
func NewVolume(client *gophercloud.ServiceClient) *Volume {
	return &Volume{client: client}
}
