package cloudcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
)

// OpenStackCommand is Debian's openstack command.
const OpenStackCommand = "/usr/bin/openstack"

// Client runs the openstack command as an operator would: cloud Cloud of
// the clouds.yaml Clouds.
type Client struct {
	Clouds, Cloud string
	// Command is the openstack program; OpenStackCommand when empty.
	Command string
}

// run runs the command with args and format ("json", "table") and returns
// its standard output.
func (c Client) run(ctx context.Context, format string, args ...string) ([]byte, error) {
	prog := c.Command
	if prog == "" {
		prog = OpenStackCommand
	}
	if _, err := os.Stat(prog); err != nil {
		return nil, fmt.Errorf("no openstack command (%w): apt-get install python3-openstackclient", err)
	}
	cmd := exec.CommandContext(ctx, prog, append([]string{"--os-cloud", c.Cloud}, append(args, "-f", format)...)...)
	cmd.Env = append(pyenv.Clean(), "OS_CLIENT_CONFIG_FILE="+c.Clouds)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = strings.TrimSpace(string(ee.Stderr))
			if lines := strings.Split(stderr, "\n"); len(lines) > 5 {
				stderr = strings.Join(lines[len(lines)-5:], "\n")
			}
		}
		return nil, fmt.Errorf("openstack %s: %w: %s", strings.Join(args, " "), err, stderr)
	}
	return out, nil
}

// Listing is one command's output, as the openstack command prints it.
type Listing struct {
	// File groups listings: docs/demo/openstack-<File>.txt.
	File string
	// Args are the command's arguments after "openstack".
	Args []string
	// Table is its output in the command's table format.
	Table string
}

// row is one row of the command's JSON output.
type row = map[string]any

// check is one listing and its check of the JSON output.
type check struct {
	file  string
	args  []string
	check func(out []byte) error
}

