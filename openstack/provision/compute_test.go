package provision

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

func newCompute(t *testing.T, nova *openstackfake.Nova) *Compute {
	t.Helper()
	return NewCompute(openstackfake.Client(t, nova, ""))
}

// TestEnsureFlavor ensures flavors against the test bed's nova: the first
// run creates, the same again changes nothing, other sizes replace the
// flavor (nova flavors cannot change), extra specs are set, changed and
// unset in place (nil leaves them), and each name is there once.
func TestEnsureFlavor(t *testing.T) {
	r := newReal(t)
	ctx := context.Background()
	amphora, manila := runName(t, "m1.amphora"), runName(t, "m1.manila")
	t.Cleanup(func() { deleteFlavors(r.clients["compute"], amphora, manila) })
	cpu := map[string]string{"hw:cpu_policy": "dedicated", "hw:watchdog_action": "reset"}
	shared := map[string]string{"hw:cpu_policy": "shared"}
	tests := []struct {
		name    string
		flavor  Flavor
		changed bool
		// specs, when not nil, are the flavor's extra specs after the step.
		specs map[string]string
	}{
		{"create", Flavor{Name: amphora, VCPUs: FlavorAmphora.VCPUs, RAM: FlavorAmphora.RAM, Disk: FlavorAmphora.Disk}, true, nil},
		{"again", Flavor{Name: amphora, VCPUs: FlavorAmphora.VCPUs, RAM: FlavorAmphora.RAM, Disk: FlavorAmphora.Disk}, false, nil},
		{"other sizes replace it", Flavor{Name: amphora, VCPUs: 4, RAM: 4096}, true, nil},
		{"other sizes again", Flavor{Name: amphora, VCPUs: 4, RAM: 4096}, false, map[string]string{}},
		{"extra specs set", Flavor{Name: amphora, VCPUs: 4, RAM: 4096, ExtraSpecs: cpu}, true, cpu},
		{"extra specs again", Flavor{Name: amphora, VCPUs: 4, RAM: 4096, ExtraSpecs: cpu}, false, cpu},
		{"one changed, one unset", Flavor{Name: amphora, VCPUs: 4, RAM: 4096, ExtraSpecs: shared}, true, shared},
		{"nil leaves them", Flavor{Name: amphora, VCPUs: 4, RAM: 4096}, false, shared},
		{"manila", Flavor{Name: manila, VCPUs: FlavorManila.VCPUs, RAM: FlavorManila.RAM, Disk: FlavorManila.Disk, Public: FlavorManila.Public}, true, nil},
	}
	for _, tt := range tests {
		f, changed, err := r.compute.EnsureFlavor(ctx, tt.flavor)
		if err != nil || changed != tt.changed || f.Name != tt.flavor.Name || f.VCPUs != tt.flavor.VCPUs || f.RAM != tt.flavor.RAM {
			t.Errorf("%s: %+v changed %v (want %v) err %v", tt.name, f, changed, tt.changed, err)
		}
		if tt.specs != nil && f != nil {
			got, err := flavors.ListExtraSpecs(ctx, r.clients["compute"], f.ID).Extract()
			if err != nil || !maps.Equal(got, tt.specs) {
				t.Errorf("%s: extra specs %v err %v, want %v", tt.name, got, err, tt.specs)
			}
		}
	}
	got := flavorsNamed(t, r.clients["compute"], amphora, manila)
	if len(got[amphora]) != 1 || len(got[manila]) != 1 || got[amphora][0].VCPUs != 4 {
		t.Errorf("flavors %+v, want one of each, %s with 4 VCPUs", got, amphora)
	}
}

// flavorsNamed lists every flavor (public or not) and returns those of the
// names.
func flavorsNamed(t *testing.T, client *gophercloud.ServiceClient, names ...string) map[string][]flavors.Flavor {
	t.Helper()
	pages, err := flavors.ListDetail(client, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]flavors.Flavor{}
	for _, f := range all {
		if slices.Contains(names, f.Name) {
			out[f.Name] = append(out[f.Name], f)
		}
	}
	return out
}

// deleteFlavors removes a test's flavors from the shared nova.
func deleteFlavors(client *gophercloud.ServiceClient, names ...string) {
	ctx := context.Background()
	pages, err := flavors.ListDetail(client, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return
	}
	all, _ := flavors.ExtractFlavors(pages)
	for _, f := range all {
		if slices.Contains(names, f.Name) {
			_ = flavors.Delete(ctx, client, f.ID).ExtractErr()
		}
	}
}

// The fault tests below keep the fake nova: a real one answers no 500 on
// demand.

func TestEnsureFlavorRetries500(t *testing.T) {
	nova := &openstackfake.Nova{}
	nova.FailFirst.Store(1) // the first GET fails
	c := newCompute(t, nova)
	if _, changed, err := c.EnsureFlavor(context.Background(), FlavorAmphora); err != nil || !changed {
		t.Errorf("changed %v err %v", changed, err)
	}
	if got := nova.Requests.Load(); got != 3 {
		t.Errorf("%d requests, want 3 (a failed list, the list again, the create)", got)
	}
}

func TestEnsureFlavorStopsOnCancel(t *testing.T) {
	nova := &openstackfake.Nova{}
	nova.FailFirst.Store(1000)
	c := newCompute(t, nova)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.EnsureFlavor(ctx, FlavorAmphora)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("err %v after %s", err, time.Since(start))
	}
}
