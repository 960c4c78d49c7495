package kubephase

import (
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestStackTimeout: a Helm or manifest phase is bounded by the operator's
// override (--unit-timeout, rollback's --timeout) when there is one, else
// by the inventory's <role>_helm_timeout of a component whose role takes
// one, else by the component's declared Timeout.
func TestStackTimeout(t *testing.T) {
	cases := []struct {
		name      string
		component string
		vars      map[string]any
		override  time.Duration
		want      time.Duration
	}{
		{"declared", "nova", nil, 0, 5 * time.Minute},
		{"the role's knob", "nova", map[string]any{"nova_helm_timeout": "12m"}, 0, 12 * time.Minute},
		{"the override over the knob", "nova", map[string]any{"nova_helm_timeout": "12m"}, time.Minute, time.Minute},
		{"keycloak's knob", "keycloak", map[string]any{"keycloak_helm_timeout": "15m0s"}, 0, 15 * time.Minute},
		{"no knob of its role", "memcached", map[string]any{"memcached_helm_timeout": "12m"}, 0, 5 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			comp, ok := components.Default().Get(c.component)
			if !ok {
				t.Fatalf("no component %s", c.component)
			}
			s := &Stack{Config: components.DefaultSettings(), Timeouts: map[string]time.Duration{}}
			s.Config.Vars = c.vars
			if c.override > 0 {
				s.Timeouts[c.component] = c.override
			}
			if got := s.timeout(comp); got != c.want {
				t.Errorf("%s, want %s", got, c.want)
			}
		})
	}
}
