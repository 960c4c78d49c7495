package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/database"
)

func TestEngineCheck(t *testing.T) {
	bad := errors.New(`database name "key-cloak": only letters, digits and _`)
	tests := []struct {
		name  string
		check func(string) error
		want  string // the problem; none when empty
	}{
		{name: "nothing to check with"},
		{name: "grants in order", check: func(string) error { return nil }},
		{name: "a bad grant", check: func(string) error { return bad }, want: "keycloak: " + bad.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &database.Deployer{CheckGrants: tt.check}
			problems := d.Check(context.Background(), &components.Component{Name: "keycloak"}, components.Phase{Name: database.PhaseDatabase})
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems %v, want none", problems)
			case tt.want != "" && (len(problems) != 1 || problems[0].Err.Error() != tt.want || problems[0].About != "database keycloak"):
				t.Errorf("problems %v, want %q about database keycloak", problems, tt.want)
			}
		})
	}
}
