package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

// Engine is the engine of Keycloak work: a phase of kind
// components.Keycloak makes what its component declares
// (components.Component.Keycloak) through each server's admin API. One
// client per server and admin is kept across phases, so that a token
// serves them all.
type Engine struct {
	// Settings are the deployment's (the knobs, the secrets store).
	Settings components.Settings
	// HTTP, when set, is the HTTP client of every server (tests); else
	// each client makes its own.
	HTTP *http.Client

	mu      sync.Mutex
	clients map[components.KeycloakServer]*Client
}

var _ engine.Engine = (*Engine)(nil)

// Client is the engine's client of a server and admin.
func (e *Engine) Client(s components.KeycloakServer) *Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.clients == nil {
		e.clients = map[components.KeycloakServer]*Client{}
	}
	c, ok := e.clients[s]
	if !ok {
		c = NewClient(s, e.HTTP)
		e.clients[s] = c
	}
	return c
}

// Writes is how many writes the engine's clients made (a second run of
// work already done makes none).
func (e *Engine) Writes() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, c := range e.clients {
		n += c.Writes()
	}
	return n
}

// Deploy makes every realm of the component's Keycloak work as declared,
// server after server and realm after realm, and tells the run what
// changed ("unchanged" when nothing did).
func (e *Engine) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	unit := components.UnitKey(c.Name, p.Name)
	works, err := e.work(c, unit, false)
	if err != nil {
		return err
	}
	rep := dag.ReporterFrom(ctx)
	var did []string
	for _, w := range works {
		client := e.Client(w.Server)
		for _, realm := range w.Realms {
			rep.Note(dag.Note{Waiting: "Keycloak " + w.Server.URL + " realm " + realm.Name})
			changes, err := Apply(ctx, client, realm)
			did = append(did, changes...)
			if err != nil {
				return fmt.Errorf("%s: Keycloak %s: %w", unit, w.Server.URL, err)
			}
		}
	}
	if len(did) == 0 {
		rep.Note(dag.Note{Did: "realms as declared", Unchanged: true})
		return nil
	}
	rep.Note(dag.Note{Did: strings.Join(did, "; ")})
	return nil
}

// work renders the component's Keycloak work (a phase of a component
// that declares none is an error naming the unit); peek reads the secrets
// without storing any (Settings.PeekSecret), for what touches nothing.
func (e *Engine) work(c *components.Component, unit string, peek bool) ([]components.KeycloakWork, error) {
	if !c.HasKeycloak() {
		return nil, fmt.Errorf("no Keycloak work is declared for %s", unit)
	}
	s := e.Settings
	if peek && s.PeekSecret != nil {
		s.Secret = s.PeekSecret
	}
	works, err := c.Keycloak(s)
	if err != nil {
		return nil, fmt.Errorf("%s: Keycloak work: %w", unit, err)
	}
	return works, nil
}

// Check renders the component's Keycloak work and finds what would stop
// it: a server URL that is not http(s) with a host, no admin user or
// password, a realm or client without a name. It touches nothing.
func (e *Engine) Check(_ context.Context, c *components.Component, p components.Phase) []engine.Problem {
	unit := components.UnitKey(c.Name, p.Name)
	works, err := e.work(c, unit, true)
	if err != nil {
		return []engine.Problem{{About: "keycloak " + c.Name, Err: err}}
	}
	var out []engine.Problem
	add := func(format string, args ...any) {
		out = append(out, engine.Problem{About: "keycloak " + c.Name, Err: fmt.Errorf(unit+": "+format, args...)})
	}
	for _, w := range works {
		if u, err := url.Parse(w.Server.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("Keycloak's URL %q is not an http(s) URL with a host: set the keycloak server URL knob (keystone_keycloak_server_url, kube_prometheus_stack_keycloak_server_url, keycloak_host)", w.Server.URL)
		}
		if w.Server.User == "" || w.Server.Password == "" || w.Server.AdminRealm == "" || w.Server.AdminClientID == "" {
			add("Keycloak %s: the admin's realm, client, user and password are all needed", w.Server.URL)
		}
		for _, r := range w.Realms {
			if r.Name == "" {
				add("a realm of Keycloak %s has no name", w.Server.URL)
			}
			for _, cl := range r.Clients {
				if cl.ClientID == "" {
					add("a client of realm %s has no client ID", r.Name)
				}
			}
		}
	}
	return out
}

// Plan says the work converges: it makes only what is missing or
// different, which is not known before it asks Keycloak.
func (e *Engine) Plan(_ context.Context, c *components.Component, p components.Phase) (engine.Change, error) {
	works, err := e.work(c, components.UnitKey(c.Name, p.Name), true)
	if err != nil {
		return engine.Change{}, err
	}
	var realms []string
	for _, w := range works {
		for _, r := range w.Realms {
			realms = append(realms, "realm "+r.Name)
		}
	}
	return engine.Change{Action: "converge", Why: realms}, nil
}

// Status is Untracked: the work leaves nothing in the cluster to read.
func (e *Engine) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
