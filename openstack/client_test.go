package openstack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// serviceClient points a gophercloud client with our retries at url.
func serviceClient(url string, r Retry) *gophercloud.ServiceClient {
	provider := &gophercloud.ProviderClient{HTTPClient: http.Client{Timeout: 5 * time.Second}}
	provider.RetryFunc = r.Func()
	return &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: url + "/"}
}

func TestRetries(t *testing.T) {
	fast := Retry{MaxElapsed: 5 * time.Second, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	tests := []struct {
		name     string
		method   string
		failures []int // status codes before success
		wantErr  bool
		wantHits int32
	}{
		{"GET 500 then success", http.MethodGet, []int{500}, false, 2},
		{"GET 503 twice then success", http.MethodGet, []int{503, 503}, false, 3},
		{"POST 500 is not retried", http.MethodPost, []int{500}, true, 1},
		{"POST 503 is retried", http.MethodPost, []int{503}, false, 2},
		{"GET 404 is not retried", http.MethodGet, []int{404}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := hits.Add(1)
				if int(n) <= len(tt.failures) {
					w.WriteHeader(tt.failures[n-1])
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"ok": true}`))
			}))
			defer srv.Close()
			c := serviceClient(srv.URL, fast)
			var out map[string]any
			var err error
			if tt.method == http.MethodGet {
				_, err = c.Get(context.Background(), srv.URL+"/thing", &out, nil)
			} else {
				_, err = c.Post(context.Background(), srv.URL+"/thing", map[string]any{}, &out, &gophercloud.RequestOpts{OkCodes: []int{200}})
			}
			if (err != nil) != tt.wantErr || hits.Load() != tt.wantHits {
				t.Errorf("err %v after %d requests; want error %v after %d", err, hits.Load(), tt.wantErr, tt.wantHits)
			}
		})
	}
}

func TestConnectionRefusedIsRetriedUntilTheContextEnds(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c := serviceClient(url, Retry{MaxElapsed: time.Minute, Base: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, url+"/thing", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("returned after %s, long after the context ended", took)
	}
}

func TestCancelledContextStopsAtOnce(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := serviceClient(srv.URL, Retry{MaxElapsed: time.Minute, Base: time.Second, Max: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for hits.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := c.Get(ctx, srv.URL+"/thing", nil, nil)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 900*time.Millisecond {
		t.Errorf("err = %v after %s", err, time.Since(start))
	}
}
