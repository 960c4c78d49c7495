// Package ssologin signs a user in to keystone through its web single
// sign-on as a browser does, with Keycloak as the identity provider:
// keystone's websso URL, Apache's mod_auth_openidc sending the browser to
// the realm's login form, the form filled in and posted, the redirect back
// to mod_auth_openidc's redirect URI, and keystone's answer: the page that
// posts an unscoped token to the dashboard. Each hop that goes wrong is an
// error naming the hop, the URL and what was answered there; the password
// and the token are never in one.
package ssologin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// WebSSO is keystone's web single sign-on through one identity provider.
type WebSSO struct {
	// Keystone is keystone's public base URL ("https://identity.example.com",
	// no /v3).
	Keystone string
	// IdentityProvider and Protocol name the federation ("atmosphere",
	// "openid").
	IdentityProvider, Protocol string
	// Origin is the dashboard's websso URL keystone posts the token to; it
	// must be one of keystone's [federation] trusted_dashboard.
	Origin string
	// HTTP is the client, given a cookie jar of its own when it has none;
	// nil for a new one.
	HTTP *http.Client
}

// URL is the websso URL a dashboard sends the browser to.
func (w WebSSO) URL() string {
	return strings.TrimRight(w.Keystone, "/") + "/v3/auth/OS-FEDERATION/identity_providers/" + url.PathEscape(w.IdentityProvider) +
		"/protocols/" + url.PathEscape(w.Protocol) + "/websso?origin=" + url.QueryEscape(w.Origin)
}

// HopError is a sign-in that went wrong at one hop.
type HopError struct {
	// Hop says which ("keystone's websso to Keycloak's login form", …).
	Hop string
	// URL is where the hop ended, Status what was answered there, Page the
	// start of the page's text (tags dropped).
	URL    string
	Status int
	Page   string
	Err    error
}

func (e *HopError) Error() string {
	msg := fmt.Sprintf("%s: ended at %s with HTTP %d", e.Hop, e.URL, e.Status)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Page != "" {
		msg += "; the page says: " + e.Page
	}
	return msg
}

func (e *HopError) Unwrap() error { return e.Err }

// Login signs username in with password and returns the unscoped token
// keystone hands the dashboard.
func (w WebSSO) Login(ctx context.Context, username, password string) (string, error) {
	hc := w.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	if hc.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return "", err
		}
		c := *hc
		c.Jar = jar
		hc = &c
	}
	const toForm = "keystone's websso to Keycloak's login form"
	page, err := get(ctx, hc, http.MethodGet, w.URL(), nil)
	if err != nil {
		return "", &HopError{Hop: toForm, URL: w.URL(), Err: err}
	}
	login, ok := findForm(page.doc, func(f form) bool { _, ok := f.fields["password"]; return ok })
	if !ok || page.status != http.StatusOK {
		return "", page.hopError(toForm, errors.New("no login form with a password field"))
	}
	action, err := page.url.Parse(login.action)
	if err != nil {
		return "", page.hopError(toForm, fmt.Errorf("the login form's action: %w", err))
	}
	fields := url.Values{}
	for k, v := range login.fields {
		fields.Set(k, v)
	}
	fields.Set("username", username)
	fields.Set("password", password)
	const back = "Keycloak's login form back to keystone"
	answer, err := get(ctx, hc, http.MethodPost, action.String(), fields)
	if err != nil {
		return "", &HopError{Hop: back, URL: action.String(), Err: err}
	}
	posted, ok := findForm(answer.doc, func(f form) bool { _, ok := f.fields["token"]; return ok })
	if !ok || answer.status != http.StatusOK {
		return "", answer.hopError(back, errors.New("no form posting a token"))
	}
	if posted.action != w.Origin {
		return "", answer.hopError(back, fmt.Errorf("the token's form posts to %q, not the origin %q", posted.action, w.Origin))
	}
	if posted.fields["token"] == "" {
		return "", answer.hopError(back, errors.New("the token's form has an empty token"))
	}
	return posted.fields["token"], nil
}

// page is where a request ended, redirects followed.
type page struct {
	url    *url.URL
	status int
	doc    *html.Node
	text   string
}

func (p page) hopError(hop string, err error) *HopError {
	text := p.text
	if len(text) > 400 {
		text = text[:400] + "…"
	}
	return &HopError{Hop: hop, URL: p.url.String(), Status: p.status, Page: text, Err: err}
}

// get sends the request (a form when fields is not nil), follows the
// redirects and parses the page it ends on.
func get(ctx context.Context, hc *http.Client, method, target string, fields url.Values) (page, error) {
	var body io.Reader
	if fields != nil {
		body = strings.NewReader(fields.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return page{}, err
	}
	if fields != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// A browser's: mod_auth_openidc answers a request that accepts no
	// HTML (an XMLHttpRequest's) 401 instead of sending it to log in.
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := hc.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return page{}, err
	}
	doc, err := html.Parse(strings.NewReader(string(raw)))
	if err != nil {
		return page{}, fmt.Errorf("parse the page of %s: %w", resp.Request.URL, err)
	}
	return page{url: resp.Request.URL, status: resp.StatusCode, doc: doc, text: visibleText(doc)}, nil
}

// form is an HTML form: its action and its inputs' values by name (a
// password or token among them, never printed).
type form struct {
	action string
	fields map[string]string
}

// findForm is the first form of the document that match accepts.
func findForm(doc *html.Node, match func(form) bool) (form, bool) {
	var found *form
	var walk func(n *html.Node, current *form)
	walk = func(n *html.Node, current *form) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			current = &form{action: attr(n, "action"), fields: map[string]string{}}
			defer func() {
				if found == nil && match(*current) {
					found = current
				}
			}()
		}
		if n.Type == html.ElementNode && n.Data == "input" && current != nil {
			if name := attr(n, "name"); name != "" {
				current.fields[name] = attr(n, "value")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, current)
		}
	}
	walk(doc, nil)
	if found == nil {
		return form{}, false
	}
	return *found, true
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// visibleText is the page's text, scripts, styles and inputs left out,
// whitespace collapsed.
func visibleText(doc *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(strings.Fields(b.String()), " ")
}
