package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestOutOfTime(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-done.Done()
	limiter := fmt.Errorf("client rate limiter Wait returned an error: %w", errors.New("rate: Wait(n=1) would exceed context deadline"))
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"the rate limiter refusing for the deadline", live, limiter, true},
		{"a deadline exceeded", live, fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{"any error once the wait is over", done, errors.New("connection refused"), true},
		{"a real error in time", live, errors.New(`daemonsets.apps "x" is forbidden`), false},
	}
	for _, tt := range tests {
		if got := outOfTime(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: outOfTime %v, want %v", tt.name, got, tt.want)
		}
	}
}