// Run lists the cloud with c and checks each listing against w. It
// returns every listing (in a fixed order) and the problems found, joined;
// a listing the command could not make is a problem too.
func Run(ctx context.Context, c Client, w Want) ([]Listing, error) {
	checks := checksOf(w)
	listings := make([]Listing, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // each run is a Python process
	for i, ch := range checks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			listings[i] = Listing{File: ch.file, Args: ch.args}
			table, err := c.run(ctx, "table", ch.args...)
			if err != nil {
				errs[i] = err
				return
			}
			listings[i].Table = string(table)
			out, err := c.run(ctx, "json", ch.args...)
			if err == nil {
				err = ch.check(out)
				if err != nil {
					err = fmt.Errorf("openstack %s: %w", strings.Join(ch.args, " "), err)
				}
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return listings, errors.Join(errs...)
}

// checksOf are the listings of w and their checks.
func checksOf(w Want) []check {
	checks := []check{
		{"catalog", []string{"catalog", "list"}, func(out []byte) error { return checkCatalog(out, w) }},
		{"flavors", []string{"flavor", "list", "--all"}, func(out []byte) error {
			return containsAll(out, "Name", w.Flavors, "flavor", nil)
		}},
		{"images", []string{"image", "list", "--long"}, func(out []byte) error {
			return containsAll(out, "Name", w.Images, "active image", func(r row) bool { return r["Status"] == "active" })
		}},
		{"networks", []string{"network", "list"}, func(out []byte) error {
			return containsAll(out, "Name", w.Networks, "network", nil)
		}},
		{"quotas", []string{"quota", "show", "admin"}, func(out []byte) error {
			var q row
			if err := json.Unmarshal(out, &q); err != nil {
				return err
			}
			for _, k := range w.UnlimitedQuotas {
				if fmt.Sprint(q[k]) != "-1" {
					return fmt.Errorf("admin quota %s = %v, want -1 (unlimited)", k, q[k])
				}
			}
			return nil
		}},
	}
	if w.ManagementSubnet[0] != "" {
		checks = append(checks, check{"networks", []string{"subnet", "list", "--network", w.Networks[0]}, func(out []byte) error {
			var rows []row
			if err := json.Unmarshal(out, &rows); err != nil {
				return err
			}
			if len(rows) != 1 || rows[0]["Name"] != w.ManagementSubnet[0] || rows[0]["Subnet"] != w.ManagementSubnet[1] {
				return fmt.Errorf("subnets of %s %v, want %s %s", w.Networks[0], rows, w.ManagementSubnet[0], w.ManagementSubnet[1])
			}
			return nil
		}})
	}
	if len(w.SecurityGroups) > 0 {
		checks = append(checks, check{"security-groups", []string{"security", "group", "list"}, func(out []byte) error {
			return containsAll(out, "Name", slices.Sorted(maps.Keys(w.SecurityGroups)), "security group", nil)
		}})
	}
	for _, name := range slices.Sorted(maps.Keys(w.SecurityGroups)) {
		want := w.SecurityGroups[name]
		checks = append(checks, check{"security-groups", []string{"security", "group", "rule", "list", name}, func(out []byte) error {
			var rows []row
			if err := json.Unmarshal(out, &rows); err != nil {
				return err
			}
			var got []string
			for _, r := range rows {
				if r["Direction"] != "ingress" {
					continue
				}
				s := fmt.Sprint(r["IP Protocol"])
				if pr, _ := r["Port Range"].(string); pr != "" {
					s += " " + pr
				}
				got = append(got, s)
			}
			slices.Sort(got)
			for _, x := range want {
				if !slices.Contains(got, x) {
					return fmt.Errorf("ingress rules of %s %v lack %q (want %v)", name, got, x, want)
				}
			}
			return nil
		}})
	}
	for _, host := range w.Controllers {
		checks = append(checks, check{"ports", []string{"port", "show", "octavia-health-manager-port-" + host,
			"-c", "name", "-c", "binding_host_id", "-c", "device_owner", "-c", "network_id", "-c", "fixed_ips", "-c", "security_group_ids"},
			func(out []byte) error {
				var p row
				if err := json.Unmarshal(out, &p); err != nil {
					return err
				}
				if p["binding_host_id"] != host || p["device_owner"] != "Octavia:health-mgr" {
					return fmt.Errorf("the health-manager port of %s is bound to %v and owned by %v, want %s and Octavia:health-mgr",
						host, p["binding_host_id"], p["device_owner"], host)
				}
				return nil
			}})
	}
	return checks
}

// checkCatalog checks that every service of w.Catalog is in the catalog
// with its public, internal and admin URLs in w.Region.
func checkCatalog(out []byte, w Want) error {
	var rows []struct {
		Name      string `json:"Name"`
		Type      string `json:"Type"`
		Endpoints []struct {
			Interface string `json:"interface"`
			Region    string `json:"region"`
			RegionID  string `json:"region_id"`
			URL       string `json:"url"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		return err
	}
	got := map[string]map[gophercloud.Availability][]string{}
	for _, r := range rows {
		key := r.Type + " " + r.Name
		if got[key] == nil {
			got[key] = map[gophercloud.Availability][]string{}
		}
		for _, e := range r.Endpoints {
			if e.Region == w.Region || e.RegionID == w.Region {
				got[key][gophercloud.Availability(e.Interface)] = append(got[key][gophercloud.Availability(e.Interface)], e.URL)
			}
		}
	}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(w.Catalog)) {
		for _, iface := range []gophercloud.Availability{gophercloud.AvailabilityPublic, gophercloud.AvailabilityInternal, gophercloud.AvailabilityAdmin} {
			want := w.Catalog[key][iface]
			if !slices.ContainsFunc(got[key][iface], func(u string) bool { return sameURL(u, want) }) {
				errs = append(errs, fmt.Errorf("catalog: %s has %s URLs %v in %s, want %s", key, iface, got[key][iface], w.Region, want))
			}
		}
	}
	return errors.Join(errs...)
}

// projectInURL is what keystone puts for %(project_id)s and %(tenant_id)s
// in the catalog of a token: the project's ID.
var projectInURL = regexp.MustCompile(`%\((project_id|tenant_id)\)s`)

// sameURL reports whether the catalog URL got is want, its
// %(project_id)s or %(tenant_id)s being the token's project ID.
func sameURL(got, want string) bool {
	parts := projectInURL.Split(want, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[0-9a-f]{32}") + "$").MatchString(got)
}

// containsAll checks that the rows of out have, in column col, each of
// names, on a row ok accepts (any when ok is nil).
func containsAll(out []byte, col string, names []string, what string, ok func(row) bool) error {
	var rows []row
	if err := json.Unmarshal(out, &rows); err != nil {
		return err
	}
	var have []string
	for _, r := range rows {
		if ok == nil || ok(r) {
			have = append(have, fmt.Sprint(r[col]))
		}
	}
	var missing []string
	for _, n := range names {
		if !slices.Contains(have, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no %s %s (have %v)", what, strings.Join(missing, ", "), have)
	}
	return nil
}
