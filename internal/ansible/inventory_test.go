package ansible

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// twoHostInventory has two hosts, both reached on this machine.
const twoHostInventory = `[controllers]
ctl1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
[computes]
cmp1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
ctl1
[cloud:children]
controllers
computes
`

func loadTwoHosts(t *testing.T) (*Inventory, string) {
	t.Helper()
	if _, err := testenv.EnsureAnsible(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hosts.ini")
	if err := os.WriteFile(path, []byte(twoHostInventory), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := LoadInventory(context.Background(), "/usr/bin/ansible-inventory", path)
	if err != nil {
		t.Fatal(err)
	}
	return inv, path
}

func TestHostPatterns(t *testing.T) {
	inv, _ := loadTwoHosts(t)
	tests := []struct {
		pattern string
		want    []string
		err     string
	}{
		{"all", []string{"ctl1", "cmp1"}, ""},
		{"controllers", []string{"ctl1"}, ""},
		{"computes", []string{"cmp1", "ctl1"}, ""},
		{"controllers:computes", []string{"ctl1", "cmp1"}, ""},
		{"computes:!controllers", []string{"cmp1"}, ""},
		{"cloud:&controllers", []string{"ctl1"}, ""},
		{"computes[0]", []string{"cmp1"}, ""},
		{"cmp1", []string{"cmp1"}, ""},
		{"storage", nil, `no group or host "storage"`},
	}
	for _, tt := range tests {
		got, err := inv.Hosts(tt.pattern)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.pattern, err, tt.err)
			}
			continue
		}
		if err != nil || !sameSet(got, tt.want) {
			t.Errorf("%s = %v, %v; want %v", tt.pattern, got, err, tt.want)
		}
	}
	if _, err := LoadInventory(context.Background(), "/usr/bin/ansible-inventory", filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("a missing inventory must be an error")
	}
	broken := filepath.Join(t.TempDir(), "broken.yml")
	if err := os.WriteFile(broken, []byte("all: [not, an, inventory\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadInventory(context.Background(), "/usr/bin/ansible-inventory", broken); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("an unparsable inventory: %v", err)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestResourcesPerHost(t *testing.T) {
	got := Resources([]string{components.ResourceApt, components.ResourceKubeAPI}, []string{"a", "b"})
	want := []string{"apt@a", "apt@b", "k8s-api"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resources = %v, want %v", got, want)
	}
}

// TestHostLocksSerialiseOnlyOnTheSameHost runs two host roles holding apt
// through the scheduler with the Debian ansible: on the same host their
// plays never overlap; on different hosts they do. The times come from the
// plays themselves.
func TestHostLocksSerialiseOnlyOnTheSameHost(t *testing.T) {
	inv, invPath := loadTwoHosts(t)
	stamps := t.TempDir()
	role := `
- ansible.builtin.shell: "date +%s.%N > {{ stamps }}/{{ role_name }}-{{ inventory_hostname }}.start; sleep 2; date +%s.%N > {{ stamps }}/{{ role_name }}-{{ inventory_hostname }}.end"
`
	d, _ := newDeployer(t, map[string]string{"first": role, "second": role})
	d.Inventory = invPath
	tests := []struct {
		name          string
		hostsA, hostB string
		overlap       bool
	}{
		{"same host", "ctl1", "ctl1", false},
		{"different hosts", "ctl1", "cmp1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plays := map[string]*Play{
				"first":  {Hosts: tt.hostsA, Role: "first"},
				"second": {Hosts: tt.hostB, Role: "second"},
			}
			g := dag.New[string]()
			for name, p := range plays {
				hosts, err := inv.Hosts(p.Hosts)
				if err != nil {
					t.Fatal(err)
				}
				if err := g.AddNode(name, dag.Spec[string]{Cost: time.Second, Resources: Resources([]string{components.ResourceApt}, hosts)}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := dag.Run(context.Background(), g, func(ctx context.Context, name string) error {
				return d.Run(ctx, Job{Component: name, Play: plays[name], ExtraVars: map[string]any{"stamps": stamps}})
			}, dag.Options[string]{Concurrency: 4, Resources: HostCaps(components.DefaultCaps(), inv)})
			if err != nil || res.Err() != nil {
				t.Fatalf("%v %v", err, res.Err())
			}
			a0, a1 := stamp(t, stamps, "first", tt.hostsA)
			b0, b1 := stamp(t, stamps, "second", tt.hostB)
			overlap := a0 < b1 && b0 < a1
			if overlap != tt.overlap {
				t.Errorf("first ran %.2f–%.2f, second %.2f–%.2f: overlap %v, want %v", a0, a1, b0, b1, overlap, tt.overlap)
			}
		})
	}
}

func stamp(t *testing.T, dir, role, host string) (start, end float64) {
	t.Helper()
	read := func(suffix string) float64 {
		raw, err := os.ReadFile(filepath.Join(dir, role+"-"+host+"."+suffix))
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return read("start"), read("end")
}
