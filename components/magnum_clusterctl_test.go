package components

import (
	"slices"
	"testing"
)

// TestMagnumClusterctlConfigRefused: magnum_clusterctl_config, which
// configures the Cluster API that atmosphere-go does not install, is no
// problem unset and refused before the run, naming the knob, the value
// and what is supported, whatever it is set to (the role's default shape
// included).
func TestMagnumClusterctlConfigRefused(t *testing.T) {
	roleDefault := map[string]any{"images": map[string]any{"cluster-api/cluster-api-controller": map[string]any{
		"repository": "registry.k8s.io/cluster-api", "tag": "v1.13.2"}}}
	tests := []struct {
		name    string
		cfg     Config
		value   any
		message string // "" for no problem
	}{
		{"unset", DefaultConfig(), nil, ""},
		{"the role's default", DefaultConfig(), roleDefault, "want " + magnumClusterctlConfig.want + ", got a mapping"},
		{"a string", DefaultConfig(), "x", "want " + magnumClusterctlConfig.want + `, got the string "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]any{}
			if tt.value != nil {
				vars["magnum_clusterctl_config"] = tt.value
			}
			problems := Default().CheckKnobs(tt.cfg, vars)
			i := slices.IndexFunc(problems, func(p KnobProblem) bool { return p.Key == "magnum_clusterctl_config" })
			switch {
			case tt.message == "" && i >= 0:
				t.Errorf("refused: %v", problems[i])
			case tt.message != "" && i < 0:
				t.Errorf("not refused: %v", problems)
			case tt.message != "" && problems[i].Message != tt.message:
				t.Errorf("problem %q, want %q", problems[i].Message, tt.message)
			}
		})
	}
}
