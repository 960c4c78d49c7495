package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
)

// Counts of the interrupt and crash suites.
const (
	interruptPoints = 20
	crashPoints     = 10
	// At least this many points of each suite must land while units are
	// in flight, or the suite proved too little and fails.
	interruptPointsMid = 18
	crashPointsMid     = 9
	// Every hardEvery-th interrupt point sends a second SIGINT, which
	// cancels the units in flight.
	hardEvery = 4
	// The set-up points: interrupt points i with i%interruptSetupEvery ==
	// interruptSetupAt (one of them hard) and crash points i with
	// i%crashSetupEvery == crashSetupAt land in glance-images' set-up
	// while it uploads its image from the slow image server (glance
	// holds it half-made, saving); at least interruptSetupMid and
	// crashSetupMid of them must have landed so.
	interruptSetupEvery, interruptSetupAt = 5, 2
	crashSetupEvery, crashSetupAt         = 4, 1
	interruptSetupMid, crashSetupMid      = 3, 2
	// setupJitter bounds a set-up point's delay after glance shows the
	// upload started: well inside the ~3 s it takes.
	setupJitter = 1200 * time.Millisecond
	// hardUnitTimeout is the unit timeout of a twice-interrupted run: far
	// longer than the run, so that its stuck unit is in flight until the
	// second interrupt cancels it.
	hardUnitTimeout = 20 * time.Minute
)

// seed fixes the points; ATMOSPHERE_FAULT_SEED replays another choice.
func seed(t testing.TB) uint64 {
	s := uint64(20261125)
	if v := os.Getenv("ATMOSPHERE_FAULT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ATMOSPHERE_FAULT_SEED=%q: %v", v, err)
		}
		s = n
	}
	t.Logf("seed %d (ATMOSPHERE_FAULT_SEED replays it)", s)
	return s
}

var (
	referenceOnce sync.Once
	// referenceUnits is how many units the reference deploy started: the
	// points of the suites are spread over them.
	referenceUnits int
	referenceErr   string
	// referenceScan is the secret scan of the reference deploy.
	referenceScan scan
)

// referenceDeploy is how many units a whole deploy from an empty cluster
// starts: the points of the suites are spread over them (a point is "at
// the n-th started unit"), so that where a point lands does not depend on
// how fast this machine is. The run is the secret test's too
// (--output json, -vv): some keystone passwords are given in the
// inventory, the rest generated, and everything it printed and wrote is
// scanned for all of them.
func referenceDeploy(t testing.TB) int {
	t.Helper()
	referenceOnce.Do(func() {
		referenceErr = "the reference deploy failed"
		sc := &scope{T: t.(*testing.T)}
		defer sc.close()
		b := newBed(sc)
		b.giveSecrets("nova", "glance", "placement", "barbican")
		start := time.Now()
		evs := b.deployCompletes("reference deploy", "-vv")
		whole := time.Since(start)
		referenceUnits = evs.Count(deploy.Started)
		b.noPendingRelease("reference deploy")
		b.checkSetup("reference deploy", allSetupUnits...)
		referenceScan = b.scanSecrets()
		if referenceUnits < interruptPoints {
			t.Errorf("reference deploy: %d units started, fewer than the %d interrupt points", referenceUnits, interruptPoints)
		}
		if !t.Failed() {
			referenceErr = ""
		}
		t.Logf("a whole deploy from an empty cluster took %s and started %d units",
			whole.Round(100*time.Millisecond), referenceUnits)
	})
	if referenceErr != "" {
		t.Fatal(referenceErr)
	}
	return referenceUnits
}

