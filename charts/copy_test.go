package charts

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// countingSource holds one chart in memory and counts the fetches. It
// gives the same chart every time: the Loader, not the source, must keep
// callers apart.
type countingSource struct {
	c       *chart.Chart
	fetches atomic.Int32
}

func (s *countingSource) Fetch(_ context.Context, e Entry) (*chart.Chart, error) {
	if e.Name != s.c.Name() || e.Version != s.c.Metadata.Version {
		return nil, ErrNotInSource
	}
	s.fetches.Add(1)
	return s.c, nil
}

func (s *countingSource) String() string { return "memory" }

// parentWithOptionalSub is a chart with a subchart that the values turn
// off (sub.enabled), as the openstack-helm and prometheus charts have.
func parentWithOptionalSub() *chart.Chart {
	sub := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "sub", Version: "0.1.0"},
		Values:    map[string]interface{}{"enabled": false},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-sub\n")}},
	}
	parent := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "parent", Version: "0.1.0",
			Dependencies: []*chart.Dependency{{Name: "sub", Version: "0.1.0", Condition: "sub.enabled"}}},
		Values:    map[string]interface{}{"sub": map[string]interface{}{"enabled": false}, "name": "from-parent"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n")}},
	}
	parent.AddDependency(sub)
	return parent
}

// render installs c as Helm does (client only), which processes its
// dependencies in place, and returns the manifest.
func render(t *testing.T, c *chart.Chart, vals map[string]interface{}) string {
	t.Helper()
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...interface{}) {},
	}
	install := action.NewInstall(cfg)
	install.ClientOnly, install.DryRun = true, true
	install.ReleaseName, install.Namespace = "r", "default"
	rel, err := install.Run(c, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return rel.Manifest
}

// TestLoaderLoadsEachChartOnce: however many callers ask for a chart, at
// once or after each other, it is fetched and checked once, and each gets
// a chart of its own with the same digest.
func TestLoaderLoadsEachChartOnce(t *testing.T) {
	c := parentWithOptionalSub()
	src := &countingSource{c: c}
	e := Entry{Name: "parent", Version: "0.1.0", Digest: ContentDigest(c)}
	l := &Loader{Catalog: Default().With(e), Sources: []Source{src}}

	const callers = 8
	got := make([]*chart.Chart, callers)
	digests := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, d, err := l.LoadWithDigest(context.Background(), e.Ref())
			if err != nil {
				t.Errorf("load %d: %v", i, err)
				return
			}
			got[i], digests[i] = ch, d
		}()
	}
	wg.Wait()
	if _, err := l.Load(context.Background(), e.Ref()); err != nil {
		t.Fatal(err)
	}
	if n := src.fetches.Load(); n != 1 {
		t.Errorf("chart fetched %d times for %d loads, want once", n, callers+1)
	}
	seen := map[*chart.Chart]bool{c: true}
	for i := range callers {
		if digests[i] != e.Digest {
			t.Errorf("load %d: digest %s, want %s", i, digests[i], e.Digest)
		}
		if seen[got[i]] {
			t.Errorf("load %d: a chart another caller (or the source) holds", i)
		}
		seen[got[i]] = true
	}
}

// TestLoadedChartsAreIndependent: Helm's install changes the chart it is
// given (a disabled subchart is dropped from it, its values replaced); a
// later load of the same chart still has everything, so a second release
// of it that enables the subchart renders it.
func TestLoadedChartsAreIndependent(t *testing.T) {
	c := parentWithOptionalSub()
	e := Entry{Name: "parent", Version: "0.1.0", Digest: ContentDigest(c)}
	l := &Loader{Catalog: Default().With(e), Sources: []Source{&countingSource{c: c}}}
	ctx := context.Background()

	first, err := l.Load(ctx, e.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if m := render(t, first, nil); strings.Contains(m, "from-sub") {
		t.Fatalf("the subchart rendered while disabled:\n%s", m)
	}
	first.Values["name"] = "changed-by-a-caller"

	second, err := l.Load(ctx, e.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(second.Dependencies()); n != 1 {
		t.Errorf("second load has %d subcharts, want 1 (the first install's processing leaked into the cache)", n)
	}
	m := render(t, second, map[string]interface{}{"sub": map[string]interface{}{"enabled": true}})
	for _, want := range []string{"from-sub", "from-parent"} {
		if !strings.Contains(m, want) {
			t.Errorf("second release's manifest lacks %s:\n%s", want, m)
		}
	}

	// Both installs changed their charts; a third load is the chart as
	// the source gave it.
	third, err := l.Load(ctx, e.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if d := ContentDigest(third); d != e.Digest {
		t.Errorf("third load's content digest %s, want %s (the installs changed the cached chart)", d, e.Digest)
	}
	if v := third.Values["name"]; v != "from-parent" {
		t.Errorf("third load's values name %v, want from-parent (a caller's write leaked into the cache)", v)
	}
}
