package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
)

// TestAPIServerRestart: the test bed's kube-apiserver is stopped for a few
// seconds and started again while a whole deploy runs (Helm installs and
// waits in flight). The deploy rides it out, retrying the work that failed
// on the missing server, and completes with every unit done.
func TestAPIServerRestart(t *testing.T) {
	b := newBed(t)
	p := b.start(b.args()...)
	// Restart once several units are in flight.
	if !p.stdout.waitFor(p, 3*time.Minute, func(s string) bool { return strings.Count(s, `"event":"started"`) >= 8 }) {
		b.wait(p, "deploy", time.Minute)
		t.Fatalf("the deploy did not get 8 units started:\n%s", p.stderr.String())
	}
	restartAt := time.Now()
	if err := b.cluster.RestartAPIServer(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	select {
	case <-p.done:
		t.Fatalf("the deploy ended before the API server was back (exit %d):\n%s", p.code, p.stderr.String())
	default:
	}
	code := b.wait(p, "deploy across an API server restart", 8*time.Minute)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, p.stderr.String())
	}
	evs := deploytest.Events(t, p.stdout.String())
	inFlight, retried := 0, 0
	for unit, es := range evs {
		if k := es[len(es)-1].Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s ended %s: %s", unit, k, es[len(es)-1].Error)
		}
		if started := es[0].Time; started.Before(restartAt) && es[len(es)-1].Time.After(back) {
			inFlight++
		}
		for _, e := range es {
			if e.Kind == deploy.Waiting && strings.Contains(e.Detail, "a retry") {
				retried++
				break
			}
		}
	}
	if inFlight == 0 {
		t.Errorf("no unit was in flight across the restart: the test proved nothing")
	}
	summary(t, "API server down %s; %d units in flight across it, %d retried after a transient error; the deploy completed", back.Sub(restartAt).Round(100*time.Millisecond), inFlight, retried)
	b.noChildren(p, "deploy")
	b.noPendingRelease("after the restart")
	b.deployCompletes("next deploy")
	b.checkSetup("after the next deploy", allSetupUnits...)
}

// TestKeystoneOutage: keystone is down for 10 s while the deploy does its
// OpenStack set-up (service catalog, keystone's own set-up; the OpenStack
// APIs check tokens with it too). The set-up retries, the deploy
// completes, and the set-up's objects are as asked.
func TestKeystoneOutage(t *testing.T) {
	const outage = 10 * time.Second
	b := newBed(t)
	p := b.start(b.args()...)
	setupStarted := func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, `"event":"started"`) && (strings.Contains(line, `"phase":"catalog"`) || strings.Contains(line, `"phase":"setup"`)) {
				return true
			}
		}
		return false
	}
	if !p.stdout.waitFor(p, 5*time.Minute, setupStarted) {
		b.wait(p, "deploy", time.Minute)
		t.Fatalf("no set-up unit started:\n%s", p.stderr.String())
	}
	down := time.Now()
	if err := b.keystone.Outage(context.Background(), outage); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	code := b.wait(p, "deploy across a keystone outage", 8*time.Minute)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, p.stderr.String())
	}
	evs := deploytest.Events(t, p.stdout.String())
	across := 0
	for unit, es := range evs {
		if k := es[len(es)-1].Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s ended %s: %s", unit, k, es[len(es)-1].Error)
		}
		_, phase := components.SplitUnit(unit)
		if (phase == "catalog" || phase == "setup") && es[0].Time.Before(up) && es[len(es)-1].Time.After(down) {
			across++
		}
	}
	if across == 0 {
		t.Errorf("no set-up unit ran during the outage: the test proved nothing")
	}
	summary(t, "keystone down %s; %d set-up units ran across the outage; the deploy completed", up.Sub(down).Round(100*time.Millisecond), across)
	b.noChildren(p, "deploy")
	b.noPendingRelease("after the outage")
	b.checkSetup("after the outage", allSetupUnits...)
	b.scanSecrets()
}