// TestFullDeployLeaksNoSecret: whole deploys, with keystone passwords given
// in the inventory (then changed) and the rest generated, print and write
// none of them, nor the MariaDB root password or the RabbitMQ default
// users' passwords the values read, literally or base64- or URL-encoded
// (a multi-line one, the amphorae's SSH key, line by line too), nor a
// keystone token:
// not in the JSON events with -vv logs (the reference deploy), the
// terminal view with -v logs (a deploy from an empty cluster under a
// pseudo-terminal), the plan of --dry-run with -vv, the plain lines with
// -vv (the deploy of the changed passwords), the timing reports, the
// cluster's Kubernetes Events, or the Helm releases' notes. Every one of
// those outputs must have been scanned and not be empty, and the JSON
// events, the -vv logs and the reports must have named every OpenStack
// set-up unit (nova's, neutron's, glance-images', octavia's, manila's,
// magnum's: they run against the real APIs). After the last deploy the
// set-up's objects are checked with the APIs. (The failing runs of the
// other tests are scanned the same way: their errors too.)
func TestFullDeployLeaksNoSecret(t *testing.T) {
	referenceDeploy(t)
	b := newBed(t)
	b.giveSecrets("nova", "glance", "placement", "barbican")

	p := b.startTerminal(b.deployArgs("text", "-v")...)
	if code := b.wait(p, "deploy under a terminal (-v)", 8*time.Minute); code != 0 {
		t.Fatalf("deploy under a terminal: exit %d, want 0\n%s", code, p.stdout.String())
	}
	b.noChildren(p, "deploy under a terminal")
	if out := p.stdout.String(); !strings.Contains(out, "\x1b[") || !strings.Contains(out, "✓") {
		t.Errorf("the deploy under a terminal did not show the live view (no escape sequence or ✓):\n%s", out)
	}

	// The operator changes the given passwords: the plan, then the deploy.
	b.giveSecrets("nova", "glance", "placement", "barbican")
	dry, code := b.run("dry run (-vv)", b.deployArgs("text", "--dry-run", "-vv")...)
	if code != 0 {
		t.Fatalf("dry run: exit %d, want 0\n%s", code, dry.stderr.String())
	}
	b.noChildren(dry, "dry run")
	lines, code := b.run("deploy of new passwords (-vv)", b.deployArgs("text", "-vv")...)
	if code != 0 {
		t.Fatalf("deploy of new passwords: exit %d, want 0\n%s", code, lines.stderr.String())
	}
	b.noChildren(lines, "deploy of new passwords")
	b.checkSetup("after the deploy of new passwords", allSetupUnits...)

	var res scan
	res.add(referenceScan)
	res.add(b.scanSecrets())
	for _, k := range allKinds {
		if res.kinds[k] == 0 {
			t.Errorf("no %s was scanned (or it was empty): the scan does not cover it", k)
		}
	}
	for _, k := range []string{kindJSON, kindVV, kindReport} {
		for _, u := range allSetupUnits {
			if !res.setup[k][u] {
				t.Errorf("no %s scanned names %s: the scan does not cover the set-up units' output", k, u)
			}
		}
	}
	if res.secrets < 20 {
		t.Errorf("scanned for %d secrets: too few for the scan to mean anything", res.secrets)
	}
	var covered []string
	for _, k := range allKinds {
		covered = append(covered, fmt.Sprintf("%s %d", k, res.kinds[k]))
	}
	var setupCovered []string
	for _, k := range allKinds {
		setupCovered = append(setupCovered, fmt.Sprintf("%s %d", k, len(res.setup[k])))
	}
	summary(t, "secrets scanned: %d (literally, in base64 and URL-encoded) and keystone tokens in %d outputs (%s), leaks: %d; the %d set-up units named in: %s",
		res.secrets, res.texts, strings.Join(covered, ", "), res.leaks, len(allSetupUnits), strings.Join(setupCovered, ", "))
}

// pointTags are the components a point's deploys (the signalled one and
// the next) deploy, with what they need: every kind of work a deploy does
// (Helm releases with CRDs, webhooks and Jobs, applied objects waited on
// through a stand-in operator, a database phase, keystone's set-up and
// catalog entries through keystone's API, an OpenStack set-up unit
// uploading to the real glance, facts), on a bed, in about a third of a
// whole deploy's units and time. glance-images' set-up, the deploy's last
// unit, is where the set-up points land; nova's (a flavor) would add
// nova's chart and six more units to every point for one more API call. What stops a run and what the
// next one repairs is the scheduler's and the engines', the same for every
// component; the whole inventory's deploys are the secret test's, the
// failure isolation's, the outages' and the concurrent runs'.
const pointTags = "keystone,glance,placement,glance-images"

