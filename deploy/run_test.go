package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

// events keeps what an observer saw.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) Observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) of(unit string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		if ev.Unit == unit {
			s := string(ev.Kind)
			if ev.Detail != "" {
				s += " " + ev.Detail
			}
			if ev.Error != "" {
				s += " (" + ev.Error + ")"
			}
			out = append(out, s)
		}
	}
	return out
}

// testRegistry: db → api → setup; broken → after-broken; cache alone.
func testRegistry(t *testing.T) *components.Registry {
	t.Helper()
	one := func(name string, kind components.Kind, needs ...string) *components.Component {
		return &components.Component{Name: name, Kinds: []components.Kind{kind},
			Phases: []components.Phase{{Name: "install", Kind: kind, Needs: needs, Estimate: time.Second}}}
	}
	reg, err := components.NewRegistry(
		one("db", components.Helm),
		one("api", components.Helm, "db"),
		&components.Component{Name: "svc", Kinds: []components.Kind{components.Helm, components.OpenStack}, Phases: []components.Phase{
			{Name: "install", Kind: components.Helm, Needs: []string{"api"}, Estimate: time.Second},
			{Name: "setup", Kind: components.OpenStack, Estimate: time.Second},
		}},
		one("broken", components.Helm),
		one("after-broken", components.Helm, "broken"),
		one("cache", components.Manifest),
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestRunReportsEveryUnit(t *testing.T) {
	reg := testRegistry(t)
	g, err := reg.Graph(components.Config{}, components.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := components.DeployerFunc(func(ctx context.Context, c *components.Component, p components.Phase) error {
		switch c.Name {
		case "svc":
			// The db → api → svc chain ends last whatever the timing of
			// the instant units.
			time.Sleep(50 * time.Millisecond)
		case "broken":
			dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "Job openstack/broken-db-init"})
			return errors.New("install openstack/broken: Job openstack/broken-db-init: pod broken-db-init-x: ImagePullBackOff")
		case "cache":
			dag.ReporterFrom(ctx).Note(dag.Note{Did: "3 objects unchanged", Unchanged: true})
		case "db":
			dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "StatefulSet openstack/db"})
			dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "StatefulSet openstack/db"}) // same again: no new event
			dag.ReporterFrom(ctx).Note(dag.Note{Did: "install (revision 1)"})
		}
		return nil
	})
	seen := &events{}
	rep, err := Run(context.Background(), reg, g, d, Options{Observer: seen, Concurrency: 2})
	var runErr *dag.RunError[string]
	if !errors.As(err, &runErr) || len(runErr.Failures) != 1 || runErr.Failures[0].Key != "broken:install" || runErr.Skipped != 1 {
		t.Fatalf("run error %v, want broken:install failed and one unit skipped", err)
	}
	for unit, want := range map[string][]string{
		"db:install":           {"started", "waiting StatefulSet openstack/db", "succeeded install (revision 1)"},
		"api:install":          {"started", "succeeded"},
		"svc:setup":            {"started", "succeeded"},
		"cache:install":        {"started", "unchanged 3 objects unchanged"},
		"broken:install":       {"started", "waiting Job openstack/broken-db-init", "failed (install openstack/broken: Job openstack/broken-db-init: pod broken-db-init-x: ImagePullBackOff)"},
		"after-broken:install": {"skipped (needs broken:install, which failed)"},
	} {
		if got := seen.of(unit); !slices.Equal(got, want) {
			t.Errorf("%s: events %q, want %q", unit, got, want)
		}
	}
	for _, e := range seen.list {
		if c, p := components.SplitUnit(e.Unit); e.Component != c || e.Phase != p {
			t.Errorf("event %+v: component/phase not those of its unit", e)
		}
	}
	count := rep.Count()
	if count[Succeeded] != 4 || count[Unchanged] != 1 || count[Failed] != 1 || count[Skipped] != 1 {
		t.Errorf("counts %v", count)
	}
	if got := rep.Measured(); len(got) != 4 || got["cache:install"] != 0 {
		t.Errorf("measured %v: want the four units that changed something, not the unchanged one", got)
	}
	last := rep.Chain[len(rep.Chain)-1]
	if !strings.HasPrefix(rep.Chain[0], "db:") || last != "svc:setup" {
		t.Errorf("chain %v, want db → … → svc:setup", rep.Chain)
	}
	for i, u := range rep.Units {
		if i > 0 && u.Ran() && rep.Units[i-1].Start.After(u.Start) {
			t.Errorf("units not in start order at %s", u.Unit)
		}
		if u.Unit == "svc:setup" && u.Work != components.OpenStack {
			t.Errorf("svc:setup work %q", u.Work)
		}
	}
}

// TestHeartbeat: a unit at work longer than the heartbeat is reported
// again, with what it last said it waits on.
func TestHeartbeat(t *testing.T) {
	reg := testRegistry(t)
	g, err := reg.Graph(components.Config{}, components.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err = g.Subgraph([]string{"cache:install"}, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := &events{}
	d := components.DeployerFunc(func(ctx context.Context, c *components.Component, p components.Phase) error {
		dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "Deployment openstack/cache"})
		deadline := time.After(time.Minute)
		for {
			if n := len(seen.of("cache:install")); n >= 4 {
				return nil
			}
			select {
			case <-deadline:
				return errors.New("no heartbeat in a minute")
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	if _, err := Run(context.Background(), reg, g, d, Options{Observer: seen, Heartbeat: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	got := seen.of("cache:install")
	for _, e := range got[1 : len(got)-1] {
		if e != "waiting Deployment openstack/cache" {
			t.Errorf("heartbeat %q, want the last thing waited on", e)
		}
	}
}
