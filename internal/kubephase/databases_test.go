package kubephase

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
)

// TestDatabasePhasesMakeWhatTheChartsDBInitWould: for every component
// whose database phase stands in for its chart's db-init Job, the
// databases and user it makes are those the release's values configure
// (each oslo_db endpoint's path, and the user's name and password under
// its auth), and the release makes no db-init Job: the chart has one,
// our values turn it off, and no list of Jobs under dependencies names it.
func TestDatabasePhasesMakeWhatTheChartsDBInitWould(t *testing.T) {
	st, _ := fidelitySettings(t, "", "")
	loader := chartLoader()
	checked := 0
	for _, c := range components.Default().Components() {
		grants, err := c.DatabaseGrants(st.Config)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if len(grants) == 0 || c.Name == "keycloak" { // keycloak's chart has no db-init Job
			continue
		}
		checked++
		ch, err := loader.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Fatal(err)
		}
		if on, _ := values.Get(ch.Values, "manifests.job_db_init"); on != true {
			t.Errorf("%s: the chart has no db-init Job on by default (%v)", c.Name, on)
		}
		own, err := st.Values(c, ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		v := values.Merge(ch.Values, own)
		if on, _ := values.Get(v, "manifests.job_db_init"); on != false {
			t.Errorf("%s: the release's manifests.job_db_init is %v, want false", c.Name, on)
		}
		user := grants[0].User
		var want []components.DatabaseGrant
		endpoints, _ := v["endpoints"].(map[string]any)
		for name, e := range endpoints {
			if !strings.HasPrefix(name, "oslo_db") {
				continue
			}
			ep, _ := e.(map[string]any)
			auth, _ := values.Get(ep, "auth."+user)
			a, ok := auth.(map[string]any)
			if !ok {
				continue
			}
			path, _ := ep["path"].(string)
			username, _ := a["username"].(string)
			password, _ := a["password"].(string)
			want = append(want, components.DatabaseGrant{Database: strings.TrimPrefix(path, "/"), User: username, Password: password})
		}
		byName := func(a, b components.DatabaseGrant) int { return strings.Compare(a.Database, b.Database) }
		slices.SortFunc(want, byName)
		slices.SortFunc(grants, byName)
		if !slices.Equal(grants, want) {
			t.Errorf("%s: the database phase makes %v, the release's oslo_db endpoints configure %v", c.Name, redact(grants), redact(want))
		}
		var walk func(path string, x any)
		walk = func(path string, x any) {
			switch x := x.(type) {
			case map[string]any:
				for k, y := range x {
					walk(path+"."+k, y)
				}
			case []any:
				for _, j := range x {
					if s, _ := j.(string); strings.HasSuffix(s, "-db-init") {
						t.Errorf("%s: %s still names Job %s", c.Name, path, s)
					}
				}
			}
		}
		walk("dependencies", v["dependencies"])
	}
	if checked < 10 {
		t.Errorf("%d components checked, want the OpenStack services", checked)
	}
}

// redact shows grants without their passwords, but whether one is set.
func redact(gs []components.DatabaseGrant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Database+"/"+g.User+"/password set: "+map[bool]string{true: "yes", false: "no"}[g.Password != ""])
	}
	return out
}