var (
	pointPlanOnce  sync.Once
	pointPlanUnits int
	pointPlanErr   error
)

// pointDeployUnits is how many units a point's deploy starts, as
// atmosphere's own plan of it counts them ("N units of M components").
func pointDeployUnits(t testing.TB) int {
	t.Helper()
	pointPlanOnce.Do(func() {
		if buildErr != nil {
			pointPlanErr = buildErr
			return
		}
		out, err := exec.Command(binary, "plan", "--inventory", kwokInventory, "--charts", sharedCharts, "--charts", testCharts,
			"--tags", pointTags, "--skip-tags", skipSetup).CombinedOutput()
		if err != nil {
			pointPlanErr = fmt.Errorf("plan of the points' deploy: %w\n%s", err, out)
			return
		}
		if _, err := fmt.Sscanf(string(out), "%d units", &pointPlanUnits); err != nil {
			pointPlanErr = fmt.Errorf("plan of the points' deploy: no unit count in %q: %w", firstLine(string(out)), err)
		}
	})
	if pointPlanErr != nil {
		t.Fatal(pointPlanErr)
	}
	if pointPlanUnits < 15 {
		t.Fatalf("the points' deploy (--tags %s) has %d units: too few to spread points over", pointTags, pointPlanUnits)
	}
	return pointPlanUnits
}

func firstLine(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }

// pointUnits is the share of a deploy's started units that the points
// are spread over: its first three quarters, since near its end a deploy
// has few units left in flight.
func pointUnits(units int) int { return units * 3 / 4 }

// pointJitter bounds the seeded delay between a point's started unit and
// its signal, so that points do not all land at a unit's first instant.
const pointJitter = 250 * time.Millisecond

// A point is where a run is signalled: at its nth started unit (counted
// from 1), or at the start of unit when one is named (a set-up point),
// then after delay.
type point struct {
	nth   int
	unit  string
	delay time.Duration
}

func (p point) String() string {
	if p.unit != "" {
		return fmt.Sprintf("%s +%s", p.unit, p.delay.Round(time.Millisecond))
	}
	return fmt.Sprintf("unit %d +%s", p.nth, p.delay.Round(time.Millisecond))
}

// setupPoints makes points i with i%every == at set-up points: once
// glance-images' set-up started and glance holds its image saving, after
// a seeded delay under setupJitter.
func setupPoints(t testing.TB, ps []point, every, at int) []point {
	r := rand.New(rand.NewPCG(seed(t), uint64(len(ps))<<8|uint64(every)))
	for i := range ps {
		if i%every == at {
			ps[i] = point{unit: glanceImagesSetup, delay: time.Duration(r.Int64N(int64(setupJitter)))}
		}
	}
	return ps
}

// points spreads n points over the first units started units: one at a
// seeded random ordinal in each of n equal slices, each with a seeded
// delay under pointJitter.
func points(t testing.TB, n, units int) []point {
	r := rand.New(rand.NewPCG(seed(t), uint64(n)))
	out := make([]point, n)
	for i := range out {
		lo, hi := i*units/n, (i+1)*units/n
		out[i] = point{nth: 1 + lo + r.IntN(max(hi-lo, 1)), delay: time.Duration(r.Int64N(int64(pointJitter)))}
	}
	return out
}

// tally is what a suite of points survived, logged at its end for the
// closing note.
type tally struct {
	mu            sync.Mutex
	survived, mid int
	// setupMid counts the set-up points that landed while their set-up
	// unit was in flight; checked the objects the set-up checks looked at.
	setupMid, checked int
	scan              scan
}

func (ty *tally) add(b *bed, mid, setupMid bool, checked int) {
	s := b.scanSecrets()
	ty.mu.Lock()
	defer ty.mu.Unlock()
	if !b.t.Failed() {
		ty.survived++
	}
	if mid {
		ty.mid++
	}
	if setupMid {
		ty.setupMid++
	}
	ty.checked += checked
	ty.scan.add(s)
}

