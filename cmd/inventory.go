package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/vexxhost/atmosphere-go/components"
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
		if s, err = inv.Settings(); err == nil {
			return inv, s, nil
		}
	}
	if errors.As(err, &problems) {
		return nil, nil, &UsageError{Err: fmt.Errorf("--inventory %s: %w", dir, err)}
	}
	return nil, nil, fmt.Errorf("--inventory %s: %w", dir, err)
}
