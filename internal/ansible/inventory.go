package ansible

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
)

// Inventory is the operator's inventory as ansible reads it: every group
// with its hosts, children expanded.
type Inventory struct {
	groups map[string][]string
	hosts  []string
}

// LoadInventory reads an inventory with `ansible-inventory --list`, so every
// format and plugin ansible knows is understood as ansible understands it.
// args are added to its command line (--vault-password-file FILE).
func LoadInventory(ctx context.Context, ansibleInventory, path string, args ...string) (*Inventory, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	cmd := exec.CommandContext(ctx, ansibleInventory, append([]string{"-i", path, "--list"}, args...)...)
	// A source ansible cannot parse is an error, not a warning and an
	// empty inventory.
	cmd.Env = append(cmd.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_INVENTORY_UNPARSED_FAILED=True",
		"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True")
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("read inventory %s: %s", path, msg)
	}
	return ParseInventory(out)
}

// ParseInventory reads the JSON of `ansible-inventory --list`.
func ParseInventory(data []byte) (*Inventory, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	type group struct {
		Hosts    []string `json:"hosts"`
		Children []string `json:"children"`
	}
	groups := map[string]group{}
	for name, msg := range raw {
		if name == "_meta" {
			continue
		}
		var g group
		if err := json.Unmarshal(msg, &g); err != nil {
			return nil, fmt.Errorf("inventory group %s: %w", name, err)
		}
		groups[name] = g
	}
	inv := &Inventory{groups: map[string][]string{}}
	var expand func(name string, seen map[string]bool) []string
	expand = func(name string, seen map[string]bool) []string {
		if seen[name] {
			return nil
		}
		seen[name] = true
		g := groups[name]
		hosts := slices.Clone(g.Hosts)
		for _, child := range g.Children {
			hosts = append(hosts, expand(child, seen)...)
		}
		return dedupe(hosts)
	}
	for name := range groups {
		inv.groups[name] = expand(name, map[string]bool{})
	}
	inv.hosts = inv.groups["all"]
	return inv, nil
}

// NewInventory is an inventory of groups already read (each with its
// hosts and those of its children, "all" among them), as
// inventory.Inventory.Groups holds them.
func NewInventory(groups map[string][]string) *Inventory {
	inv := &Inventory{groups: map[string][]string{}}
	for name, hosts := range groups {
		inv.groups[name] = dedupe(slices.Clone(hosts))
	}
	inv.hosts = inv.groups["all"]
	return inv
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, h := range in {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

var subscript = regexp.MustCompile(`^(.+)\[(\d+)\]$`)

// Hosts resolves a host pattern: groups or hosts joined by ":" or ","
// (union), "&x" (intersection), "!x" (exclusion), "all" or "*", and
// "group[N]". An unknown name is an error.
func (inv *Inventory) Hosts(pattern string) ([]string, error) {
	var out []string
	for i, term := range strings.FieldsFunc(pattern, func(r rune) bool { return r == ':' || r == ',' }) {
		op := byte(0)
		if term[0] == '!' || term[0] == '&' {
			op, term = term[0], term[1:]
		}
		hosts, err := inv.term(term)
		if err != nil {
			return nil, fmt.Errorf("host pattern %q: %w", pattern, err)
		}
		switch {
		case op == '!':
			out = slices.DeleteFunc(out, func(h string) bool { return slices.Contains(hosts, h) })
		case op == '&':
			out = slices.DeleteFunc(out, func(h string) bool { return !slices.Contains(hosts, h) })
		case i == 0:
			out = slices.Clone(hosts)
		default:
			out = dedupe(append(out, hosts...))
		}
	}
	return out, nil
}

func (inv *Inventory) term(t string) ([]string, error) {
	if t == "all" || t == "*" {
		return inv.hosts, nil
	}
	if m := subscript.FindStringSubmatch(t); m != nil {
		hosts, err := inv.term(m[1])
		if err != nil {
			return nil, err
		}
		n, _ := strconv.Atoi(m[2])
		if n >= len(hosts) {
			return nil, nil
		}
		return hosts[n : n+1], nil
	}
	if hosts, ok := inv.groups[t]; ok {
		return hosts, nil
	}
	if slices.Contains(inv.hosts, t) {
		return []string{t}, nil
	}
	return nil, fmt.Errorf("no group or host %q in the inventory", t)
}

// HostLocks are the resources that lock a host rather than the whole
// deployment: two plays on different hosts may hold them at once.
var HostLocks = []string{components.ResourceApt, components.ResourceContainerd}

// HostResource names a host lock on one host: "apt@ctl1".
func HostResource(resource, host string) string { return resource + "@" + host }

// Resources returns what a play on hosts holds: each host lock once per
// host, other resources as they are.
func Resources(declared, hosts []string) []string {
	var out []string
	for _, r := range declared {
		if !slices.Contains(HostLocks, r) {
			out = append(out, r)
			continue
		}
		for _, h := range hosts {
			out = append(out, HostResource(r, h))
		}
	}
	return out
}

// HostCaps adds to caps, for every host of the inventory, the cap of each
// host lock ("apt@ctl1": caps["apt"]).
func HostCaps(caps map[string]int, inv *Inventory) map[string]int {
	out := map[string]int{}
	for k, v := range caps {
		out[k] = v
	}
	for _, r := range HostLocks {
		c, ok := caps[r]
		if !ok {
			continue
		}
		for _, h := range inv.hosts {
			out[HostResource(r, h)] = c
		}
	}
	return out
}