// TestInterruptPoints: a deploy (of pointTags, from an empty cluster) is
// interrupted with SIGINT at interruptPoints instants spread over the time
// its units run (every hardEvery-th point interrupted twice, which cancels
// what is in flight), some of them (the set-up points) while
// glance-images' set-up uploads its image to the real glance.
// A point counts when units were in flight as the signal was sent (for a
// set-up point, when its set-up unit was); fewer than interruptPointsMid
// such points, or interruptSetupMid set-up points, fail the test. Each
// time the run stops by itself, says so, leaves no process behind, and the
// next deploy completes with no release left pending, no secret printed,
// and the set-up's end state in glance right: exactly one image of the
// name, active, with the whole source's checksum.
func TestInterruptPoints(t *testing.T) {
	units := pointDeployUnits(t)
	var ty tally
	t.Run("points", func(t *testing.T) {
		for i, at := range setupPoints(t, points(t, interruptPoints, pointUnits(units)), interruptSetupEvery, interruptSetupAt) {
			hard := i%hardEvery == hardEvery-1
			name := fmt.Sprintf("point %02d at %s", i, at)
			if hard {
				name += " twice"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				interruptPoint(t, i, at, hard, &ty)
			})
		}
	})
	nSetup := countSetupPoints(interruptPoints, interruptSetupEvery, interruptSetupAt)
	summary(t, "interrupt points survived: %d of %d, %d of them landed while units were in flight, %d of the %d set-up points in %s; set-up objects checked: %d; secrets scanned: %d in %d outputs, leaks: %d",
		ty.survived, interruptPoints, ty.mid, ty.setupMid, nSetup, glanceImagesSetup, ty.checked, ty.scan.secrets, ty.scan.texts, ty.scan.leaks)
	if ty.mid < interruptPointsMid {
		t.Errorf("%d of %d interrupt points landed while units were in flight, want at least %d", ty.mid, interruptPoints, interruptPointsMid)
	}
	if ty.setupMid < interruptSetupMid {
		t.Errorf("%d of %d set-up points landed while %s was in flight, want at least %d", ty.setupMid, nSetup, glanceImagesSetup, interruptSetupMid)
	}
}

