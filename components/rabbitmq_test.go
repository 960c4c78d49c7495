package components

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRabbitmqSpecDiff: the fields of a RabbitMQ cluster's spec that a
// deploy would change, as the spec guard shows them; fields only the live
// spec has (the operator's defaults) and numbers of another Go type are no
// change.
func TestRabbitmqSpecDiff(t *testing.T) {
	spec := func(m map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"spec": m}}
	}
	tests := []struct {
		name       string
		live, want map[string]any
		diff       []string
	}{
		{"unchanged", map[string]any{"image": "a", "replicas": int64(1)}, map[string]any{"image": "a", "replicas": 1}, nil},
		{"operator's defaults", map[string]any{"image": "a", "rabbitmq": map[string]any{"additionalPlugins": []any{"x"}}},
			map[string]any{"image": "a", "rabbitmq": map[string]any{}}, nil},
		{"empty mapping left out", map[string]any{"image": "a"}, map[string]any{"image": "a", "tls": map[string]any{}}, nil},
		{"image", map[string]any{"image": "a"}, map[string]any{"image": "b"}, []string{`spec.image: "a" -> "b"`}},
		{"nested and unset", map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "1Gi"}}},
			map[string]any{"replicas": 3, "resources": map[string]any{"requests": map[string]any{"cpu": "1", "memory": "2Gi"}}},
			[]string{`spec.replicas: (unset) -> 3`, `spec.resources.requests.cpu: (unset) -> "1"`, `spec.resources.requests.memory: "1Gi" -> "2Gi"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rabbitmqSpecDiff(spec(tt.live), spec(tt.want)); !slices.Equal(got, tt.diff) {
				t.Errorf("diff %q, want %q", got, tt.diff)
			}
		})
	}
}

// TestRabbitmqSpecGuardConfirmed: a component with a RabbitMQ cluster has
// the spec guard before the image guard unless rabbitmq_skip_spec_diff is
// true, and reads the knob, whose non-boolean value is refused before the
// run.
func TestRabbitmqSpecGuardConfirmed(t *testing.T) {
	barbican, ok := Default().Get("barbican")
	if !ok {
		t.Fatal("no barbican")
	}
	tests := []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"default", nil, []string{"the spec change of RabbitMQ cluster rabbitmq-barbican", "the image upgrade of RabbitMQ cluster rabbitmq-barbican"}},
		{"false", map[string]any{"rabbitmq_skip_spec_diff": false}, []string{"the spec change of RabbitMQ cluster rabbitmq-barbican", "the image upgrade of RabbitMQ cluster rabbitmq-barbican"}},
		{"confirmed", map[string]any{"rabbitmq_skip_spec_diff": true}, []string{"the image upgrade of RabbitMQ cluster rabbitmq-barbican"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = tt.vars
			var got []string
			for _, g := range barbican.UpgradeGuards(s) {
				got = append(got, g.What)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("guards %q, want %q", got, tt.want)
			}
		})
	}
	if !slices.Contains(barbican.Knobs(), "rabbitmq_skip_spec_diff") {
		t.Error("barbican does not read rabbitmq_skip_spec_diff")
	}
	problems := Default().CheckKnobs(DefaultConfig(), map[string]any{"rabbitmq_skip_spec_diff": "yes"})
	i := slices.IndexFunc(problems, func(p KnobProblem) bool { return p.Key == "rabbitmq_skip_spec_diff" })
	if i < 0 || problems[i].Message != `want true or false, got the string "yes"` {
		t.Errorf("problems %v, want rabbitmq_skip_spec_diff's", problems)
	}
}
