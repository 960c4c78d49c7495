package helmrelease

import (
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// TestRollbackTarget: the revision a rollback goes back to, from the
// release's history in Helm's storage, or why there is none.
func TestRollbackTarget(t *testing.T) {
	const (
		superseded = release.StatusSuperseded
		deployed   = release.StatusDeployed
		failed     = release.StatusFailed
	)
	tests := []struct {
		name     string
		history  []release.Status // revision i+1's status
		revision int
		current  int
		target   int
		refused  string
	}{
		{name: "no release", refused: "no such release: nothing to roll back"},
		{name: "one revision", history: []release.Status{deployed},
			refused: "revision 1 (deployed) has no deployed revision before it: nothing to roll back to"},
		{name: "the one before", history: []release.Status{superseded, superseded, deployed}, current: 3, target: 2},
		{name: "the one serving when the last failed", history: []release.Status{superseded, deployed, failed}, current: 3, target: 2},
		{name: "a failed revision is skipped", history: []release.Status{superseded, failed, deployed}, current: 3, target: 1},
		{name: "from a pending upgrade", history: []release.Status{deployed, release.StatusPendingUpgrade}, current: 2, target: 1},
		{name: "only failed before", history: []release.Status{failed, failed, deployed},
			refused: "revision 3 (deployed) has no deployed revision before it"},
		{name: "a revision asked for, even failed", history: []release.Status{superseded, failed, deployed}, revision: 2, current: 3, target: 2},
		{name: "the current one asked for", history: []release.Status{superseded, deployed}, revision: 2,
			refused: "revision 2 is the current one: nothing to roll back"},
		{name: "a revision not kept", history: []release.Status{superseded, deployed}, revision: 9,
			refused: "no revision 9 (the revisions kept: 1, 2)"},
		{name: "a negative revision", history: []release.Status{superseded, deployed}, revision: -1,
			refused: "revision -1: want 1 or more"},
		{name: "uninstalled", history: []release.Status{superseded, release.StatusUninstalled},
			refused: "release is uninstalled: nothing to roll back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &action.Configuration{Releases: storage.Init(driver.NewMemory())}
			for i, s := range tt.history {
				rel := &release.Release{Name: "probe", Namespace: "ns", Version: i + 1, Info: &release.Info{Status: s}}
				if err := cfg.Releases.Create(rel); err != nil {
					t.Fatal(err)
				}
			}
			_, current, target, err := rollbackTarget(cfg, RollbackRequest{Name: "probe", Namespace: "ns", Revision: tt.revision})
			if tt.refused != "" {
				var nr *NoRollbackError
				if !errors.As(err, &nr) || !strings.Contains(err.Error(), "release ns/probe: "+tt.refused) {
					t.Fatalf("got revision %d → %d, error %v; want a NoRollbackError %q", current, target, err, tt.refused)
				}
				return
			}
			if err != nil || current != tt.current || target != tt.target {
				t.Errorf("got %d → %d, error %v; want %d → %d", current, target, err, tt.current, tt.target)
			}
		})
	}
}
