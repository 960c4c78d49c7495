package bootstrap

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/openstack"
)

// fakeClient serves handler and returns a gophercloud client for it, with
// atmosphere's retries made fast; resourcePath is the API's version prefix
// ("v2.0/" for neutron, "" for nova).
func fakeClient(t *testing.T, handler http.Handler, resourcePath string) *gophercloud.ServiceClient {
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
