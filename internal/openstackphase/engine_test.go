package openstackphase

import (
	"context"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

func TestEngineCheck(t *testing.T) {
	tests := []struct {
		name, phase, domain string
		want                string // the problem; none when empty
	}{
		{name: "a catalog without the public domain", phase: "catalog",
			want: "glance:catalog: the service catalog needs the public domain: set openstack_helm_endpoints_keystone_api_host (identity.<domain>) in the inventory"},
		{name: "a catalog with it", phase: "catalog", domain: "cloud.example"},
		{name: "another set-up without it", phase: "setup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{}
			r.Config.Endpoints.Domain = tt.domain
			problems := r.Check(context.Background(), &components.Component{Name: "glance"}, components.Phase{Name: tt.phase, Kind: components.OpenStack})
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems %v, want none", problems)
			case tt.want != "" && (len(problems) != 1 || problems[0].Err.Error() != tt.want):
				t.Errorf("problems %v, want %q", problems, tt.want)
			}
		})
	}
	st, err := (&Runner{}).Status(context.Background(), &components.Component{Name: "glance"})
	if err != nil || st.State != engine.Untracked {
		t.Errorf("status %+v %v, want untracked", st, err)
	}
}