// interruptPoint is the i-th point of TestInterruptPoints: SIGINT at
// point at of the run. A hard point keeps
// memcached:install in flight (its pods never scheduled, a long unit
// timeout) in the run's one slot, interrupts once it started (after at's
// delay) and again, so that the second
// interrupt always has a unit to cancel, and units it reports cancelled.
// A hard set-up point interrupts twice while glance-images' set-up
// uploads: the second interrupt cancels the upload.
func interruptPoint(t *testing.T, i int, at point, hard bool, ty *tally) {
	b := newBed(t)
	extra := []string{[]string{"-v", "-vv"}[i%2]}
	var waitFor []string
	// cancelled is the unit the second interrupt of a hard point cancels.
	cancelled := stuckUnit
	if at.unit != "" {
		b.slowImages()
		waitFor, cancelled = []string{at.unit}, at.unit
	} else if hard {
		// One slot, held by the stuck unit: every other unit is pending at
		// the interrupts, so that the cancel has units to report
		// cancelled (a unit pending behind units that finish after the
		// first interrupt would be, but none is sure to be).
		b.addVars(stuckVarsFile, stuckValues)
		extra = append(extra, "--unit-timeout", hardUnitTimeout.String(), "--concurrency", "1")
		waitFor = []string{stuckUnit}
	}
	p := b.start(b.args(append(extra, "--tags", pointTags)...)...)
	sent := signalWhen(t, p, at, syscall.SIGINT, b.uploading(p, at), waitFor...)
	var second time.Time
	if hard && !sent.IsZero() {
		if !p.stderr.waitFor(p, time.Minute, func(s string) bool { return strings.Contains(s, "interrupt: starting nothing more") }) {
			t.Errorf("the first interrupt was not acknowledged:\n%s", p.stderr.String())
		}
		time.Sleep(300 * time.Millisecond)
		second = time.Now()
		if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
			t.Errorf("the second interrupt: %v", err)
		}
	}
	code := b.wait(p, "interrupted deploy", 5*time.Minute)
	stderr := p.stderr.String()
	evs := deploytest.Events(t, p.stdout.String())
	flying := inFlightAt(evs, sent)
	mid := len(flying) > 0
	setupMid := at.unit != "" && slices.Contains(flying, at.unit)
	t.Logf("interrupted run: exit %d, %d units in flight at the interrupt%s, %d ended, %d cancelled", code, len(flying),
		setupNote(at, setupMid), evs.Count(deploy.Succeeded)+evs.Count(deploy.Unchanged)+evs.Count(deploy.Failed), evs.Count(deploy.Cancelled))
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("the interrupted run panicked:\n%s", stderr)
	}
	if mid {
		if !strings.Contains(stderr, "interrupt: starting nothing more") {
			t.Errorf("the interrupt was not acknowledged:\n%s", stderr)
		}
		if code != 0 && !strings.Contains(stderr, "error: deploy") {
			t.Errorf("exit %d without saying what stopped:\n%s", code, stderr)
		}
	}
	if hard {
		switch {
		case second.IsZero():
			t.Errorf("the run ended before its first interrupt: its %s did not keep it running", cancelled)
		case !slices.Contains(inFlightAt(evs, second), cancelled):
			t.Errorf("%s was not in flight at the second interrupt: the interrupt had nothing to cancel", cancelled)
		}
		if !strings.Contains(stderr, "second interrupt: cancelling the units in flight") {
			t.Errorf("the second interrupt did not say it cancels:\n%s", stderr)
		}
		// Units pending at the cancel are reported cancelled; the stuck
		// unit keeps every other unit pending (a set-up point's unit is
		// the run's last: none is left pending).
		if n := evs.Count(deploy.Cancelled); n == 0 && at.unit == "" {
			t.Errorf("no unit was reported cancelled after the second interrupt")
		}
		if e := evs.Last(cancelled); e.Kind != deploy.Failed || !strings.Contains(e.Error, "cancel") {
			t.Errorf("%s, in flight at the second interrupt, ended %s (%q), want failed for the cancel", cancelled, e.Kind, e.Error)
		}
		if code == 0 {
			t.Errorf("the cancelled run exited 0")
		}
		if at.unit == "" {
			b.addVars(stuckVarsFile, "{}\n")
		}
	}
	b.noChildren(p, "interrupted deploy")
	b.deployCompletes("next deploy", "--tags", pointTags)
	b.noPendingRelease("after the next deploy")
	checked := b.checkSetup("after the next deploy", glanceImagesSetup)
	ty.add(b, mid, setupMid, checked)
}

// setupNote says, for a set-up point, whether its unit was in flight at
// the signal; "" for another point.
func setupNote(at point, inFlight bool) string {
	if at.unit == "" {
		return ""
	}
	return fmt.Sprintf(" (%s among them: %v)", at.unit, inFlight)
}

// countSetupPoints is how many of n points are set-up points.
func countSetupPoints(n, every, at int) int {
	c := 0
	for i := range n {
		if i%every == at {
			c++
		}
	}
	return c
}

// TestCrashPoints: a deploy (of pointTags, from an empty cluster) is
// killed with SIGKILL (the bastion lost) at crashPoints instants spread
// over the time its units run, some of them (the set-up points) while
// glance-images' set-up uploads its image to the real glance; a
// point counts when units were in flight at the kill (for a set-up point,
// when its set-up unit was), and fewer than crashPointsMid such points,
// or crashSetupMid set-up points, fail the test. Each time the next
// deploy takes the dead run's lease over at once, repairs what it left
// (pending releases, a half-uploaded image) and completes, and glance
// holds exactly one active image of the name, with the whole source's
// checksum.
func TestCrashPoints(t *testing.T) {
	units := pointDeployUnits(t)
	var ty tally
	t.Run("points", func(t *testing.T) {
		for i, at := range setupPoints(t, points(t, crashPoints, pointUnits(units)), crashSetupEvery, crashSetupAt) {
			t.Run(fmt.Sprintf("point %02d at %s", i, at), func(t *testing.T) {
				t.Parallel()
				crashPoint(t, at, &ty)
			})
		}
	})
	nSetup := countSetupPoints(crashPoints, crashSetupEvery, crashSetupAt)
	summary(t, "crash points survived: %d of %d, %d of them landed while units were in flight, %d of the %d set-up points in %s; set-up objects checked: %d; secrets scanned: %d in %d outputs, leaks: %d",
		ty.survived, crashPoints, ty.mid, ty.setupMid, nSetup, glanceImagesSetup, ty.checked, ty.scan.secrets, ty.scan.texts, ty.scan.leaks)
	if ty.mid < crashPointsMid {
		t.Errorf("%d of %d crash points landed while units were in flight, want at least %d", ty.mid, crashPoints, crashPointsMid)
	}
	if ty.setupMid < crashSetupMid {
		t.Errorf("%d of %d set-up points landed while %s was in flight, want at least %d", ty.setupMid, nSetup, glanceImagesSetup, crashSetupMid)
	}
}

