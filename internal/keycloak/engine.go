package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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
	// Store records a component's facts (openstackphase.Facts.Set): the
	// discovery documents its realms ask for (KeycloakRealm.DiscoveryFact).
	// Work that asks for one with no Store is an error.
	Store func(component, key, value string)

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

// discoveryClient is the client that reads a realm's discovery document:
// the server's, verifying its certificate as the realm says
// (KeycloakRealm.DiscoveryInsecure).
func (e *Engine) discoveryClient(s components.KeycloakServer, r components.KeycloakRealm) *Client {
	s.Insecure = r.DiscoveryInsecure
	return e.Client(s)
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
			if realm.DiscoveryFact == "" {
				continue
			}
			if e.Store == nil {
				return fmt.Errorf("%s: realm %s asks for its discovery document, and the Keycloak engine has nowhere to store it", unit, realm.Name)
			}
			doc, err := e.discoveryClient(w.Server, realm).Discovery(ctx, realm.Name)
			if err != nil {
				return fmt.Errorf("%s: Keycloak %s: %w", unit, w.Server.URL, err)
			}
			e.Store(c.Name, realm.DiscoveryFact, doc)
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
// password, a realm or client without a name, a discovery document asked
// for with no Store to hand it back to. It touches nothing.
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
			if r.DiscoveryFact != "" && e.Store == nil {
				add("realm %s asks for its discovery document, and the Keycloak engine has nowhere to store it", r.Name)
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
// different, which is not known before it asks Keycloak. The discovery
// documents the realms ask for are read now when the realms are there
// (a GET without a token, bounded by PlanDiscoveryTimeout), and stored
// as a run would, so that what the objects reading them would change
// shows; when one cannot be read (the realm not made yet, Keycloak not
// reachable from here), the plan says it will be read once the realm is
// made, and why it was not now.
func (e *Engine) Plan(ctx context.Context, c *components.Component, p components.Phase) (engine.Change, error) {
	works, err := e.work(c, components.UnitKey(c.Name, p.Name), true)
	if err != nil {
		return engine.Change{}, err
	}
	var why []string
	for _, w := range works {
		for _, r := range w.Realms {
			why = append(why, "realm "+r.Name)
			if r.DiscoveryFact == "" || e.Store == nil {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, PlanDiscoveryTimeout)
			doc, err := e.discoveryClient(w.Server, r).Discovery(rctx, r.Name)
			cancel()
			if err != nil {
				why = append(why, fmt.Sprintf("its discovery document is read once the realm is made (not now: %v)", err))
				continue
			}
			e.Store(c.Name, r.DiscoveryFact, doc)
			why = append(why, "its discovery document read")
		}
	}
	return engine.Change{Action: "converge", Why: why}, nil
}

// PlanDiscoveryTimeout bounds a plan's read of a discovery document: a
// Keycloak that does not answer is not waited for.
var PlanDiscoveryTimeout = 10 * time.Second

// Status is Untracked: the work leaves nothing in the cluster to read.
func (e *Engine) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
