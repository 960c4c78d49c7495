package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/storage/driver"
)

// ReleaseStatus is what Helm's storage says of a release's last revision.
type ReleaseStatus struct {
	// Found is false when the release has no revision.
	Found bool
	// Status is Helm's ("deployed", "failed", "pending-upgrade", ...).
	Status string
	// Revision, Chart ("nova-0.3.46") and Updated describe the last
	// revision.
	Revision int
	Chart    string
	Updated  time.Time
}

// Status reads the last revision of a release, touching nothing.
func (d *Deployer) Status(ctx context.Context, name, namespace string) (ReleaseStatus, error) {
	if err := ctx.Err(); err != nil {
		return ReleaseStatus{}, err
	}
	cfg, err := d.factory.ActionConfig(ctx, namespace, nil)
	if err != nil {
		return ReleaseStatus{}, err
	}
	last, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return ReleaseStatus{}, nil
	}
	if err != nil {
		return ReleaseStatus{}, fmt.Errorf("read release %s/%s: %w", namespace, name, err)
	}
	s := ReleaseStatus{Found: true, Status: string(last.Info.Status), Revision: last.Version, Updated: last.Info.LastDeployed.Time}
	if last.Chart != nil && last.Chart.Metadata != nil {
		s.Chart = last.Chart.Metadata.Name + "-" + last.Chart.Metadata.Version
	}
	return s, nil
}

// Manifest returns the manifest of the release's last deployed revision
// (the objects Helm applied, without its hooks); found is false when no
// revision is deployed. It touches nothing.
func (d *Deployer) Manifest(ctx context.Context, name, namespace string) (manifest string, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	cfg, err := d.factory.ActionConfig(ctx, namespace, nil)
	if err != nil {
		return "", false, err
	}
	rel, err := cfg.Releases.Deployed(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || errors.Is(err, driver.ErrNoDeployedReleases) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read release %s/%s: %w", namespace, name, err)
	}
	return rel.Manifest, true, nil
}
