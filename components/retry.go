package components

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/dag"
)

// Retrying does a phase again when its work failed on a transient error of
// the API it talks to (an API server restarting, a refused connection,
// throttling): every deployer's work is safe to do again, and picks up
// what the failed attempt left (a Helm release left pending or failed).
// Other errors, and a cancelled run, end the phase at once.
type Retrying struct {
	// Deployer does the work.
	Deployer Deployer
	// Transient reports the errors worth another attempt.
	Transient func(error) bool
	// Attempts bounds the tries of one phase; DefaultAttempts when zero.
	Attempts int
	// Backoff is the pause before the second try, doubled for each next
	// one; DefaultBackoff when zero.
	Backoff time.Duration
}

// Defaults of Retrying: four tries over about half a minute ride out an
// API server restart.
const (
	DefaultAttempts = 4
	DefaultBackoff  = 2 * time.Second
)

// Deploy implements Deployer.
func (r Retrying) Deploy(ctx context.Context, c *Component, phase Phase) error {
	attempts, pause := r.Attempts, r.Backoff
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	if pause <= 0 {
		pause = DefaultBackoff
	}
	for attempt := 1; ; attempt++ {
		err := r.Deployer.Deploy(ctx, c, phase)
		if err == nil || attempt == attempts || ctx.Err() != nil || r.Transient == nil || !r.Transient(err) {
			if err != nil && attempt > 1 {
				return fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return err
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		dag.ReporterFrom(ctx).Note(dag.Note{Waiting: fmt.Sprintf("a retry (attempt %d of %d failed on a transient error: %s)", attempt, attempts, first)})
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause *= 2
	}
}
