package action_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// events keeps every event of a run.
type events struct {
	mu  sync.Mutex
	all []deploy.Event
}

func (e *events) Observe(ev deploy.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) of(unit string) []deploy.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []deploy.Event
	for _, ev := range e.all {
		if ev.Unit == unit {
			out = append(out, ev)
		}
	}
	return out
}

// hostsInventory is the kwok inventory with localhost (over the local
// connection) in every group atmosphere's playbooks name, and
// atmosphere_hosts_provided as given.
func hostsInventory(t *testing.T, provided bool) string {
	t.Helper()
	inv := testenv.CopyDir(t, "../testdata/inventories/kwok")
	hosts := "[controllers]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n[computes]\nlocalhost\n[cephs]\nlocalhost\n"
	if err := os.WriteFile(filepath.Join(inv, "hosts.ini"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	kwok := filepath.Join(inv, "group_vars", "all", "kwok.yml")
	raw, err := os.ReadFile(kwok)
	if err != nil {
		t.Fatal(err)
	}
	setting := "atmosphere_hosts_provided: true\n"
	if !strings.Contains(string(raw), setting) {
		t.Fatalf("%s does not say %q", kwok, setting)
	}
	if !provided {
		raw = []byte(strings.Replace(string(raw), setting, "", 1))
	}
	if err := os.WriteFile(kwok, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestDeployRunsAnsibleUnits deploys lpfc (an Ansible unit: atmosphere's
// own lpfc role, run for real on localhost, where it only finds no lpfc
// module) and goldpinger (Helm), leaving out kubernetes, which needs real
// hosts. Without the "provided" setting lpfc runs through ansible-playbook
// (the events show its tasks and what it did; the host locks are per
// host) and goldpinger deploys as usual; with atmosphere_hosts_provided: true in the inventory, or
// Options.HostsProvided (--hosts-provided), lpfc is reported provided and
// no ansible is needed (its path is a missing file).
func TestDeployRunsAnsibleUnits(t *testing.T) {
	a, err := testenv.EnsureAnsibleEnv(context.Background(), filepath.Join("..", "..", "shared", "atmosphere"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                    string
		inventoryProvided, flag bool
		playbook                string
		wantWait, wantDid       string
	}{
		{name: "hosts to run on", playbook: a.Playbook(),
			wantWait: `TASK [vexxhost.atmosphere.lpfc : Detect if the "lpfc" module is loaded] on localhost`,
			wantDid:  "ran vexxhost.atmosphere.lpfc on localhost: 0 changed"},
		{name: "atmosphere_hosts_provided", inventoryProvided: true, playbook: "/nonexistent/ansible-playbook",
			wantDid: "provided by the environment"},
		{name: "--hosts-provided", flag: true, playbook: "/nonexistent/ansible-playbook",
			wantDid: "provided by the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := action.New(action.Options{
				Kubeconfig: exampleKubeconfig, Inventory: hostsInventory(t, tt.inventoryProvided),
				Charts:          []string{"../../shared/atmosphere/charts", "../testdata/charts"},
				AnsiblePlaybook: tt.playbook, CollectionsPaths: []string{a.Collections}, HostsProvided: tt.flag,
			})
			dry := &action.Deploy{Config: cfg, Tags: []string{"lpfc"}, RunOptions: action.RunOptions{DryRun: true}}
			plan, err := dry.Run(context.Background())
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			wantChange := "run (vexxhost.atmosphere.lpfc on localhost)"
			if tt.wantWait == "" {
				wantChange = "provided by the environment"
			}
			if len(plan.Plan.Units) != 1 || plan.Plan.Units[0].Change != wantChange {
				t.Errorf("dry run %+v, want lpfc:install %q", plan.Plan.Units, wantChange)
			}
			// Ansible units that run hold their host locks per host.
			if got, want := plan.Plan.Resources["apt@localhost"], map[bool]int{true: 1}[tt.wantWait != ""]; got != want {
				t.Errorf("the cap of apt@localhost is %d, want %d (caps %v)", got, want, plan.Plan.Resources)
			}

			obs := &events{}
			d := &action.Deploy{Config: cfg, Tags: []string{"lpfc", "goldpinger"},
				RunOptions: action.RunOptions{SkipTags: []string{"kubernetes"}, Observer: obs}}
			if _, err := d.Run(context.Background()); err != nil {
				t.Fatalf("deploy: %v", err)
			}
			lpfc := obs.of("lpfc:install")
			if len(lpfc) < 2 || lpfc[0].Kind != deploy.Started {
				t.Fatalf("lpfc:install events %+v", lpfc)
			}
			last := lpfc[len(lpfc)-1]
			if last.Kind != deploy.Unchanged || last.Detail != tt.wantDid {
				t.Errorf("lpfc:install ended %s %q, want unchanged %q", last.Kind, last.Detail, tt.wantDid)
			}
			var waits []string
			for _, ev := range lpfc {
				if ev.Kind == deploy.Waiting {
					waits = append(waits, ev.Detail)
				}
			}
			if tt.wantWait != "" && !slices.Contains(waits, tt.wantWait) {
				t.Errorf("lpfc:install waited on %q, want %q among them", waits, tt.wantWait)
			}
			if tt.wantWait == "" && len(waits) > 0 {
				t.Errorf("a provided unit waited on %q", waits)
			}
			gp := obs.of("goldpinger:install")
			if len(gp) == 0 {
				t.Fatal("goldpinger:install did not run")
			}
			if k := gp[len(gp)-1].Kind; k != deploy.Succeeded && k != deploy.Unchanged {
				t.Errorf("goldpinger:install ended %s: %+v", k, gp[len(gp)-1])
			}
		})
	}
}

// TestDeployWithoutTheCollection: with vexxhost.atmosphere nowhere, a
// deploy of two Ansible units is refused before anything starts, with one
// problem that says how to install it.
func TestDeployWithoutTheCollection(t *testing.T) {
	a, err := testenv.EnsureAnsibleEnv(context.Background(), filepath.Join("..", "..", "shared", "atmosphere"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := action.New(action.Options{
		Kubeconfig: exampleKubeconfig, Inventory: hostsInventory(t, false),
		AnsiblePlaybook: a.Playbook(), CollectionsPaths: []string{t.TempDir()},
	})
	obs := &events{}
	d := &action.Deploy{Config: cfg, Tags: []string{"lpfc", "udev"}, RunOptions: action.RunOptions{Observer: obs}}
	_, err = d.Run(context.Background())
	if !action.IsUsage(err) {
		t.Fatalf("deploy: %v, want a usage error", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "1 problems, nothing was changed:") || strings.Count(msg, "vexxhost.atmosphere is not installed") != 1 ||
		!strings.Contains(msg, "ansible-galaxy collection install vexxhost.atmosphere") {
		t.Errorf("error %q, want one problem saying how to install vexxhost.atmosphere", msg)
	}
	if len(obs.all) > 0 {
		t.Errorf("units started: %+v", obs.all)
	}
}

// TestHostsProvidedIsABoolean: atmosphere_hosts_provided other than true
// or false is refused, naming the file and the key, before anything.
func TestHostsProvidedIsABoolean(t *testing.T) {
	inv := hostsInventory(t, true)
	kwok := filepath.Join(inv, "group_vars", "all", "kwok.yml")
	raw, err := os.ReadFile(kwok)
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.Replace(string(raw), "atmosphere_hosts_provided: true", "atmosphere_hosts_provided: maybe", 1))
	if err := os.WriteFile(kwok, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = action.New(action.Options{Inventory: inv}).Settings()
	if !action.IsUsage(err) || !strings.Contains(err.Error(), "group_vars/all/kwok.yml: atmosphere_hosts_provided: want true or false, got maybe") {
		t.Errorf("settings: %v, want a usage error naming group_vars/all/kwok.yml and atmosphere_hosts_provided", err)
	}
}
