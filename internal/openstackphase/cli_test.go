package openstackphase

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// openstackCLI runs Debian's openstack command (python3-openstackclient)
// as an operator would, with the clouds.yaml the set-up used, and decodes
// its JSON output into out.
func openstackCLI(ctx context.Context, clouds string, out any, args ...string) error {
	if err := testenv.EnsurePackages(ctx, "/usr/bin/openstack", "python3-openstackclient"); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/openstack", append([]string{"--os-cloud", testenv.CloudName}, append(args, "-f", "json")...)...)
	cmd.Env = append(pyenv.Clean(), "OS_CLIENT_CONFIG_FILE="+clouds)
	raw, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return fmt.Errorf("openstack %s: %w: %s", strings.Join(args, " "), err, testenv.LastLines(stderr, 5))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("openstack %s: %w: %s", strings.Join(args, " "), err, raw)
	}
	return nil
}

// checkWithCLI lists what the set-up made with the openstack command, all
// lists at once, and checks each against what the set-up was asked for:
// the flavors, octavia's management network and subnet, its security
// groups' rules, the health-manager ports bound to their hosts, the
// images (active), and the admin project's unlimited compute quota.
func checkWithCLI(t *testing.T, clouds string, controllers []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type row map[string]any
	names := func(rows []row, key string) []string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r[key]))
		}
		return out
	}
	checks := []struct {
		args  []string
		check func(out json.RawMessage) error
	}{
		{[]string{"flavor", "list", "--all"}, func(out json.RawMessage) error {
			var rows []row
			if err := json.Unmarshal(out, &rows); err != nil {
				return err
			}
			for _, want := range setupNames["flavors"] {
				if !slices.Contains(names(rows, "Name"), want) {
					return fmt.Errorf("no flavor %s in %v", want, names(rows, "Name"))
				}
			}
			return nil
		}},
		{[]string{"subnet", "list", "--network", "lb-mgmt-net"}, func(out json.RawMessage) error {
			var rows []row
			if err := json.Unmarshal(out, &rows); err != nil {
				return err
			}
			if len(rows) != 1 || rows[0]["Name"] != "lb-mgmt-subnet" || rows[0]["Subnet"] != "172.24.0.0/22" {
				return fmt.Errorf("subnets of lb-mgmt-net %v, want lb-mgmt-subnet 172.24.0.0/22", rows)
			}
			return nil
		}},
		{[]string{"security", "group", "rule", "list", "lb-health-mgr-sec-grp"}, func(out json.RawMessage) error {
			var rows []row
			if err := json.Unmarshal(out, &rows); err != nil {
				return err
			}
			var got []string
			for _, r := range rows {
				if r["Direction"] == "ingress" {
					got = append(got, fmt.Sprintf("%v %v", r["IP Protocol"], r["Port Range"]))
				}
			}
			slices.Sort(got)
			if want := []string{"tcp 10514:10514", "udp 10514:10514", "udp 20514:20514", "udp 5555:5555"}; !slices.Equal(got, want) {
				return fmt.Errorf("ingress rules of lb-health-mgr-sec-grp %v, want %v", got, want)
			}
			return nil
		}},
		{[]string{"image", "list", "--long"}, func(out json.RawMessage) error {
			var rows []row
			if err := json.Unmarshal(out, &rows); err != nil {
				return err
			}
			for _, want := range setupNames["images"] {
				i := slices.IndexFunc(rows, func(r row) bool { return r["Name"] == want })
				if i < 0 || rows[i]["Status"] != "active" {
					return fmt.Errorf("no active image %s in %v", want, names(rows, "Name"))
				}
			}
			return nil
		}},
		{[]string{"quota", "show", "admin"}, func(out json.RawMessage) error {
			var q row
			if err := json.Unmarshal(out, &q); err != nil {
				return err
			}
			for _, k := range []string{"instances", "cores", "ram", "volumes", "gigabytes"} {
				if fmt.Sprint(q[k]) != "-1" {
					return fmt.Errorf("admin quota %s = %v, want -1", k, q[k])
				}
			}
			return nil
		}},
	}
	for _, host := range controllers {
		checks = append(checks, struct {
			args  []string
			check func(out json.RawMessage) error
		}{[]string{"port", "show", "octavia-health-manager-port-" + host}, func(out json.RawMessage) error {
			var p row
			if err := json.Unmarshal(out, &p); err != nil {
				return err
			}
			if p["binding_host_id"] != host || p["device_owner"] != "Octavia:health-mgr" {
				return fmt.Errorf("port of %s: bound to %v, owned by %v", host, p["binding_host_id"], p["device_owner"])
			}
			return nil
		}})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(checks))
	for i, c := range checks {
		wg.Go(func() {
			var out json.RawMessage
			if err := openstackCLI(ctx, clouds, &out, c.args...); err != nil {
				errs[i] = err
				return
			}
			if err := c.check(out); err != nil {
				errs[i] = fmt.Errorf("openstack %s: %w", strings.Join(c.args, " "), err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
