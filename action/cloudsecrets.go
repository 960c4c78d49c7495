package action

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/kubephase"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// kubeComponents are the components that the deployment of cfg has a
// Helm or manifest unit of (a release, or objects of their own), in the
// registry's order.
func (c *Configuration) kubeComponents(cfg components.Config) ([]*components.Component, error) {
	g, err := c.registry.Graph(cfg, components.GraphOptions{})
	if err != nil {
		return nil, err
	}
	kube := map[string]bool{}
	for _, k := range g.Keys() {
		if comp, p := c.unit(k); comp != nil && (p.Kind == components.Helm || p.Kind == components.Manifest) {
			kube[comp.Name] = true
		}
	}
	var out []*components.Component
	for _, comp := range c.registry.Components() {
		if kube[comp.Name] {
			out = append(out, comp)
		}
	}
	return out, nil
}

// secretProblems are the secrets that a release another tool made, of a
// component of the units keys, holds (kubephase.CloudSecrets.Foreign)
// with a value other than the one the inventory sets, or, when it sets
// none, the secrets store holds: a deploy would change a password in use. Each names the variable, where
// each value is (the inventory's file or the store; the release and the
// path of its values), never a value. Releases atmosphere made are not
// checked: the inventory is theirs to change (a rotation, which a plan
// shows as a change of values). Two foreign releases holding different
// values of a secret nothing else sets are a warning: the first one's is
// taken. It writes nothing; on atmosphere's own cloud it costs the one
// request that lists the releases.
func (c *Configuration) secretProblems(ctx context.Context, keys []string) ([]string, error) {
	if c.cloudSecrets == nil {
		return nil, nil
	}
	releases, comps := map[string]bool{}, map[string]bool{}
	for _, k := range keys {
		comp, p := c.unit(k)
		if comp == nil {
			continue
		}
		if comp.Chart != nil && p.Kind == components.Helm {
			releases[comp.Namespace+"/"+comp.Release] = true
		}
		if p.Kind == components.Helm || p.Kind == components.Manifest {
			comps[comp.Name] = true
		}
	}
	found, err := c.cloudSecrets.Foreign(ctx, func(release string) bool { return releases[release] })
	if err != nil {
		return nil, fmt.Errorf("read the secrets of the running cloud: %w", err)
	}
	objects, err := c.cloudSecrets.ForeignObjects(ctx, func(name string) bool { return comps[name] })
	if err != nil {
		return nil, fmt.Errorf("read the secrets of the running cloud: %w", err)
	}
	found = append(found, objects...)
	if len(found) == 0 {
		return nil, nil
	}
	stored, err := c.secrets.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var problems []string
	first := map[string]kubephase.Found{}
	warned := map[string]bool{}
	for _, f := range found {
		want, source, ok := c.secretWanted(f.Var, stored)
		switch {
		case ok && !sameSecret(f.Var, want, f.Value):
			problems = append(problems, fmt.Sprintf("secret %s: %s sets a value other than the one %s holds;"+
				" a deploy would change a password in use: make them agree (or remove it from %s to take the cloud's)",
				f.Var, source, f.Where(), source))
		case !ok:
			if was, seen := first[f.Var]; !seen {
				first[f.Var] = f
			} else if was.Value != f.Value && !warned[f.Var] {
				warned[f.Var] = true
				fmt.Fprintf(c.warn, "warning: secret %s: %s and %s hold different values; the first is taken\n", f.Var, was.Where(), f.Where())
			}
		}
	}
	return problems, nil
}

// secretWanted is the secret of the inventory variable name that a deploy
// would use before the running cloud's, and where it is: the inventory's
// (its file), else the store's (stored, keyed by secrets.VarKey).
func (c *Configuration) secretWanted(name string, stored map[string]string) (value, source string, ok bool) {
	if v, set := c.inventory.Vars[name].(string); set && v != "" {
		return v, inventorySource(c.inventory, name), true
	}
	if v, set := stored[secrets.VarKey(name)]; set && v != "" {
		return v, c.secrets.Where(), true
	}
	return "", "", false
}

// inventorySource names the inventory file that sets name.
func inventorySource(inv *inventory.Inventory, name string) string {
	if f := inv.Sources[name]; f != "" {
		return "the inventory's " + f
	}
	return "the inventory"
}

// SecretSource is a secret a run would use that the inventory does not
// set, and where its value comes from.
type SecretSource struct {
	// Name is the inventory variable that would set it.
	Name string `json:"name"`
	// Source is "generated", or where the running cloud holds it
	// ("release openstack/glance (endpoints.oslo_db.auth.glance.password)").
	Source string `json:"source"`
}

// secretSources are the secrets the secrets store handed out so far that
// were generated or found in the running cloud (neither the inventory's
// nor the store's), by name.
func (c *Configuration) secretSources() []SecretSource {
	if c.secrets == nil {
		return nil
	}
	all := c.secrets.Sources()
	var out []SecretSource
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if src := all[k]; src != secrets.FromInventory && src != secrets.FromStore {
			out = append(out, SecretSource{Name: secrets.KeyVar(k), Source: src})
		}
	}
	slices.SortFunc(out, func(a, b SecretSource) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// writeSecretSources writes the secrets generated (names only) and those
// found in the running cloud (name and where), each line after prefix;
// nothing when there are none. verb is "would be" (a plan) or "were".
func writeSecretSources(w io.Writer, prefix, verb string, list []SecretSource) error {
	var generated, found []string
	for _, s := range list {
		if s.Source == secrets.FromGenerated {
			generated = append(generated, s.Name)
		} else {
			found = append(found, s.Name+" from "+s.Source)
		}
	}
	if len(generated) > 0 {
		if _, err := fmt.Fprintf(w, "%ssecrets that %s generated (%d): %s\n", prefix, verb, len(generated), strings.Join(generated, ", ")); err != nil {
			return err
		}
	}
	if len(found) > 0 {
		if _, err := fmt.Fprintf(w, "%ssecrets that %s taken from the running cloud (%d):\n  %s\n", prefix, verb, len(found), strings.Join(found, "\n  ")); err != nil {
			return err
		}
	}
	return nil
}

// sameSecret reports whether a and b are the same secret of the inventory
// variable name as the components use it: an SSH private key
// (secrets.SSHKeySuffix) ends in a line break in the values whether the
// inventory's has one or not (generate_workspace.yml writes it with one,
// a hand-written inventory often without), so that one is not a
// difference; any other difference is.
func sameSecret(name, a, b string) bool {
	if strings.HasSuffix(name, secrets.SSHKeySuffix) {
		return strings.TrimSuffix(a, "\n") == strings.TrimSuffix(b, "\n")
	}
	return a == b
}
