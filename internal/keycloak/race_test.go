package keycloak

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// TestRetryRace: a step that fails as a lost race (409, 400) is tried
// again, up to raceAttempts times in all; any other failure, or success,
// ends it at once. (TestConcurrentRunsConverge meets the races for real.)
func TestRetryRace(t *testing.T) {
	status := func(code int) error { return &StatusError{Method: http.MethodPost, Path: "/x", Code: code} }
	tests := []struct {
		name      string
		fails     []error // the step's answers, in order; nil after them
		wantCalls int
		wantErr   bool
	}{
		{"succeeds at once", nil, 1, false},
		{"conflict, then succeeds", []error{status(http.StatusConflict)}, 2, false},
		{"mapping race twice, then succeeds", []error{status(http.StatusBadRequest), status(http.StatusConflict)}, 3, false},
		{"always a conflict", []error{status(409), status(409), status(409), status(409), status(409)}, raceAttempts, true},
		{"server error is not a race", []error{status(http.StatusInternalServerError)}, 1, true},
		{"not found is not a race", []error{status(http.StatusNotFound)}, 1, true},
		{"a transport error is not a race", []error{errors.New("connection refused")}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retryRace(context.Background(), func() error {
				calls++
				if calls <= len(tt.fails) {
					return tt.fails[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("%d calls, err %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}
