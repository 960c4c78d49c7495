// Package openstack builds the gophercloud clients atmosphere's set-up
// steps share: one authenticated ProviderClient (safe for concurrent use,
// re-authenticating when its token expires) from a clouds.yaml or from
// explicit credentials, with retries on connection errors and 5xx
// responses, bounded by the request's context.
package openstack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// Cloud is an authenticated connection to one OpenStack cloud.
type Cloud struct {
	Provider *gophercloud.ProviderClient
	Endpoint gophercloud.EndpointOpts

	catalogMu sync.Mutex // serialises service-client lookups and catalog refreshes
}

// Retry bounds the retries of one request.
type Retry struct {
	// MaxElapsed is how long one request may keep being retried; the
	// request's context bounds it too.
	MaxElapsed time.Duration
	// Base and Max bound the backoff between attempts (with jitter).
	Base, Max time.Duration
}

// DefaultRetry rides out an API restart or a short outage.
var DefaultRetry = Retry{MaxElapsed: 2 * time.Minute, Base: 200 * time.Millisecond, Max: 5 * time.Second}

// FromClouds authenticates to a cloud of a clouds.yaml: cloud names it
// ($OS_CLOUD when empty); locations are the files to read (the standard
// search path when none: ./clouds.yaml, ~/.config/openstack, /etc/openstack).
func FromClouds(ctx context.Context, cloud string, locations ...string) (*Cloud, error) {
	opts := []clouds.ParseOption{}
	if cloud != "" {
		opts = append(opts, clouds.WithCloudName(cloud))
	}
	if len(locations) > 0 {
		opts = append(opts, clouds.WithLocations(locations...))
	}
	ao, eo, _, err := clouds.Parse(opts...)
	if err != nil {
		return nil, fmt.Errorf("read clouds.yaml: %w", err)
	}
	return Authenticate(ctx, ao, eo)
}

// Password are explicit credentials (the admin atmosphere generates).
type Password struct {
	AuthURL, Region                 string
	Username, Password              string
	UserDomainName, ProjectName     string
	ProjectDomainName, EndpointType string
}

// FromPassword authenticates with explicit credentials.
func FromPassword(ctx context.Context, p Password) (*Cloud, error) {
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: p.AuthURL, Username: p.Username, Password: p.Password,
		DomainName: p.UserDomainName, AllowReauth: true,
		Scope: &gophercloud.AuthScope{ProjectName: p.ProjectName, DomainName: p.ProjectDomainName},
	}
	eo := gophercloud.EndpointOpts{Region: p.Region}
	switch p.EndpointType {
	case "", "public":
		eo.Availability = gophercloud.AvailabilityPublic
	case "internal":
		eo.Availability = gophercloud.AvailabilityInternal
	case "admin":
		eo.Availability = gophercloud.AvailabilityAdmin
	default:
		return nil, fmt.Errorf("endpoint type %q: want public, internal or admin", p.EndpointType)
	}
	return Authenticate(ctx, ao, eo)
}

// Authenticate builds the shared ProviderClient with DefaultRetry.
func Authenticate(ctx context.Context, ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts) (*Cloud, error) {
	ao.AllowReauth = true
	provider, err := gopenstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("identity endpoint %q: %w", ao.IdentityEndpoint, err)
	}
	provider.RetryFunc = DefaultRetry.Func()
	if err := authenticateWithRetry(ctx, provider, ao); err != nil {
		return nil, fmt.Errorf("authenticate to %s as %s: %w", ao.IdentityEndpoint, ao.Username, err)
	}
	return &Cloud{Provider: provider, Endpoint: eo}, nil
}

// authenticateWithRetry retries the first authentication on connection
// errors: RetryFunc does not cover it.
func authenticateWithRetry(ctx context.Context, provider *gophercloud.ProviderClient, ao gophercloud.AuthOptions) error {
	r := DefaultRetry
	start := time.Now()
	for attempt := uint(1); ; attempt++ {
		err := gopenstack.Authenticate(ctx, provider, ao)
		if err == nil || !isConnectionError(err) || time.Since(start) > r.MaxElapsed {
			return err
		}
		if werr := r.wait(ctx, attempt); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

// Identity returns the identity v3 client.
func (c *Cloud) Identity() (*gophercloud.ServiceClient, error) {
	return gopenstack.NewIdentityV3(c.Provider, c.Endpoint)
}

// Compute returns the compute v2 client.
func (c *Cloud) Compute(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, "compute", gopenstack.NewComputeV2)
}

// Network returns the network v2 client.
func (c *Cloud) Network(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, "network", gopenstack.NewNetworkV2)
}

