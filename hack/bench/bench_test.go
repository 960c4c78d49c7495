package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/inventory"
)

func TestParseServed(t *testing.T) {
	metrics := `# HELP apiserver_request_total Counter of apiserver requests.
apiserver_request_total{code="200",component="apiserver",verb="GET"} 100
apiserver_request_total{code="201",component="apiserver",verb="POST"} 20
apiserver_request_total{code="429",component="apiserver",resource="pods",subresource="eviction",verb="POST"} 3
apiserver_request_total{code="504",component="apiserver",resource="pods",verb="GET"} 2
apiserver_request_total{code="200",component="apiserver",verb="WATCH"} 7
apiserver_request_duration_seconds_bucket{verb="GET",le="0.5"} 90
apiserver_request_duration_seconds_bucket{verb="GET",le="1"} 95
apiserver_request_duration_seconds_bucket{verb="GET",le="+Inf"} 100
apiserver_request_duration_seconds_sum{verb="GET"} 30
apiserver_request_duration_seconds_count{verb="GET"} 100
apiserver_request_duration_seconds_bucket{verb="WATCH",le="1"} 0
apiserver_request_duration_seconds_sum{verb="WATCH"} 4000
apiserver_request_duration_seconds_count{verb="WATCH"} 7
apiserver_request_duration_seconds_bucket{verb="CONNECT",le="1"} 0
apiserver_request_duration_seconds_count{verb="CONNECT"} 1
apiserver_request_duration_seconds_sum{verb="POST"} 2
apiserver_request_duration_seconds_count{verb="POST"} 20
apiserver_request_duration_seconds_bucket{verb="POST",le="1"} 20
`
	got, err := parseServed([]byte(metrics))
	if err != nil {
		t.Fatal(err)
	}
	want := served{all: 132, overloaded: 3, failed: 2, timed: 120, seconds: 32, overSecond: 5, refusedBy: map[string]float64{"GET pods 504": 2, "POST pods/eviction 429": 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseServed = %+v, want %+v", got, want)
	}
	m := measure{API: got.minus(served{all: 32, timed: 20, seconds: 2, refusedBy: map[string]float64{"GET pods 504": 2, "POST pods/eviction 429": 3}})}
	if m.API.all != 100 || m.meanLatency().Seconds() != 0.3 || len(m.API.refusedBy) != 0 {
		t.Errorf("after minus: %+v, mean latency %v; want 100 requests, 300ms", m.API, m.meanLatency())
	}
}

func TestChainComponents(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"Critical chain (26s to its end): glance:install → nova:install", []string{"glance", "nova"}},
		{"Critical chain (9s to its end): keystone:install → keystone:setup → glance:install", []string{"keystone", "glance"}},
		{"no chain here", nil},
	} {
		if got := chainComponents(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("chainComponents(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestServerErrorsSummary(t *testing.T) {
	r := &report{order: []string{"atmosphere"}, measures: map[string][]measure{"atmosphere": {
		{API: served{refusedBy: map[string]float64{"WATCH a 429": 1, "WATCH b 429": 2, "WATCH c 429": 1, "WATCH d 429": 1, "WATCH e 429": 1, "LIST pods 503": 2}}},
		{API: served{refusedBy: map[string]float64{"WATCH a 429": 1}}},
	}}}
	var b strings.Builder
	r.writeServerErrors(func(f string, args ...any) { fmt.Fprintf(&b, f, args...) })
	got := b.String()
	for _, want := range []string{"LIST 503 ×2 (pods)", "WATCH 429 ×7 (a, b, c, d and 1 more)"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
}

// TestRolesValuesGiveTheJobsBack: the values the other tools get of a
// release atmosphere deployed are its role's: glance's db-init, keystone
// and rabbit-init Jobs on again (their manifests keys and the Jobs lists
// under dependencies removed, so the chart's defaults apply), everything
// else as deployed; a component without native Jobs is left as deployed.
func TestRolesValuesGiveTheJobsBack(t *testing.T) {
	inv, err := inventory.Load("../../testdata/inventories/kwok", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := inv.Settings()
	if err != nil {
		t.Fatal(err)
	}
	reg := components.Default()
	g, err := reg.Graph(s.Config, components.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := helmWorkload(reg, g, []string{"../../../shared/atmosphere/charts", "../../testdata/charts"})
	if err != nil {
		t.Fatal(err)
	}
	roles := rolesValuesOf(reg, inv, s)
	deployed := map[string]any{
		"manifests":    map[string]any{"job_db_init": false, "job_ks_user": false, "job_rabbit_init": false, "job_db_sync": true},
		"dependencies": map[string]any{"static": map[string]any{"api": map[string]any{"jobs": []any{"glance-db-sync"}}}},
		"conf":         map[string]any{"a": "b"},
	}
	for _, r := range w.releases {
		got, err := roles(r, deployed)
		if err != nil {
			t.Fatalf("%s: %v", r.Component, err)
		}
		switch r.Component {
		case "glance":
			want := map[string]any{"manifests": map[string]any{"job_db_sync": true}, "conf": map[string]any{"a": "b"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("glance: %v, want %v", got, want)
			}
		case "memcached":
			if !reflect.DeepEqual(got, deployed) {
				t.Errorf("memcached (no native Jobs): %v, want it as deployed", got)
			}
		}
	}
}

// TestUnitsSpan: the span of a run's units is read from the timing report
// the run wrote (atmosphere's own Markdown), not from one written before.
func TestUnitsSpan(t *testing.T) {
	dir := t.TempDir()
	old := reportsDir
	reportsDir = dir
	t.Cleanup(func() { reportsDir = old })
	write := func(name string, took time.Duration) {
		start := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
		r := &deploy.Report{Start: start, End: start.Add(took), Units: []deploy.UnitReport{
			{Unit: "memcached:install", Result: deploy.Unchanged, Start: start, End: start.Add(took)},
		}}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := r.WriteMarkdown(f); err != nil {
			t.Fatal(err)
		}
	}
	write("deploy-1.md", 2*time.Minute+3*time.Second)
	before, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	if _, err := unitsSpan(before); err == nil {
		t.Error("no new report: want an error")
	}
	write("deploy-2.md", 734*time.Millisecond)
	got, err := unitsSpan(before)
	if err != nil {
		t.Fatal(err)
	}
	if want := 734 * time.Millisecond; got != want {
		t.Errorf("units span %s, want %s", got, want)
	}
}
