package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/deploy/deploytest"
)

// Counts of the interrupt and crash suites.
const (
	interruptPoints = 20
	crashPoints     = 10
	// Every hardEvery-th interrupt point sends a second SIGINT, which
	// cancels the units in flight.
	hardEvery = 4
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
	reference     time.Duration
	referenceErr  string
	// referenceScan is the secret scan of the reference deploy.
	referenceScan struct{ secrets, texts, leaks int }
)

// referenceDeploy is how long a whole deploy takes on this machine, from
// an empty cluster: the points of the suites are spread over it. The run
// is the secret test's too: some keystone passwords are given in the
// inventory, the rest generated, and everything it printed and wrote is
// scanned for all of them.
func referenceDeploy(t testing.TB) time.Duration {
	t.Helper()
	referenceOnce.Do(func() {
		referenceErr = "the reference deploy failed"
		sc := &scope{T: t.(*testing.T)}
		defer sc.close()
		b := newBed(sc)
		b.giveSecrets("nova", "glance", "placement", "barbican")
		start := time.Now()
		b.deployCompletes("reference deploy")
		reference = time.Since(start)
		b.noPendingRelease("reference deploy")
		referenceScan.secrets, referenceScan.texts, referenceScan.leaks = b.scanSecrets()
		if !t.Failed() {
			referenceErr = ""
		}
		t.Logf("a whole deploy from an empty cluster took %s", reference.Round(100*time.Millisecond))
	})
	if referenceErr != "" {
		t.Fatal(referenceErr)
	}
	return reference
}

// TestFullDeployLeaksNoSecret: a whole deploy, with keystone passwords
// given in the inventory and the rest generated, prints and writes none
// of them: not on stdout (the JSON events), stderr, nor in the timing
// reports. (The failing runs of the other tests are scanned the same way:
// their errors too.)
func TestFullDeployLeaksNoSecret(t *testing.T) {
	referenceDeploy(t)
	if referenceScan.secrets < 10 || referenceScan.texts < 3 {
		t.Errorf("scanned %d secrets in %d outputs: too few for the scan to mean anything", referenceScan.secrets, referenceScan.texts)
	}
	summary(t, "secrets scanned: %d in %d outputs of a whole deploy, leaks: %d", referenceScan.secrets, referenceScan.texts, referenceScan.leaks)
}

// points spreads n instants over [0, span): one at a seeded random place
// in each of n equal slices.
func points(t testing.TB, n int, span time.Duration) []time.Duration {
	r := rand.New(rand.NewPCG(seed(t), uint64(n)))
	slice := span / time.Duration(n)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i)*slice + time.Duration(r.Int64N(int64(slice)))
	}
	return out
}

// tally is what a suite of points survived, logged at its end for the
// closing note.
type tally struct {
	mu                                   sync.Mutex
	survived, secrets, texts, leaks, mid int
}

func (ty *tally) add(b *bed, mid bool) {
	s, x, l := b.scanSecrets()
	ty.mu.Lock()
	defer ty.mu.Unlock()
	if !b.t.Failed() {
		ty.survived++
	}
	if mid {
		ty.mid++
	}
	ty.secrets, ty.texts, ty.leaks = ty.secrets+s, ty.texts+x, ty.leaks+l
}

// TestInterruptPoints: a whole deploy is interrupted with SIGINT at
// interruptPoints instants spread over it (every hardEvery-th point
// interrupted twice, which cancels what is in flight). Each time the run
// stops by itself, says so, leaves no process behind, and the next deploy
// completes with no release left pending and no secret printed.
func TestInterruptPoints(t *testing.T) {
	span := referenceDeploy(t)
	var ty tally
	t.Run("points", func(t *testing.T) {
		for i, at := range points(t, interruptPoints, span) {
			hard := i%hardEvery == hardEvery-1
			name := fmt.Sprintf("point %02d at %s", i, at.Round(100*time.Millisecond))
			if hard {
				name += " twice"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				interruptPoint(t, at, hard, &ty)
			})
		}
	})
	summary(t, "interrupt points survived: %d of %d (%d landed while the deploy ran); secrets scanned: %d in %d outputs, leaks: %d",
		ty.survived, interruptPoints, ty.mid, ty.secrets, ty.texts, ty.leaks)
}

