package provision

import (
	"context"
	"fmt"

	volumequotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
)

// Quota is a set of limits in a service's own names ("instances",
// "cores", "security_group"); -1 is unlimited.
type Quota map[string]int

// ToComputeQuotaUpdateMap makes a Quota a nova quota-set update.
func (q Quota) ToComputeQuotaUpdateMap() (map[string]any, error) {
	return map[string]any{"quota_set": map[string]int(q)}, nil
}

// ToBlockStorageQuotaUpdateMap makes a Quota a cinder quota-set update.
func (q Quota) ToBlockStorageQuotaUpdateMap() (map[string]any, error) {
	return map[string]any{"quota_set": map[string]int(q)}, nil
}

// ToQuotaUpdateMap makes a Quota a neutron quota update.
func (q Quota) ToQuotaUpdateMap() (map[string]any, error) {
	return map[string]any{"quota": map[string]int(q)}, nil
}

// differs reports whether any limit of want is not what have holds.
func (q Quota) differs(have map[string]any) bool {
	for k, v := range q {
		n, ok := have[k].(float64)
		if !ok || int(n) != v {
			return true
		}
	}
	return false
}

// quotaRead is the envelope a quota read answers with: "quota_set" for
// nova and cinder, "quota" for neutron.
type quotaRead struct {
	QuotaSet map[string]any `json:"quota_set"`
	Quota    map[string]any `json:"quota"`
}

// ensureQuota reads one service's limits of a project and writes want
// when any differs.
func ensureQuota(service, projectID string, want Quota,
	read func(*quotaRead) error, write func() error) (bool, error) {
	var have quotaRead
	if err := read(&have); err != nil {
		return false, fmt.Errorf("read %s quotas of project %s: %w", service, projectID, err)
	}
	current := have.QuotaSet
	if current == nil {
		current = have.Quota
	}
	if !want.differs(current) {
		return false, nil
	}
	if err := write(); err != nil {
		return false, fmt.Errorf("set %s quotas of project %s: %w", service, projectID, err)
	}
	return true, nil
}

// EnsureQuota ensures a project's compute limits.
func (c *Compute) EnsureQuota(ctx context.Context, projectID string, want Quota) (bool, error) {
	defer c.locks.lock("quota:" + projectID)()
	return ensureQuota("compute", projectID, want,
		func(have *quotaRead) error { return quotasets.Get(ctx, c.client, projectID).ExtractInto(have) },
		func() error { return quotasets.Update(ctx, c.client, projectID, want).Err })
}

// EnsureQuota ensures a project's volume limits (volumes, gigabytes, ...).
func (v *Volume) EnsureQuota(ctx context.Context, projectID string, want Quota) (bool, error) {
	defer v.locks.lock("quota:" + projectID)()
	return ensureQuota("volume", projectID, want,
		func(have *quotaRead) error { return volumequotas.Get(ctx, v.client, projectID).ExtractInto(have) },
		func() error { return volumequotas.Update(ctx, v.client, projectID, want).Err })
}

// EnsureQuota ensures a project's network limits (security_group,
// security_group_rule, port, ...).
func (n *Network) EnsureQuota(ctx context.Context, projectID string, want Quota) (bool, error) {
	defer n.locks.lock("quota:" + projectID)()
	return ensureQuota("network", projectID, want,
		func(have *quotaRead) error { return quotas.Get(ctx, n.client, projectID).ExtractInto(have) },
		func() error { return quotas.Update(ctx, n.client, projectID, want).Err })
}
