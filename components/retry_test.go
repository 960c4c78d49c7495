package components

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var errRefused = errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")

func TestRetrying(t *testing.T) {
	transient := func(err error) bool { return strings.Contains(err.Error(), "connection refused") }
	cases := []struct {
		name      string
		failures  []error // what each call returns until they run out (then nil)
		cancel    bool
		wantCalls int
		wantErr   string // "" for success
	}{
		{name: "success at once", wantCalls: 1},
		{name: "transient then success", failures: []error{errRefused, errRefused}, wantCalls: 3},
		{name: "permanent error is not retried", failures: []error{errors.New("chart has no templates")}, wantCalls: 1, wantErr: "chart has no templates"},
		{name: "transient until the attempts run out", failures: []error{errRefused, errRefused, errRefused, errRefused}, wantCalls: 3, wantErr: "after 3 attempts: dial tcp"},
		{name: "transient then permanent", failures: []error{errRefused, errors.New("bad values")}, wantCalls: 2, wantErr: "after 2 attempts: bad values"},
		{name: "cancelled run is not retried", failures: []error{errRefused}, cancel: true, wantCalls: 1, wantErr: "connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			d := Retrying{
				Deployer: DeployerFunc(func(context.Context, *Component, Phase) error {
					calls++
					if tc.cancel {
						cancel()
					}
					if calls <= len(tc.failures) {
						return tc.failures[calls-1]
					}
					return nil
				}),
				Transient: transient, Attempts: 3, Backoff: time.Millisecond,
			}
			err := d.Deploy(ctx, &Component{Name: "nova"}, Phase{Name: "install"})
			if calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tc.wantCalls)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
