package deploy

import (
	"bytes"
	"context"
	"encoding/xml"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/golden"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// sampleReport is a small run with every result: a chain of three, a unit
// that waited for a slot, an unchanged one, a failure and what it skipped.
func sampleReport() *Report {
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	return &Report{
		Start: t0, End: at(95),
		Chain: []string{"memcached:install", "keystone:install", "glance:install"},
		Units: []UnitReport{
			{Unit: "memcached:install", Component: "memcached", Phase: "install", Work: components.Helm, Result: Succeeded,
				Detail: "install: new release (revision 1)", Ready: t0, Start: t0, End: at(7.2), Critical: true},
			{Unit: "cert-manager:install", Component: "cert-manager", Phase: "install", Work: components.Helm, Result: Unchanged,
				Detail: "release unchanged", Ready: t0, Start: t0, End: at(0.4)},
			{Unit: "keystone:install", Component: "keystone", Phase: "install", Work: components.Helm, Result: Succeeded,
				Detail: "upgrade: values | images (revision 3)", Ready: at(7.2), Start: at(7.2), End: at(48), Critical: true},
			{Unit: "keystone:setup", Component: "keystone", Phase: "setup", Work: components.OpenStack, Result: Succeeded,
				Detail: "OpenStack set-up changed", Ready: at(48), Start: at(52.5), End: at(55)},
			{Unit: "glance:install", Component: "glance", Phase: "install", Work: components.Helm, Result: Succeeded,
				Detail: "install: new release (revision 1)", Ready: at(48), Start: at(48), End: at(95), Critical: true},
			{Unit: "heat:install", Component: "heat", Phase: "install", Work: components.Helm, Result: Failed,
				Error: "install openstack/heat: Job openstack/heat-db-sync: pod heat-db-sync-abc: ErrImagePull <not found>", Ready: at(48), Start: at(48), End: at(61)},
			{Unit: "heat:catalog", Component: "heat", Phase: "catalog", Work: components.OpenStack, Result: Skipped,
				Error: "needs heat:install, which failed"},
		},
	}
}

func TestReportGolden(t *testing.T) {
	r := sampleReport()
	var md, svg bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "report.md", md.String())
	if err := r.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, whatever the unit names and errors hold.
	dec := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the SVG is not well-formed: %v", err)
			}
			break
		}
	}
	golden.Check(t, "report.svg", svg.String())
}

// TestDurationsOnTheCluster keeps measured durations in a ConfigMap of the
// test cluster: absent at first, then saved, then merged with a second
// save that keeps the units it does not measure.
func TestDurationsOnTheCluster(t *testing.T) {
	cs, ns := testenv.KubeNamespace(t)
	ctx := context.Background()
	d := &Durations{Client: cs, Namespace: ns}
	got, err := d.Load(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("before any save: %v %v", got, err)
	}
	if err := d.Save(ctx, map[string]time.Duration{"nova:install": 231 * time.Second, "glance:install": 3500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := d.Save(ctx, map[string]time.Duration{"nova:install": 200 * time.Second}); err != nil {
		t.Fatal(err)
	}
	got, err = d.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"nova:install": 200 * time.Second, "glance:install": 3500 * time.Millisecond}
	if len(got) != len(want) || got["nova:install"] != want["nova:install"] || got["glance:install"] != want["glance:install"] {
		t.Errorf("kept %v, want %v", got, want)
	}
}
