// Package openstackfake serves the parts of the nova, neutron and glance
// APIs that atmosphere's set-up steps use, closely enough for gophercloud:
// the status codes, the envelopes, duplicate names where the real service
// allows them and 409 where it does not. Tests use it where no real
// service can be started.
package openstackfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/openstack"
)

// Client serves handler for the test's lifetime and returns a gophercloud
// client for it with atmosphere's retries made fast. resourcePath is the
// API's version prefix ("v2.0/" for neutron, "v2/" for glance, "" for nova).
func Client(t testing.TB, handler http.Handler, resourcePath string) *gophercloud.ServiceClient {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	provider := &gophercloud.ProviderClient{}
	provider.RetryFunc = openstack.Retry{MaxElapsed: 5 * time.Second, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}.Func()
	c := &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: srv.URL + "/"}
	if resourcePath != "" {
		c.ResourceBase = srv.URL + "/" + resourcePath
	}
	return c
}

// Faults makes a fake fail or slow down: the first FailFirst requests
// answer 500, and every request waits Delay.
type Faults struct {
	FailFirst atomic.Int32
	Requests  atomic.Int32
	Delay     time.Duration
}

// inject counts a request and answers it with a 500 while failures are
// left; it reports whether the request was answered.
func (f *Faults) inject(w http.ResponseWriter, body string) bool {
	f.Requests.Add(1)
	if f.FailFirst.Add(-1) >= 0 {
		http.Error(w, body, http.StatusInternalServerError)
		return true
	}
	time.Sleep(f.Delay)
	return false
}

// store is a set of collections of JSON objects.
type store struct {
	mu      sync.Mutex
	objects map[string][]map[string]any
	next    int
}

// Objects returns a copy of a collection.
func (s *store) Objects(collection string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.objects[collection]))
	for _, o := range s.objects[collection] {
		c := make(map[string]any, len(o))
		for k, v := range o {
			c[k] = v
		}
		out = append(out, c)
	}
	return out
}

// Add puts an object into a collection, as if an earlier run made it.
func (s *store) Add(collection string, o map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects == nil {
		s.objects = map[string][]map[string]any{}
	}
	s.objects[collection] = append(s.objects[collection], o)
}

func (s *store) add(collection string, o map[string]any) {
	if s.objects == nil {
		s.objects = map[string][]map[string]any{}
	}
	s.objects[collection] = append(s.objects[collection], o)
}

func (s *store) find(collection string, match func(map[string]any) bool) (int, map[string]any) {
	for i, o := range s.objects[collection] {
		if match(o) {
			return i, o
		}
	}
	return -1, nil
}

func (s *store) remove(collection string, i int) {
	s.objects[collection] = append(s.objects[collection][:i], s.objects[collection][i+1:]...)
}

// limits returns the stored limits of a project, made from the service's
// defaults on first sight as the real services do; idKey names the field
// that holds the project ("id" for nova and cinder, "project_id" for
// neutron).
func (s *store) limits(collection, idKey, project string, defaults map[string]any) map[string]any {
	_, q := s.find(collection, func(o map[string]any) bool { return o[idKey] == project })
	if q == nil {
		q = map[string]any{idKey: project}
		for k, v := range defaults {
			q[k] = v
		}
		s.add(collection, q)
	}
	return q
}

// delete answers a DELETE: the first matching object goes and status is
// sent, or 404 when none matches.
func (s *store) delete(w http.ResponseWriter, r *http.Request, collection string, match func(map[string]any) bool, status int) {
	i, _ := s.find(collection, match)
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	s.remove(collection, i)
	w.WriteHeader(status)
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		json.NewEncoder(w).Encode(body)
	}
}

// ToServer is a transport that sends every request to the server at base,
// keeping its path: image uploads "from a URL" reach a test server.
type ToServer string

// RoundTrip sends r to the server at base.
func (base ToServer) RoundTrip(r *http.Request) (*http.Response, error) {
	u, err := url.Parse(string(base))
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
	return http.DefaultTransport.RoundTrip(r)
}