// interruptPoint is one point of TestInterruptPoints.
func interruptPoint(t *testing.T, at time.Duration, hard bool, ty *tally) {
	b := newBed(t)
	p := b.start(b.args()...)
	mid := interruptAt(p, at, syscall.SIGINT)
	if hard && mid {
		if !p.stderr.waitFor(p, time.Minute, func(s string) bool { return strings.Contains(s, "interrupt: starting nothing more") }) {
			t.Errorf("the first interrupt was not acknowledged:\n%s", p.stderr.String())
		}
		time.Sleep(300 * time.Millisecond)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	}
	code := b.wait(p, "interrupted deploy", 5*time.Minute)
	stderr := p.stderr.String()
	evs := deploytest.Events(t, p.stdout.String())
	t.Logf("interrupted run: exit %d, %d units ended, %d cancelled", code,
		evs.Count(deploy.Succeeded)+evs.Count(deploy.Unchanged)+evs.Count(deploy.Failed), evs.Count(deploy.Cancelled))
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("the interrupted run panicked:\n%s", stderr)
	}
	if mid && evs.Count(deploy.Started) > 0 {
		if !strings.Contains(stderr, "interrupt: starting nothing more") {
			t.Errorf("the interrupt was not acknowledged:\n%s", stderr)
		}
		if hard && !strings.Contains(stderr, "second interrupt: cancelling the units in flight") {
			t.Errorf("the second interrupt did not say it cancels:\n%s", stderr)
		}
		if code != 0 && !strings.Contains(stderr, "error: deploy") {
			t.Errorf("exit %d without saying what stopped:\n%s", code, stderr)
		}
	}
	b.noChildren(p, "interrupted deploy")
	b.deployCompletes("next deploy")
	b.noPendingRelease("after the next deploy")
	ty.add(b, mid)
}

// TestCrashPoints: a whole deploy is killed with SIGKILL (the bastion
// lost) at crashPoints instants spread over it; each time the next deploy
// takes the dead run's lease over at once, repairs what it left (pending
// releases) and completes.
func TestCrashPoints(t *testing.T) {
	span := referenceDeploy(t)
	var ty tally
	t.Run("points", func(t *testing.T) {
		for i, at := range points(t, crashPoints, span) {
			t.Run(fmt.Sprintf("point %02d at %s", i, at.Round(100*time.Millisecond)), func(t *testing.T) {
				t.Parallel()
				crashPoint(t, at, &ty)
			})
		}
	})
	summary(t, "crash points survived: %d of %d (%d landed while the deploy ran); secrets scanned: %d in %d outputs, leaks: %d",
		ty.survived, crashPoints, ty.mid, ty.secrets, ty.texts, ty.leaks)
}

// crashPoint is one point of TestCrashPoints.
func crashPoint(t *testing.T, at time.Duration, ty *tally) {
	b := newBed(t)
	p := b.start(b.args()...)
	mid := interruptAt(p, at, syscall.SIGKILL)
	if code := b.wait(p, "killed deploy", time.Minute); mid && code != 128+int(syscall.SIGKILL) {
		t.Errorf("killed run: exit %d", code)
	}
	b.noChildren(p, "killed deploy")
	b.deployCompletes("next deploy")
	b.noPendingRelease("after the next deploy")
	ty.add(b, mid)
}

// interruptAt sends sig to p's process group at instant at after its
// start, as a terminal's Ctrl-C does; it reports whether p still ran then.
func interruptAt(p *proc, at time.Duration, sig syscall.Signal) bool {
	select {
	case <-p.done:
		return false
	case <-time.After(at):
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig) == nil
}
