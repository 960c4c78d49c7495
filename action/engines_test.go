package action

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

// fakeEngine answers for every component and phase as told: problems and
// changes by unit key, states by component.
type fakeEngine struct {
	engine.Provided
	problems map[string][]engine.Problem
	changes  map[string]engine.Change
	states   map[string]engine.State
	planErr  error
}

func (f fakeEngine) Check(_ context.Context, c *components.Component, p components.Phase) []engine.Problem {
	return f.problems[components.UnitKey(c.Name, p.Name)]
}

func (f fakeEngine) Plan(_ context.Context, c *components.Component, p components.Phase) (engine.Change, error) {
	return f.changes[components.UnitKey(c.Name, p.Name)], f.planErr
}

func (f fakeEngine) Status(_ context.Context, c *components.Component) (engine.State, error) {
	if st, ok := f.states[c.Name]; ok {
		return st, nil
	}
	return engine.State{State: engine.Untracked}, nil
}

// engineConfig is a Configuration of two components whose kinds of work
// are done by the given engines, as connect leaves it.
func engineConfig(t *testing.T, engines map[components.Kind]engine.Engine) *Configuration {
	t.Helper()
	reg, err := components.NewRegistry(
		&components.Component{Name: "web", Kinds: []components.Kind{components.Database, components.Helm, components.Manifest},
			Phases: []components.Phase{
				{Name: "database", Kind: components.Database},
				{Name: "install", Kind: components.Helm},
				{Name: "strict-mode", Kind: components.Database},
			}},
		&components.Component{Name: "hosts", Kinds: []components.Kind{components.Ansible},
			Phases: []components.Phase{{Name: "install", Kind: components.Ansible}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return &Configuration{registry: reg, engines: engines}
}

func TestCheckListsAProblemOnce(t *testing.T) {
	dup := engine.Problem{About: "database web", Err: errors.New("web: no password")}
	tests := []struct {
		name    string
		db      fakeEngine
		keys    []string
		want    []string // the problems' lines; none for no error
		wantErr string
	}{
		{name: "no problem", keys: []string{"web:database", "web:install", "hosts:install"}},
		{name: "the same problem of two units", db: fakeEngine{problems: map[string][]engine.Problem{
			"web:database": {dup}, "web:strict-mode": {dup},
		}}, keys: []string{"web:database", "web:strict-mode"}, want: []string{"web: no password"}},
		{name: "two problems of one unit, in order", db: fakeEngine{problems: map[string][]engine.Problem{
			"web:database": {{About: "a", Err: errors.New("first")}, {About: "b", Err: errors.New("second")}},
		}}, keys: []string{"web:database"}, want: []string{"first", "second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := engineConfig(t, map[components.Kind]engine.Engine{
				components.Database: tt.db, components.Helm: fakeEngine{}, components.Ansible: engine.Provided{},
			})
			err := c.check(context.Background(), tt.keys)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("check: %v, want none", err)
				}
				return
			}
			if !IsUsage(err) {
				t.Fatalf("check: %v, want a usage error", err)
			}
			lines := strings.Split(err.Error(), "\n  ")[1:]
			if !slices.Equal(lines, tt.want) {
				t.Errorf("problems %q, want %q", lines, tt.want)
			}
		})
	}
}

func TestCheckWithoutTheKindsEngine(t *testing.T) {
	c := engineConfig(t, map[components.Kind]engine.Engine{})
	if err := c.check(context.Background(), []string{"hosts:install"}); err == nil || !strings.Contains(err.Error(), "no engine for ansible work") {
		t.Errorf("check: %v, want no engine for ansible work", err)
	}
}

func TestChangesAreTheEnginesPlans(t *testing.T) {
	helm := fakeEngine{changes: map[string]engine.Change{
		"web:install": {Action: "upgrade", Why: []string{"values", "images"}},
	}}
	c := engineConfig(t, map[components.Kind]engine.Engine{
		components.Helm: helm, components.Database: fakeEngine{changes: map[string]engine.Change{"web:database": {Action: "unchanged"}}},
		components.Ansible: engine.Provided{},
	})
	got, err := c.changes(context.Background(), []string{"web:database", "web:install", "hosts:install"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web:database": "unchanged", "web:install": "upgrade (values, images)", "hosts:install": "provided by the environment"}
	if !maps.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	helm.planErr = errors.New("chart not found")
	c.engines[components.Helm] = helm
	if _, err := c.changes(context.Background(), []string{"web:install"}); err == nil || err.Error() != "plan web:install: chart not found" {
		t.Errorf("changes: %v, want plan web:install: chart not found", err)
	}
}

// TestComponentStatusIsItsFirstTrackedKinds: a component's state is that of
// the first of its kinds (in Kinds order) whose engine reads something.
func TestComponentStatusIsItsFirstTrackedKinds(t *testing.T) {
	tests := []struct {
		name           string
		helm, manifest map[string]engine.State
		want           ComponentStatus
	}{
		{name: "nothing to read", want: ComponentStatus{Component: "web", State: "untracked"}},
		{name: "its release before its objects",
			helm:     map[string]engine.State{"web": {State: engine.Pending, Detail: "pending-upgrade", Revision: 3, Chart: "web-1.0.0"}},
			manifest: map[string]engine.State{"web": {State: engine.Applied, Detail: "2 objects"}},
			want:     ComponentStatus{Component: "web", State: "pending", Detail: "pending-upgrade", Revision: 3, Chart: "web-1.0.0"}},
		{name: "its objects when the release is untracked",
			manifest: map[string]engine.State{"web": {State: engine.Applied, Detail: "2 objects"}},
			want:     ComponentStatus{Component: "web", State: "applied", Detail: "2 objects"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := engineConfig(t, map[components.Kind]engine.Engine{
				components.Database: fakeEngine{}, components.Helm: fakeEngine{states: tt.helm},
				components.Manifest: fakeEngine{states: tt.manifest},
			})
			comp, _ := c.registry.Get("web")
			got, err := c.componentStatus(context.Background(), comp)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("status %+v, want %+v", got, tt.want)
			}
		})
	}
}
