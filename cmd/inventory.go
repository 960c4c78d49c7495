package cmd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/suggest"
	"github.com/vexxhost/atmosphere-go/inventory"
)

func inventoryFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "inventory", "", "atmosphere inventory directory (group_vars/all and the hosts file); atmosphere's defaults when empty")
}

// settings loads the inventory in dir (the defaults when dir is empty),
// writing its warnings to stderr. A bad inventory is a UsageError listing
// every problem.
func (a *app) settings(dir string) (*inventory.Settings, error) {
	_, s, err := a.load(dir)
	return s, err
}

// load is settings with the inventory itself (an empty one when dir is
// empty).
func (a *app) load(dir string) (*inventory.Inventory, *inventory.Settings, error) {
	if dir == "" {
		return &inventory.Inventory{Vars: map[string]any{}},
			&inventory.Settings{Config: components.DefaultConfig(), HelmValues: map[string]map[string]any{}, PublicHosts: map[string]string{}}, nil
	}
	inv, err := inventory.Load(dir, nil)
	var problems inventory.Problems
	if err == nil {
		for _, w := range inv.Warnings {
			fmt.Fprintf(a.streams.Err, "warning: %s\n", w)
		}
		var s *inventory.Settings
		s, err = inv.Settings()
		if unknown := a.unknownComponents(inv); len(unknown) > 0 && (err == nil || errors.As(err, &problems)) {
			err = append(problems, unknown...)
		}
		if err == nil {
			return inv, s, nil
		}
	}
	if errors.As(err, &problems) {
		return nil, nil, &UsageError{Err: fmt.Errorf("--inventory %s: %w", dir, err)}
	}
	return nil, nil, fmt.Errorf("--inventory %s: %w", dir, err)
}

// unknownComponents finds <name>_helm_values whose name is no component
// of the registry (by its name or its release's, "_" for "-") and no
// variable atmosphere's roles declare: a misspelt component, whose values
// would otherwise be silently dropped.
func (a *app) unknownComponents(inv *inventory.Inventory) inventory.Problems {
	known := a.valuesPrefixes()
	names := slices.Sorted(maps.Keys(known))
	var problems inventory.Problems
	for _, key := range slices.Sorted(maps.Keys(inv.Vars)) {
		prefix, ok := strings.CutSuffix(key, "_helm_values")
		if _, isComponent := known[prefix]; !ok || isComponent || inventory.Declared(key) {
			continue
		}
		msg := "no component is called " + prefix
		if near := suggest.Nearest(prefix, names); near != "" {
			msg += fmt.Sprintf(" (did you mean %s_helm_values?)", near)
		}
		problems = append(problems, inventory.Problem{File: inv.Sources[key], Key: key, Message: msg})
	}
	return problems
}
