package helmrelease

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

	"github.com/vexxhost/atmosphere-go/charts"
)

// Adopt is the action on a deployed release that another tool made (the
// Ansible collection's kubernetes.core.helm, the helm CLI) whose chart and
// values are what atmosphere renders: its last revision is recorded as
// atmosphere's (its digest labels written on the release record) without
// a new revision, and nothing in the cluster changes.
const Adopt Action = "adopt"

// madeElsewhere is the first reason of a decision on a release whose last
// deployed revision carries none of atmosphere's digest labels.
const madeElsewhere = "made by another tool"

// decideForeign decides on last, a deployed revision another tool made:
// adopt it when the chart Helm stored is the chart r would install (after
// the same processing of its dependencies Helm's install does) and the
// values it was given are r's; otherwise upgrade, saying which differs.
// Drift of its live objects (r.Drifted) is an upgrade too.
func decideForeign(last *release.Release, r Release, want map[string]string) (Decision, error) {
	dec := Decision{Revision: last.Version, Reasons: []string{madeElsewhere}}
	same, err := sameStoredChart(last.Chart, r.Chart, r.Values)
	if err != nil {
		return Decision{}, fmt.Errorf("release %s/%s: compare its chart: %w", r.Namespace, r.Name, err)
	}
	if !same {
		dec.Reasons = append(dec.Reasons, "chart")
	}
	config := last.Config
	if config == nil {
		config = map[string]any{}
	}
	got, err := digestOf(config)
	if err != nil {
		return Decision{}, fmt.Errorf("release %s/%s: its values: %w", r.Namespace, r.Name, err)
	}
	if got != want[LabelValuesDigest] {
		dec.Reasons = append(dec.Reasons, valuesReason(config, r.Values))
	}
	if len(dec.Reasons) == 1 && len(r.Drifted) > 0 {
		dec.Reasons = append(dec.Reasons, "drift: "+strings.Join(r.Drifted, ", "))
	}
	if len(dec.Reasons) == 1 {
		dec.Action = Adopt
		dec.Reasons = append(dec.Reasons, "chart and values as rendered")
		return dec, nil
	}
	dec.Action = Upgrade
	return dec, nil
}

// sameStoredChart reports whether stored, the chart a release record
// holds, is ours as Helm would store it when installing it with values:
// Helm processes a chart's dependencies before it stores it (disabled
// subcharts dropped, imported values merged, each dependency's Enabled
// set), so ours is compared after that same processing, on a copy.
func sameStoredChart(stored, ours *chart.Chart, values map[string]any) (bool, error) {
	if stored == nil || ours == nil {
		return false, nil
	}
	processed := charts.Copy(ours)
	vals := values
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartutil.ProcessDependenciesWithMerge(processed, vals); err != nil {
		return false, fmt.Errorf("process the dependencies of %s: %w", ours.Name(), err)
	}
	return charts.StoredDigest(stored) == charts.StoredDigest(processed), nil
}

// maxPaths is how many differing values paths a reason names.
const maxPaths = 5

// valuesReason says which values paths differ between a release's values
// and ours: "values: a.b, c" (the first maxPaths of them, sorted, and how
// many more). Paths only, never a value: a path is the chart's, a value
// may be a password.
func valuesReason(theirs, ours map[string]any) string {
	var paths []string
	differingPaths("", theirs, ours, &paths)
	if len(paths) == 0 {
		// Equal as Go values, not as JSON (a number's type): say values.
		return "values"
	}
	slices.Sort(paths)
	reason := "values: " + strings.Join(paths[:min(len(paths), maxPaths)], ", ")
	if len(paths) > maxPaths {
		reason += fmt.Sprintf(" and %d more", len(paths)-maxPaths)
	}
	return reason
}

// differingPaths appends to out the paths under prefix where a and b
// differ: a key only one side has, or a value that is not the same (maps
// are compared key by key, anything else whole).
func differingPaths(prefix string, a, b map[string]any, out *[]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			*out = append(*out, join(k))
			continue
		}
		am, aIsMap := av.(map[string]any)
		bm, bIsMap := bv.(map[string]any)
		if aIsMap && bIsMap {
			differingPaths(join(k), am, bm, out)
			continue
		}
		if !equalJSON(av, bv) {
			*out = append(*out, join(k))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			*out = append(*out, join(k))
		}
	}
}

// equalJSON reports whether a and b are the same once through JSON (a
// release's values were: its numbers are float64).
func equalJSON(a, b any) bool {
	ra, errA := json.Marshal(a)
	rb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return string(ra) == string(rb)
}
