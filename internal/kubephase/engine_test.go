package kubephase

import (
	"context"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/engine"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
)

func TestReleaseState(t *testing.T) {
	tests := []struct {
		st   helmrelease.ReleaseStatus
		want string
	}{
		{helmrelease.ReleaseStatus{}, engine.Absent},
		{helmrelease.ReleaseStatus{Found: true, Status: "uninstalled"}, engine.Absent},
		{helmrelease.ReleaseStatus{Found: true, Status: "deployed"}, engine.Deployed},
		{helmrelease.ReleaseStatus{Found: true, Status: "pending-upgrade"}, engine.Pending},
		{helmrelease.ReleaseStatus{Found: true, Status: "pending-install"}, engine.Pending},
		{helmrelease.ReleaseStatus{Found: true, Status: "failed"}, engine.Failed},
		{helmrelease.ReleaseStatus{Found: true, Status: "superseded"}, engine.Failed},
	}
	for _, tt := range tests {
		if got := releaseState(tt.st); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.st, got, tt.want)
		}
	}
}

// TestHelmStatusOfNoChart: a component without a chart has no release to
// read; its status is untracked, and the cluster is not asked.
func TestHelmStatusOfNoChart(t *testing.T) {
	st, err := HelmEngine{Stack: &Stack{}}.Status(context.Background(), &components.Component{Name: "objects-only"})
	if err != nil || st.State != engine.Untracked {
		t.Errorf("status %+v %v, want untracked", st, err)
	}
}
