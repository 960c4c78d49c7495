package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

func TestChangeString(t *testing.T) {
	tests := []struct {
		change engine.Change
		want   string
	}{
		{engine.Change{Action: "unchanged"}, "unchanged"},
		{engine.Change{Action: "apply", Why: []string{"new"}}, "apply (new)"},
		{engine.Change{Action: "upgrade", Why: []string{"chart", "values", "images"}}, "upgrade (chart, values, images)"},
	}
	for _, tt := range tests {
		if got := tt.change.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.change, got, tt.want)
		}
	}
}

// notes records the notes of a run.
type notes struct {
	dag.NopObserver[string]
	got []dag.Note
}

func (n *notes) Noted(_ string, note dag.Note, _ time.Time) { n.got = append(n.got, note) }

func TestProvided(t *testing.T) {
	p := engine.Provided{Why: "provided by the environment"}
	c := &components.Component{Name: "hosts"}
	phase := components.Phase{Name: "install", Kind: components.Ansible}
	g := dag.New[string]()
	if err := g.AddNode("hosts:install", dag.Spec[string]{}); err != nil {
		t.Fatal(err)
	}
	obs := &notes{}
	if _, err := dag.Run(context.Background(), g, func(ctx context.Context, _ string) error {
		return p.Deploy(ctx, c, phase)
	}, dag.Options[string]{Observer: obs}); err != nil {
		t.Fatal(err)
	}
	if want := (dag.Note{Did: "provided by the environment", Unchanged: true}); len(obs.got) != 1 || obs.got[0] != want {
		t.Errorf("notes %+v, want one %+v", obs.got, want)
	}
	if problems := p.Check(context.Background(), c, phase); len(problems) != 0 {
		t.Errorf("problems %v, want none", problems)
	}
	if change, err := p.Plan(context.Background(), c, phase); err != nil || change.String() != "provided by the environment" {
		t.Errorf("plan %v %v, want provided by the environment", change, err)
	}
	if st, err := p.Status(context.Background(), c); err != nil || st.State != engine.Untracked {
		t.Errorf("status %+v %v, want untracked", st, err)
	}
}