// BlockStorage returns the block storage v3 client.
func (c *Cloud) BlockStorage(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, "volumev3", gopenstack.NewBlockStorageV3)
}

// Image returns the image v2 client.
func (c *Cloud) Image(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, "image", gopenstack.NewImageV2)
}

// service makes a service client from the token's catalog. A token's
// catalog is fixed when it is issued, and during a deploy services join
// the catalog after atmosphere authenticated: when the service is missing,
// the provider re-authenticates once and looks in the fresh catalog.
func (c *Cloud) service(ctx context.Context, serviceType string,
	make func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)) (*gophercloud.ServiceClient, error) {
	c.catalogMu.Lock()
	defer c.catalogMu.Unlock()
	client, err := make(c.Provider, c.Endpoint)
	var notFound *gophercloud.ErrEndpointNotFound
	if errors.As(err, &notFound) {
		if rerr := c.refreshCatalog(ctx); rerr != nil {
			return nil, fmt.Errorf("%s endpoint: refresh the catalog: %w", serviceType, rerr)
		}
		client, err = make(c.Provider, c.Endpoint)
	}
	if err != nil {
		return nil, fmt.Errorf("%s endpoint in region %q: %w", serviceType, c.Endpoint.Region, err)
	}
	return client, nil
}

// refreshCatalog gets a new token and points the provider's endpoint
// lookup at its catalog (gophercloud's re-authentication renews the token
// but keeps looking endpoints up in the first catalog).
func (c *Cloud) refreshCatalog(ctx context.Context) error {
	if err := c.Provider.Reauthenticate(ctx, c.Provider.Token()); err != nil {
		return err
	}
	result, ok := c.Provider.GetAuthResult().(tokens.CreateResult)
	if !ok {
		return fmt.Errorf("the token is not a keystone v3 token")
	}
	catalog, err := result.ExtractServiceCatalog()
	if err != nil {
		return err
	}
	c.Provider.EndpointLocator = func(opts gophercloud.EndpointOpts) (string, error) {
		return gopenstack.V3EndpointURL(catalog, opts)
	}
	return nil
}

// Func is a gophercloud RetryFunc: it retries connection errors (any
// method: the request never reached the server) and 5xx responses (any
// method but POST, which may have been carried out), with exponential
// backoff and jitter, until MaxElapsed or the context ends.
func (r Retry) Func() gophercloud.RetryFunc {
	return func(ctx context.Context, method, url string, _ *gophercloud.RequestOpts, err error, failCount uint) error {
		if !r.retryable(method, err) {
			return err
		}
		if failCount > r.maxAttempts() {
			return fmt.Errorf("%s %s: gave up after %d attempts: %w", method, url, failCount, err)
		}
		if werr := r.wait(ctx, failCount); werr != nil {
			return errors.Join(err, werr)
		}
		return nil
	}
}

// maxAttempts is how many backoffs fit in MaxElapsed.
func (r Retry) maxAttempts() uint {
	var total time.Duration
	n := uint(0)
	for total < r.MaxElapsed {
		n++
		total += r.backoff(n)
	}
	return n
}

func (r Retry) backoff(attempt uint) time.Duration {
	d := r.Base << min(attempt-1, 20)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d
}

func (r Retry) wait(ctx context.Context, attempt uint) error {
	d := r.backoff(attempt)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r Retry) retryable(method string, err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if isConnectionError(err) {
		return true
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) && code.Actual >= 500 {
		return method != http.MethodPost || code.Actual == http.StatusServiceUnavailable || code.Actual == http.StatusBadGateway
	}
	return false
}

// isConnectionError reports errors where the request did not reach a
// server: refused, reset, unreachable, or a proxy with nothing behind.
func isConnectionError(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF")
}
