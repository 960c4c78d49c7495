package helmrelease

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// withSubchart is a chart with a subchart its values may disable, as
// kube-prometheus-stack's grafana.
func withSubchart() *chart.Chart {
	sub := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "sub", Version: "1.0.0"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("kind: ConfigMap")}},
		Values:    map[string]any{"size": 3.0},
	}
	parent := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "parent", Version: "2.0.0",
			Dependencies: []*chart.Dependency{{Name: "sub", Version: "1.0.0", Condition: "sub.enabled"}}},
		Templates: []*chart.File{{Name: "templates/deploy.yaml", Data: []byte("kind: Deployment")}},
		Values:    map[string]any{"sub": map[string]any{"enabled": true}, "replicas": 1.0},
	}
	parent.AddDependency(sub)
	return parent
}

// stored is chart c as a release record keeps it once Helm installed it
// with values: its dependencies processed, then through JSON (which keeps
// no subchart).
func stored(t *testing.T, c *chart.Chart, values map[string]any) *chart.Chart {
	t.Helper()
	if err := chartutil.ProcessDependenciesWithMerge(c, values); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out chart.Chart
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestSameStoredChart(t *testing.T) {
	disabled := map[string]any{"sub": map[string]any{"enabled": false}}
	tests := []struct {
		name   string
		values map[string]any
		change func(*chart.Chart)
		want   bool
		// installedWith are the values the release was installed with
		// (values when nil).
		installedWith map[string]any
	}{
		{"as installed", nil, nil, true, nil},
		{"as installed with the subchart disabled", disabled, nil, true, nil},
		{"a template changed", nil, func(c *chart.Chart) { c.Templates[0].Data = []byte("kind: StatefulSet") }, false, nil},
		{"another version", nil, func(c *chart.Chart) { c.Metadata.Version = "2.0.1" }, false, nil},
		{"a default value changed", nil, func(c *chart.Chart) { c.Values["replicas"] = 2.0 }, false, nil},
		{"a subchart's version changed", nil, func(c *chart.Chart) { c.Metadata.Dependencies[0].Version = "1.0.1" }, false, nil},
		{"the subchart enabled where it was disabled", nil, nil, false, disabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			with := tc.values
			if tc.installedWith != nil {
				with = tc.installedWith
			}
			installed := stored(t, withSubchart(), with)
			ours := withSubchart()
			if tc.change != nil {
				tc.change(ours)
			}
			same, err := sameStoredChart(installed, ours, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			if same != tc.want {
				t.Errorf("same = %v, want %v", same, tc.want)
			}
			// The comparison processes a copy: ours keeps its subchart.
			if len(ours.Dependencies()) != 1 {
				t.Errorf("our chart lost its subchart: %d left", len(ours.Dependencies()))
			}
		})
	}
}

// TestAdoptsAReleaseTheHelmCLIMade: a release the helm CLI installed (as
// the Ansible collection's kubernetes.core.helm does) with the chart and
// values atmosphere renders is adopted, keeping its revision, and is then
// atmosphere's (unchanged on the next deploy); one installed with other
// values is upgraded, saying why.
func TestAdoptsAReleaseTheHelmCLIMade(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	helm := helmCLI(t, ns)
	chartDir := filepath.Join("..", "..", "testdata", "charts", "probe")
	install := func(name string, values map[string]any) {
		t.Helper()
		raw, err := json.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "values.json")
		if err := os.WriteFile(file, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		helm("upgrade", "--install", name, chartDir, "-f", file, "--wait")
	}
	ctx := context.Background()
	values := map[string]any{"message": "one", "hook": false}
	install("same", values)
	install("other", map[string]any{"message": "two", "hook": false})

	tests := []struct {
		release     string
		action      Action
		reasons     []string
		newRevision int
	}{
		{"same", Adopt, []string{madeElsewhere, "chart and values as rendered"}, 1},
		{"same", Unchanged, nil, 1},
		{"other", Upgrade, []string{madeElsewhere, "values: message"}, 2},
		{"other", Unchanged, nil, 2},
	}
	for _, tc := range tests {
		r := Release{Name: tc.release, Namespace: ns, Chart: probeChart(t), Values: values,
			Images: map[string]string{"probe": "registry.invalid/probe:1.0"}, Timeout: time.Minute}
		plan, err := d.Plan(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Deploy(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != tc.action || !slices.Equal(res.Reasons, tc.reasons) || res.NewRevision != tc.newRevision {
			t.Errorf("deploy %s: %s %q revision %d, want %s %q revision %d", tc.release, res.Action, res.Reasons, res.NewRevision,
				tc.action, tc.reasons, tc.newRevision)
		}
		if plan.Action != res.Action {
			t.Errorf("plan of %s said %s, the deploy did %s", tc.release, plan.Action, res.Action)
		}
		rel := lastRelease(t, d, ns, tc.release)
		if rel.Version != tc.newRevision || !isOurs(rel) {
			t.Errorf("%s after the deploy: revision %d, labels %v", tc.release, rel.Version, rel.Labels)
		}
	}
}

func TestValuesReason(t *testing.T) {
	tests := []struct {
		name         string
		theirs, ours map[string]any
		want         string
	}{
		{"a leaf", map[string]any{"a": map[string]any{"b": 1.0, "c": "x"}}, map[string]any{"a": map[string]any{"b": 2, "c": "x"}}, "values: a.b"},
		{"only one side", map[string]any{"a": 1.0}, map[string]any{"b": 1}, "values: a, b"},
		{"a list whole", map[string]any{"l": []any{1.0, 2.0}}, map[string]any{"l": []any{1, 3}}, "values: l"},
		{"many", map[string]any{"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": 1.0, "f": 1.0, "g": 1.0}, map[string]any{}, "values: a, b, c, d, e and 2 more"},
		{"a password's path, never its value", map[string]any{"auth": map[string]any{"password": "s3cret"}}, map[string]any{"auth": map[string]any{"password": "other"}}, "values: auth.password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := valuesReason(tc.theirs, tc.ours); got != tc.want {
				t.Errorf("valuesReason = %q, want %q", got, tc.want)
			}
		})
	}
}
