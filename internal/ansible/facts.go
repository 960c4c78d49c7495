package ansible

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/engine"
)

// FactsFileVar is the extra var naming the file, on the controller, that
// a facts play's last task writes {"changed": bool, "facts": {...}} to
// (components.AnsibleWork.Yields).
const FactsFileVar = "atmosphere_facts_file"

// Yield is what a facts play handed back.
type Yield struct {
	// Changed says the play changed something on the hosts.
	Changed bool
	// Facts are the play's facts by key: a string as it is, any other
	// JSON value as its JSON text.
	Facts map[string]string
}

// RunFacts runs a job whose play hands facts back: the file FactsFileVar
// names is made in a private directory (0700) and read once the play
// ends, then removed. A play that ends without writing it is an error
// naming the job.
func (d *Deployer) RunFacts(ctx context.Context, job Job) (Yield, error) {
	dir, err := os.MkdirTemp("", "atmosphere-facts-")
	if err != nil {
		return Yield{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "facts.json")
	vars := maps.Clone(job.ExtraVars)
	if vars == nil {
		vars = map[string]any{}
	}
	vars[FactsFileVar] = path
	job.ExtraVars = vars
	if err := d.Run(ctx, job); err != nil {
		return Yield{}, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Yield{}, fmt.Errorf("%s: the play handed back no facts: %w", job.Component, err)
	}
	return parseYield(job.Component, raw)
}

// parseYield reads the facts file's JSON.
func parseYield(component string, raw []byte) (Yield, error) {
	var doc struct {
		Changed any                        `json:"changed"`
		Facts   map[string]json.RawMessage `json:"facts"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		// The file holds secrets: its content is never quoted.
		return Yield{}, fmt.Errorf("%s: the facts the play handed back are not a JSON object of facts", component)
	}
	y := Yield{Facts: map[string]string{}}
	switch c := doc.Changed.(type) {
	case bool:
		y.Changed = c
	case string: // a Jinja boolean rendered as text
		y.Changed = strings.EqualFold(c, "true")
	}
	for k, v := range doc.Facts {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			y.Facts[k] = s
			continue
		}
		y.Facts[k] = string(v)
	}
	return y, nil
}

// FactRunner runs a facts play (a *Deployer).
type FactRunner interface {
	RunFacts(ctx context.Context, job Job) (Yield, error)
}

// factsJob is the job of a component's facts play (components.Component.Facts).
func factsJob(c *components.Component) Job {
	w := c.Facts
	return Job{Component: c.Name, Playbook: w.Playbook, Play: &Play{Hosts: w.Hosts, Role: w.Role, Become: w.Become,
		GatherFacts: w.GatherFacts, Tasks: w.Tasks}}
}

// FactsEngine is the engine of phases of kind components.AnsibleFacts: the
// component's facts play (components.Component.Facts) reads facts from the
// inventory's hosts, which are stored for the component's and others'
// values. When the inventory gives every fact the play yields, the play is
// not run (what the inventory gives wins anyway). It names no component.
type FactsEngine struct {
	// Runner runs the plays; nil when Ansible cannot run here (the check
	// says so for a play that must run).
	Runner FactRunner
	// Settings are the deployment's (the inventory's variables).
	Settings components.Settings
	// Hosts resolves a host pattern of the inventory; nil when the
	// inventory has no hosts file.
	Hosts func(pattern string) ([]string, error)
	// Store records a component's facts (openstackphase.Facts.Set).
	Store func(component, key, value string)
}

// Deploy runs the play unless the inventory gives every fact, and stores
// the facts it yields; a fact the play did not yield is an error naming
// the inventory variable that gives it instead.
func (e *FactsEngine) Deploy(ctx context.Context, c *components.Component, p components.Phase) error {
	missing := c.MissingFacts(e.Settings)
	if len(missing) == 0 {
		dag.ReporterFrom(ctx).Note(dag.Note{Did: "facts given in the inventory", Unchanged: true})
		return nil
	}
	if problems := e.Check(ctx, c, p); len(problems) > 0 {
		return problems[0].Err
	}
	job := factsJob(c)
	dag.ReporterFrom(ctx).Note(dag.Note{Waiting: "ansible-playbook: facts from " + strings.Join(c.FactSources(e.Settings), ", ")})
	y, err := e.Runner.RunFacts(ctx, job)
	if err != nil {
		return err
	}
	var lacking []string
	for _, f := range c.Facts.Yields {
		v, ok := y.Facts[f.Key]
		if !ok || v == "" {
			if slices.Contains(missing, f.Var) {
				lacking = append(lacking, fmt.Sprintf("%s (%s)", f.Key, f.Var))
			}
			continue
		}
		e.Store(c.Name, f.Key, v)
	}
	if len(lacking) > 0 {
		return fmt.Errorf("%s: the play did not read %s: set them in the inventory", c.Name, strings.Join(lacking, ", "))
	}
	did := fmt.Sprintf("read %d facts from %s", len(y.Facts), strings.Join(c.FactSources(e.Settings), ", "))
	dag.ReporterFrom(ctx).Note(dag.Note{Did: did, Unchanged: !y.Changed})
	return nil
}

// Check finds, when the inventory lacks facts the play yields, a play that
// cannot run: no host to read them from, or no Ansible. The problem names
// the missing inventory variables.
func (e *FactsEngine) Check(_ context.Context, c *components.Component, _ components.Phase) []engine.Problem {
	missing := c.MissingFacts(e.Settings)
	if len(missing) == 0 {
		return nil
	}
	var why []string
	if c.Facts == nil {
		why = append(why, "it has no play")
	}
	for _, pattern := range c.FactSources(e.Settings) {
		if e.Hosts == nil {
			why = append(why, "the inventory has no hosts file to find "+pattern+" in")
			break
		}
		if hosts, err := e.Hosts(pattern); err != nil || len(hosts) == 0 {
			why = append(why, "the inventory has no host "+pattern)
		}
	}
	if e.Runner == nil && e.Hosts != nil {
		why = append(why, "Ansible is not available")
	}
	if len(why) == 0 {
		return nil
	}
	return []engine.Problem{{About: "facts " + c.Name, Err: fmt.Errorf(
		"%s: the inventory does not give %s, and they cannot be read from the hosts (%s): set them in group_vars, or add the hosts",
		c.Name, strings.Join(missing, ", "), strings.Join(why, "; "))}}
}

// Plan says whether the play would run.
func (e *FactsEngine) Plan(_ context.Context, c *components.Component, _ components.Phase) (engine.Change, error) {
	missing := c.MissingFacts(e.Settings)
	if len(missing) == 0 {
		return engine.Change{Action: "unchanged", Why: []string{"facts given in the inventory"}}, nil
	}
	return engine.Change{Action: "read facts", Why: []string{"from " + strings.Join(c.FactSources(e.Settings), ", "),
		"for " + strings.Join(missing, ", ")}}, nil
}

// Status is Untracked: the facts are read anew by every run.
func (*FactsEngine) Status(context.Context, *components.Component) (engine.State, error) {
	return engine.State{State: engine.Untracked}, nil
}
