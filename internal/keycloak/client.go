// Package keycloak is the engine of atmosphere's Keycloak work
// (components.Keycloak): a small typed client of Keycloak's admin API and
// the observe/decide/act of a realm as a component declares it
// (components.KeycloakRealm): the realm's settings, its required actions,
// client scopes and clients with their protocol mappers, roles and
// service-account role mappings, made as community.general's keycloak_*
// modules make them for atmosphere's roles. It names no component.
//
// Neither the admin's password, nor a token, nor a client's secret is
// ever put in an error or a note.
package keycloak

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
)

// Retry bounds the retries of one request: connection errors (any
// method) and 502, 503 and 504 responses (any method but POST, which may
// have been carried out) are tried again with exponential backoff and
// jitter until MaxElapsed has passed or the request's context ends.
type Retry struct {
	MaxElapsed time.Duration
	Base, Max  time.Duration
}

// DefaultRetry rides out a Keycloak restart.
var DefaultRetry = Retry{MaxElapsed: 2 * time.Minute, Base: 200 * time.Millisecond, Max: 5 * time.Second}

// Client talks to one Keycloak's admin API as one admin. Its token is
// asked of the admin realm with the admin's password (the roles' auth_*
// parameters), refreshed with its refresh token before it expires, asked
// again when refused. It is safe for concurrent use.
type Client struct {
	server components.KeycloakServer
	http   *http.Client
	retry  Retry

	mu      sync.Mutex
	access  string
	expires time.Time
	refresh string
	refExp  time.Time

	writes atomic.Int64
}

// NewClient makes a client of server's admin API. hc is the HTTP client
// (nil: one of its own, skipping the certificate's verification when
// server.Insecure).
func NewClient(server components.KeycloakServer, hc *http.Client) *Client {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if server.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // validate_certs false, as the roles
		}
		hc = &http.Client{Transport: t, Timeout: 30 * time.Second}
	}
	server.URL = strings.TrimRight(server.URL, "/")
	return &Client{server: server, http: hc, retry: DefaultRetry}
}

// Writes is how many writes (POST, PUT, DELETE of the admin API; not the
// token's) the client made.
func (c *Client) Writes() int64 { return c.writes.Load() }

// StatusError is an answer of the admin API that is not a success.
type StatusError struct {
	Method, Path string
	Code         int
	// Message is Keycloak's errorMessage or error, when it gave one.
	Message string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Code, http.StatusText(e.Code))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// codeIs reports whether err is an answer with that status code.
func codeIs(err error, code int) bool {
	var s *StatusError
	return errors.As(err, &s) && s.Code == code
}

// token returns a valid access token, refreshing or asking for one.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.access != "" && now.Before(c.expires.Add(-15*time.Second)) {
		return c.access, nil
	}
	if c.refresh != "" && now.Before(c.refExp.Add(-15*time.Second)) {
		if err := c.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}}); err == nil {
			return c.access, nil
		}
	}
	err := c.grant(ctx, url.Values{"grant_type": {"password"}, "username": {c.server.User}, "password": {c.server.Password}})
	if err != nil {
		return "", fmt.Errorf("authenticate to Keycloak %s as %s in realm %s: %w", c.server.URL, c.server.User, c.server.AdminRealm, err)
	}
	return c.access, nil
}

// forget drops the access token (refused: asked again next time).
func (c *Client) forget() {
	c.mu.Lock()
	c.access, c.refresh = "", ""
	c.mu.Unlock()
}

// grant asks the admin realm's token endpoint; c.mu is held.
func (c *Client) grant(ctx context.Context, form url.Values) error {
	form.Set("client_id", c.server.AdminClientID)
	path := "/realms/" + url.PathEscape(c.server.AdminRealm) + "/protocol/openid-connect/token"
	body := []byte(form.Encode())
	var got struct {
		Access     string `json:"access_token"`
		ExpiresIn  int    `json:"expires_in"`
		Refresh    string `json:"refresh_token"`
		RefreshExp int    `json:"refresh_expires_in"`
	}
	err := c.send(ctx, http.MethodPost, path, "application/x-www-form-urlencoded", body, "", &got, nil)
	if err != nil {
		return err
	}
	now := time.Now()
	c.access, c.expires = got.Access, now.Add(time.Duration(got.ExpiresIn)*time.Second)
	c.refresh, c.refExp = got.Refresh, now.Add(time.Duration(got.RefreshExp)*time.Second)
	return nil
}

// do sends a request of the admin API (path from /admin/realms on) with
// in as its JSON body (none when nil) and decodes the answer into out
// (when not nil). It returns the answer's Location header (where POST
// made something).
func (c *Client) do(ctx context.Context, method, path string, in, out any) (string, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return "", fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return "", err
		}
		if method != http.MethodGet {
			c.writes.Add(1)
		}
		var location string
		err = c.send(ctx, method, path, "application/json", body, tok, out, &location)
		if codeIs(err, http.StatusUnauthorized) && attempt == 0 {
			c.forget()
			continue
		}
		return location, err
	}
}

// send makes one request, retried as c.retry says.
func (c *Client) send(ctx context.Context, method, path, contentType string, body []byte, token string, out any, location *string) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, method, path, contentType, body, token, out, location)
		if err == nil || !c.transient(ctx, method, err) || time.Since(start) > c.retry.MaxElapsed {
			return err
		}
		d := min(c.retry.Base<<min(attempt-1, 20), c.retry.Max)
		d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w (after: %w)", method, path, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// transient reports whether err is worth another attempt.
func (c *Client) transient(ctx context.Context, method string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var s *StatusError
	if errors.As(err, &s) {
		return method != http.MethodPost && (s.Code == 502 || s.Code == 503 || s.Code == 504)
	}
	return true // the request did not reach the server, or no answer came
}

func (c *Client) once(ctx context.Context, method, path, contentType string, body []byte, token string, out any, location *string) error {
	req, err := http.NewRequestWithContext(ctx, method, c.server.URL+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error names the URL only; the body is not in it.
		return fmt.Errorf("%s %s%s: %w", method, c.server.URL, path, unwrapURL(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"errorMessage"`
			Desc    string `json:"error_description"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := strings.TrimSpace(strings.Join(nonEmpty(e.Error, e.Message, e.Desc), ": "))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &StatusError{Method: method, Path: path, Code: resp.StatusCode, Message: msg}
	}
	if location != nil {
		*location = resp.Header.Get("Location")
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// unwrapURL drops url.Error's own method and URL (the caller names them).
func unwrapURL(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}

func nonEmpty(list ...string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// idFromLocation is the last segment of a Location header: the ID of what
// a POST made.
func idFromLocation(location string) string {
	if i := strings.LastIndex(location, "/"); i >= 0 {
		return location[i+1:]
	}
	return location
}

// Discovery returns the realm's OpenID discovery document
// (/realms/<realm>/.well-known/openid-configuration) as the server serves
// it, read without a token, retried as every request. An answer that is
// not a JSON object is an error naming the realm.
func (c *Client) Discovery(ctx context.Context, realm string) (string, error) {
	path := "/realms/" + url.PathEscape(realm) + "/.well-known/openid-configuration"
	var raw json.RawMessage
	if err := c.send(ctx, http.MethodGet, path, "", nil, "", &raw, nil); err != nil {
		return "", fmt.Errorf("read the discovery document of realm %s: %w", realm, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return "", fmt.Errorf("read the discovery document of realm %s: GET %s%s: not a JSON object", realm, c.server.URL, path)
	}
	return string(raw), nil
}
