package kubephase

import (
	"slices"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
)

// TestNotWaitedForReachesTheRelease: what a component declares its wait
// must not wait for is what its release (and its rollback) tells the Helm
// deployer, under the settings: ovn's ovn-controller sets while the
// log-parser sidecar, which mounts neutron's Secret, is on; nothing when
// it is off, nor for a component that declares nothing.
func TestNotWaitedForReachesTheRelease(t *testing.T) {
	for _, tc := range []struct {
		name      string
		component string
		vars      map[string]any
		want      []string // Kind Name until UntilSecret
	}{
		{"ovn, the sidecar on by default", "ovn", nil, []string{"DaemonSet ovn-controller-* until neutron-etc"}},
		{"ovn, the sidecar on", "ovn", map[string]any{"ovn_network_logging_parser_enabled": true}, []string{"DaemonSet ovn-controller-* until neutron-etc"}},
		{"ovn, the sidecar off", "ovn", map[string]any{"ovn_network_logging_parser_enabled": false}, nil},
		{"neutron declares nothing", "neutron", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := components.Default().Get(tc.component)
			if !ok {
				t.Fatalf("no component %s", tc.component)
			}
			s := components.DefaultSettings()
			s.Vars = tc.vars
			var got []string
			for _, e := range notWaitedFor(c, s) {
				if e.Why == "" {
					t.Errorf("%s %s: no why", e.Kind, e.Name)
				}
				got = append(got, e.Kind+" "+e.Name+" until "+e.UntilSecret)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("not waited for: %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOutcomeNoteSaysWhatWasNotWaitedFor: the unit's detail (events,
// --output json, the report) names what its release's wait skipped.
func TestOutcomeNoteSaysWhatWasNotWaitedFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		helm helmrelease.Result
		did  string
	}{
		{"install", helmrelease.Result{Decision: helmrelease.Decision{Action: helmrelease.Install, Reasons: []string{"new release"}}, NewRevision: 1},
			"install: new release (revision 1)"},
		{"install, one object not waited for", helmrelease.Result{Decision: helmrelease.Decision{Action: helmrelease.Install, Reasons: []string{"new release"}},
			NewRevision: 1, NotWaited: []string{"DaemonSet/openstack/ovn-controller-default (mounts neutron-etc)"}},
			"install: new release (revision 1); not waited for: DaemonSet/openstack/ovn-controller-default (mounts neutron-etc)"},
		{"unchanged", helmrelease.Result{Decision: helmrelease.Decision{Action: helmrelease.Unchanged}}, "release unchanged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Outcome{Component: "ovn", Phase: "install", Helm: &tc.helm}
			if got := o.note().Did; got != tc.did {
				t.Errorf("did %q, want %q", got, tc.did)
			}
		})
	}
}

// TestOutcomeNoteSaysWhatWasAdopted: a release or objects another tool
// made, taken over as they were, are told apart from a change, and the
// unit is not counted as changed.
func TestOutcomeNoteSaysWhatWasAdopted(t *testing.T) {
	adopt := &helmrelease.Result{Decision: helmrelease.Decision{Action: helmrelease.Adopt,
		Reasons: []string{"made by another tool", "chart and values as rendered"}, Revision: 3}, NewRevision: 3}
	for _, tc := range []struct {
		name      string
		o         Outcome
		did       string
		unchanged bool
	}{
		{"a release adopted", Outcome{Helm: adopt},
			"adopt: made by another tool, chart and values as rendered (revision 3 kept)", true},
		{"objects adopted", Outcome{Manifests: &manifest.Result{Applied: 3, Adopted: []string{"Ingress/openstack/a", "Certificate/openstack/b"}}},
			"3 objects applied: 2 adopted as they were, 1 unchanged", true},
		{"an object changed beside one adopted", Outcome{Manifests: &manifest.Result{Applied: 2, Adopted: []string{"Ingress/openstack/a"}, Changed: []string{"Ingress/openstack/b"}}},
			"2 objects applied: 1 changed, 0 created, 0 pruned, 1 adopted as they were", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.o.note()
			if n.Did != tc.did || n.Unchanged != tc.unchanged {
				t.Errorf("note %q unchanged %v, want %q %v", n.Did, n.Unchanged, tc.did, tc.unchanged)
			}
		})
	}
}