// crashPoint is one point of TestCrashPoints.
func crashPoint(t *testing.T, at point, ty *tally) {
	b := newBed(t)
	var waitFor []string
	if at.unit != "" {
		b.slowImages()
		waitFor = []string{at.unit}
	}
	p := b.start(b.args("--tags", pointTags)...)
	sent := signalWhen(t, p, at, syscall.SIGKILL, b.uploading(p, at), waitFor...)
	code := b.wait(p, "killed deploy", time.Minute)
	// The kill may cut the last line short: only whole lines are events.
	out := p.stdout.String()
	flying := inFlightAt(deploytest.Events(t, out[:strings.LastIndexByte(out, '\n')+1]), sent)
	mid := len(flying) > 0
	setupMid := at.unit != "" && slices.Contains(flying, at.unit)
	t.Logf("killed run: exit %d, %d units in flight at the kill%s", code, len(flying), setupNote(at, setupMid))
	if mid && code != 128+int(syscall.SIGKILL) {
		t.Errorf("killed run: exit %d", code)
	}
	b.noChildren(p, "killed deploy")
	b.deployCompletes("next deploy", "--tags", pointTags)
	b.noPendingRelease("after the next deploy")
	checked := b.checkSetup("after the next deploy", glanceImagesSetup)
	ty.add(b, mid, setupMid, checked)
}

// signalAt waits for p's at.nth started unit (or, when a unit is named,
// for that unit's start), then for at.delay, and sends sig to p's process
// group, as a terminal's Ctrl-C does. It returns when it sent it (the zero
// time when p had ended before).
func signalAt(t testing.TB, p *proc, at point, sig syscall.Signal, units ...string) time.Time {
	t.Helper()
	return signalWhen(t, p, at, sig, nil, units...)
}

// signalWhen is signalAt that, once the unit started, also waits for
// ready (when not nil) before the delay; it sends nothing when ready
// returns false.
func signalWhen(t testing.TB, p *proc, at point, sig syscall.Signal, ready func() bool, units ...string) time.Time {
	t.Helper()
	reached := func(s string) bool {
		n := 0
		for _, line := range strings.Split(s, "\n") {
			if !strings.Contains(line, `"event":"started"`) {
				continue
			}
			if len(units) > 0 {
				if strings.Contains(line, `"unit":"`+units[0]+`"`) {
					return true
				}
				continue
			}
			if n++; n >= at.nth {
				return true
			}
		}
		return false
	}
	if !p.stdout.waitFor(p, 5*time.Minute, reached) {
		t.Errorf("the run did not reach %s (%v) before its signal", at, units)
		return time.Time{}
	}
	if ready != nil && !ready() {
		return time.Time{}
	}
	select {
	case <-p.done:
		return time.Time{}
	case <-time.After(at.delay):
	}
	sent := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return time.Time{}
	}
	return sent
}

// inFlightAt lists the units that had started and not ended at instant at
// according to the run's events (none for the zero time).
func inFlightAt(evs deploytest.Units, at time.Time) []string {
	if at.IsZero() {
		return nil
	}
	var out []string
	for unit, es := range evs {
		started, ended := false, false
		for _, e := range es {
			if e.Time.After(at) {
				break
			}
			switch {
			case e.Kind == deploy.Started:
				started = true
			case e.Kind.Done():
				ended = true
			}
		}
		if started && !ended {
			out = append(out, unit)
		}
	}
	slices.Sort(out)
	return out
}
