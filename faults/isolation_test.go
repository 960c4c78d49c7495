package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestFailureIsolation: two components are made to fail in one deploy:
// placement's API Deployment runs an image that never pulls, and
// barbican's db-sync, a Helm post-install hook Job, runs one whose
// container fails. Each fails with its pod and the pod's reason, long
// before its timeout; what needs them is skipped naming the failed unit;
// everything independent of them finishes; the exit code is 1 and the
// error names both root causes. With the images put right, the next run
// completes.
func TestFailureIsolation(t *testing.T) {
	const unitTimeout = 4 * time.Minute
	b := newBed(t)
	b.addVars("zz-failing.yml", fmt.Sprintf(`placement_helm_values:
  images:
    tags:
      placement: %q
barbican_helm_values:
  images:
    tags:
      barbican_db_sync: %q
`, testenv.NeverPullsImage, testenv.FailingImage))
	p, code := b.run("failing deploy", b.args("--unit-timeout", unitTimeout.String())...)
	stderr := p.stderr.String()
	if code != 1 {
		t.Errorf("exit %d, want 1\nstderr:\n%s", code, stderr)
	}
	evs := deploytest.Events(t, p.stdout.String())

	failures := []struct {
		unit, pod, reason string
	}{
		{"placement:install", "placement-api", "ImagePullBackOff"},
		{"barbican:install", "barbican-db-sync", "exit code 1"},
	}
	for _, f := range failures {
		e := evs.Last(f.unit)
		if e.Kind != deploy.Failed {
			t.Errorf("%s ended %q, want failed", f.unit, e.Kind)
			continue
		}
		for _, w := range []string{f.pod, f.reason} {
			if !strings.Contains(e.Error, w) {
				t.Errorf("%s's error lacks %q: %s", f.unit, w, e.Error)
			}
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %s's %q:\n%s", f.unit, w, stderr)
			}
		}
		// A failing pod ends the wait; the timeout is not what stops it.
		if e.Duration >= unitTimeout/2 {
			t.Errorf("%s failed after %s, with a unit timeout of %s: the pod's failure was not seen early", f.unit, e.Duration, unitTimeout)
		}
	}

	// Dependents are skipped naming the failed unit; independents finish.
	skippedBy := map[string]string{
		"nova:install":   "placement:install",
		"barbican:setup": "barbican:install",
	}
	for unit, cause := range skippedBy {
		e := evs.Last(unit)
		if e.Kind != deploy.Skipped || !strings.Contains(e.Error, cause) {
			t.Errorf("%s: %s %q, want skipped naming %s", unit, e.Kind, e.Error, cause)
		}
	}
	for _, unit := range []string{"keystone:install", "keystone:setup", "placement:catalog", "barbican:catalog", "glance:install", "cinder:install", "heat:install", "horizon:install", "magnum:install", "loki:install", "vector:install"} {
		if k := evs.Last(unit).Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s, independent of the failures, ended %q", unit, k)
		}
	}
	finished := evs.Count(deploy.Succeeded) + evs.Count(deploy.Unchanged)
	summary(t, "failing deploy: exit %d, %d units finished, %d failed, %d skipped", code, finished, evs.Count(deploy.Failed), evs.Count(deploy.Skipped))
	b.noChildren(p, "failing deploy")

	// The operator puts the images right; the next run repairs both.
	b.addVars("zz-failing.yml", "{}\n")
	b.deployCompletes("repairing deploy")
	b.noPendingRelease("after the repair")
	b.checkSetup("after the repair", allSetupUnits...)
	res := b.scanSecrets()
	t.Logf("secrets scanned: %d in %d outputs, leaks: %d", res.secrets, res.texts, res.leaks)
}
