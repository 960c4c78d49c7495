package helmrelease

import (
	"context"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/vexxhost/atmosphere-go/internal/manifestdiff"
)

// Diff is what a deploy of a release would change, as unified diffs
// (package manifestdiff: a Secret's data and secret-named values never
// shown).
type Diff struct {
	// Manifest is the diff of the rendered objects (hooks left out, as
	// Helm keeps them apart), from the last revision's manifest to what
	// the chart renders now; empty when they are the same.
	Manifest string
	// Values is the diff of the values, from the last revision's to r's;
	// empty when they are the same.
	Values string
}

// Diff renders r as Helm would install it, against the cluster's API
// versions but changing nothing (Helm's dry run), and compares it with
// the release's last revision (nothing when there is none, or it was
// uninstalled).
func (d *Deployer) Diff(ctx context.Context, r Release) (Diff, error) {
	if err := r.validate(); err != nil {
		return Diff{}, err
	}
	cfg, err := d.factory.ActionConfig(ctx, r.Namespace, nil)
	if err != nil {
		return Diff{}, err
	}
	var deployedManifest string
	var deployedValues map[string]any
	last, err := cfg.Releases.Last(r.Name)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
	case err != nil:
		return Diff{}, fmt.Errorf("read release %s/%s: %w", r.Namespace, r.Name, err)
	case last.Info.Status != release.StatusUninstalled:
		deployedManifest, deployedValues = last.Manifest, last.Config
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = r.Name, r.Namespace
	install.DryRun, install.DryRunOption = true, "client"
	install.Replace = true
	install.IsUpgrade = last != nil
	install.DisableOpenAPIValidation = true
	values := r.Values
	if values == nil {
		values = map[string]any{}
	}
	rel, err := install.RunWithContext(ctx, r.Chart, values)
	if err != nil {
		return Diff{}, fmt.Errorf("render release %s/%s: %w", r.Namespace, r.Name, err)
	}
	var out Diff
	if out.Manifest, err = manifestdiff.Manifests(deployedManifest, rel.Manifest); err != nil {
		return Diff{}, fmt.Errorf("diff release %s/%s: %w", r.Namespace, r.Name, err)
	}
	if out.Values, err = manifestdiff.Values(deployedValues, r.Values); err != nil {
		return Diff{}, fmt.Errorf("diff the values of release %s/%s: %w", r.Namespace, r.Name, err)
	}
	return out, nil
}
